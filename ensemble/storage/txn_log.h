// TxnLog: the durable, ordered record of transactions a server has accepted.
//
// A txn is appended once it has a zxid (leader: at proposal; follower: when the
// proposal arrives). Appends are buffered; only sync() makes them durable, and a
// follower ACKs a proposal (a leader counts its own vote) only after the sync
// that covers it returned. GroupCommitLog runs appends and syncs on a storage
// thread with group commit.
//
// Zxids are strictly increasing but not contiguous (a new epoch restarts the
// counter in the low 32 bits), so the log never reasons about "the next" zxid,
// only about order.
//
// The log is cut into segments. roll() ends the current segment; the next
// append starts a new one. The server rolls when it takes a snapshot, so a
// segment boundary sits right after the snapshot's zxid and purging old
// snapshots can drop whole segments with them.
//
// Implementations: FileTxnLog (file_txn_log.h) and MemoryTxnLog
// (memory_txn_log.h, for unit tests and simulation). Neither is thread-safe: one
// thread (the storage thread) owns a log at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "txn.pb.h"

namespace corral::storage {

class TxnLog {
 public:
  using Visitor = std::function<void(const corral::proto::Txn&)>;

  virtual ~TxnLog() = default;

  // Appends `txn`. Its zxid must be greater than last_zxid() (else
  // std::invalid_argument). Not durable until the next sync().
  virtual void append(const corral::proto::Txn& txn) = 0;

  // Makes every appended txn durable. Returns when they are on stable storage.
  virtual void sync() = 0;

  // The zxid of the last appended txn (synced or not); 0 when the log is empty.
  virtual int64_t last_zxid() const = 0;

  // Calls `visit` for every txn with zxid > after_zxid, in order, including
  // txns appended but not yet synced. Returns the number of txns visited.
  // Throws CorruptionError if the stored data fails its checks.
  virtual uint64_t replay(int64_t after_zxid, const Visitor& visit) = 0;

  // Drops every txn with zxid > `zxid`, durably, before returning (Zab's TRUNC:
  // a follower discards proposals the new leader never committed).
  virtual void truncate_after(int64_t zxid) = 0;

  // Ends the current segment; the next append starts a new one. Everything
  // appended so far stays in the old segment. No-op when nothing was appended
  // since the last roll.
  virtual void roll() = 0;

  // Deletes the segments a replay from a snapshot at `zxid` no longer needs:
  // every segment all of whose txns are <= zxid, except the newest segment,
  // which always stays (it carries last_zxid()). A segment that holds zxid and
  // later txns stays whole. The server calls this with the oldest snapshot it
  // keeps (SnapshotPurge::oldest_retained_zxid).
  virtual void purge_segments_before(int64_t zxid) = 0;

  // The first zxid of every segment, oldest first (for diagnostics and tests).
  virtual std::vector<int64_t> segment_starts() const = 0;
};

}  // namespace corral::storage
