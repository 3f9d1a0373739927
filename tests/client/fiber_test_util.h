// Helpers for tests that run fibers on corral::Runtime: run a test body in a
// fiber, wait for a condition from a fiber with a deadline, record watch and
// state events in the order the client delivers them.
#pragma once

#include <gtest/gtest.h>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "corral/client.h"
#include "corral/runtime.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/wait.h"

namespace corral::test {

// Runs `body(runtime)` in a fiber of a fresh Runtime on this thread and
// returns when it has. An exception escaping a fiber would terminate the
// process; here it becomes a test failure.
template <class F>
void run_fibers(F&& body) {
  Runtime runtime;
  runtime.run([&] {
    try {
      body(runtime);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "uncaught exception: " << e.what();
    }
  });
}

// From a fiber: polls `pred` every `step` (the runtime keeps serving other
// fibers and I/O meanwhile) until it holds or `timeout` passes.
template <class Pred>
bool fiber_wait_until(Pred&& pred, milliseconds timeout = default_timeout, milliseconds step = 2ms) {
  const Deadline deadline(timeout);
  for (;;) {
    if (pred()) return true;
    if (deadline.expired()) return false;
    boost::this_fiber::sleep_for(std::min(step, deadline.remaining() + 1ms));
  }
}

// A fiber that is joined on every path out of its scope, a failed ASSERT's
// early return included (a boost::fibers::fiber destroyed while joinable
// terminates the process). `stop`, if given, runs first: it tells a fiber
// that loops until told (a chaos monkey, a poller) to end.
class JoiningFiber {
 public:
  template <class F>
  explicit JoiningFiber(F&& body, std::function<void()> stop = {})
      : stop_(std::move(stop)), fiber_(std::forward<F>(body)) {}
  JoiningFiber(JoiningFiber&&) = default;
  JoiningFiber& operator=(JoiningFiber&&) = delete;
  ~JoiningFiber() { join(); }
  void join() {
    if (!fiber_.joinable()) return;
    if (stop_) stop_();
    fiber_.join();
  }

 private:
  std::function<void()> stop_;
  boost::fibers::fiber fiber_;
};

// Takes `client` (connected through `proxy`) off the network: the proxy
// refuses it until set_refusing(false). True once the client noticed
// (suspended), from one of the client's fibers; false if it did not within
// the default timeout.
bool cut_off(TcpProxy& proxy, const Client& client);

// A client of `hosts` with that session timeout, connected (30 s at most:
// throws std::system_error if it cannot). For worker processes and ensembles;
// ClientTest::connect() is the form for the behavioural suites.
std::unique_ptr<Client> connect_client(Runtime& runtime, const std::string& hosts,
                                       milliseconds session_timeout = std::chrono::seconds(10));

std::string_view event_name(wire::EventType type);
std::string_view keeper_state_name(wire::KeeperState state);

// Watch and state events as strings, in delivery order:
//   "<tag> NodeDataChanged /path"      a watch event
//   "<tag> None Expired"               a state event sent to a watcher
//   "state connected"                  a session state change
class EventLog {
 public:
  Watcher watcher(std::string tag = "w");
  Client::StateListener listener();

  const std::vector<std::string>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  // The entries that start with `prefix`.
  std::vector<std::string> with_prefix(std::string_view prefix) const;
  bool contains(std::string_view entry) const;
  // Waits (from a fiber) until at least `n` entries are there.
  bool wait_for_size(std::size_t n, milliseconds timeout = default_timeout) const;
  bool wait_for(std::string_view entry, milliseconds timeout = default_timeout) const;
  void clear() { entries_.clear(); }
  // Fibers the callbacks ran on (one per entry).
  const std::vector<boost::fibers::fiber::id>& fibers() const { return fibers_; }
  std::string dump() const;

 private:
  void record(std::string entry);
  std::vector<std::string> entries_;
  std::vector<boost::fibers::fiber::id> fibers_;
};

}  // namespace corral::test
