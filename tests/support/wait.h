// Bounded waiting. Tests never sleep "to let things settle": they poll an
// observable condition in small steps and give up at a deadline.
#pragma once

#include <chrono>
#include <thread>

namespace corral::test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

// How long waits for something that should happen promptly may take before a
// test fails. Generous so that a loaded machine or a sanitizer build passes;
// a passing test never waits this long.
inline constexpr milliseconds default_timeout = 10s;

class Deadline {
 public:
  explicit Deadline(milliseconds timeout) : at_(Clock::now() + timeout) {}
  bool expired() const { return Clock::now() >= at_; }
  milliseconds remaining() const {
    const auto left = std::chrono::duration_cast<milliseconds>(at_ - Clock::now());
    return left.count() > 0 ? left : milliseconds(0);
  }
  Clock::time_point at() const { return at_; }

 private:
  Clock::time_point at_;
};

// Polls `pred` every `step` until it returns true (then true) or `timeout`
// passes (then false; `pred` is evaluated one last time at the deadline).
template <class Pred>
bool wait_until(Pred&& pred, milliseconds timeout = default_timeout, milliseconds step = 5ms) {
  const Deadline deadline(timeout);
  for (;;) {
    if (pred()) return true;
    if (deadline.expired()) return false;
    std::this_thread::sleep_for(std::min(step, deadline.remaining() + 1ms));
  }
}

}  // namespace corral::test
