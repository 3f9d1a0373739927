#include "ensemble/net/standalone_server.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "ensemble/net/four_letter_words.h"
#include "ensemble/storage/file_txn_log.h"

namespace corral::ensemble {

namespace {

CoreConfig core_config(const ServerConfig& c) {
  CoreConfig out;
  out.tick_ms = c.tick_time_ms;
  out.min_session_timeout_ms = c.min_session_timeout_ms;
  out.max_session_timeout_ms = c.max_session_timeout_ms;
  out.extended_types = c.extended_types_enabled;
  out.container_check_interval_ms = c.container_check_interval_ms;
  out.container_max_per_minute = c.container_max_per_minute;
  out.super_digest = c.super_digest;
  out.server_id = static_cast<int32_t>(c.my_id);
  out.random_seed = std::random_device{}();
  out.random_seed = (out.random_seed << 32) ^ std::random_device{}();
  return out;
}

uint64_t directory_bytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t open_fds() {
  std::error_code ec;
  uint64_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

StandaloneServer::StandaloneServer(ServerConfig config)
    : config_(std::move(config)),
      core_(core_config(config_)),
      acceptor_(io_),
      signals_(io_, SIGINT, SIGTERM),
      child_signal_(io_, SIGCHLD),
      tick_timer_(io_),
      purge_timer_(io_) {
  handler_.on_frame = [this](uint64_t conn, std::string_view frame) { return on_frame(conn, frame); };
  handler_.on_four_letter_word = [this](uint64_t, std::string_view word) { return on_four_letter_word(word); };
  handler_.on_closed = [this](uint64_t conn) { on_closed(conn); };
  handler_.log = [this](const std::string& line) { log(line); };
}

StandaloneServer::~StandaloneServer() {
  if (log_) log_->stop();
  if (snapshot_child_ > 0) {
    int status = 0;
    waitpid(snapshot_child_, &status, 0);
  }
}

int64_t StandaloneServer::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void StandaloneServer::log(const std::string& line) const {
  const std::time_t t = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  std::fprintf(stderr, "%s corral-server: %s\n", stamp, line.c_str());
}

// ---- recovery -------------------------------------------------------------------

void StandaloneServer::recover() {
  const auto started = std::chrono::steady_clock::now();
  snapshots_ = std::make_unique<storage::FileSnapshotStore>(config_.data_dir);
  DataTree& tree = core_.tree();
  int64_t snapshot_zxid = 0;
  wire::AclList acl_holder;
  storage::SnapshotCallbacks callbacks;
  callbacks.on_begin = [&](int64_t zxid) {
    // Called again when a snapshot fails half-way and an older one is tried:
    // nothing loaded from the broken one may stay.
    core_.discard_restored_state();
    snapshot_zxid = zxid;
  };
  callbacks.on_node = [&](storage::SnapshotNode&& n) {
    const wire::Stat stat{n.czxid, n.mzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, n.ephemeral_owner,
                          0,       0,       n.pzxid};
    if (!tree.load_node(NodeImage{n.path, n.data, &n.acl, stat})) {
      log("snapshot node " + n.path + " has no parent; skipped");
    }
  };
  callbacks.on_session = [&](storage::SnapshotSession&& s) { core_.restore_session(s.id, s.timeout_ms, s.password); };
  const storage::SnapshotLoad load = snapshots_->load_newest_valid(callbacks);
  for (const auto& skipped : load.skipped) {
    log("skipped snapshot " + std::to_string(skipped.zxid) + ": " + skipped.reason);
  }
  tree.set_last_zxid(snapshot_zxid);

  storage::FileTxnLog::Options options;
  if (config_.pre_alloc_size_kb > 0) options.preallocate_bytes = static_cast<uint64_t>(config_.pre_alloc_size_bytes());
  options.force_sync = config_.force_sync;
  auto txn_log = std::make_unique<storage::FileTxnLog>(config_.data_log_dir, options);
  const uint64_t replayed = txn_log->replay(snapshot_zxid, [&](const proto::Txn& txn) { core_.replay(txn); });
  core_.start(now_ms());

  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  log("recovered " + std::to_string(tree.node_count()) + " znodes and " + std::to_string(core_.session_count()) +
      " sessions at zxid " + std::to_string(core_.last_zxid()) + " (snapshot " + std::to_string(snapshot_zxid) +
      " + " + std::to_string(replayed) + " logged txns) in " + std::to_string(elapsed) + " ms");

  storage::GroupCommitLog::Callbacks cb;
  cb.on_synced = [this](int64_t zxid) { asio::post(io_, [this, zxid] { on_synced(zxid); }); };
  cb.on_failed = [this](std::exception_ptr e) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    log("FATAL: the txn log failed, no write can be acknowledged any more: " + what);
    std::_Exit(3);
  };
  log_ = std::make_unique<storage::GroupCommitLog>(std::move(txn_log), std::move(cb));

  // A snapshot right away when there is none yet or the log had to be
  // replayed, so the next restart starts from here (ZooKeeper does the same).
  if (load.loaded == std::nullopt || replayed > 0) start_snapshot();
  // Like ZooKeeper, snapshot after snapCount/2 plus a random share of the
  // other half, so servers of an ensemble do not all snapshot at once.
  std::mt19937_64 rng(std::random_device{}());
  const auto half = static_cast<uint64_t>(config_.snap_count) / 2;
  next_snapshot_after_ = half + std::uniform_int_distribution<uint64_t>(0, half)(rng);
}

// ---- sockets --------------------------------------------------------------------------

void StandaloneServer::listen() {
  const auto address = asio::ip::make_address(config_.client_address.host);
  const asio::ip::tcp::endpoint endpoint(address, config_.client_address.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  log("serving ZooKeeper clients on " + config_.client_address.host + ":" + std::to_string(port()) +
      " (standalone, dataDir " + config_.data_dir + ")");
}

uint16_t StandaloneServer::port() const { return acceptor_.local_endpoint().port(); }

void StandaloneServer::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (stopping_) return;
    if (!ec) {
      on_accepted(std::move(socket));
    } else if (ec != asio::error::operation_aborted) {
      log("accept failed: " + ec.message());
    }
    accept();
  });
}

void StandaloneServer::on_accepted(asio::ip::tcp::socket socket) {
  const uint64_t id = next_conn_++;
  auto conn = std::make_shared<ClientConnection>(id, std::move(socket), static_cast<std::size_t>(config_.jute_max_buffer),
                                                 handler_);
  int& count = per_ip_[conn->remote_ip()];
  if (config_.max_client_cnxns > 0 && count >= config_.max_client_cnxns) {
    log("too many connections from " + conn->remote_ip() + " - max is " + std::to_string(config_.max_client_cnxns));
    return;  // the socket closes as `conn` goes out of scope
  }
  ++count;
  connections_.emplace(id, conn);
  core_.connection_opened(id, conn->remote_ip(), now_ms());
  conn->start();
}

bool StandaloneServer::on_frame(uint64_t conn, std::string_view frame) {
  auto [it, first] = awaiting_handshake_.try_emplace(conn, true);
  core_.frame(conn, frame, now_ms());
  apply_effects();
  if (first) {
    // Still waiting unless apply_effects() saw resume_reading.
    auto w = awaiting_handshake_.find(conn);
    if (w != awaiting_handshake_.end() && w->second) return false;
  }
  if (over_outstanding_limit()) {
    // globalOutstandingLimit: stop reading from this client until the log
    // catches up (on_synced resumes it), as ZooKeeper throttles.
    throttled_.insert(conn);
    return false;
  }
  return true;
}

bool StandaloneServer::over_outstanding_limit() const {
  return config_.global_outstanding_limit > 0 &&
         core_.outstanding_txns() >= static_cast<std::size_t>(config_.global_outstanding_limit);
}

void StandaloneServer::resume_throttled() {
  if (throttled_.empty() || over_outstanding_limit()) return;
  const auto ids = std::exchange(throttled_, {});
  for (uint64_t id : ids) {
    if (auto it = connections_.find(id); it != connections_.end()) {
      const auto conn = it->second;
      conn->resume();
    }
  }
}

void StandaloneServer::on_closed(uint64_t conn) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  const auto keep = it->second;  // outlives this call
  if (int& count = per_ip_[keep->remote_ip()]; --count <= 0) per_ip_.erase(keep->remote_ip());
  connections_.erase(it);
  awaiting_handshake_.erase(conn);
  throttled_.erase(conn);
  core_.connection_closed(conn, now_ms());
  apply_effects();
}

std::string StandaloneServer::on_four_letter_word(std::string_view word) {
  ServerView view{config_, core_};
  view.now_ms = now_ms();
  view.data_dir_bytes = directory_bytes(std::filesystem::path(config_.data_dir) / "corral-1");
  view.log_dir_bytes = directory_bytes(std::filesystem::path(config_.data_log_dir) / "corral-1");
  view.open_fds = open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) view.max_fds = limit.rlim_cur;
  view.rss_bytes = resident_bytes();
  view.remote_address = [this](uint64_t conn) {
    auto it = connections_.find(conn);
    return it == connections_.end() ? std::string() : it->second->remote_address();
  };
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  view.environment = {{"host.name", host},
                      {"os.name", "Linux"},
                      {"user.dir", std::filesystem::current_path().string()},
                      {"corral.pid", std::to_string(getpid())}};
  return four_letter_reply(word, view);
}

void StandaloneServer::on_synced(int64_t zxid) {
  core_.synced(zxid, now_ms());
  apply_effects();
  resume_throttled();
  maybe_snapshot();
}

void StandaloneServer::apply_effects() {
  Effects effects = core_.take_effects();
  for (auto& txn : effects.log) log_->submit(std::move(txn));
  for (auto& line : effects.log_lines) log(line);
  for (auto& e : effects.io) {
    auto it = connections_.find(e.conn);
    if (it == connections_.end()) continue;
    const auto conn = it->second;
    switch (e.kind) {
      case Effect::Kind::send:
        conn->send(std::move(e.bytes));
        break;
      case Effect::Kind::close:
        conn->close();
        break;
      case Effect::Kind::resume_reading:
        awaiting_handshake_[e.conn] = false;
        conn->resume();
        break;
    }
  }
}

// ---- time ------------------------------------------------------------------------------

void StandaloneServer::schedule_tick() {
  // Sessions expire with tick granularity, as ZooKeeper's expiry buckets do;
  // check at least a few times a second so short timeouts are honoured.
  const auto period = std::chrono::milliseconds(std::clamp(config_.tick_time_ms / 2, 10, 500));
  tick_timer_.expires_after(period);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    core_.tick(now_ms());
    apply_effects();
    schedule_tick();
  });
}

void StandaloneServer::schedule_purge() {
  if (config_.purge_interval.count() <= 0) return;
  purge_timer_.expires_after(config_.purge_interval);
  purge_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    purge();
    schedule_purge();
  });
}

void StandaloneServer::purge() {
  const auto result = snapshots_->purge(static_cast<std::size_t>(config_.snap_retain_count));
  if (result.oldest_retained_zxid) {
    // The storage thread owns the log; segment deletion goes through it.
    log_->submit_purge(*result.oldest_retained_zxid);
  }
  if (!result.removed.empty()) log("purged " + std::to_string(result.removed.size()) + " old snapshots");
}

// ---- snapshots ---------------------------------------------------------------------------

void StandaloneServer::maybe_snapshot() {
  if (core_.applied_count() - applied_at_last_snapshot_ < next_snapshot_after_) return;
  start_snapshot();
}

void StandaloneServer::start_snapshot() {
  if (snapshot_child_ > 0) return;  // one at a time; the next apply tries again
  applied_at_last_snapshot_ = core_.applied_count();
  const int64_t zxid = core_.last_zxid();
  // The next log segment starts after everything submitted so far, so the
  // snapshot and a segment boundary line up for purging.
  log_->submit_roll();
  std::fflush(stderr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    log("fork for snapshot failed: " + std::string(std::strerror(errno)));
    return;
  }
  if (pid == 0) {
    // The child: a frozen image of the tree; write it and leave without
    // running any destructor of the parent's objects. It dies with the
    // server: an orphan must not go on writing into a dataDir that a
    // restarted server already owns (its .tmp file is cleaned up at startup).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) std::_Exit(1);
    int code = 0;
    try {
      auto sink = snapshots_->begin(zxid);
      storage::SnapshotNode node;
      core_.tree().for_each_node([&](const NodeImage& n) {
        node.path = n.path;
        node.data.assign(n.data);
        node.acl = *n.acl;
        node.czxid = n.stat.czxid;
        node.mzxid = n.stat.mzxid;
        node.pzxid = n.stat.pzxid;
        node.ctime = n.stat.ctime;
        node.mtime = n.stat.mtime;
        node.version = n.stat.version;
        node.cversion = n.stat.cversion;
        node.aversion = n.stat.aversion;
        node.ephemeral_owner = n.stat.ephemeralOwner;
        sink->add_node(node);
      });
      core_.for_each_session([&](int64_t id, int32_t timeout, const std::string& password) {
        sink->add_session(storage::SnapshotSession{id, timeout, password});
      });
      sink->commit();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "corral-server: snapshot %lld failed: %s\n", static_cast<long long>(zxid), e.what());
      code = 1;
    }
    std::_Exit(code);
  }
  snapshot_child_ = pid;
  snapshot_zxid_ = zxid;
}

void StandaloneServer::reap_snapshot() {
  child_signal_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (snapshot_child_ > 0) {
      int status = 0;
      if (waitpid(snapshot_child_, &status, WNOHANG) == snapshot_child_) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
          log("snapshot at zxid " + std::to_string(snapshot_zxid_) + " written");
        } else {
          log("snapshot at zxid " + std::to_string(snapshot_zxid_) + " failed; the log still holds everything");
        }
        snapshot_child_ = -1;
      }
    }
    reap_snapshot();
  });
}

// ---- main loop --------------------------------------------------------------------------------

void StandaloneServer::run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    tick_timer_.cancel();
    purge_timer_.cancel();
    child_signal_.cancel();
    for (auto& [id, conn] : std::unordered_map(connections_)) conn->close();
  });
  reap_snapshot();
  accept();
  schedule_tick();
  schedule_purge();
  io_.run();
}

}  // namespace corral::ensemble
