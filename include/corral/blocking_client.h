// A Client on its own thread, for callers that are not fibers of a Runtime.
//
//   corral::BlockingClient zk({.connect_string = "127.0.0.1:2181"});
//   auto data = zk.call([](corral::Client& c) { return c.get("/config"); });
//
// call() runs the function in a fiber on the client's thread and blocks the
// caller until it returns (exceptions are rethrown in the caller). The caller
// waits on a Boost.Fiber future, so a fiber of another Runtime calling this
// suspends only itself, and a plain thread blocks. call() is thread-safe; the
// Client reference handed to the function must not escape it.
#pragma once

#include <boost/fiber/future.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <thread>
#include <type_traits>

#include "corral/client.h"

namespace corral {

class BlockingClient {
 public:
  // Starts the thread and connects (throws std::system_error if that fails
  // within `connect_timeout`).
  explicit BlockingClient(ClientOptions options, std::chrono::milliseconds connect_timeout = std::chrono::seconds(30));
  // Closes the session and joins the thread.
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  template <class F>
  auto call(F&& f) -> std::invoke_result_t<F&, Client&> {
    using R = std::invoke_result_t<F&, Client&>;
    auto promise = std::make_shared<boost::fibers::promise<R>>();
    auto future = promise->get_future();
    post([promise, f = std::forward<F>(f)](Client& c) mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          f(c);
          promise->set_value();
        } else {
          promise->set_value(f(c));
        }
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    });
    return future.get();
  }

 private:
  class Worker;
  // Runs `task` in a new fiber on the client's thread.
  void post(std::function<void(Client&)> task);

  std::unique_ptr<Worker> worker_;
  std::thread thread_;
};

}  // namespace corral
