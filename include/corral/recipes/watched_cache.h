// What NodeCache and TreeCache share: a PersistentWatcher feeding the cache's
// handle(batch), a start() that waits until the first read is in, close(),
// listeners, and the state flags every cache reports. `Cache` is the cache
// type (it has `void handle(const std::vector<WatchNotice>&)`), `Listener` what
// its listeners are.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "corral/recipes/persistent_watcher.h"
#include "corral/recipes/znodes.h"

namespace corral::recipes {

template <class Cache, class Listener>
class WatchedCache {
 public:
  // Starts watching and blocks the fiber until the first read is in (ec
  // clear), the deadline passes (operationTimeout; the cache keeps trying in
  // the background) or the watch is refused (the server's code, e.g.
  // unimplemented before ZooKeeper 3.6).
  void start(Clock::time_point deadline, std::error_code& ec) {
    watcher_.start([this](const std::vector<WatchNotice>& batch) { static_cast<Cache*>(this)->handle(batch); });
    std::unique_lock lock(mutex_);
    if (!changed_.wait_until(lock, deadline, [&] { return initialized_ || failure_; })) {
      ec = Error::operationTimeout;
      return;
    }
    ec = initialized_ ? std::error_code() : failure_;
  }
  // Throws std::system_error for every failure, the timeout included.
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::error_code ec;
    start(Clock::now() + timeout, ec);
    if (ec) throw std::system_error(ec, std::string(Cache::kind) + " " + watcher_.path());
  }
  // Stops watching (removes the watch) and calls no listener afterwards.
  void close() {
    watcher_.close();
    listeners_.clear();
  }

  // The first read is done.
  bool initialized() const { return initialized_; }
  // Connected, and read since the last reconnect or new session.
  bool is_current() const { return current_; }
  // Reads made so far (how much a burst of changes cost).
  uint64_t reads() const { return reads_; }

  // Listeners run on the cache's fiber; the id removes one again.
  uint64_t add_listener(Listener listener) {
    listeners_.emplace(++last_listener_, std::move(listener));
    return last_listener_;
  }
  void remove_listener(uint64_t id) { listeners_.erase(id); }

 protected:
  WatchedCache(Client& client, std::string path, bool recursive)
      : client_(client), watcher_(client, std::move(path), recursive) {}
  // The cache's own destructor calls close() first: the watcher's fiber
  // calls into the cache until then.
  ~WatchedCache() = default;
  WatchedCache(const WatchedCache&) = delete;
  WatchedCache& operator=(const WatchedCache&) = delete;

  Client& client_;
  PersistentWatcher watcher_;
  bool initialized_ = false;
  bool current_ = false;
  std::error_code failure_;
  uint64_t reads_ = 0;
  std::map<uint64_t, Listener> listeners_;
  uint64_t last_listener_ = 0;
  mutable boost::fibers::mutex mutex_;
  boost::fibers::condition_variable changed_;
};

}  // namespace corral::recipes
