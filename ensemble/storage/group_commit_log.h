// GroupCommitLog: the storage thread. It owns a TxnLog and turns a stream of
// submitted txns into appends and as few syncs as the disk allows.
//
// submit() only queues (a mutex, a vector push, a notify) and may be called from
// any thread. The storage thread takes everything queued at once, appends it
// all, calls sync() once, and then calls on_synced(z) with the highest zxid now
// durable. Txns submitted while a sync runs wait for the next one and share it:
// under load the number of syncs stays near the disk's sync rate, however many
// txns arrive (group commit).
//
// on_synced runs on the storage thread, in order, with strictly increasing
// zxids; the server posts it to its event loop (a follower sends ACKs up to z, a
// leader counts its own vote). Every txn submitted before a call with zxid <= z
// is durable when it runs.
//
// submit_roll() queues a roll marker: the log's segment ends after exactly the
// txns submitted before it. The server submits one when it takes a snapshot of
// the tree at the last submitted zxid, so the snapshot and the segment boundary
// agree.
//
// submit_purge() queues the deletion of log segments older than a snapshot
// the server keeps.
//
// If the log throws (a failed write or sync), the storage thread calls
// on_failed once and exits; later submits are dropped. Nothing after the
// failure is reported synced. A server must treat that as fatal; without an
// on_failed callback the storage thread writes one line to stderr and aborts.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ensemble/storage/txn_log.h"

namespace corral::storage {

class GroupCommitLog {
 public:
  struct Callbacks {
    std::function<void(int64_t highest_durable_zxid)> on_synced;
    std::function<void(std::exception_ptr)> on_failed;
  };

  struct Stats {
    uint64_t txns = 0;       // txns appended
    uint64_t syncs = 0;      // sync() calls
    uint64_t rolls = 0;      // roll() calls
    uint64_t purges = 0;     // purge_segments_before() calls
    uint64_t max_batch = 0;  // most txns covered by one sync
  };

  // Starts the storage thread. `log` must not be used by anyone else until
  // stop() returns (then log() gives it back).
  GroupCommitLog(std::unique_ptr<TxnLog> log, Callbacks callbacks);
  // stop()
  ~GroupCommitLog();

  GroupCommitLog(const GroupCommitLog&) = delete;
  GroupCommitLog& operator=(const GroupCommitLog&) = delete;

  // Queues `txn`. Its zxid must be greater than every zxid submitted before and
  // than the log's last zxid at construction (else std::invalid_argument).
  // Throws std::logic_error after stop().
  void submit(corral::proto::Txn txn);

  // Queues a roll: the current segment ends after the txns submitted so far.
  void submit_roll();

  // Queues TxnLog::purge_segments_before(zxid) (the storage thread owns the
  // log, so housekeeping goes through it too). Call it with
  // SnapshotPurge::oldest_retained_zxid. A failed purge is housekeeping, not
  // data loss: it is reported as one stderr line and the thread goes on.
  void submit_purge(int64_t zxid);

  // Appends and syncs everything already queued, reports it, and joins the
  // storage thread. Idempotent. Must not be called from on_synced/on_failed.
  void stop();

  Stats stats() const;

  // The log, for replay or truncation once the storage thread has stopped
  // (std::logic_error before).
  TxnLog& log();

 private:
  struct Item {
    enum Kind { kTxn, kRoll, kPurge } kind = kTxn;
    corral::proto::Txn txn;  // kTxn
    int64_t zxid = 0;        // kPurge
  };

  void run();
  void purge(int64_t zxid);

  std::unique_ptr<TxnLog> log_;
  Callbacks callbacks_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> queue_;     // guarded by mu_
  int64_t last_submitted_ = 0;  // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  bool failed_ = false;         // guarded by mu_

  std::atomic<uint64_t> txns_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> rolls_{0};
  std::atomic<uint64_t> purges_{0};
  std::atomic<uint64_t> max_batch_{0};

  std::thread thread_;
};

}  // namespace corral::storage
