// corral::recipes::ReadWriteLock — shared readers, exclusive writers (Apache
// Curator's InterProcessReadWriteLock, same znodes, so C++ and Java processes
// share one lock):
//
//   <path>/_c_<uuid>-__READ__<seq>    a reader (ephemeral-sequential)
//   <path>/_c_<uuid>-__WRIT__<seq>    a writer (ephemeral-sequential)
//
// One queue under one path, ordered by the sequence after either name. A
// writer holds when it is first and otherwise watches the node just ahead of
// it, whatever its kind; a reader holds when no writer is ahead of it and
// otherwise watches the nearest writer ahead of it (Curator watches the first
// one; the rule for holding is the same). So a release wakes one writer, or
// the readers queued behind that one writer, never the whole queue.
//
//   recipes::ReadWriteLock rw(client, "/locks/catalog");
//   { std::shared_lock r(rw); ... }             // many fibers/processes at once
//   { std::unique_lock w(rw); ... }             // alone
//   std::unique_lock r2(rw.read_lock());        // the halves are Locks too
//
// ReadWriteLock meets SharedTimedLockable (lock/try_lock*/unlock for writing,
// lock_shared/try_lock_shared*/unlock_shared for reading); read_lock() and
// write_lock() are recipes::Lock objects (Lockable, TimedLockable, error_code
// forms acquire/release, on_lost) as Curator's readLock()/writeLock() are.
//
// Re-entrancy (per fiber, as Lock): either half may be taken again by the
// fiber holding it. A fiber holding the write lock may take the read lock
// too (Curator's rule): its read node is created with the writer's sequence
// ("_c_<uuid>-__READ__<the writer's seq>", a plain ephemeral) so it sorts next
// to the writer, and releasing the write lock afterwards downgrades to a read
// lock that later writers still wait for. The reverse, taking the write lock
// while holding the read lock, would wait for itself forever: it fails at once
// with std::errc::resource_deadlock_would_occur.
//
// Faults are Lock's: while a half is held, a suspended connection is reported
// to its on_lost() listeners at once (suspended) and an expired session too
// (expired; the node is gone); waiting calls keep waiting through a reconnect
// or time out; a lost create reply is found again by its protected id.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "corral/recipes/lock.h"

namespace corral::recipes {

class ReadWriteLock {
 public:
  static constexpr std::string_view read_name = "__READ__";
  static constexpr std::string_view write_name = "__WRIT__";

  ReadWriteLock(Client& client, std::string path);
  ReadWriteLock(const ReadWriteLock&) = delete;
  ReadWriteLock& operator=(const ReadWriteLock&) = delete;

  Lock& read_lock() { return read_; }
  Lock& write_lock() { return write_; }

  // Exclusive (the write lock).
  void lock() { write_.lock(); }
  bool try_lock() { return write_.try_lock(); }
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return write_.try_lock_for(timeout);
  }
  template <class Clk, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clk, Duration>& when) {
    return write_.try_lock_until(when);
  }
  void unlock() { write_.unlock(); }

  // Shared (the read lock).
  void lock_shared() { read_.lock(); }
  bool try_lock_shared() { return read_.try_lock(); }
  template <class Rep, class Period>
  bool try_lock_shared_for(const std::chrono::duration<Rep, Period>& timeout) {
    return read_.try_lock_for(timeout);
  }
  template <class Clk, class Duration>
  bool try_lock_shared_until(const std::chrono::time_point<Clk, Duration>& when) {
    return read_.try_lock_until(when);
  }
  void unlock_shared() { read_.unlock(); }

  // Every reader's and writer's node in queue order (child names).
  std::vector<std::string> participants() { return write_.participants(); }

 private:
  // Declared in this order: the read half asks the write half whether the
  // calling fiber holds it, and goes first on destruction.
  Lock write_;
  Lock read_;
};

// The queue order both halves use: children named __READ__ or __WRIT__, by
// the sequence after the name.
std::vector<std::string> sorted_read_write_queue(std::vector<std::string> children);

}  // namespace corral::recipes
