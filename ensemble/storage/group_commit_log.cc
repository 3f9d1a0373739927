#include "ensemble/storage/group_commit_log.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace corral::storage {

GroupCommitLog::GroupCommitLog(std::unique_ptr<TxnLog> log, Callbacks callbacks)
    : log_(std::move(log)), callbacks_(std::move(callbacks)) {
  if (!log_) throw std::invalid_argument("GroupCommitLog needs a log");
  last_submitted_ = log_->last_zxid();
  thread_ = std::thread([this] { run(); });
}

GroupCommitLog::~GroupCommitLog() { stop(); }

void GroupCommitLog::submit(corral::proto::Txn txn) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) throw std::logic_error("GroupCommitLog::submit after stop()");
    if (txn.zxid() <= last_submitted_) {
      throw std::invalid_argument("GroupCommitLog::submit: zxid " + std::to_string(txn.zxid()) + " is not after " +
                                  std::to_string(last_submitted_));
    }
    if (failed_) return;
    last_submitted_ = txn.zxid();
    queue_.push_back(Item{Item::kTxn, std::move(txn), 0});
  }
  cv_.notify_one();
}

void GroupCommitLog::submit_roll() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) throw std::logic_error("GroupCommitLog::submit_roll after stop()");
    if (failed_) return;
    queue_.push_back(Item{Item::kRoll, {}, 0});
  }
  cv_.notify_one();
}

void GroupCommitLog::submit_purge(int64_t zxid) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) throw std::logic_error("GroupCommitLog::submit_purge after stop()");
    if (failed_) return;
    queue_.push_back(Item{Item::kPurge, {}, zxid});
  }
  cv_.notify_one();
}

void GroupCommitLog::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

GroupCommitLog::Stats GroupCommitLog::stats() const {
  Stats s;
  s.txns = txns_.load();
  s.syncs = syncs_.load();
  s.rolls = rolls_.load();
  s.purges = purges_.load();
  s.max_batch = max_batch_.load();
  return s;
}

TxnLog& GroupCommitLog::log() {
  std::lock_guard lock(mu_);
  if (!stopping_ || thread_.joinable()) {
    throw std::logic_error("GroupCommitLog::log() while the storage thread runs");
  }
  return *log_;
}

void GroupCommitLog::purge(int64_t zxid) {
  try {
    log_->purge_segments_before(zxid);
    purges_.fetch_add(1);
  } catch (const std::system_error& e) {
    std::string line =
        "corral storage: purging log segments before zxid " + std::to_string(zxid) + " failed: " + e.what() + "\n";
    [[maybe_unused]] ssize_t r = ::write(STDERR_FILENO, line.data(), line.size());
  }
}

void GroupCommitLog::run() {
  std::vector<Item> batch;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and drained
      batch.swap(queue_);
    }
    try {
      uint64_t appended = 0;
      int64_t highest = 0;
      for (Item& item : batch) {
        switch (item.kind) {
          case Item::kTxn:
            log_->append(item.txn);
            highest = item.txn.zxid();
            ++appended;
            break;
          case Item::kRoll:
            log_->roll();
            rolls_.fetch_add(1);
            break;
          case Item::kPurge: purge(item.zxid); break;
        }
      }
      if (appended > 0) {
        log_->sync();
        syncs_.fetch_add(1);
        txns_.fetch_add(appended);
        if (appended > max_batch_.load()) max_batch_.store(appended);
        if (callbacks_.on_synced) callbacks_.on_synced(highest);
      }
    } catch (...) {
      {
        std::lock_guard lock(mu_);
        failed_ = true;
        queue_.clear();
      }
      if (callbacks_.on_failed) {
        callbacks_.on_failed(std::current_exception());
        return;
      }
      std::string what = "unknown error";
      try {
        throw;
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      std::string line = "corral storage: txn log failed, cannot persist: " + what + "\n";
      [[maybe_unused]] ssize_t r = ::write(STDERR_FILENO, line.data(), line.size());
      std::abort();
    }
  }
}

}  // namespace corral::storage
