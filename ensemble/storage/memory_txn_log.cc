#include "ensemble/storage/memory_txn_log.h"

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace corral::storage {

void MemoryTxnLog::check_usable() const {
  if (failed_) throw std::logic_error("memory txn log failed an earlier sync");
}

void MemoryTxnLog::append(const corral::proto::Txn& txn) {
  check_usable();
  if (txn.zxid() <= last_zxid()) {
    throw std::invalid_argument("txn log append: zxid " + std::to_string(txn.zxid()) + " is not after the last zxid " +
                                std::to_string(last_zxid()));
  }
  if (!open_) {
    segments_.emplace_back();
    open_ = true;
  }
  segments_.back().txns.push_back(txn);
}

void MemoryTxnLog::sync() {
  check_usable();
  if (fail_next_sync_) {
    fail_next_sync_ = false;
    failed_ = true;
    throw std::system_error(EIO, std::generic_category(), "fdatasync memory txn log");
  }
  ++sync_count_;
  synced_zxid_ = last_zxid();
}

int64_t MemoryTxnLog::last_zxid() const {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (!it->txns.empty()) return it->txns.back().zxid();
  }
  return 0;
}

uint64_t MemoryTxnLog::replay(int64_t after_zxid, const Visitor& visit) {
  check_usable();
  uint64_t visited = 0;
  for (const Segment& seg : segments_) {
    for (const corral::proto::Txn& txn : seg.txns) {
      if (txn.zxid() > after_zxid) {
        visit(txn);
        ++visited;
      }
    }
  }
  return visited;
}

void MemoryTxnLog::truncate_after(int64_t zxid) {
  check_usable();
  if (zxid >= last_zxid()) return;
  while (!segments_.empty() && segments_.back().txns.front().zxid() > zxid) segments_.pop_back();
  if (!segments_.empty()) {
    auto& txns = segments_.back().txns;
    while (txns.back().zxid() > zxid) txns.pop_back();
  }
  open_ = false;
  synced_zxid_ = last_zxid();  // FileTxnLog writes and fsyncs what it keeps
}

void MemoryTxnLog::roll() {
  check_usable();
  if (open_) synced_zxid_ = last_zxid();  // FileTxnLog fsyncs the segment it closes
  open_ = false;
}

void MemoryTxnLog::purge_segments_before(int64_t zxid) {
  check_usable();
  std::size_t keep_from = 0;
  while (keep_from + 1 < segments_.size() && segments_[keep_from].txns.back().zxid() <= zxid) {
    ++keep_from;
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(keep_from));
}

std::vector<int64_t> MemoryTxnLog::segment_starts() const {
  std::vector<int64_t> starts;
  for (const Segment& s : segments_) starts.push_back(s.txns.front().zxid());
  return starts;
}

void MemoryTxnLog::crash() {
  failed_ = false;
  fail_next_sync_ = false;
  int64_t keep = synced_zxid_;
  while (!segments_.empty() && segments_.back().txns.front().zxid() > keep) segments_.pop_back();
  if (!segments_.empty()) {
    auto& txns = segments_.back().txns;
    while (txns.back().zxid() > keep) txns.pop_back();
  }
  open_ = false;
}

}  // namespace corral::storage
