#include "corral/recipes/semaphore.h"

#include "recipes/throwing.h"

#include <algorithm>

#include "recipes/signal.h"

namespace corral::recipes {

// What the leases of one semaphore share with it (and keep after it is gone).
struct Lease::Shared {
  Client* client = nullptr;
  int held = 0;
  std::vector<std::function<void(SessionState)>> lost_listeners;
};

// ---- Lease ------------------------------------------------------------------

Lease::Lease(std::shared_ptr<Shared> shared, std::string path) : shared_(std::move(shared)), path_(std::move(path)) {
  ++shared_->held;
}

Lease::~Lease() {
  std::error_code ignored;
  release(ignored);
}

Lease::Lease(Lease&& other) noexcept : shared_(std::move(other.shared_)), path_(std::exchange(other.path_, {})) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    std::error_code ignored;
    release(ignored);
    shared_ = std::move(other.shared_);
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

void Lease::release(std::error_code& ec) {
  ec.clear();
  if (path_.empty()) return;
  const std::string path = std::exchange(path_, {});
  --shared_->held;
  remove_owned_node(*shared_->client, path, ec);
}

void Lease::release() {
  const std::string path = path_;  // release() forgets it
  or_throw("return lease", path, [&](std::error_code& ec) { release(ec); });
}

// ---- Semaphore --------------------------------------------------------------

Semaphore::Semaphore(Client& client, std::string path, int max_leases, std::string node_data)
    : path_(std::move(path)),
      leases_path_(join(path_, "leases")),
      max_leases_(max_leases),
      node_data_(std::move(node_data)),
      shared_(std::make_shared<Lease::Shared>()),
      lock_(client, join(path_, "locks")) {
  shared_->client = &client;
  state_listener_ = client.add_state_listener([shared = shared_](SessionState s) {
    if (shared->held == 0) return;
    if (s == SessionState::suspended || s == SessionState::expired) {
      for (const auto& l : shared->lost_listeners) l(s);
    }
  });
}

Semaphore::~Semaphore() { shared_->client->remove_state_listener(state_listener_); }

std::vector<Lease> Semaphore::acquire(int count, Clock::time_point deadline, std::error_code& ec) {
  if (count <= 0 || max_leases_ <= 0) {
    ec = Error::badArguments;
    return {};
  }
  std::vector<Lease> out;
  while (static_cast<int>(out.size()) < count) {
    if (!lock_.acquire(deadline, ec)) return {};  // those taken go back with `out`
    Lease lease = acquire_one(deadline, ec);
    std::error_code ignored;
    lock_.release(ignored);
    if (ec) return {};
    out.push_back(std::move(lease));
  }
  ec.clear();
  return out;
}

Lease Semaphore::acquire_one(Clock::time_point deadline, std::error_code& ec) {
  Client& client = *shared_->client;
  const std::string ours =
      protected_create(client, leases_path_, "lease-", node_data_, CreateMode::ephemeralSequential, deadline, ec);
  if (ec) return {};
  Lease lease(shared_, ours);  // returned again on every way out but success
  const std::string name = ours.substr(ours.rfind('/') + 1);
  while (true) {
    auto signal = std::make_shared<Signal>();
    const auto kids = client.children(leases_path_, Signal::watcher(signal), ec);
    if (ec == Error::connectionLoss) {
      if (!retry_after_connection_loss(client, ec, deadline)) return {};
      continue;
    }
    if (ec) return {};
    if (std::find(kids.names.begin(), kids.names.end(), name) == kids.names.end()) {
      ec = Error::sessionExpired;  // our ephemeral went with the session
      return {};
    }
    if (kids.names.size() <= static_cast<std::size_t>(max_leases_)) return lease;
    if (!signal->wait_until(deadline)) {
      ec = Error::operationTimeout;
      return {};
    }
  }
}

Lease Semaphore::acquire() {
  auto leases = acquire(1);
  return std::move(leases.front());
}

std::vector<Lease> Semaphore::acquire(int count) {
  return or_throw("acquire", path_, [&](std::error_code& ec) { return acquire(count, Clock::time_point::max(), ec); });
}

std::vector<Lease> Semaphore::try_acquire_until(int count, Clock::time_point deadline) {
  return or_throw_unless_timeout("acquire", path_, [&](std::error_code& ec) { return acquire(count, deadline, ec); });
}

std::vector<std::string> Semaphore::participants(std::error_code& ec) {
  auto kids = shared_->client->children(leases_path_, {}, ec);
  if (ec == Error::noNode) ec.clear();
  return std::move(kids.names);
}

std::vector<std::string> Semaphore::participants() {
  return or_throw("participants of", path_, [&](std::error_code& ec) { return participants(ec); });
}

void Semaphore::on_lost(std::function<void(SessionState)> listener) {
  shared_->lost_listeners.push_back(std::move(listener));
}

}  // namespace corral::recipes
