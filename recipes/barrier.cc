#include "corral/recipes/barrier.h"

#include "recipes/signal.h"

namespace corral::recipes {

Barrier::Barrier(Client& client, std::string path, BarrierOptions options)
    : client_(client), path_(std::move(path)), options_(options) {}

bool Barrier::retry_after(std::error_code& ec, Clock::time_point deadline) {
  if (ec != Error::connectionLoss) return false;
  if (client_.wait_connected(deadline)) {
    ec.clear();
    return true;
  }
  ec = client_.state() == SessionState::expired ? std::error_code(Error::sessionExpired)
       : Clock::now() >= deadline              ? std::error_code(Error::operationTimeout)
                                               : std::error_code(Error::connectionLoss);
  return false;
}

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
    if (!retry_after(ec, deadline)) return;
  }
}

void Barrier::remove_barrier(Clock::time_point deadline, std::error_code& ec) {
  while (true) {
    client_.remove(path_, -1, ec);
    if (ec == Error::noNode) ec.clear();
    if (!retry_after(ec, deadline)) return;
  }
}

bool Barrier::is_set(std::error_code& ec) { return client_.exists(path_, {}, ec).has_value(); }

bool Barrier::wait_on_barrier(Clock::time_point deadline, std::error_code& ec) {
  while (true) {
    auto signal = std::make_shared<Signal>();
    const auto there = client_.exists(path_, Signal::watcher(signal), ec);
    if (ec) {
      if (retry_after(ec, deadline)) continue;
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
  std::error_code ec;
  set_barrier(Clock::now() + client_.negotiated_timeout(), ec);
  if (ec) throw std::system_error(ec, "set barrier " + path_);
}

void Barrier::remove_barrier() {
  std::error_code ec;
  remove_barrier(Clock::now() + client_.negotiated_timeout(), ec);
  if (ec) throw std::system_error(ec, "remove barrier " + path_);
}

void Barrier::wait_on_barrier() {
  std::error_code ec;
  if (!wait_on_barrier(Clock::time_point::max(), ec)) throw std::system_error(ec, "wait on barrier " + path_);
}

bool Barrier::wait_on_barrier_for(std::chrono::milliseconds timeout) {
  std::error_code ec;
  if (wait_on_barrier(Clock::now() + timeout, ec)) return true;
  if (ec == Error::operationTimeout) return false;
  throw std::system_error(ec, "wait on barrier " + path_);
}

}  // namespace corral::recipes
