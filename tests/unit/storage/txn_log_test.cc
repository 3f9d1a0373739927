// TxnLog: the contract, run against FileTxnLog and its in-memory twin, then the
// file format and crash recovery of FileTxnLog.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "ensemble/storage/error.h"
#include "ensemble/storage/file_txn_log.h"
#include "ensemble/storage/memory_txn_log.h"
#include "tests/unit/storage/storage_test_util.h"

namespace corral::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::make_txn;
using testing::TempDir;

// Every zxid a replay after `after` visits, checking each txn's bytes.
std::vector<int64_t> replayed(TxnLog& log, int64_t after = 0) {
  std::vector<int64_t> zxids;
  uint64_t n = log.replay(after, [&](const corral::proto::Txn& txn) {
    EXPECT_EQ(txn.SerializeAsString(), make_txn(txn.zxid()).SerializeAsString());
    zxids.push_back(txn.zxid());
  });
  EXPECT_EQ(n, zxids.size());
  return zxids;
}

void append_range(TxnLog& log, int64_t first, int64_t last) {
  for (int64_t z = first; z <= last; ++z) log.append(make_txn(z));
}

// ---------------------------------------------------------------------------
// The contract, for both implementations.

struct FileHarness {
  TempDir dir;
  std::unique_ptr<FileTxnLog> log;
  FileHarness() { reopen(); }
  TxnLog& get() { return *log; }
  // Closes without writing unsynced appends, then recovers from the files.
  void reopen() {
    log.reset();
    FileTxnLog::Options options;
    options.preallocate_bytes = 64 << 10;
    log = std::make_unique<FileTxnLog>(dir.path(), options);
  }
};

struct MemoryHarness {
  MemoryTxnLog log;
  TxnLog& get() { return log; }
  void reopen() { log.crash(); }
};

template <typename H>
class TxnLogContract : public ::testing::Test {
 protected:
  H h;
};

using Harnesses = ::testing::Types<FileHarness, MemoryHarness>;
TYPED_TEST_SUITE(TxnLogContract, Harnesses);

TYPED_TEST(TxnLogContract, EmptyLog) {
  TxnLog& log = this->h.get();
  EXPECT_EQ(log.last_zxid(), 0);
  EXPECT_TRUE(replayed(log).empty());
  EXPECT_TRUE(log.segment_starts().empty());
  log.sync();
  log.roll();
  log.truncate_after(0);
  log.purge_segments_before(100);
  this->h.reopen();
  EXPECT_EQ(this->h.get().last_zxid(), 0);
}

TYPED_TEST(TxnLogContract, RoundTripAcrossSegmentsAndReopen) {
  TxnLog& log = this->h.get();
  append_range(log, 1, 10);
  log.sync();
  log.roll();
  append_range(log, 11, 25);
  log.roll();
  log.roll();  // nothing appended since the last roll: no empty segment
  append_range(log, 26, 30);
  log.sync();
  EXPECT_EQ(log.last_zxid(), 30);
  EXPECT_THAT(log.segment_starts(), ElementsAre(1, 11, 26));
  std::vector<int64_t> all;
  for (int64_t z = 1; z <= 30; ++z) all.push_back(z);
  EXPECT_EQ(replayed(log), all);

  this->h.reopen();
  TxnLog& again = this->h.get();
  EXPECT_EQ(again.last_zxid(), 30);
  EXPECT_THAT(again.segment_starts(), ElementsAre(1, 11, 26));
  EXPECT_EQ(replayed(again), all);

  // Appends after a reopen go on from the last zxid.
  append_range(again, 31, 32);
  again.sync();
  this->h.reopen();
  EXPECT_EQ(this->h.get().last_zxid(), 32);
  EXPECT_EQ(replayed(this->h.get()).size(), 32u);
}

TYPED_TEST(TxnLogContract, ReplayStartsAfterTheGivenZxid) {
  TxnLog& log = this->h.get();
  // Zxids with gaps, as across epochs.
  for (int64_t z : {5, 6, 7}) log.append(make_txn(z));
  log.roll();
  for (int64_t z : {(int64_t{1} << 32) + 1, (int64_t{1} << 32) + 2}) log.append(make_txn(z));
  log.roll();
  for (int64_t z : {(int64_t{2} << 32) + 1}) log.append(make_txn(z));
  log.sync();
  EXPECT_THAT(replayed(log, 6), ElementsAre(7, (int64_t{1} << 32) + 1, (int64_t{1} << 32) + 2, (int64_t{2} << 32) + 1));
  EXPECT_THAT(replayed(log, 7), ElementsAre((int64_t{1} << 32) + 1, (int64_t{1} << 32) + 2, (int64_t{2} << 32) + 1));
  EXPECT_THAT(replayed(log, 100), ElementsAre((int64_t{1} << 32) + 1, (int64_t{1} << 32) + 2, (int64_t{2} << 32) + 1));
  EXPECT_THAT(replayed(log, (int64_t{1} << 32) + 1), ElementsAre((int64_t{1} << 32) + 2, (int64_t{2} << 32) + 1));
  EXPECT_TRUE(replayed(log, (int64_t{2} << 32) + 1).empty());
  EXPECT_EQ(replayed(log, 0).size(), 6u);
}

TYPED_TEST(TxnLogContract, ReplaySeesUnsyncedAppends) {
  TxnLog& log = this->h.get();
  append_range(log, 1, 3);
  EXPECT_THAT(replayed(log), ElementsAre(1, 2, 3));
}

TYPED_TEST(TxnLogContract, RefusesZxidsOutOfOrder) {
  TxnLog& log = this->h.get();
  EXPECT_THROW(log.append(make_txn(0)), std::invalid_argument);
  log.append(make_txn(5));
  EXPECT_THROW(log.append(make_txn(5)), std::invalid_argument);
  EXPECT_THROW(log.append(make_txn(4)), std::invalid_argument);
  log.append(make_txn(6));
  log.sync();
  EXPECT_THAT(replayed(log), ElementsAre(5, 6));
}

TYPED_TEST(TxnLogContract, UnsyncedAppendsAreLostOnReopen) {
  TxnLog& log = this->h.get();
  append_range(log, 1, 3);
  log.sync();
  append_range(log, 4, 5);
  this->h.reopen();
  EXPECT_EQ(this->h.get().last_zxid(), 3);
  EXPECT_THAT(replayed(this->h.get()), ElementsAre(1, 2, 3));
  append_range(this->h.get(), 4, 4);
  this->h.get().sync();
  EXPECT_THAT(replayed(this->h.get()), ElementsAre(1, 2, 3, 4));
}

TYPED_TEST(TxnLogContract, TruncateAfterInsideASegment) {
  TxnLog& log = this->h.get();
  append_range(log, 1, 5);
  log.roll();
  append_range(log, 6, 10);
  log.sync();
  log.truncate_after(7);
  EXPECT_EQ(log.last_zxid(), 7);
  EXPECT_THAT(log.segment_starts(), ElementsAre(1, 6));
  EXPECT_THAT(replayed(log), ElementsAre(1, 2, 3, 4, 5, 6, 7));
  // The dropped zxids can be taken again (a new leader's proposals).
  append_range(log, 8, 9);
  log.sync();
  EXPECT_THAT(replayed(log), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9));
  this->h.reopen();
  EXPECT_THAT(replayed(this->h.get()), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9));
}

TYPED_TEST(TxnLogContract, TruncateAfterDropsWholeSegments) {
  TxnLog& log = this->h.get();
  append_range(log, 1, 5);
  log.roll();
  append_range(log, 6, 10);
  log.roll();
  append_range(log, 11, 12);  // unsynced: truncation covers it too
  log.truncate_after(5);
  EXPECT_EQ(log.last_zxid(), 5);
  EXPECT_THAT(log.segment_starts(), ElementsAre(1));
  append_range(log, 6, 6);
  log.sync();
  this->h.reopen();
  EXPECT_THAT(replayed(this->h.get()), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(this->h.get().segment_starts(), ElementsAre(1, 6));
}

TYPED_TEST(TxnLogContract, TruncateAfterBeforeEverythingEmptiesTheLog) {
  TxnLog& log = this->h.get();
  append_range(log, 10, 12);
  log.roll();
  append_range(log, 13, 14);
  log.sync();
  log.truncate_after(9);
  EXPECT_EQ(log.last_zxid(), 0);
  EXPECT_TRUE(log.segment_starts().empty());
  this->h.reopen();
  EXPECT_TRUE(replayed(this->h.get()).empty());
}

TYPED_TEST(TxnLogContract, TruncateAfterTheLastZxidChangesNothing) {
  TxnLog& log = this->h.get();
  append_range(log, 1, 3);
  log.sync();
  log.truncate_after(3);
  log.truncate_after(100);
  append_range(log, 4, 4);  // still the same segment
  log.sync();
  EXPECT_THAT(log.segment_starts(), ElementsAre(1));
  EXPECT_THAT(replayed(log), ElementsAre(1, 2, 3, 4));
}

TYPED_TEST(TxnLogContract, PurgeDropsOnlySegmentsAReplayFromTheSnapshotDoesNotNeed) {
  TxnLog& log = this->h.get();
  append_range(log, 1, 10);
  log.roll();
  append_range(log, 11, 20);
  log.roll();
  append_range(log, 21, 30);
  log.sync();

  log.purge_segments_before(5);  // inside the first segment: it stays whole
  EXPECT_THAT(log.segment_starts(), ElementsAre(1, 11, 21));
  log.purge_segments_before(10);  // a snapshot at 10 needs nothing of segment 1
  EXPECT_THAT(log.segment_starts(), ElementsAre(11, 21));
  log.purge_segments_before(15);  // a snapshot at 15 replays from inside segment 11
  EXPECT_THAT(log.segment_starts(), ElementsAre(11, 21));
  EXPECT_EQ(replayed(log, 15).front(), 16);
  EXPECT_EQ(replayed(log, 15).size(), 15u);

  log.purge_segments_before(1000);  // never the newest segment
  EXPECT_THAT(log.segment_starts(), ElementsAre(21));
  EXPECT_EQ(log.last_zxid(), 30);
  this->h.reopen();
  EXPECT_THAT(this->h.get().segment_starts(), ElementsAre(21));
  EXPECT_EQ(replayed(this->h.get(), 20).size(), 10u);
}

TYPED_TEST(TxnLogContract, PurgeAtASegmentStartKeepsThatSegment) {
  TxnLog& log = this->h.get();
  append_range(log, 1, 10);
  log.roll();
  append_range(log, 11, 20);
  log.roll();
  append_range(log, 21, 22);
  log.sync();
  log.purge_segments_before(11);
  EXPECT_THAT(log.segment_starts(), ElementsAre(11, 21));
  EXPECT_EQ(replayed(log, 11).size(), 11u);
}

// ---------------------------------------------------------------------------
// The in-memory twin's fault hooks.

TEST(MemoryTxnLog, FailedSyncPoisonsTheLogUntilACrash) {
  MemoryTxnLog log;
  append_range(log, 1, 2);
  log.sync();
  append_range(log, 3, 3);
  log.fail_next_sync();
  EXPECT_THROW(log.sync(), std::system_error);
  EXPECT_THROW(log.append(make_txn(4)), std::logic_error);
  EXPECT_THROW(log.sync(), std::logic_error);
  log.crash();
  EXPECT_EQ(log.last_zxid(), 2);
  EXPECT_EQ(log.sync_count(), 1u);
}

// ---------------------------------------------------------------------------
// FileTxnLog: format and recovery.

class FileTxnLogTest : public ::testing::Test {
 protected:
  FileTxnLog::Options options() const {
    FileTxnLog::Options o;
    o.preallocate_bytes = 64 << 10;
    return o;
  }
  std::unique_ptr<FileTxnLog> open() { return std::make_unique<FileTxnLog>(dir_.path(), options()); }
  std::filesystem::path segment(int64_t first_zxid) const {
    char name[32];
    std::snprintf(name, sizeof name, "log.%016llx", static_cast<unsigned long long>(first_zxid));
    return dir_.path() / "corral-1" / name;
  }
  // Writes segments [1..10], [11..20], [21..30] and drops the log as a crash
  // would (the last segment keeps its preallocated zeros) or after a roll.
  void write_three_segments(bool roll_last = false) {
    auto log = open();
    append_range(*log, 1, 10);
    log->roll();
    append_range(*log, 11, 20);
    log->roll();
    append_range(*log, 21, 30);
    log->sync();
    if (roll_last) log->roll();
  }
  // Offset just past the records [first, last] of a segment starting at first.
  static uint64_t data_end(int64_t first, int64_t last) {
    uint64_t end = FileTxnLog::kHeaderBytes;
    for (int64_t z = first; z <= last; ++z) end += record_size(z);
    return end;
  }
  // Size of one record of make_txn(zxid).
  static uint64_t record_size(int64_t zxid) { return 8 + make_txn(zxid).ByteSizeLong(); }

  TempDir dir_;
};

TEST_F(FileTxnLogTest, OnDiskFormat) {
  auto log = open();
  append_range(*log, 0x1f, 0x20);
  log->sync();
  // The open segment is preallocated.
  EXPECT_GE(std::filesystem::file_size(segment(0x1f)), 64u << 10);
  log->roll();
  log.reset();

  const std::string bytes = testing::read_file(segment(0x1f));
  const uint64_t expected = FileTxnLog::kHeaderBytes + record_size(0x1f) + record_size(0x20);
  ASSERT_EQ(bytes.size(), expected) << "a closed segment ends at its last record";
  EXPECT_EQ(bytes.substr(0, 8), "CRLTXLOG");
  EXPECT_EQ(bytes.substr(8, 4), std::string("\0\0\0\1", 4));
  EXPECT_EQ(bytes.substr(12, 8), std::string("\0\0\0\0\0\0\0\x1f", 8));
  const std::string payload = make_txn(0x1f).SerializeAsString();
  const auto* r = reinterpret_cast<const unsigned char*>(bytes.data()) + FileTxnLog::kHeaderBytes;
  EXPECT_EQ((uint32_t{r[0]} << 24) | (uint32_t{r[1]} << 16) | (uint32_t{r[2]} << 8) | r[3], payload.size());
  EXPECT_EQ(bytes.substr(FileTxnLog::kHeaderBytes + 8, payload.size()), payload);
}

TEST_F(FileTxnLogTest, PreallocationGrowsInChunks) {
  auto log = open();
  // ~200 KiB through a 64 KiB preallocation, with writes before the sync.
  for (int64_t z = 1; z <= 200; ++z) log->append(make_txn(z, 1000));
  log->sync();
  const auto size = std::filesystem::file_size(segment(1));
  EXPECT_EQ(size % (64 << 10), 0u);
  EXPECT_GE(size, 200u * 1000);
  log.reset();
  log = open();
  uint64_t n = log->replay(0, [](const corral::proto::Txn& txn) {
    EXPECT_EQ(txn.SerializeAsString(), make_txn(txn.zxid(), 1000).SerializeAsString());
  });
  EXPECT_EQ(n, 200u);
}

TEST_F(FileTxnLogTest, LeavesOtherFilesAlone) {
  std::filesystem::create_directories(dir_.path() / "corral-1");
  testing::write_file(dir_.path() / "corral-1" / "snapshot.0000000000000005", "x");
  testing::write_file(dir_.path() / "corral-1" / "log.notazxid", "x");
  write_three_segments();
  auto log = open();
  EXPECT_THAT(log->segment_starts(), ElementsAre(1, 11, 21));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "corral-1" / "snapshot.0000000000000005"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "corral-1" / "log.notazxid"));
}

TEST_F(FileTxnLogTest, TornTailIsCutAndTheLogGoesOn) {
  write_three_segments();
  // Only the first half of the last record reached the disk.
  const uint64_t end = data_end(21, 30);
  testing::zero_range(segment(21), end - record_size(30) / 2, record_size(30) / 2);
  ::testing::internal::CaptureStderr();
  auto log = open();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("torn tail"));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
  EXPECT_EQ(log->last_zxid(), 29);
  EXPECT_EQ(std::filesystem::file_size(segment(21)), end - record_size(30));

  append_range(*log, 30, 31);
  log->sync();
  log.reset();
  log = open();
  EXPECT_EQ(replayed(*log).size(), 31u);
  EXPECT_THAT(log->segment_starts(), ElementsAre(1, 11, 21, 30));
}

TEST_F(FileTxnLogTest, FileCutMidRecordIsCut) {
  write_three_segments();
  testing::truncate_file(segment(21), data_end(21, 30) - 3);
  ::testing::internal::CaptureStderr();
  auto log = open();
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("runs past the end"));
  EXPECT_EQ(log->last_zxid(), 29);
  append_range(*log, 30, 30);
  log->sync();
  EXPECT_EQ(replayed(*log).size(), 30u);
}

TEST_F(FileTxnLogTest, CorruptLastRecordIsCut) {
  write_three_segments();
  testing::flip_byte(segment(21), data_end(21, 30) - 3);  // inside record 30's payload
  ::testing::internal::CaptureStderr();
  auto log = open();
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("crc mismatch"));
  EXPECT_EQ(log->last_zxid(), 29);
  append_range(*log, 30, 30);
  log->sync();
  EXPECT_EQ(replayed(*log).size(), 30u);
}

TEST_F(FileTxnLogTest, CrashWithAPreallocatedTailRecovers) {
  {
    auto log = open();
    append_range(*log, 1, 5);
    log->sync();
    // Destroyed without roll: the segment keeps its preallocated zeros.
  }
  EXPECT_GE(std::filesystem::file_size(segment(1)), 64u << 10);
  ::testing::internal::CaptureStderr();
  auto log = open();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "zeros after the end are normal";
  EXPECT_EQ(log->last_zxid(), 5);
  EXPECT_THAT(replayed(*log), ElementsAre(1, 2, 3, 4, 5));
}

TEST_F(FileTxnLogTest, GarbageAfterTheEndMarkerIsCutLoudly) {
  uint64_t end = 0;
  {
    auto log = open();
    append_range(*log, 1, 5);
    log->sync();
    end = FileTxnLog::kHeaderBytes;
    for (int64_t z = 1; z <= 5; ++z) end += record_size(z);
  }
  // An unsynced write that reached the disk past a hole of zeros.
  testing::flip_byte(segment(1), end + 4096);
  ::testing::internal::CaptureStderr();
  auto log = open();
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("unsynced data"));
  EXPECT_EQ(std::filesystem::file_size(segment(1)), end);
  EXPECT_EQ(log->last_zxid(), 5);
}

TEST_F(FileTxnLogTest, LastSegmentThatNeverGotItsHeaderIsRemoved) {
  write_three_segments(/*roll_last=*/true);
  // A crash right after creating and preallocating the next segment.
  testing::write_file(segment(31), std::string(4096, '\0'));
  auto log = open();
  EXPECT_FALSE(std::filesystem::exists(segment(31)));
  EXPECT_EQ(log->last_zxid(), 30);
  append_range(*log, 31, 31);
  log->sync();
  EXPECT_THAT(log->segment_starts(), ElementsAre(1, 11, 21, 31));
}

TEST_F(FileTxnLogTest, LastSegmentWithATornFirstRecordIsRemoved) {
  write_three_segments();
  {
    auto log = open();
    append_range(*log, 31, 31);
    log->sync();
  }
  testing::truncate_file(segment(31), FileTxnLog::kHeaderBytes + 5);
  ::testing::internal::CaptureStderr();
  auto log = open();
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("torn tail"));
  EXPECT_FALSE(std::filesystem::exists(segment(31)));
  EXPECT_EQ(log->last_zxid(), 30);
}

TEST_F(FileTxnLogTest, DamagedHeaderOfTheLastSegmentWithRecordsIsAnError) {
  write_three_segments();
  testing::flip_byte(segment(21), 2);  // magic
  EXPECT_THROW(
      {
        try {
          open();
        } catch (const CorruptionError& e) {
          EXPECT_THAT(e.what(), HasSubstr(segment(21).string()));
          EXPECT_THAT(e.what(), HasSubstr("records follow"));
          throw;
        }
      },
      CorruptionError);
}

TEST_F(FileTxnLogTest, CorruptionInAMiddleSegmentIsAnError) {
  write_three_segments();
  testing::flip_byte(segment(11), FileTxnLog::kHeaderBytes + record_size(11) + 12);
  try {
    open();
    FAIL() << "opened a log with a corrupt middle segment";
  } catch (const CorruptionError& e) {
    EXPECT_THAT(e.what(), HasSubstr(segment(11).string()));
    EXPECT_THAT(e.what(), HasSubstr("crc mismatch"));
    EXPECT_THAT(e.what(), HasSubstr("acknowledged"));
  }
}

TEST_F(FileTxnLogTest, TruncatedMiddleSegmentIsAnError) {
  write_three_segments();
  testing::truncate_file(segment(11), data_end(11, 20) - 1);
  EXPECT_THROW(open(), CorruptionError);
}

TEST_F(FileTxnLogTest, MiddleSegmentWithBadHeaderIsAnError) {
  write_three_segments();
  testing::flip_byte(segment(1), 9);  // version
  try {
    open();
    FAIL();
  } catch (const CorruptionError& e) {
    EXPECT_THAT(e.what(), HasSubstr("header crc mismatch"));
  }
}

TEST_F(FileTxnLogTest, AMiddleSegmentStillPreallocatedIsAnError) {
  // Cannot happen: a segment is cut to its data before the next one starts.
  write_three_segments();
  testing::write_file(segment(31), std::string(100, 'x'));
  try {
    open();
    FAIL();
  } catch (const CorruptionError& e) {
    EXPECT_THAT(e.what(), HasSubstr("zeros where a record should be"));
  }
}

TEST_F(FileTxnLogTest, SegmentWhoseNameLiesIsAnError) {
  write_three_segments();
  std::filesystem::rename(segment(11), segment(12));
  EXPECT_THROW(open(), CorruptionError);
}

TEST_F(FileTxnLogTest, CorruptionFoundDuringReplayIsAnError) {
  write_three_segments();
  auto log = open();
  testing::flip_byte(segment(11), FileTxnLog::kHeaderBytes + 10);
  EXPECT_THROW(log->replay(0, [](const corral::proto::Txn&) {}), CorruptionError);
  // A replay that does not need the damaged segment still works.
  EXPECT_EQ(replayed(*log, 20).size(), 10u);
}

TEST_F(FileTxnLogTest, TruncateAfterIsDurableAcrossReopen) {
  write_three_segments();
  {
    auto log = open();
    log->truncate_after(14);
    EXPECT_FALSE(std::filesystem::exists(segment(21)));
  }
  auto log = open();
  EXPECT_EQ(log->last_zxid(), 14);
  EXPECT_THAT(log->segment_starts(), ElementsAre(1, 11));
  EXPECT_EQ(std::filesystem::file_size(segment(11)),
            FileTxnLog::kHeaderBytes + record_size(11) + record_size(12) + record_size(13) + record_size(14));
}

TEST_F(FileTxnLogTest, PurgeDeletesFiles) {
  write_three_segments();
  auto log = open();
  log->purge_segments_before(25);
  EXPECT_FALSE(std::filesystem::exists(segment(1)));
  EXPECT_FALSE(std::filesystem::exists(segment(11)));
  EXPECT_TRUE(std::filesystem::exists(segment(21)));
}

}  // namespace
}  // namespace corral::storage
