// A Boost.Fiber scheduling algorithm that also drives a Boost.Asio io_context
// on the same thread (Boost 1.74 ships no such integration that works).
//
// Fibers run round-robin. Boost's dispatcher fiber sits in the ready queue
// between rounds: each time it picks the next fiber, ready I/O handlers are
// run on its stack without blocking (io_context::poll), so busy fibers never
// starve the sockets. Handlers only wake fibers; they never suspend. When
// no fiber is ready the dispatcher calls suspend_until(): the thread then
// blocks in the kernel (io_context::run_one) until a socket or timer handler
// is ready, the earliest sleeping fiber's deadline passes (one steady_timer,
// re-armed only when that deadline changes), or another thread wakes a fiber
// here (notify() posts one handler on the false->true edge of a flag; should
// that handler run in the non-blocking poll, the next suspend_until() returns
// at once so the dispatcher picks up the remotely woken fibers first).
// An idle client therefore sleeps instead of spinning, and a fiber made ready
// by a handler runs in the same round.
#pragma once

#include <atomic>
#include <chrono>

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/scheduler.hpp>

#include "corral/asio.h"

namespace corral::runtime {

class AsioScheduler final : public boost::fibers::algo::algorithm {
 public:
  explicit AsioScheduler(asio::io_context& io);
  ~AsioScheduler() override;

  void awakened(boost::fibers::context* ctx) noexcept override;
  boost::fibers::context* pick_next() noexcept override;
  bool has_ready_fibers() const noexcept override;
  void suspend_until(std::chrono::steady_clock::time_point const& deadline) noexcept override;
  void notify() noexcept override;

  // How often suspend_until() actually blocked, for tests that check an idle
  // runtime sleeps in the kernel rather than spinning.
  uint64_t blocking_waits() const { return blocking_waits_; }

 private:
  asio::io_context& io_;
  asio::executor_work_guard<asio::io_context::executor_type> keep_running_;
  boost::fibers::scheduler::ready_queue_type ready_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point armed_ = std::chrono::steady_clock::time_point::max();
  std::atomic<bool> notified_{false};
  // Set by notify()'s handler, on this thread: a remote wake-up came since the
  // dispatcher last checked its remote-ready queue.
  bool remote_wake_seen_ = false;
  uint64_t blocking_waits_ = 0;
};

}  // namespace corral::runtime
