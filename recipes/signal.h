// A one-shot wake-up for a fiber waiting on a watch: the watch callback (on
// the client's event fiber) calls notify(), the waiting fiber returns from
// wait_until(). Held in a shared_ptr by both, because a watch may fire after
// its waiter gave up.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <chrono>
#include <memory>
#include <mutex>

#include "corral/client.h"

namespace corral::recipes {

class Signal {
 public:
  void notify() {
    std::unique_lock lock(mutex_);
    set_ = true;
    cv_.notify_all();
  }

  // True once notified (and consumed); false when `deadline` passed first.
  bool wait_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    const bool got = cv_.wait_until(lock, deadline, [&] { return set_; });
    set_ = false;
    return got;
  }

  // A Watcher that notifies `signal`.
  static Watcher watcher(const std::shared_ptr<Signal>& signal) {
    return [signal](const WatchedEvent&) { signal->notify(); };
  }

 private:
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable cv_;
  bool set_ = false;
};

}  // namespace corral::recipes
