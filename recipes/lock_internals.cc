#include "corral/recipes/lock_internals.h"

#include <algorithm>

#include "recipes/signal.h"

namespace corral::recipes {

LockVerdict standard_lock_driver(const std::vector<std::string>& sorted, std::size_t our_index, int max_leases) {
  const auto leases = static_cast<std::size_t>(max_leases);
  if (our_index < leases) return {.holds = true};
  return {.holds = false, .watch = sorted[our_index - leases]};
}

LockInternals::LockInternals(Client& client, std::string base_path, std::string lock_name, int max_leases,
                             LockDriver driver, LockSorter sorter, SortingSequence sequence)
    : client_(client),
      base_(std::move(base_path)),
      name_(std::move(lock_name)),
      max_leases_(max_leases),
      driver_(std::move(driver)),
      sorter_(std::move(sorter)),
      sequence_(std::move(sequence)) {}

std::vector<std::string> LockInternals::participants(std::error_code& ec) {
  auto kids = client_.children(base_, {}, ec);
  if (ec == Error::noNode) {
    ec.clear();
    return {};
  }
  return sorter_ ? sorter_(std::move(kids.names)) : sorted_by_sequence(std::move(kids.names), name_);
}

std::string LockInternals::acquire(Clock::time_point deadline, std::string_view data, std::error_code& ec,
                                   const std::stop_token& stop) {
  const std::string sequence = sequence_ ? sequence_() : std::string();
  std::string ours =
      sequence.empty()
          ? protected_create(client_, base_, name_, data, CreateMode::ephemeralSequential, deadline, ec, stop)
          : protected_create(client_, base_, name_ + sequence, data, CreateMode::ephemeral, deadline, ec, stop);
  if (ec) return {};
  if (on_queued_) on_queued_(ours);
  if (wait_for_turn(ours, deadline, stop, ec)) return ours;
  // Timed out or failed: leave the queue so nobody waits behind a ghost.
  std::error_code ignored;
  release(ours, ignored);
  return {};
}

bool LockInternals::wait_for_turn(const std::string& our_path, Clock::time_point deadline, const std::stop_token& stop,
                                  std::error_code& ec) {
  const std::string our_name = our_path.substr(our_path.rfind('/') + 1);
  const int64_t our_session = client_.session_id();
  // One signal for the whole wait: the predecessor's watch and a stop request both wake it.
  auto signal = std::make_shared<Signal>();
  const std::stop_callback on_stop(stop, [signal] { signal->notify(); });
  while (true) {
    if (stop.stop_requested()) {
      ec = std::make_error_code(std::errc::operation_canceled);
      return false;
    }
    const auto sorted = participants(ec);
    if (ec == Error::connectionLoss) {
      if (!retry_after_connection_loss(client_, ec, deadline, stop)) return false;
      continue;
    }
    if (ec) return false;
    const auto it = std::find(sorted.begin(), sorted.end(), our_name);
    if (it == sorted.end()) {
      // Our ephemeral is gone: the session ended under us, or (the same
      // session still) someone deleted it, as Curator tells with NoNode.
      const bool same_session = client_.session_id() == our_session && !has_ended(client_.state());
      ec = same_session ? Error::noNode : Error::sessionExpired;
      return false;
    }
    const LockVerdict verdict = driver_(sorted, static_cast<std::size_t>(it - sorted.begin()), max_leases_);
    if (verdict.fail) {
      ec = verdict.fail;
      return false;
    }
    if (verdict.holds) {
      ec.clear();
      return true;
    }
    // Watch only the one node ahead; if it is already gone, look again. A
    // getData watch, as Curator sets: re-registered after a reconnect, it
    // fires NodeDeleted for a node deleted while we were away, where an
    // exists watch would silently turn into a watch for its re-creation.
    client_.get(join(base_, verdict.watch), Signal::watcher(signal), ec);
    if (ec == Error::connectionLoss || ec == Error::noNode) continue;
    if (ec) return false;
    if (!signal->wait_until(deadline)) {
      ec = Error::operationTimeout;
      return false;
    }
  }
}

void LockInternals::release(const std::string& our_path, std::error_code& ec) {
  remove_owned_node(client_, our_path, ec);
}

void remove_owned_node(Client& client, const std::string& path, std::error_code& ec) {
  const auto deadline = Clock::now() + client.negotiated_timeout();
  while (true) {
    client.remove(path, -1, ec);
    if (ec != Error::connectionLoss) break;
    if (!client.wait_connected(deadline)) break;
  }
  // Gone already, or gone with the session that owned it.
  const SessionState s = client.state();
  if (ec == Error::noNode || ec == Error::sessionExpired ||
      (ec == Error::connectionLoss && (s == SessionState::expired || s == SessionState::closed))) {
    ec.clear();
  }
}

}  // namespace corral::recipes
