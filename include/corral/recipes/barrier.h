// corral::recipes::Barrier — a simple barrier (Apache Curator's
// DistributedBarrier, same znode): while the node exists, waiters wait.
//
//   recipes::Barrier gate(client, "/jobs/load/gate");
//   gate.set_barrier();                        // coordinator: close the gate
//   ...
//   gate.wait_on_barrier_for(10s);             // workers: block this fiber while it is closed
//   ...
//   gate.remove_barrier();                     // coordinator: open it, every waiter returns
//
// Znode: <path> itself (persistent; its ancestors are created as containers).
// With BarrierOptions::ephemeral the node goes away with the session that set
// it, so the gate opens by itself if its coordinator dies (Curator has no such
// mode; the path and its meaning are the same).
//
// A waiter holds one exists watch on <path>; removing the barrier wakes every
// waiter once (each needs to know; there is nothing to herd on).
//
// Faults: while the connection is suspended waiters keep waiting (the watch
// is re-armed after the reconnect) until the barrier goes or their deadline
// passes; when the session expires a wait ends with sessionExpired. set and
// remove are idempotent (an existing node, a missing one, are fine), so a
// lost reply is simply retried after the reconnect. The barrier node is shared
// state, not the object's: the destructor leaves it as it is.
#pragma once

#include <chrono>
#include <string>
#include <system_error>

#include "corral/recipes/znodes.h"

namespace corral::recipes {

struct BarrierOptions {
  // The node lives only as long as the session that set it.
  bool ephemeral = false;
};

class Barrier {
 public:
  Barrier(Client& client, std::string path, BarrierOptions options = {});

  // Creates the node (parents as containers); already set is fine.
  void set_barrier(Clock::time_point deadline, std::error_code& ec);
  void set_barrier();
  // Deletes the node; already removed is fine.
  void remove_barrier(Clock::time_point deadline, std::error_code& ec);
  void remove_barrier();
  // Whether the node exists now.
  bool is_set(std::error_code& ec);

  // Blocks the fiber while the node exists: true once it does not, false
  // when `deadline` passes first (ec = operationTimeout).
  bool wait_on_barrier(Clock::time_point deadline, std::error_code& ec);
  // Throws std::system_error; the _for form returns false on timeout.
  void wait_on_barrier();
  bool wait_on_barrier_for(std::chrono::milliseconds timeout);

  const std::string& path() const { return path_; }

 private:
  Client& client_;
  std::string path_;
  BarrierOptions options_;
};

}  // namespace corral::recipes
