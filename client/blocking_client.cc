#include "corral/blocking_client.h"

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <future>

#include "corral/runtime.h"

namespace corral {

// Lives on the client thread; everything but post()/stop() runs there.
class BlockingClient::Worker {
 public:
  explicit Worker(ClientOptions options) : options_(std::move(options)) {}

  void run(std::chrono::milliseconds connect_timeout, std::promise<void>& started) {
    Runtime runtime;
    runtime_ = &runtime;
    runtime.run([&] {
      Client client(runtime, options_);
      client_ = &client;
      std::error_code ec;
      client.connect(connect_timeout, ec);
      if (ec) {
        started.set_exception(std::make_exception_ptr(std::system_error(ec, "connect to " + options_.connect_string)));
        client_ = nullptr;
        return;
      }
      started.set_value();
      std::unique_lock lock(mutex_);
      stop_cv_.wait(lock, [&] { return stopping_ && running_tasks_ == 0; });
      client.close();
      client_ = nullptr;
    });
    runtime_ = nullptr;
  }

  // Any thread.
  void post(std::function<void(Client&)> task) {
    runtime_->post([this, task = std::move(task)]() mutable {
      ++running_tasks_;
      boost::fibers::fiber([this, task = std::move(task)] {
        task(*client_);
        std::unique_lock lock(mutex_);
        --running_tasks_;
        stop_cv_.notify_all();
      }).detach();
    });
  }

  // Any thread.
  void stop() {
    runtime_->post([this] {
      std::unique_lock lock(mutex_);
      stopping_ = true;
      stop_cv_.notify_all();
    });
  }

 private:
  ClientOptions options_;
  Runtime* runtime_ = nullptr;
  Client* client_ = nullptr;
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable stop_cv_;
  bool stopping_ = false;
  int running_tasks_ = 0;
};

BlockingClient::BlockingClient(ClientOptions options, std::chrono::milliseconds connect_timeout)
    : worker_(std::make_unique<Worker>(std::move(options))) {
  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::thread([this, connect_timeout, &started] { worker_->run(connect_timeout, started); });
  try {
    ready.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

BlockingClient::~BlockingClient() {
  worker_->stop();
  thread_.join();
}

void BlockingClient::post(std::function<void(Client&)> task) { worker_->post(std::move(task)); }

}  // namespace corral
