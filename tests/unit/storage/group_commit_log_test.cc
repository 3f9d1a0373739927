// GroupCommitLog: batching, ordering, roll markers, draining, failure.
//
// Batching is made deterministic by a log whose sync() can be held at a gate:
// the test knows exactly which submits queue up behind a running sync. Every
// wait has a deadline; nothing sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ensemble/storage/file_txn_log.h"
#include "ensemble/storage/group_commit_log.h"
#include "ensemble/storage/memory_txn_log.h"
#include "tests/unit/storage/storage_test_util.h"

namespace corral::storage {
namespace {

using ::testing::ElementsAre;
using testing::make_txn;
using testing::TempDir;

constexpr auto kDeadline = std::chrono::seconds(20);

// A MemoryTxnLog whose sync() can be held until the test lets it go.
class GatedLog final : public TxnLog {
 public:
  void close_gate() {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  void open_gate() {
    {
      std::lock_guard lock(mu_);
      closed_ = false;
    }
    cv_.notify_all();
  }
  // Waits until a sync() is held at the closed gate.
  bool wait_until_held() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline, [this] { return held_; });
  }

  MemoryTxnLog& inner() { return inner_; }

  void append(const corral::proto::Txn& txn) override { inner_.append(txn); }
  void sync() override {
    {
      std::unique_lock lock(mu_);
      held_ = closed_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !closed_; });
      held_ = false;
    }
    inner_.sync();
  }
  int64_t last_zxid() const override { return inner_.last_zxid(); }
  uint64_t replay(int64_t after, const Visitor& visit) override { return inner_.replay(after, visit); }
  void truncate_after(int64_t zxid) override { inner_.truncate_after(zxid); }
  void roll() override { inner_.roll(); }
  void purge_segments_before(int64_t zxid) override { inner_.purge_segments_before(zxid); }
  std::vector<int64_t> segment_starts() const override { return inner_.segment_starts(); }

 private:
  MemoryTxnLog inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  bool held_ = false;
};

// Records what on_synced reports and lets the test wait for a zxid.
class SyncedRecorder {
 public:
  GroupCommitLog::Callbacks callbacks() {
    GroupCommitLog::Callbacks cb;
    cb.on_synced = [this](int64_t zxid) {
      {
        std::lock_guard lock(mu_);
        seen_.push_back(zxid);
      }
      cv_.notify_all();
    };
    cb.on_failed = [this](std::exception_ptr) {
      {
        std::lock_guard lock(mu_);
        ++failures_;
      }
      cv_.notify_all();
    };
    return cb;
  }
  bool wait_for(int64_t zxid) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return !seen_.empty() && seen_.back() >= zxid; });
  }
  bool wait_for_failure() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return failures_ > 0; });
  }
  std::vector<int64_t> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  int failures() {
    std::lock_guard lock(mu_);
    return failures_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> seen_;
  int failures_ = 0;
};

TEST(GroupCommitLog, TxnsThatQueueDuringASyncShareTheNextOne) {
  auto owned = std::make_unique<GatedLog>();
  GatedLog* log = owned.get();
  SyncedRecorder rec;
  GroupCommitLog gcl(std::move(owned), rec.callbacks());

  log->close_gate();
  gcl.submit(make_txn(1));
  ASSERT_TRUE(log->wait_until_held());
  for (int64_t z = 2; z <= 101; ++z) gcl.submit(make_txn(z));
  log->open_gate();
  ASSERT_TRUE(rec.wait_for(101));

  EXPECT_THAT(rec.seen(), ElementsAre(1, 101));
  const auto stats = gcl.stats();
  EXPECT_EQ(stats.syncs, 2u);
  EXPECT_EQ(stats.txns, 101u);
  EXPECT_EQ(stats.max_batch, 100u);
  EXPECT_EQ(log->inner().sync_count(), 2u);
  EXPECT_EQ(log->inner().synced_zxid(), 101);
}

TEST(GroupCommitLog, RollMarkersCutSegmentsExactlyWhereSubmitted) {
  auto owned = std::make_unique<GatedLog>();
  GatedLog* log = owned.get();
  SyncedRecorder rec;
  GroupCommitLog gcl(std::move(owned), rec.callbacks());

  log->close_gate();
  gcl.submit(make_txn(1));
  ASSERT_TRUE(log->wait_until_held());
  // One batch with two rolls inside it.
  gcl.submit(make_txn(2));
  gcl.submit_roll();
  gcl.submit(make_txn(3));
  gcl.submit(make_txn(4));
  gcl.submit_roll();
  gcl.submit(make_txn(5));
  log->open_gate();
  gcl.stop();
  EXPECT_THAT(log->segment_starts(), ElementsAre(1, 3, 5));
  EXPECT_EQ(gcl.stats().rolls, 2u);
  EXPECT_THAT(rec.seen(), ElementsAre(1, 5));
}

TEST(GroupCommitLog, PurgeRunsInOrderOnTheStorageThread) {
  auto owned = std::make_unique<MemoryTxnLog>();
  MemoryTxnLog* log = owned.get();
  GroupCommitLog gcl(std::move(owned), {});
  for (int64_t z = 1; z <= 10; ++z) gcl.submit(make_txn(z));
  gcl.submit_roll();
  for (int64_t z = 11; z <= 20; ++z) gcl.submit(make_txn(z));
  gcl.submit_roll();
  gcl.submit_purge(10);  // a snapshot at 10 is the oldest kept
  for (int64_t z = 21; z <= 25; ++z) gcl.submit(make_txn(z));
  gcl.stop();
  EXPECT_THAT(log->segment_starts(), ElementsAre(11, 21));
  EXPECT_EQ(gcl.stats().purges, 1u);
  EXPECT_EQ(log->synced_zxid(), 25);
}

TEST(GroupCommitLog, StopDrainsEverythingSubmitted) {
  auto owned = std::make_unique<MemoryTxnLog>();
  MemoryTxnLog* log = owned.get();
  SyncedRecorder rec;
  GroupCommitLog gcl(std::move(owned), rec.callbacks());
  for (int64_t z = 1; z <= 1000; ++z) gcl.submit(make_txn(z));
  gcl.stop();
  gcl.stop();  // idempotent
  EXPECT_EQ(log->synced_zxid(), 1000);
  EXPECT_EQ(rec.seen().back(), 1000);
  EXPECT_EQ(&gcl.log(), log);
  EXPECT_THROW(gcl.submit(make_txn(1001)), std::logic_error);
  EXPECT_THROW(gcl.submit_roll(), std::logic_error);
  EXPECT_THROW(gcl.submit_purge(1), std::logic_error);
}

TEST(GroupCommitLog, LogIsOnlyHandedBackAfterStop) {
  GroupCommitLog gcl(std::make_unique<MemoryTxnLog>(), {});
  EXPECT_THROW(gcl.log(), std::logic_error);
  gcl.stop();
  EXPECT_EQ(gcl.log().last_zxid(), 0);
}

TEST(GroupCommitLog, RefusesZxidsOutOfOrder) {
  auto owned = std::make_unique<MemoryTxnLog>();
  owned->append(make_txn(10));
  owned->sync();
  GroupCommitLog gcl(std::move(owned), {});
  EXPECT_THROW(gcl.submit(make_txn(10)), std::invalid_argument);
  gcl.submit(make_txn(11));
  EXPECT_THROW(gcl.submit(make_txn(11)), std::invalid_argument);
  gcl.stop();
  EXPECT_EQ(gcl.log().last_zxid(), 11);
}

TEST(GroupCommitLog, AFailedSyncIsReportedOnceAndNothingMoreIsSynced) {
  auto owned = std::make_unique<GatedLog>();
  GatedLog* log = owned.get();
  SyncedRecorder rec;
  GroupCommitLog gcl(std::move(owned), rec.callbacks());
  gcl.submit(make_txn(1));
  ASSERT_TRUE(rec.wait_for(1));

  log->close_gate();
  gcl.submit(make_txn(2));
  ASSERT_TRUE(log->wait_until_held());
  log->inner().fail_next_sync();
  log->open_gate();
  ASSERT_TRUE(rec.wait_for_failure());
  gcl.submit(make_txn(3));  // dropped: the server is going down
  gcl.stop();
  EXPECT_EQ(rec.failures(), 1);
  EXPECT_THAT(rec.seen(), ElementsAre(1));
  EXPECT_EQ(log->inner().synced_zxid(), 1);
}

// Many threads submit at once to a real file log: fewer syncs than txns,
// callbacks in increasing order, everything durable after stop().
TEST(GroupCommitLog, ConcurrentSubmittersOnAFileLog) {
  TempDir dir;
  FileTxnLog::Options options;
  options.preallocate_bytes = 1 << 20;
  SyncedRecorder rec;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  constexpr int64_t kTotal = kThreads * kPerThread;
  {
    GroupCommitLog gcl(std::make_unique<FileTxnLog>(dir.path(), options), rec.callbacks());
    std::mutex zxid_mu;  // zxid assignment and submit together, as the core does
    int64_t next = 1;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          std::lock_guard lock(zxid_mu);
          gcl.submit(make_txn(next++));
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_TRUE(rec.wait_for(kTotal));
    gcl.stop();
    const auto stats = gcl.stats();
    EXPECT_EQ(stats.txns, static_cast<uint64_t>(kTotal));
    EXPECT_LT(stats.syncs, stats.txns);
    std::printf("[ info ] %llu txns, %llu syncs, largest batch %llu\n", static_cast<unsigned long long>(stats.txns),
                static_cast<unsigned long long>(stats.syncs), static_cast<unsigned long long>(stats.max_batch));
  }
  const std::vector<int64_t> seen = rec.seen();
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(seen.back(), kTotal);

  FileTxnLog reopened(dir.path(), options);
  int64_t expect = 1;
  EXPECT_EQ(reopened.replay(0, [&](const corral::proto::Txn& txn) { EXPECT_EQ(txn.zxid(), expect++); }),
            static_cast<uint64_t>(kTotal));
}

}  // namespace
}  // namespace corral::storage
