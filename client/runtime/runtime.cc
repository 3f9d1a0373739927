#include "corral/runtime.h"

#include <boost/fiber/algo/round_robin.hpp>
#include <boost/fiber/scheduler.hpp>
#include <cassert>

#include "client/runtime/asio_scheduler.h"

namespace corral {

namespace {
thread_local Runtime* current_runtime = nullptr;

void install(boost::fibers::algo::algorithm* algorithm) {
  boost::fibers::context::active()->get_scheduler()->set_algo(boost::fibers::algo::algorithm::ptr_t(algorithm));
}
}  // namespace

Runtime::Runtime() : io_(1), scheduler_(new runtime::AsioScheduler(io_)), previous_(current_runtime) {
  assert(previous_ == nullptr && "one Runtime per thread at a time");
  install(scheduler_);
  current_runtime = this;
}

Runtime::~Runtime() {
  // At thread exit Boost.Fiber may already have torn down the thread's
  // scheduler (a Runtime with static storage): then there is nothing to restore.
  if (boost::fibers::context::active() != nullptr) install(new boost::fibers::algo::round_robin());
  current_runtime = previous_;
}

Runtime* Runtime::current() { return current_runtime; }

uint64_t Runtime::blocking_waits() const { return scheduler_->blocking_waits(); }

}  // namespace corral
