#include "recipes/lock_internals.h"

#include <algorithm>

#include "recipes/signal.h"

namespace corral::recipes {

LockVerdict standard_lock_driver(const std::vector<std::string>& sorted, std::size_t our_index, int max_leases) {
  const auto leases = static_cast<std::size_t>(max_leases);
  if (our_index < leases) return {true, {}};
  return {false, sorted[our_index - leases]};
}

LockInternals::LockInternals(Client& client, std::string base_path, std::string lock_name, int max_leases,
                             LockDriver driver)
    : client_(client),
      base_(std::move(base_path)),
      name_(std::move(lock_name)),
      max_leases_(max_leases),
      driver_(std::move(driver)) {}

std::vector<std::string> LockInternals::participants(std::error_code& ec) {
  auto kids = client_.children(base_, {}, ec);
  if (ec == Error::noNode) {
    ec.clear();
    return {};
  }
  return sorted_by_sequence(std::move(kids.names), name_);
}

std::string LockInternals::acquire(Clock::time_point deadline, std::string_view data, std::error_code& ec) {
  std::string ours = protected_create(client_, base_, name_, data, CreateMode::ephemeralSequential, deadline, ec);
  if (ec) return {};
  if (wait_for_turn(ours, deadline, ec)) return ours;
  // Timed out or failed: leave the queue so nobody waits behind a ghost.
  std::error_code ignored;
  release(ours, ignored);
  return {};
}

bool LockInternals::wait_for_turn(const std::string& our_path, Clock::time_point deadline, std::error_code& ec) {
  const std::string our_name = our_path.substr(our_path.rfind('/') + 1);
  while (true) {
    const auto sorted = participants(ec);
    if (ec == Error::connectionLoss) {
      if (!client_.wait_connected(deadline)) {
        ec = Clock::now() >= deadline ? Error::operationTimeout : Error::sessionExpired;
        return false;
      }
      continue;
    }
    if (ec) return false;
    const auto it = std::find(sorted.begin(), sorted.end(), our_name);
    if (it == sorted.end()) {
      // Our ephemeral is gone: the session ended under us.
      ec = Error::sessionExpired;
      return false;
    }
    const LockVerdict verdict = driver_(sorted, static_cast<std::size_t>(it - sorted.begin()), max_leases_);
    if (verdict.holds) {
      ec.clear();
      return true;
    }
    // Watch only the one node ahead; if it is already gone, look again.
    auto signal = std::make_shared<Signal>();
    const auto there = client_.exists(join(base_, verdict.watch), Signal::watcher(signal), ec);
    if (ec == Error::connectionLoss) continue;
    if (ec) return false;
    if (!there) continue;
    if (!signal->wait_until(deadline)) {
      ec = Error::operationTimeout;
      return false;
    }
  }
}

void LockInternals::release(const std::string& our_path, std::error_code& ec) {
  const auto deadline = Clock::now() + client_.negotiated_timeout();
  while (true) {
    client_.remove(our_path, -1, ec);
    if (ec != Error::connectionLoss) break;
    if (!client_.wait_connected(deadline)) break;
  }
  if (ec == Error::noNode) ec.clear();
}

}  // namespace corral::recipes
