// MemoryTxnLog: the in-memory twin of FileTxnLog, for unit tests and for
// simulating a whole ensemble in one process.
//
// Same contract as TxnLog, same segment rules (roll() ends a segment, the next
// append starts one; purge drops whole segments at or below the zxid but never
// the newest). It also remembers what was synced, so a simulation can crash a server
// with crash(): every txn appended after the last sync() is lost, exactly what
// FileTxnLog can lose (roll() and truncate_after() are durable there, so here
// they count as syncs of what they keep). fail_next_sync() makes the next sync throw, after which
// the log refuses further calls, as FileTxnLog does after a failed fdatasync.
#pragma once

#include <cstdint>
#include <vector>

#include "ensemble/storage/txn_log.h"

namespace corral::storage {

class MemoryTxnLog final : public TxnLog {
 public:
  MemoryTxnLog() = default;

  void append(const corral::proto::Txn& txn) override;
  void sync() override;
  int64_t last_zxid() const override;
  uint64_t replay(int64_t after_zxid, const Visitor& visit) override;
  void truncate_after(int64_t zxid) override;
  void roll() override;
  void purge_segments_before(int64_t zxid) override;
  std::vector<int64_t> segment_starts() const override;

  // Drops every txn appended since the last sync() and clears a failure, as
  // reopening a FileTxnLog after a crash would.
  void crash();
  // The next sync() throws std::system_error (EIO) and the log fails.
  void fail_next_sync() { fail_next_sync_ = true; }

  uint64_t sync_count() const { return sync_count_; }
  int64_t synced_zxid() const { return synced_zxid_; }

 private:
  struct Segment {
    std::vector<corral::proto::Txn> txns;
  };
  void check_usable() const;

  std::vector<Segment> segments_;
  bool open_ = false;  // segments_.back() takes appends
  int64_t synced_zxid_ = 0;
  uint64_t sync_count_ = 0;
  bool fail_next_sync_ = false;
  bool failed_ = false;
};

}  // namespace corral::storage
