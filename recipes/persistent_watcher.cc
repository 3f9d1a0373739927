#include "corral/recipes/persistent_watcher.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

namespace corral::recipes {

struct PersistentWatcher::Hub : std::enable_shared_from_this<Hub> {
  Hub(Client& c, std::string p, bool r) : client(c), path(std::move(p)), recursive(r) {}

  // Adds the watch unless it is in place; clear `ec` when it is.
  void ensure_installed(std::error_code& ec) {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return !installing; });
    if (installed) {
      ec.clear();
      return;
    }
    installing = true;
    const uint64_t ends_before = session_ends;
    lock.unlock();
    std::weak_ptr<Hub> weak = shared_from_this();
    client.add_watch(
        path, recursive ? wire::AddWatchMode::persistentRecursive : wire::AddWatchMode::persistent,
        [weak](const WatchedEvent& e) {
          if (auto hub = weak.lock()) hub->dispatch(e);
        },
        ec);
    lock.lock();
    installing = false;
    // A session that ended meanwhile took the fresh watch with it.
    installed = !ec && session_ends == ends_before;
    if (!ec && !installed) ec = Error::sessionExpired;
    cv.notify_all();
  }

  // On the client's event fiber.
  void dispatch(const WatchedEvent& e) {
    if (e.type == wire::EventType::none) {
      // The client hands every watcher the end of its session (and forgets them).
      if (e.state == wire::KeeperState::expired || e.state == wire::KeeperState::closed ||
          e.state == wire::KeeperState::authFailed) {
        installed = false;
        ++session_ends;
      }
      return;
    }
    const auto subscribers_now = subscribers;
    for (PersistentWatcher* w : subscribers_now) {
      if (std::find(subscribers.begin(), subscribers.end(), w) != subscribers.end()) w->push({false, {}, e});
    }
  }

  // The last subscriber gone: take the watch away.
  void uninstall() {
    if (!installed) return;
    installed = false;
    const auto type = recursive ? wire::WatcherType::persistentRecursive : wire::WatcherType::persistent;
    std::error_code ec = Error::connectionLoss;
    const auto state = client.state();
    if (is_connected(state)) {
      client.remove_watches(path, type, false, ec);
    }
    // ZooKeeper 3.8 refuses the persistent watcher types (marshallingError);
    // when away, the server forgets the watch with the connection anyway.
    if (ec) client.remove_watches(path, type, true, ec);
  }

  Client& client;
  const std::string path;
  const bool recursive;
  std::vector<PersistentWatcher*> subscribers;
  bool installed = false;
  bool installing = false;
  uint64_t session_ends = 0;
  boost::fibers::mutex mutex;
  boost::fibers::condition_variable cv;
};

namespace {

using HubKey = std::tuple<const Client*, std::string, bool>;

// A Client lives on one runtime thread, so its hubs do too.
std::map<HubKey, std::weak_ptr<PersistentWatcher::Hub>>& hubs() {
  thread_local std::map<HubKey, std::weak_ptr<PersistentWatcher::Hub>> registry;
  return registry;
}

}  // namespace

PersistentWatcher::PersistentWatcher(Client& client, std::string path, bool recursive)
    : client_(client), path_(std::move(path)), recursive_(recursive) {}

PersistentWatcher::~PersistentWatcher() { close(); }

void PersistentWatcher::start(Handler handler) {
  if (started_ || stopping_) throw std::logic_error("PersistentWatcher " + path_ + " started twice");
  started_ = true;
  handler_ = std::move(handler);
  auto& slot = hubs()[HubKey{&client_, path_, recursive_}];
  hub_ = slot.lock();
  if (!hub_) {
    hub_ = std::make_shared<Hub>(client_, path_, recursive_);
    slot = hub_;
  }
  hub_->subscribers.push_back(this);
  listener_ = client_.add_state_listener([this](SessionState s) { push({true, s, {}}); });
  const SessionState now = client_.state();
  if (is_connected(now)) push({true, now, {}});
  fiber_ = boost::fibers::fiber([this] { run(); });
}

void PersistentWatcher::close() {
  if (!started_) return;
  started_ = false;
  client_.remove_state_listener(listener_);
  {
    std::unique_lock lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (fiber_.joinable()) fiber_.join();
  // Only now: the fiber may have been adding the watch.
  std::erase(hub_->subscribers, this);
  if (hub_->subscribers.empty()) {
    auto& registry = hubs();
    const auto it = registry.find(HubKey{&client_, path_, recursive_});
    if (it != registry.end() && it->second.lock() == hub_) registry.erase(it);
    hub_->uninstall();
  }
  hub_.reset();
}

void PersistentWatcher::push(Item item) {
  {
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    queue_.push_back(std::move(item));
  }
  cv_.notify_one();
}

void PersistentWatcher::run() {
  while (true) {
    std::deque<Item> items;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      items.swap(queue_);
    }
    std::vector<WatchNotice> batch;
    for (const Item& item : items) {
      if (!item.is_state) {
        batch.push_back(WatchNotice{WatchNotice::Kind::event, item.event, {}, {}});
        continue;
      }
      switch (item.state) {
        case SessionState::connected:
        case SessionState::reconnected: {
          std::error_code ec;
          hub_->ensure_installed(ec);
          if (!ec) {
            batch.push_back(WatchNotice{WatchNotice::Kind::reset, {}, item.state, {}});
          } else if (ec != Error::connectionLoss && ec != Error::sessionExpired && ec != Error::authFailed) {
            batch.push_back(WatchNotice{WatchNotice::Kind::failed, {}, item.state, ec});
          }
          // Otherwise the connection or session went away meanwhile: the state
          // change that says so is queued, and a reset follows the next connect.
          break;
        }
        case SessionState::suspended:
          batch.push_back(WatchNotice{WatchNotice::Kind::suspended, {}, item.state, {}});
          break;
        case SessionState::expired:
        case SessionState::closed:
        case SessionState::authFailed: batch.push_back(WatchNotice{WatchNotice::Kind::lost, {}, item.state, {}}); break;
        case SessionState::connecting: break;
      }
      if (stopping_) return;
    }
    if (!batch.empty()) handler_(batch);
  }
}

}  // namespace corral::recipes
