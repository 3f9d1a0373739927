#include "corral/recipes/configuration.h"

#include "recipes/throwing.h"

#include <algorithm>
#include <boost/fiber/operations.hpp>
#include <charconv>
#include <mutex>
#include <random>
#include <set>
#include <vector>

#include "recipes/signal.h"

namespace corral::recipes {

namespace {

constexpr std::string_view ready_name = "ready";

uint64_t parse_generation(std::string_view text) {
  uint64_t g = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), g);
  return err == std::errc() && end == text.data() + text.size() ? g : 0;
}

bool valid_key(std::string_view key) {
  return !key.empty() && key != ready_name && key != "." && key != ".." && key.find('/') == std::string_view::npos;
}

// What an op adds to a multi request, roughly: its header, path, data, an
// open ACL, flags and version.
std::size_t op_bytes(std::string_view path, std::string_view data) { return path.size() + data.size() + 64; }

bool away(std::error_code ec) { return ec == Error::connectionLoss; }

std::minstd_rand& backoff_rng() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return rng;
}

}  // namespace

std::optional<std::string_view> ConfigSnapshot::get(std::string_view key) const {
  const auto it = values.find(std::string(key));
  if (it == values.end()) return std::nullopt;
  return std::string_view(it->second);
}

Configuration::Configuration(Client& client, std::string path, ConfigurationOptions options)
    : client_(client), path_(std::move(path)), options_(options), watcher_(client, join(path_, ready_name), false) {}

Configuration::~Configuration() { close(); }

// ---- writing ------------------------------------------------------------------------

uint64_t Configuration::publish(const ConfigValues& values, Clock::time_point deadline, std::error_code& ec) {
  for (const auto& [key, value] : values) {
    if (!valid_key(key)) {
      ec = Error::badArguments;
      return 0;
    }
  }
  int overtaken = 0;
  while (true) {
    if (Clock::now() >= deadline) {
      ec = Error::operationTimeout;
      return 0;
    }
    uint64_t generation = 0;
    const bool finished = try_publish(values, generation, ec);
    if (away(ec)) {
      // Done or not, it is done again from the top (a new claim).
      if (!retry_after_connection_loss(client_, ec, deadline)) return 0;
      continue;
    }
    if (finished) return ec ? 0 : generation;
    // Overtaken by another writer: back off a random while (growing) before
    // trying again, so that two writers cannot keep undoing each other.
    const auto cap = std::chrono::microseconds(std::min<int64_t>(int64_t{200} << std::min(overtaken, 9), 100'000));
    std::uniform_int_distribution<int64_t> jitter(0, cap.count());
    ++overtaken;
    const auto pause = std::chrono::microseconds(jitter(backoff_rng()));
    boost::this_fiber::sleep_until(std::min(deadline, Clock::now() + pause));
  }
}

uint64_t Configuration::publish(const ConfigValues& values, std::chrono::milliseconds timeout) {
  return or_throw("publish", path_, [&](std::error_code& ec) { return publish(values, Clock::now() + timeout, ec); });
}

bool Configuration::try_publish(const ConfigValues& values, uint64_t& generation, std::error_code& ec) {
  const NodeData root = client_.get(path_, {}, ec);
  if (ec == Error::noNode) {
    const auto slash = path_.rfind('/');
    if (slash > 0) {
      ensure_path(client_, std::string_view(path_).substr(0, slash), ec);
      if (ec) return true;
    }
    client_.create(path_, "0", {}, ec);
    if (ec == Error::nodeExists) ec.clear();
    return ec.operator bool();
  }
  if (ec) return true;
  const Children listed = client_.children(path_, {}, ec);
  if (ec == Error::noNode) {  // removed meanwhile
    ec.clear();
    return false;
  }
  if (ec) return true;

  const uint64_t next = parse_generation(root.data) + 1;
  const std::string gen = std::to_string(next);
  const int32_t version = root.stat.version;
  const std::string ready = ready_path();
  bool ready_exists = false;
  std::set<std::string, std::less<>> existing;
  for (const auto& name : listed.names) {
    if (name == ready_name) {
      ready_exists = true;
    } else {
      existing.insert(name);
    }
  }

  // The key changes, and how big a request they make.
  struct KeyOp {
    enum class Kind { create, set, remove } kind;
    std::string path;
    std::string_view data;
  };
  std::vector<KeyOp> ops;
  std::size_t total = op_bytes(path_, gen) * 2 + op_bytes(ready, gen) * 2;
  for (const auto& [key, value] : values) {
    ops.push_back({existing.contains(key) ? KeyOp::Kind::set : KeyOp::Kind::create, join(path_, key), value});
    total += op_bytes(ops.back().path, value);
  }
  for (const auto& name : existing) {
    if (values.contains(name)) continue;
    ops.push_back({KeyOp::Kind::remove, join(path_, name), {}});
    total += op_bytes(ops.back().path, {});
  }
  const auto add = [](Transaction& t, const KeyOp& op) {
    switch (op.kind) {
      case KeyOp::Kind::create: t.create(op.path, std::string(op.data)); break;
      case KeyOp::Kind::set: t.set(op.path, std::string(op.data)); break;
      case KeyOp::Kind::remove: t.remove(op.path); break;
    }
  };
  // Another writer got there first (badVersion), or the children changed
  // under us (noNode, nodeExists): look again.
  const auto overtaken = [&] {
    if (ec == Error::badVersion || ec == Error::noNode || ec == Error::nodeExists) {
      ec.clear();
      return true;
    }
    return false;
  };

  if (total <= options_.max_multi_bytes) {
    // All of it at once; ready still goes and comes back, in one txn.
    Transaction t;
    t.set(path_, gen, version);
    if (ready_exists) t.remove(ready);
    for (const auto& op : ops) add(t, op);
    t.create(ready, gen);
    client_.multi(t, ec);
    if (overtaken()) return false;
    if (!ec) generation = next;
    return true;
  }

  // (1) Claim the generation; ready goes.
  Transaction claim;
  claim.set(path_, gen, version);
  if (ready_exists) claim.remove(ready);
  client_.multi(claim, ec);
  if (overtaken()) return false;
  if (ec) return true;
  const int32_t claimed = version + 1;

  // (2) The keys, in multis that each check the claim still holds; all sent
  // before the first reply is awaited.
  std::vector<boost::fibers::future<Result<std::vector<MultiResult>>>> sent;
  Transaction batch;
  std::size_t batch_bytes = 0;
  const auto send = [&] {
    sent.push_back(client_.async_multi(batch));
    batch = Transaction();
    batch_bytes = 0;
  };
  for (const auto& op : ops) {
    if (batch.ops().empty()) {
      batch.check(path_, claimed);
      batch_bytes = op_bytes(path_, {});
    }
    add(batch, op);
    batch_bytes += op_bytes(op.path, op.data);
    if (batch_bytes >= options_.max_multi_bytes) send();
  }
  if (!batch.ops().empty()) send();
  std::error_code first;
  for (auto& f : sent) {
    const auto r = f.get();
    if (r.error && !first) first = r.error;
  }
  ec = first;
  if (overtaken()) return false;
  if (ec) return true;

  // (3) Ready again, if the claim still holds.
  Transaction finish;
  finish.check(path_, claimed);
  finish.create(ready, gen);
  client_.multi(finish, ec);
  if (overtaken()) return false;
  if (!ec) generation = next;
  return true;
}

// ---- reading ------------------------------------------------------------------------

Configuration::Read Configuration::try_snapshot(ConfigSnapshot& out, std::error_code& ec) {
  const std::string ready = ready_path();
  const NodeData before = client_.get(ready, {}, ec);
  if (ec == Error::noNode) {
    ec.clear();
    return Read::absent;
  }
  if (ec) return Read::raced;
  const Children listed = client_.children(path_, {}, ec);
  if (ec == Error::noNode) {
    ec.clear();
    return Read::raced;
  }
  if (ec) return Read::raced;

  // The values and ready again, in one pipelined burst: the server answers in order.
  std::vector<std::string> keys;
  std::vector<boost::fibers::future<Result<NodeData>>> values;
  for (const auto& name : listed.names) {
    if (name == ready_name) continue;
    keys.push_back(name);
    values.push_back(client_.async_get(join(path_, name)));
  }
  auto after = client_.async_exists(ready);

  ConfigSnapshot snap;
  bool raced = false;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto r = values[i].get();
    if (r.error == Error::noNode) {
      raced = true;
    } else if (r.error) {
      if (!ec) ec = r.error;
    } else {
      snap.values.emplace(std::move(keys[i]), std::move(r.value.data));
    }
  }
  auto again = after.get();
  if (!ec && again.error) ec = again.error;
  if (ec) return Read::raced;
  if (raced || !again.value || again.value->czxid != before.stat.czxid) return Read::raced;
  snap.generation = parse_generation(before.data);
  snap.ready_zxid = before.stat.czxid;
  out = std::move(snap);
  return Read::done;
}

ConfigSnapshot Configuration::snapshot(Clock::time_point deadline, std::error_code& ec) {
  while (true) {
    ConfigSnapshot snap;
    const Read r = try_snapshot(snap, ec);
    if (away(ec)) {
      if (!retry_after_connection_loss(client_, ec, deadline)) return {};
      continue;
    }
    if (ec) return {};
    if (r == Read::done) return snap;
    if (Clock::now() >= deadline) {
      ec = Error::operationTimeout;
      return {};
    }
    if (r == Read::raced) continue;
    // No ready: a write in progress, or nothing published yet. Wait for it.
    auto signal = std::make_shared<Signal>();
    const auto there = client_.exists(ready_path(), Signal::watcher(signal), ec);
    if (away(ec)) continue;
    if (ec) return {};
    if (there) continue;
    if (!signal->wait_until(deadline)) {
      ec = Error::operationTimeout;
      return {};
    }
  }
}

ConfigSnapshot Configuration::snapshot(std::chrono::milliseconds timeout) {
  return or_throw("snapshot of", path_, [&](std::error_code& ec) { return snapshot(Clock::now() + timeout, ec); });
}

// ---- following ----------------------------------------------------------------------

void Configuration::start() {
  watcher_.start([this](const std::vector<WatchNotice>& batch) { handle(batch); });
}

void Configuration::close() {
  watcher_.close();
  listeners_.clear();
}

bool Configuration::wait_until(const std::function<bool(const std::optional<ConfigSnapshot>&)>& pred,
                               Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return pred(current_); });
}

uint64_t Configuration::add_listener(Listener listener) {
  listeners_.emplace(++last_listener_, std::move(listener));
  return last_listener_;
}

void Configuration::remove_listener(uint64_t id) { listeners_.erase(id); }

void Configuration::handle(const std::vector<WatchNotice>& batch) {
  bool read = false;
  for (const WatchNotice& n : batch) {
    switch (n.kind) {
      case WatchNotice::Kind::event:
      case WatchNotice::Kind::reset: read = true; break;
      case WatchNotice::Kind::suspended:
      case WatchNotice::Kind::lost:
        read = false;  // the reset after the next connect reads
        break;
      case WatchNotice::Kind::failed: break;
    }
  }
  if (!read) return;
  ConfigSnapshot snap;
  std::error_code ec;
  // Raced: ready changed meanwhile, and its event is on the way. Absent: its
  // creation will be an event. connectionLoss: a reset follows.
  if (try_snapshot(snap, ec) != Read::done || ec) return;
  if (current_ && snap.ready_zxid <= current_->ready_zxid) return;
  {
    std::unique_lock lock(mutex_);
    current_ = snap;
    changed_.notify_all();
  }
  std::vector<Listener> listeners;
  for (const auto& [id, l] : listeners_) listeners.push_back(l);
  for (const auto& l : listeners) l(snap);
}

}  // namespace corral::recipes
