// corral::recipes::Lock — a distributed mutex (Apache Curator's
// InterProcessMutex, same znodes: "<path>/_c_<uuid>-lock-<seq>").
//
//   recipes::Lock lock(client, "/locks/orders");
//   {
//     std::unique_lock guard(lock);                  // blocks this fiber only
//     ...                                            // exclusive across the cluster
//   }
//   if (lock.try_lock_for(std::chrono::seconds(2))) { ...; lock.unlock(); }
//
// Herd-free: each waiter watches only the node just ahead of it. Re-entrant
// within the owning fiber (lock() twice, unlock() twice); other fibers, even
// on the same object, queue like other processes. Meets the C++ Lockable and
// TimedLockable requirements, so std::unique_lock and std::scoped_lock work.
//
// Faults: lock() throws std::system_error (sessionExpired, authFailed, ...;
// noNode when someone else deleted our node while we waited); the try_ forms
// return false on timeout and throw on other errors. While the
// lock is held and the connection is suspended, on_lost() listeners hear
// SessionState::suspended at once (the holder can no longer be sure it still
// holds); on expiry they hear expired (it does not: its node is gone). A
// holding lost with its session stays counted until the fiber unlocks it
// (unlock() then succeeds: the node went with the session); lock() by that
// fiber meanwhile fails with sessionExpired instead of re-entering a lock it
// no longer has. After unlock() and reconnect_new_session() the object is
// used as before. A lost create reply is found again by its protected id,
// never left as an orphan. The destructor releases whatever is still held.
#pragma once

#include <boost/fiber/operations.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <system_error>
#include <vector>

#include "corral/recipes/lock_internals.h"

namespace corral::recipes {

class Lock {
 public:
  Lock(Client& client, std::string path);
  // A mutex over a queue of another shape (ReadWriteLock's halves): nodes
  // named `lock_name`, held when `driver` says so, ordered by `sorter`.
  Lock(Client& client, std::string path, std::string lock_name, LockDriver driver, LockSorter sorter = {},
       SortingSequence sequence = {});
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  void lock();
  bool try_lock();
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_lock_until(Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout));
  }
  template <class Clk, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clk, Duration>& when) {
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(when - Clk::now());
    std::error_code ec;
    if (acquire(deadline, ec)) return true;
    if (ec == Error::operationTimeout) return false;
    throw std::system_error(ec, "lock " + internals_.base_path());
  }
  void unlock();

  // The error_code forms. acquire() is true when the calling fiber holds;
  // false with operationTimeout at `deadline`, or with
  // std::errc::operation_canceled once `stop` is requested (from another
  // fiber of the client's thread; seen at once, or after a reconnect while
  // the connection is down). A waiter keeps its one place in the queue until
  // then: wait with a far deadline and a stop token, not with a loop of short
  // waits (each would leave the queue and join it again at the back).
  bool acquire(Clock::time_point deadline, std::error_code& ec, const std::stop_token& stop = {});
  void release(std::error_code& ec);

  bool held_by_this_fiber() const;
  // The node the calling fiber holds the lock with ("" if none).
  std::string our_path() const;
  // Every participant's node, holder first.
  std::vector<std::string> participants();

  // Called (on the client's event fiber) when the connection is suspended or
  // the session expires while any fiber holds this lock.
  void on_lost(std::function<void(SessionState)> listener);

 private:
  struct Holding {
    std::string path;
    int count = 0;
    bool lost = false;  // the session that held it expired
  };

  void watch_state();

  LockInternals internals_;
  std::map<boost::fibers::fiber::id, Holding> holdings_;
  std::vector<std::function<void(SessionState)>> lost_listeners_;
  uint64_t state_listener_ = 0;
};

}  // namespace corral::recipes
