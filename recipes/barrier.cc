#include "corral/recipes/barrier.h"

#include "recipes/throwing.h"

#include "recipes/signal.h"

namespace corral::recipes {

Barrier::Barrier(Client& client, std::string path, BarrierOptions options)
    : client_(client), path_(std::move(path)), options_(options) {}

void Barrier::set_barrier(Clock::time_point deadline, std::error_code& ec) {
  CreateOptions create;
  create.mode = options_.ephemeral ? CreateMode::ephemeral : CreateMode::persistent;
  const auto slash = path_.rfind('/');
  const std::string parent = slash == 0 ? std::string("/") : path_.substr(0, slash);
  while (true) {
    client_.create(path_, {}, create, ec);
    if (ec == Error::noNode && parent != "/") {
      ensure_path(client_, parent, ec);
      if (!ec) continue;
    }
    if (ec == Error::nodeExists) ec.clear();
    if (!retry_after_connection_loss(client_, ec, deadline)) return;
  }
}

void Barrier::remove_barrier(Clock::time_point deadline, std::error_code& ec) {
  while (true) {
    client_.remove(path_, -1, ec);
    if (ec == Error::noNode) ec.clear();
    if (!retry_after_connection_loss(client_, ec, deadline)) return;
  }
}

bool Barrier::is_set(std::error_code& ec) { return client_.exists(path_, {}, ec).has_value(); }

bool Barrier::wait_on_barrier(Clock::time_point deadline, std::error_code& ec) {
  while (true) {
    auto signal = std::make_shared<Signal>();
    const auto there = client_.exists(path_, Signal::watcher(signal), ec);
    if (ec) {
      if (retry_after_connection_loss(client_, ec, deadline)) continue;
      return false;
    }
    if (!there) return true;
    if (!signal->wait_until(deadline)) {
      ec = Error::operationTimeout;
      return false;
    }
  }
}

void Barrier::set_barrier() {
  or_throw("set barrier", path_,
           [&](std::error_code& ec) { set_barrier(Clock::now() + client_.negotiated_timeout(), ec); });
}

void Barrier::remove_barrier() {
  or_throw("remove barrier", path_,
           [&](std::error_code& ec) { remove_barrier(Clock::now() + client_.negotiated_timeout(), ec); });
}

void Barrier::wait_on_barrier() {
  or_throw("wait on barrier", path_, [&](std::error_code& ec) { wait_on_barrier(Clock::time_point::max(), ec); });
}

bool Barrier::wait_on_barrier_for(std::chrono::milliseconds timeout) {
  return or_throw_unless_timeout("wait on barrier", path_,
                                 [&](std::error_code& ec) { return wait_on_barrier(Clock::now() + timeout, ec); });
}

}  // namespace corral::recipes
