#include "ensemble/net/data_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "ensemble/storage/file_txn_log.h"

namespace corral::ensemble {

namespace {

uint64_t directory_bytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

// Writes `content` to `path` durably: a temp file, fsync, rename, fsync of the directory.
void write_durably(const std::filesystem::path& path, const std::string& content) {
  const auto tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + tmp);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw std::system_error(err, std::generic_category(), "write " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "fsync " + tmp);
  }
  ::close(fd);
  std::filesystem::rename(tmp, path);
  const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace

DataStore::DataStore(asio::io_context& io, const ServerConfig& config, Hooks hooks)
    : io_(io), config_(config), hooks_(std::move(hooks)), child_signal_(io, SIGCHLD), purge_timer_(io) {
  snapshots_ = std::make_unique<storage::FileSnapshotStore>(config_.data_dir);
  // Like ZooKeeper, snapshot after snapCount/2 plus a random share of the
  // other half, so servers of an ensemble do not all snapshot at once.
  std::mt19937_64 rng(std::random_device{}());
  const auto half = static_cast<uint64_t>(config_.snap_count) / 2;
  next_snapshot_after_ = half + std::uniform_int_distribution<uint64_t>(0, half)(rng);
  watch_children();
}

DataStore::~DataStore() { stop(); }

void DataStore::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  child_signal_.cancel(ignored);
  purge_timer_.cancel();
  close_log();
  if (child_ > 0) {
    int status = 0;
    waitpid(child_, &status, 0);
  }
}

void DataStore::open_log() {
  if (log_) return;
  storage::FileTxnLog::Options options;
  if (config_.pre_alloc_size_kb > 0) options.preallocate_bytes = static_cast<uint64_t>(config_.pre_alloc_size_bytes());
  options.force_sync = config_.force_sync;
  auto txn_log = std::make_unique<storage::FileTxnLog>(config_.data_log_dir, options);
  storage::GroupCommitLog::Callbacks cb;
  cb.on_synced = [this](int64_t zxid) { asio::post(io_, [this, zxid] { hooks_.on_synced(zxid); }); };
  cb.on_failed = [this](const std::exception_ptr& e) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    hooks_.log("FATAL: the txn log failed, no write can be acknowledged any more: " + what);
    std::_Exit(3);
  };
  log_ = std::make_unique<storage::GroupCommitLog>(std::move(txn_log), std::move(cb));
}

void DataStore::close_log() {
  if (!log_) return;
  log_->stop();
  log_.reset();
}

DataStore::Recovery DataStore::load(ServerCore& core, const std::function<void(const proto::Txn&)>& each) {
  const auto started = std::chrono::steady_clock::now();
  close_log();  // replay reads the files; the storage thread must not write meanwhile
  core.discard_restored_state();
  DataTree& tree = core.tree();
  Recovery r;
  storage::SnapshotCallbacks callbacks;
  callbacks.on_begin = [&](int64_t zxid) {
    // Called again when a snapshot fails half-way and an older one is tried:
    // nothing loaded from the broken one may stay.
    core.discard_restored_state();
    r.snapshot_zxid = zxid;
  };
  callbacks.on_node = [&](storage::SnapshotNode&& n) {
    const wire::Stat stat{n.czxid,    n.mzxid,           n.ctime, n.mtime, n.version, n.cversion,
                          n.aversion, n.ephemeral_owner, 0,       0,       n.pzxid};
    if (!tree.load_node(NodeImage{n.path, n.data, &n.acl, stat})) {
      hooks_.log("snapshot node " + n.path + " has no parent; skipped");
    }
  };
  callbacks.on_session = [&](storage::SnapshotSession&& s) { core.restore_session(s.id, s.timeout_ms, s.password); };
  const storage::SnapshotLoad load = snapshots_->load_newest_valid(callbacks);
  for (const auto& skipped : load.skipped) {
    hooks_.log("skipped snapshot " + std::to_string(skipped.zxid) + ": " + skipped.reason);
  }
  r.had_snapshot = load.loaded.has_value();
  tree.set_last_zxid(r.snapshot_zxid);
  {
    storage::FileTxnLog::Options options;
    options.preallocate_bytes = 0;  // reading only
    storage::FileTxnLog reader(config_.data_log_dir, options);
    r.replayed = reader.replay(r.snapshot_zxid, [&](const proto::Txn& txn) {
      core.replay(txn);
      if (each) each(txn);
    });
  }
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  hooks_.log("recovered " + std::to_string(tree.node_count()) + " znodes and " + std::to_string(core.session_count()) +
             " sessions at zxid " + std::to_string(core.last_zxid()) + " (snapshot " + std::to_string(r.snapshot_zxid) +
             " + " + std::to_string(r.replayed) + " logged txns) in " + std::to_string(elapsed) + " ms");
  open_log();
  applied_at_last_snapshot_ = core.applied_count();
  return r;
}

// ---- snapshots -------------------------------------------------------------------------

void DataStore::maybe_snapshot(const ServerCore& core) {
  if (core.applied_count() - applied_at_last_snapshot_ < next_snapshot_after_) return;
  snapshot(core);
}

bool DataStore::snapshot(const ServerCore& core) {
  if (child_ > 0 || !log_) return false;
  applied_at_last_snapshot_ = core.applied_count();
  const int64_t zxid = core.last_zxid();
  // The next log segment starts after everything submitted so far, so the
  // snapshot and a segment boundary line up for purging.
  log_->submit_roll();
  std::fflush(stderr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    hooks_.log("fork for snapshot failed: " + std::string(std::strerror(errno)));
    return false;
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
      write_snapshot(core, zxid);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "corral-server: snapshot %lld failed: %s\n", static_cast<long long>(zxid), e.what());
      code = 1;
    }
    std::_Exit(code);
  }
  child_ = pid;
  child_zxid_ = zxid;
  return true;
}

void DataStore::write_snapshot(const ServerCore& core, int64_t zxid) {
  auto sink = snapshots_->begin(zxid);
  storage::SnapshotNode node;
  core.tree().for_each_node([&](const NodeImage& n) {
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
  core.for_each_session([&](int64_t id, int32_t timeout, const std::string& password) {
    sink->add_session(storage::SnapshotSession{id, timeout, password});
  });
  sink->commit();
}

std::string DataStore::snapshot_file(const ServerCore& core) {
  const int64_t zxid = core.last_zxid();
  if (child_ > 0 && child_zxid_ == zxid) {
    // The child is writing this very file: let it finish.
    int status = 0;
    waitpid(child_, &status, 0);
    child_ = -1;
  }
  const auto path = snapshots_->path_of(zxid);
  if (!std::filesystem::exists(path)) write_snapshot(core, zxid);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw std::runtime_error("cannot read " + path.string());
  return bytes;
}

void DataStore::watch_children() {
  child_signal_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec || stopped_) return;
    if (child_ > 0) {
      int status = 0;
      if (waitpid(child_, &status, WNOHANG) == child_) {
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        hooks_.log("snapshot at zxid " + std::to_string(child_zxid_) +
                   (ok ? " written" : " failed; the log still holds everything"));
        child_ = -1;
        if (hooks_.on_snapshot) hooks_.on_snapshot(child_zxid_, ok);
      }
    }
    watch_children();
  });
}

void DataStore::start_purge_timer() {
  if (config_.purge_interval.count() <= 0 || stopped_) return;
  purge_timer_.expires_after(config_.purge_interval);
  purge_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    purge();
    start_purge_timer();
  });
}

void DataStore::purge() {
  const auto result = snapshots_->purge(static_cast<std::size_t>(config_.snap_retain_count));
  // The storage thread owns the log; segment deletion goes through it.
  if (result.oldest_retained_zxid && log_) log_->submit_purge(*result.oldest_retained_zxid);
  if (!result.removed.empty()) hooks_.log("purged " + std::to_string(result.removed.size()) + " old snapshots");
}

// ---- ensemble ---------------------------------------------------------------------------

int64_t DataStore::read_epoch(const std::string& name) const {
  std::ifstream in(std::filesystem::path(config_.data_dir) / name);
  int64_t v = 0;
  if (in >> v) return v;
  return 0;
}

void DataStore::write_epoch(const std::string& name, int64_t value) {
  write_durably(std::filesystem::path(config_.data_dir) / name, std::to_string(value) + "\n");
}

void DataStore::truncate_and_reload(ServerCore& core, int64_t zxid) {
  close_log();
  {
    storage::FileTxnLog log(config_.data_log_dir);
    log.truncate_after(zxid);
  }
  for (int64_t z : snapshots_->list()) {
    if (z > zxid) std::filesystem::remove(snapshots_->path_of(z));
  }
  load(core);
}

void DataStore::install_snapshot(ServerCore& core, int64_t zxid, const std::string& bytes) {
  close_log();
  {
    storage::FileTxnLog log(config_.data_log_dir);
    log.truncate_after(0);
  }
  for (int64_t z : snapshots_->list()) std::filesystem::remove(snapshots_->path_of(z));
  write_durably(snapshots_->path_of(zxid), bytes);
  load(core);
}

uint64_t DataStore::data_dir_bytes() const {
  return directory_bytes(std::filesystem::path(config_.data_dir) / "corral-1");
}
uint64_t DataStore::log_dir_bytes() const {
  return directory_bytes(std::filesystem::path(config_.data_log_dir) / "corral-1");
}

}  // namespace corral::ensemble
