#include "corral/recipes/node_cache.h"

#include <mutex>
#include <vector>

namespace corral::recipes {

NodeCache::NodeCache(Client& client, std::string path) : client_(client), watcher_(client, std::move(path), false) {}

NodeCache::~NodeCache() { close(); }

void NodeCache::start(Clock::time_point deadline, std::error_code& ec) {
  watcher_.start([this](const std::vector<WatchNotice>& batch) { handle(batch); });
  std::unique_lock lock(mutex_);
  if (!changed_.wait_until(lock, deadline, [&] { return initialized_ || failure_; })) {
    ec = Error::operationTimeout;
    return;
  }
  ec = initialized_ ? std::error_code() : failure_;
}

void NodeCache::start(std::chrono::milliseconds timeout) {
  std::error_code ec;
  start(Clock::now() + timeout, ec);
  if (ec) throw std::system_error(ec, "NodeCache " + path());
}

void NodeCache::close() {
  watcher_.close();
  listeners_.clear();
}

std::optional<NodeData> NodeCache::current() const { return data_; }

bool NodeCache::wait_until(const std::function<bool(const std::optional<NodeData>&)>& pred,
                           Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return pred(data_); });
}

uint64_t NodeCache::add_listener(Listener listener) {
  listeners_.emplace(++last_listener_, std::move(listener));
  return last_listener_;
}

void NodeCache::remove_listener(uint64_t id) { listeners_.erase(id); }

void NodeCache::handle(const std::vector<WatchNotice>& batch) {
  bool read = false;
  bool reset = false;
  for (const WatchNotice& n : batch) {
    switch (n.kind) {
      case WatchNotice::Kind::event:
        if (n.event.type != wire::EventType::nodeChildrenChanged) read = true;
        break;
      case WatchNotice::Kind::reset:
        read = reset = true;
        break;
      case WatchNotice::Kind::suspended:
      case WatchNotice::Kind::lost:
        // A read now would fail; the reset after the next connect reads.
        current_ = false;
        read = reset = false;
        break;
      case WatchNotice::Kind::failed: {
        std::unique_lock lock(mutex_);
        failure_ = n.error;
        changed_.notify_all();
        break;
      }
    }
  }
  if (!read) return;
  ++reads_;
  std::error_code ec;
  NodeData got = client_.get(path(), {}, ec);
  if (ec == Error::noNode) {
    set(std::nullopt);
  } else if (!ec) {
    set(std::move(got));
  } else {
    // connectionLoss or an ended session: a reset follows the next connect.
    // Anything else (noAuth) is what start() reports.
    if (ec != Error::connectionLoss && ec != Error::sessionExpired) {
      std::unique_lock lock(mutex_);
      failure_ = ec;
      changed_.notify_all();
    }
    return;
  }
  if (reset) current_ = true;
}

void NodeCache::set(std::optional<NodeData> now) {
  const bool differs = now.has_value() != data_.has_value() || (now && now->stat.mzxid != data_->stat.mzxid);
  {
    std::unique_lock lock(mutex_);
    if (differs) data_ = std::move(now);
    initialized_ = true;
    changed_.notify_all();
  }
  if (!differs) return;
  std::vector<Listener> listeners;
  for (const auto& [id, l] : listeners_) listeners.push_back(l);
  for (const auto& l : listeners) l(data_);
}

}  // namespace corral::recipes
