#include "corral/recipes/node_cache.h"

#include <mutex>
#include <vector>

namespace corral::recipes {

NodeCache::NodeCache(Client& client, std::string path) : WatchedCache(client, std::move(path), false) {}

NodeCache::~NodeCache() { close(); }

std::optional<NodeData> NodeCache::current() const { return data_; }

bool NodeCache::wait_until(const std::function<bool(const std::optional<NodeData>&)>& pred,
                           Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return pred(data_); });
}

void NodeCache::handle(const std::vector<WatchNotice>& batch) {
  bool read = false;
  bool reset = false;
  for (const WatchNotice& n : batch) {
    switch (n.kind) {
      case WatchNotice::Kind::event:
        if (n.event.type != wire::EventType::nodeChildrenChanged) read = true;
        break;
      case WatchNotice::Kind::reset: read = reset = true; break;
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
