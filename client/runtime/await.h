// Suspends the calling fiber, and only it, until an Asio operation completes.
//
//   auto [ec, n] = runtime::await<boost::system::error_code, std::size_t>(
//       [&](auto handler) { socket.async_read_some(buffer, std::move(handler)); });
//
// The handler runs on the runtime's thread (inside the scheduler's I/O poll)
// and only stores the results and wakes the fiber. Results live in a
// std::optional, so move-only results work. No allocation beyond what the
// operation itself makes.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>

namespace corral::runtime {

template <class... Results>
std::tuple<Results...> await(auto&& start) {
  struct Waiter {
    boost::fibers::mutex mutex;
    boost::fibers::condition_variable done;
    std::optional<std::tuple<Results...>> results;
  } waiter;
  start([&waiter](Results... results) {
    std::unique_lock lock(waiter.mutex);
    waiter.results.emplace(std::move(results)...);
    waiter.done.notify_one();
  });
  std::unique_lock lock(waiter.mutex);
  waiter.done.wait(lock, [&] { return waiter.results.has_value(); });
  return std::move(*waiter.results);
}

}  // namespace corral::runtime
