// The engine behind Lock, ReadWriteLock, Semaphore, LeaderLatch and
// LeaderSelector: the ZooKeeper paper's herd-free queue. Each participant
// creates a protected ephemeral-sequential node "<base>/_c_<uuid>-<lock
// name><seq>"; the
// participants sorted by sequence form the queue; a participant holds when a
// driver says so (for a mutex: it is among the first `max_leases`) and
// otherwise watches exactly one node ahead of it (the driver says which), so a
// release wakes one waiter, not all of them.
//
// Node naming and ordering are Apache Curator's (LockInternals,
// StandardLockInternalsDriver), so C++ and Java processes can queue together.
//
// Other shapes of queue (ReadWriteLock's readers and writers under one path)
// plug in a sorter (which children take part, in which order) and Curator's
// "sorting sequence" (a node created to sort next to one we already hold).
//
// Faults: a lost create reply is found again by its protected id; while the
// connection is suspended a waiter keeps waiting (its watch is re-armed after
// the reconnect); when the session expires its node is gone and the wait ends
// with sessionExpired; on timeout the node is deleted so nobody waits on it.
// Releasing after the session ended (expired, closed) is not an error: the
// node went with the session.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "corral/recipes/znodes.h"

namespace corral::recipes {

// Decides, from the sorted participants, whether `ours` holds and, if not,
// which single node to watch.
struct LockVerdict {
  bool holds = false;
  std::string watch{};     // a child name of the base path, when !holds
  std::error_code fail{};  // set: give up with this error (e.g. a wait that could never end)
};
using LockDriver =
    std::function<LockVerdict(const std::vector<std::string>& sorted, std::size_t our_index, int max_leases)>;

// Curator's standard driver: hold when among the first max_leases, else watch
// the node max_leases places ahead.
LockVerdict standard_lock_driver(const std::vector<std::string>& sorted, std::size_t our_index, int max_leases);

// Orders the base path's children into the queue, dropping those that take no
// part. Empty: sorted_by_sequence(children, lock name).
using LockSorter = std::function<std::vector<std::string>(std::vector<std::string> children)>;
// Curator's getSortingSequence: when it returns a non-empty sequence, acquire()
// creates a plain ephemeral "<lock name><sequence>" instead of a sequential node.
using SortingSequence = std::function<std::string()>;

// Deletes a node of this session's (a lock node, a lease), riding out a
// dropped connection for up to one session timeout. Gone already, or gone
// with the session that owned it (expired, closed), is not an error.
void remove_owned_node(Client& client, const std::string& path, std::error_code& ec);

class LockInternals {
 public:
  LockInternals(Client& client, std::string base_path, std::string lock_name, int max_leases = 1,
                LockDriver driver = standard_lock_driver, LockSorter sorter = {}, SortingSequence sequence = {});

  // Joins the queue and waits until the driver says we hold, or `deadline`
  // (operationTimeout), or `stop` is requested (std::errc::operation_canceled),
  // or our node is gone: with the session (sessionExpired) or deleted by
  // someone else (noNode); either way our node is removed. Returns our
  // node's full path. A caller
  // that must stay in line while it watches for something else passes a far
  // deadline and a stop token, rather than a loop of short waits (each would
  // leave the queue and join it again at the back).
  std::string acquire(Clock::time_point deadline, std::string_view data, std::error_code& ec,
                      const std::stop_token& stop = {});
  // Leaves the queue (deletes our node). noNode is not an error: the session
  // may have ended and taken the node with it.
  void release(const std::string& our_path, std::error_code& ec);

  // Called with our node's full path once it is made, before the wait (a
  // recipe that shows its place in line: LeaderLatch::our_node()).
  void on_queued(std::function<void(const std::string& our_path)> listener) { on_queued_ = std::move(listener); }

  // The participants in queue order (child names).
  std::vector<std::string> participants(std::error_code& ec);
  const std::string& base_path() const { return base_; }
  const std::string& lock_name() const { return name_; }
  Client& client() { return client_; }

 private:
  bool wait_for_turn(const std::string& our_path, Clock::time_point deadline, const std::stop_token& stop,
                     std::error_code& ec);

  Client& client_;
  std::string base_;
  std::string name_;
  int max_leases_;
  LockDriver driver_;
  LockSorter sorter_;
  SortingSequence sequence_;
  std::function<void(const std::string&)> on_queued_;
};

}  // namespace corral::recipes
