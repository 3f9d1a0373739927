// corral::recipes::Semaphore — at most `max_leases` holders across the
// cluster (Apache Curator's InterProcessSemaphoreV2, same znodes and the same
// protocol, so C++ and Java processes share one semaphore):
//
//   <path>/locks/_c_<uuid>-lock-<seq>     a Lock (InterProcessMutex) that
//                                         admits one acquirer at a time
//   <path>/leases/_c_<uuid>-lease-<seq>   one per lease held (ephemeral-sequential)
//
// To take a lease: take the lock, create a lease node, and while there are
// more than max_leases children of leases/, wait for a change of that list
// (still holding the lock); then release the lock. Everybody else waits in the
// lock's queue, each watching only its predecessor, so a returned lease wakes
// exactly one process: the one at the head of the queue. All users of one
// path must agree on max_leases (as with Curator).
//
//   recipes::Semaphore sem(client, "/limits/db", 3);
//   {
//     recipes::Lease lease = sem.acquire();        // blocks this fiber only
//     ...                                          // at most 3 of these at once
//   }                                              // returned here
//   if (auto lease = sem.try_acquire_for(2s)) { ... }
//   auto two = sem.acquire(2, Clock::now() + 5s, ec);  // several, all or none
//
// A Lease owns its node: destroying it (or release()) returns the lease.
// Taking several leases takes them one after another; if the deadline passes
// first, those taken are returned (so two processes each waiting for the last
// leases of the other can only time out, as with Curator).
//
// Faults: while leases are outstanding, a suspended connection is reported to
// on_lost() listeners at once (suspended: a holder can no longer be sure) and
// an expired session too (expired: the lease nodes went with it; returning
// such a Lease is not an error). A waiting acquire keeps waiting through a
// reconnect or times out (operationTimeout; its lease node is removed); after
// expiry it fails with sessionExpired. A lost create reply is found again by
// its protected id. After expiry, reconnect_new_session() makes the object
// usable again.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "corral/recipes/lock.h"

namespace corral::recipes {

class Lease {
 public:
  Lease() = default;
  ~Lease();
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;

  // Returns the lease (deletes its node). Gone already, or gone with its
  // session, is not an error.
  void release(std::error_code& ec);
  void release();

  bool held() const { return !path_.empty(); }
  explicit operator bool() const { return held(); }
  // The lease node's full path ("" once released).
  const std::string& path() const { return path_; }

  struct Shared;

 private:
  friend class Semaphore;
  Lease(std::shared_ptr<Shared> shared, std::string path);

  std::shared_ptr<Shared> shared_;
  std::string path_;
};

class Semaphore {
 public:
  // `node_data` is stored in each lease node (Curator's setNodeData).
  Semaphore(Client& client, std::string path, int max_leases, std::string node_data = {});
  ~Semaphore();
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // `count` leases by `deadline`, or none: operationTimeout when the deadline
  // passed, sessionExpired, or another code of the client's.
  std::vector<Lease> acquire(int count, Clock::time_point deadline, std::error_code& ec);

  // Throwing forms: block until granted (std::system_error on failure) ...
  Lease acquire();
  std::vector<Lease> acquire(int count);
  // ... or give up at a deadline (nullopt / empty; other failures throw).
  template <class Rep, class Period>
  std::optional<Lease> try_acquire_for(const std::chrono::duration<Rep, Period>& timeout) {
    auto leases = try_acquire_for(1, timeout);
    if (leases.empty()) return std::nullopt;
    return std::move(leases.front());
  }
  template <class Rep, class Period>
  std::vector<Lease> try_acquire_for(int count, const std::chrono::duration<Rep, Period>& timeout) {
    return try_acquire_until(count, Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout));
  }
  std::vector<Lease> try_acquire_until(int count, Clock::time_point deadline);

  int max_leases() const { return max_leases_; }
  const std::string& path() const { return path_; }
  // The lease nodes now present (child names of <path>/leases).
  std::vector<std::string> participants(std::error_code& ec);
  std::vector<std::string> participants();

  // Called (on the client's event fiber) when the connection is suspended or
  // the session expires while any Lease of this semaphore is held.
  void on_lost(std::function<void(SessionState)> listener);

 private:
  // One lease; the admission lock is held by the caller.
  Lease acquire_one(Clock::time_point deadline, std::error_code& ec);

  std::string path_;
  std::string leases_path_;
  int max_leases_;
  std::string node_data_;
  std::shared_ptr<Lease::Shared> shared_;
  Lock lock_;
  uint64_t state_listener_ = 0;
};

}  // namespace corral::recipes
