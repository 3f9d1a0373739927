#include "client/runtime/asio_scheduler.h"

namespace corral::runtime {

AsioScheduler::AsioScheduler(asio::io_context& io) : io_(io), keep_running_(asio::make_work_guard(io)), timer_(io) {}

AsioScheduler::~AsioScheduler() = default;

void AsioScheduler::awakened(boost::fibers::context* ctx) noexcept { ready_.push_back(*ctx); }

boost::fibers::context* AsioScheduler::pick_next() noexcept {
  // Once per round of ready fibers, when Boost's dispatcher fiber picks the
  // next one, run whatever I/O completed meanwhile. Only on the dispatcher's
  // own stack: a fiber that is switching away may still hold the spinlock of
  // the condition variable it waits on, which a handler waking it would need.
  if (boost::fibers::context::active()->is_context(boost::fibers::type::dispatcher_context)) io_.poll();
  if (ready_.empty()) return nullptr;
  boost::fibers::context* ctx = &ready_.front();
  ready_.pop_front();
  return ctx;
}

bool AsioScheduler::has_ready_fibers() const noexcept { return !ready_.empty(); }

void AsioScheduler::suspend_until(std::chrono::steady_clock::time_point const& deadline) noexcept {
  // notify()'s handler ran in pick_next()'s poll(), after the dispatcher last
  // moved the remotely woken fibers to the ready queue: blocking now could
  // strand them (the wake-up is consumed). Return, so the dispatcher looks again.
  if (remote_wake_seen_) {
    remote_wake_seen_ = false;
    return;
  }
  if (deadline != armed_) {
    armed_ = deadline;
    if (deadline == std::chrono::steady_clock::time_point::max()) {
      timer_.cancel();
    } else {
      timer_.expires_at(deadline);
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) armed_ = std::chrono::steady_clock::time_point::max();
      });
    }
  }
  ++blocking_waits_;
  io_.run_one();
  remote_wake_seen_ = false;  // the dispatcher looks at the remote queue next
}

void AsioScheduler::notify() noexcept {
  if (!notified_.exchange(true)) {
    asio::post(io_, [this] {
      // An exchange (not a store) reads the flag the notifiers wrote, so what
      // they pushed before notify() is visible to this thread from here on.
      notified_.exchange(false, std::memory_order_acq_rel);
      remote_wake_seen_ = true;
    });
  }
}

}  // namespace corral::runtime
