// corral::Runtime: one thread's fibers and its Asio io_context, married.
//
// Create it on the thread that will run it; it installs AsioScheduler for that
// thread, and the destructor gives the thread back Boost's round-robin
// algorithm. One Runtime per thread at a time. run(f) starts f in a fiber and returns when f has returned, running
// every other fiber and every I/O handler meanwhile; spawn(f) starts a
// detached fiber. Nothing here is thread-safe except post(), which any thread
// may call to run a function on the runtime's thread.
//
// Shutdown order (what Asio and Boost.Fiber need): close sockets and cancel
// timers, let the fibers waiting on them see operation_aborted and finish,
// then destroy the Runtime. Never stop() the io_context while fibers wait on it.
#pragma once

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <functional>
#include <utility>

#include "corral/asio.h"

namespace corral::runtime {
class AsioScheduler;
}

namespace corral {

class Runtime {
 public:
  Runtime();
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  asio::io_context& io() { return io_; }

  // Runs `f` in a new fiber on this thread and returns once it has finished.
  template <class F>
  void run(F&& f) {
    boost::fibers::fiber fiber(std::forward<F>(f));
    fiber.join();
  }

  // Starts `f` in a detached fiber.
  template <class F>
  void spawn(F&& f) {
    boost::fibers::fiber(std::forward<F>(f)).detach();
  }

  // Thread-safe: runs `f` on the runtime's thread, as an I/O handler.
  void post(std::function<void()> f) { asio::post(io_, std::move(f)); }

  // The runtime whose thread is calling, or nullptr.
  static Runtime* current();

  // How often the thread blocked in the kernel waiting for work.
  uint64_t blocking_waits() const;

 private:
  asio::io_context io_;
  runtime::AsioScheduler* scheduler_;  // owned by the thread's fiber scheduler
  Runtime* previous_;
};

}  // namespace corral
