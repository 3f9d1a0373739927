// Snapshots: the SnapshotStore contract against the file store and its
// in-memory twin, then the file format and the damage the reader must refuse.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ensemble/storage/error.h"
#include "ensemble/storage/file_snapshot.h"
#include "ensemble/storage/file_txn_log.h"
#include "ensemble/storage/memory_snapshot_store.h"
#include "tests/unit/storage/storage_test_util.h"

namespace corral::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

corral::wire::Acl acl(int32_t perms, std::string scheme, std::string id) {
  corral::wire::Acl a;
  a.perms = perms;
  a.id.scheme = std::move(scheme);
  a.id.id = std::move(id);
  return a;
}

std::vector<SnapshotNode> sample_nodes(int64_t zxid) {
  std::vector<SnapshotNode> nodes;
  SnapshotNode root;
  root.path = "/";
  root.acl = {acl(31, "world", "anyone")};
  root.pzxid = zxid;
  root.cversion = 2;
  nodes.push_back(root);

  SnapshotNode a;
  a.path = "/a";
  a.data = std::string("bin\0ary\xff", 8);
  a.acl = {acl(1, "digest", "user:hash="), acl(31, "ip", "10.0.0.0/8")};
  a.czxid = 1;
  a.mzxid = zxid;
  a.pzxid = 1;
  a.ctime = 1700000000000;
  a.mtime = 1700000000123;
  a.version = 7;
  a.aversion = 1;
  a.ephemeral_owner = 0x10000abcdef;
  nodes.push_back(a);

  SnapshotNode b;
  b.path = "/a/\xc3\xa9t\xc3\xa9";  // UTF-8 is kept byte for byte
  b.czxid = 2;
  b.mzxid = 2;
  b.pzxid = 2;
  b.version = -1;
  b.ephemeral_owner = static_cast<int64_t>(0x8000000000000000ull);  // container
  nodes.push_back(b);
  return nodes;
}

std::vector<SnapshotSession> sample_sessions() {
  return {SnapshotSession{0x10000abcdef, 30000, std::string("pass\0word", 9)},
          SnapshotSession{0x10000abcdf0, 4000, ""}};
}

void write_snapshot(SnapshotStore& store, int64_t zxid) {
  auto sink = store.begin(zxid);
  for (const auto& n : sample_nodes(zxid)) sink->add_node(n);
  for (const auto& s : sample_sessions()) sink->add_session(s);
  sink->commit();
}

// Collects what a load hands out; on_begin discards an earlier attempt.
struct Loaded {
  std::vector<int64_t> begins;
  std::vector<SnapshotNode> nodes;
  std::vector<SnapshotSession> sessions;

  SnapshotCallbacks callbacks() {
    SnapshotCallbacks cb;
    cb.on_begin = [this](int64_t zxid) {
      begins.push_back(zxid);
      nodes.clear();
      sessions.clear();
    };
    cb.on_node = [this](SnapshotNode&& n) { nodes.push_back(std::move(n)); };
    cb.on_session = [this](SnapshotSession&& s) { sessions.push_back(std::move(s)); };
    return cb;
  }
};

// ---------------------------------------------------------------------------
// The contract, for both stores.

struct FileStoreHarness {
  TempDir dir;
  std::unique_ptr<FileSnapshotStore> store = std::make_unique<FileSnapshotStore>(dir.path());
  SnapshotStore& get() { return *store; }
  void corrupt(int64_t zxid) {
    auto path = store->path_of(zxid);
    testing::flip_byte(path, std::filesystem::file_size(path) / 2);
  }
};

struct MemoryStoreHarness {
  MemorySnapshotStore store;
  SnapshotStore& get() { return store; }
  void corrupt(int64_t zxid) { store.corrupt(zxid); }
};

template <typename H>
class SnapshotStoreContract : public ::testing::Test {
 protected:
  H h;
};

using StoreHarnesses = ::testing::Types<FileStoreHarness, MemoryStoreHarness>;
TYPED_TEST_SUITE(SnapshotStoreContract, StoreHarnesses);

TYPED_TEST(SnapshotStoreContract, EmptyStoreLoadsNothing) {
  Loaded loaded;
  SnapshotLoad result = this->h.get().load_newest_valid(loaded.callbacks());
  EXPECT_FALSE(result.loaded.has_value());
  EXPECT_TRUE(result.skipped.empty());
  EXPECT_TRUE(loaded.begins.empty());
  EXPECT_TRUE(this->h.get().list().empty());
  SnapshotPurge purge = this->h.get().purge(3);
  EXPECT_FALSE(purge.oldest_retained_zxid.has_value());
}

TYPED_TEST(SnapshotStoreContract, RoundTrip) {
  write_snapshot(this->h.get(), 100);
  Loaded loaded;
  SnapshotLoad result = this->h.get().load_newest_valid(loaded.callbacks());
  ASSERT_TRUE(result.loaded.has_value());
  EXPECT_EQ(result.loaded->zxid, 100);
  EXPECT_EQ(result.loaded->nodes, 3u);
  EXPECT_EQ(result.loaded->sessions, 2u);
  EXPECT_TRUE(result.skipped.empty());
  EXPECT_THAT(loaded.begins, ElementsAre(100));
  EXPECT_EQ(loaded.nodes, sample_nodes(100));
  EXPECT_EQ(loaded.sessions, sample_sessions());
}

TYPED_TEST(SnapshotStoreContract, ListsNewestFirst) {
  for (int64_t z : std::initializer_list<int64_t>{0x200000001, 5, 0x100000007}) write_snapshot(this->h.get(), z);
  EXPECT_THAT(this->h.get().list(), ElementsAre(0x200000001, 0x100000007, 5));
}

TYPED_TEST(SnapshotStoreContract, AnAbandonedSnapshotIsNotStored) {
  {
    auto sink = this->h.get().begin(7);
    sink->add_node(sample_nodes(7)[0]);
  }
  EXPECT_TRUE(this->h.get().list().empty());
}

TYPED_TEST(SnapshotStoreContract, CorruptNewestFallsBackToTheOlder) {
  write_snapshot(this->h.get(), 10);
  write_snapshot(this->h.get(), 20);
  this->h.corrupt(20);
  Loaded loaded;
  ::testing::internal::CaptureStderr();
  SnapshotLoad result = this->h.get().load_newest_valid(loaded.callbacks());
  ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(result.loaded.has_value());
  EXPECT_EQ(result.loaded->zxid, 10);
  ASSERT_EQ(result.skipped.size(), 1u);
  EXPECT_EQ(result.skipped[0].zxid, 20);
  EXPECT_FALSE(result.skipped[0].reason.empty());
  EXPECT_THAT(loaded.begins, ElementsAre(20, 10));
  EXPECT_EQ(loaded.nodes, sample_nodes(10));
  EXPECT_EQ(loaded.sessions, sample_sessions());
}

TYPED_TEST(SnapshotStoreContract, NoValidSnapshotIsAnError) {
  write_snapshot(this->h.get(), 10);
  write_snapshot(this->h.get(), 20);
  this->h.corrupt(10);
  this->h.corrupt(20);
  Loaded loaded;
  ::testing::internal::CaptureStderr();
  EXPECT_THROW(this->h.get().load_newest_valid(loaded.callbacks()), CorruptionError);
  ::testing::internal::GetCapturedStderr();
}

TYPED_TEST(SnapshotStoreContract, PurgeKeepsTheNewest) {
  for (int64_t z = 1; z <= 5; ++z) write_snapshot(this->h.get(), z * 10);
  EXPECT_THROW(this->h.get().purge(2), std::invalid_argument);
  SnapshotPurge purge = this->h.get().purge(3);
  EXPECT_EQ(purge.oldest_retained_zxid, 30);
  EXPECT_THAT(purge.removed, ElementsAre(10, 20));
  EXPECT_THAT(this->h.get().list(), ElementsAre(50, 40, 30));

  purge = this->h.get().purge(5);
  EXPECT_EQ(purge.oldest_retained_zxid, 30);
  EXPECT_TRUE(purge.removed.empty());
}

// ---------------------------------------------------------------------------
// Files.

class FileSnapshotTest : public ::testing::Test {
 protected:
  std::filesystem::path snap_dir() const { return dir_.path() / "corral-1"; }
  // A small snapshot's bytes.
  std::string sample_bytes() {
    FileSnapshotStore store(dir_.path());
    write_snapshot(store, 0x42);
    return testing::read_file(store.path_of(0x42));
  }
  // Reads `bytes` as a snapshot file; returns the error, or "" if it loads.
  std::string read_error(const std::string& bytes) {
    auto path = dir_.path() / "probe";
    testing::write_file(path, bytes);
    try {
      read_snapshot(path, Loaded().callbacks());
      return "";
    } catch (const CorruptionError& e) {
      return e.what();
    }
  }

  TempDir dir_;
};

TEST_F(FileSnapshotTest, FileNameAndHeader) {
  FileSnapshotStore store(dir_.path());
  write_snapshot(store, 0x100000064);
  EXPECT_TRUE(std::filesystem::exists(snap_dir() / "snapshot.0000000100000064"));
  EXPECT_EQ(store.path_of(0x100000064), snap_dir() / "snapshot.0000000100000064");
  const std::string bytes = testing::read_file(store.path_of(0x100000064));
  EXPECT_EQ(bytes.substr(0, 8), "CRLSNAPS");
  EXPECT_EQ(bytes.substr(8, 4), std::string("\0\0\0\1", 4));
  EXPECT_EQ(bytes.substr(12, 8), std::string("\0\0\0\1\0\0\0\x64", 8));
  // Nothing but the snapshot is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(snap_dir()), std::filesystem::directory_iterator()), 1);
}

TEST_F(FileSnapshotTest, ReadSnapshotWithoutCallbacksVerifies) {
  FileSnapshotStore store(dir_.path());
  write_snapshot(store, 9);
  SnapshotSummary s = read_snapshot(store.path_of(9), {});
  EXPECT_EQ(s.zxid, 9);
  EXPECT_EQ(s.nodes, 3u);
  EXPECT_EQ(s.sessions, 2u);
}

TEST_F(FileSnapshotTest, EveryTruncationIsRefused) {
  const std::string bytes = sample_bytes();
  ASSERT_EQ(read_error(bytes), "");
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_NE(read_error(bytes.substr(0, size)), "") << "truncated to " << size;
  }
  EXPECT_THAT(read_error(bytes.substr(0, bytes.size() - 1)), HasSubstr("truncated"));
}

TEST_F(FileSnapshotTest, EveryFlippedByteIsRefused) {
  const std::string bytes = sample_bytes();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    EXPECT_NE(read_error(damaged), "") << "flipped byte " << i;
  }
}

TEST_F(FileSnapshotTest, TrailingBytesAreRefused) {
  EXPECT_THAT(read_error(sample_bytes() + std::string(1, '\0')), HasSubstr("after the end record"));
}

TEST_F(FileSnapshotTest, ErrorsNameTheFileAndOffset) {
  const std::string bytes = sample_bytes();
  std::string msg = read_error(bytes.substr(0, bytes.size() - 4));
  EXPECT_THAT(msg, HasSubstr((dir_.path() / "probe").string()));
  EXPECT_THAT(msg, HasSubstr("offset"));
}

TEST_F(FileSnapshotTest, StaleTempFilesAreRemovedOnOpen) {
  std::filesystem::create_directories(snap_dir());
  testing::write_file(snap_dir() / "snapshot.0000000000000005.tmp", "half");
  testing::write_file(snap_dir() / "log.0000000000000001", "not ours");
  testing::write_file(snap_dir() / "snapshot.junk.tmp", "not ours either");
  ::testing::internal::CaptureStderr();
  FileSnapshotStore store(dir_.path());
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("unfinished snapshot"));
  EXPECT_FALSE(std::filesystem::exists(snap_dir() / "snapshot.0000000000000005.tmp"));
  EXPECT_TRUE(std::filesystem::exists(snap_dir() / "log.0000000000000001"));
  EXPECT_TRUE(std::filesystem::exists(snap_dir() / "snapshot.junk.tmp"));
  EXPECT_TRUE(store.list().empty());
}

TEST_F(FileSnapshotTest, AnAbandonedWriterLeavesNoTempFile) {
  std::filesystem::create_directories(snap_dir());
  {
    SnapshotWriter writer(snap_dir(), 3);
    writer.add_node(sample_nodes(3)[0]);
    EXPECT_TRUE(std::filesystem::exists(snap_dir() / "snapshot.0000000000000003.tmp"));
  }
  EXPECT_TRUE(std::filesystem::is_empty(snap_dir()));
}

TEST_F(FileSnapshotTest, AFileUnderTheWrongNameIsSkipped) {
  FileSnapshotStore store(dir_.path());
  write_snapshot(store, 10);
  write_snapshot(store, 20);
  std::filesystem::rename(store.path_of(20), store.path_of(30));
  Loaded loaded;
  ::testing::internal::CaptureStderr();
  SnapshotLoad result = store.load_newest_valid(loaded.callbacks());
  ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(result.loaded.has_value());
  EXPECT_EQ(result.loaded->zxid, 10);
  ASSERT_EQ(result.skipped.size(), 1u);
  EXPECT_EQ(result.skipped[0].zxid, 30);
  EXPECT_THAT(result.skipped[0].reason, HasSubstr("does not match the file name"));
}

// The caller's side of a purge: snapshots and the log segments they no longer
// need go together, and a restart from the oldest kept snapshot still replays.
TEST_F(FileSnapshotTest, PurgingSnapshotsThenLogSegments) {
  FileSnapshotStore store(dir_.path());
  FileTxnLog::Options options;
  options.preallocate_bytes = 64 << 10;
  FileTxnLog log(dir_.path(), options);  // dataLogDir == dataDir: one directory
  int64_t zxid = 0;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 10; ++i) log.append(testing::make_txn(++zxid));
    log.sync();
    write_snapshot(store, zxid);  // at 10, 20, ... 50
    log.roll();
  }
  for (int i = 0; i < 5; ++i) log.append(testing::make_txn(++zxid));
  log.sync();

  SnapshotPurge purge = store.purge(3);
  ASSERT_EQ(purge.oldest_retained_zxid, 30);
  log.purge_segments_before(*purge.oldest_retained_zxid);
  EXPECT_THAT(log.segment_starts(), ElementsAre(31, 41, 51));
  // Each kept snapshot can still be brought up to date from the log.
  for (int64_t snap : store.list()) {
    std::vector<int64_t> zxids;
    log.replay(snap, [&](const corral::proto::Txn& t) { zxids.push_back(t.zxid()); });
    ASSERT_FALSE(zxids.empty());
    EXPECT_EQ(zxids.front(), snap + 1);
    EXPECT_EQ(zxids.back(), 55);
  }
}

// A measurement, not a check: run with --gtest_also_run_disabled_tests.
TEST_F(FileSnapshotTest, DISABLED_MillionNodeWriteAndRead) {
  constexpr int kNodes = 1000000;
  FileSnapshotStore store(dir_.path());
  SnapshotNode node;
  node.acl = {acl(31, "world", "anyone")};
  node.data.assign(100, 'x');
  auto t0 = std::chrono::steady_clock::now();
  {
    auto sink = store.begin(kNodes);
    for (int i = 0; i < kNodes; ++i) {
      node.path = "/bench/node-" + std::to_string(i);
      node.czxid = node.mzxid = node.pzxid = i + 1;
      node.ctime = node.mtime = 1700000000000 + i;
      sink->add_node(node);
    }
    sink->commit();
  }
  auto t1 = std::chrono::steady_clock::now();
  uint64_t bytes_seen = 0;
  SnapshotCallbacks cb;
  cb.on_node = [&](SnapshotNode&& n) { bytes_seen += n.path.size() + n.data.size(); };
  SnapshotLoad loaded = store.load_newest_valid(cb);
  auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(loaded.loaded.has_value());
  EXPECT_EQ(loaded.loaded->nodes, static_cast<uint64_t>(kNodes));
  auto ms = [](auto d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  std::printf("[ info ] %d nodes, %llu MB: write+fsync %lld ms, read %lld ms\n", kNodes,
              static_cast<unsigned long long>(std::filesystem::file_size(store.path_of(kNodes)) >> 20), ms(t1 - t0),
              ms(t2 - t1));
}

}  // namespace
}  // namespace corral::storage
