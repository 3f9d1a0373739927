// Snapshots in files: SnapshotWriter, read_snapshot, FileSnapshotStore.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ensemble/storage/file_util.h"
#include "ensemble/storage/snapshot.h"

namespace corral::storage {

/**
 * Snapshot files.
 *
 * Snapshots live in `<dataDir>/corral-1/`, one file per snapshot, named
 * `snapshot.<zxid as 16 lower-case hex digits>`. A file is written under the
 * name `snapshot.<zxid>.tmp`, fsync'ed, renamed to its final name, and then the
 * directory is fsync'ed: a snapshot is either absent or whole under its final
 * name, and a crash leaves at most a `.tmp` file, which FileSnapshotStore
 * deletes when it opens.
 *
 * Layout, integers big-endian:
 *
 *     header:  "CRLSNAPS"  u32 version (=1)  u64 zxid  u32 crc32(bytes 8..20)
 *     record:  u32 length (> 0)  u32 crc32(body)  body = u8 type, message
 *
 * with type 1 = Node, 2 = Session, 3 = End and the message a corral.storage.pb
 * message of storage.proto. Node and Session records come in the order the
 * writer was given them; the one End record comes last, carries the counts of
 * Node and Session records and the header's zxid, and is followed by nothing.
 *
 * The writer buffers 1 MiB at a time and, every 8 MiB, asks the kernel to start
 * writing back what it has written (sync_file_range), so the disk works while
 * the tree is serialized and commit()'s fsync has little left to wait for. Only
 * that fsync makes the snapshot durable.
 *
 * A reader refuses (CorruptionError naming file and offset) a bad header, a
 * record that runs past the end of the file, a CRC mismatch, a body that does
 * not parse, a missing End (a truncated file), counts or zxid that disagree
 * with what was read, and bytes after the End.
 */
class SnapshotWriter final : public SnapshotSink {
 public:
  static constexpr uint32_t kFormatVersion = 1;

  // Creates `<dir>/snapshot.<zxid>.tmp` (replacing a stale one). `dir` must
  // exist. Uses only plain POSIX file calls, no threads or locks, so a forked
  // child can write the snapshot of its copy-on-write image of the tree; the
  // child should catch exceptions and report them through its exit status.
  SnapshotWriter(const std::filesystem::path& dir, int64_t zxid);
  // Without commit(): removes the .tmp file.
  ~SnapshotWriter() override;

  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  void add_node(const SnapshotNode& node) override;
  void add_session(const SnapshotSession& session) override;
  // Writes the End record, fsyncs, renames to the final name, fsyncs the
  // directory.
  void commit() override;

  // The final path, `<dir>/snapshot.<zxid>`.
  const std::filesystem::path& path() const { return final_path_; }

  static std::filesystem::path file_name(int64_t zxid);

 private:
  struct Messages;  // reused protobuf messages (storage.pb.h stays private)

  void flush();

  std::filesystem::path dir_;
  std::filesystem::path tmp_path_;
  std::filesystem::path final_path_;
  int64_t zxid_;
  detail::File file_;
  std::string buffer_;
  std::unique_ptr<Messages> messages_;
  uint64_t written_ = 0;         // bytes written to the file
  uint64_t writeback_from_ = 0;  // writeback started for [0, writeback_from_)
  uint64_t nodes_ = 0;
  uint64_t sessions_ = 0;
  bool committed_ = false;
};

// Reads the snapshot at `file`, handing its records to `callbacks` (unset
// callbacks skip those records; on_begin gets the header's zxid). Throws
// CorruptionError for a damaged or truncated file and std::system_error when
// it cannot be read. Records before the damage may already have been handed
// out.
SnapshotSummary read_snapshot(const std::filesystem::path& file, const SnapshotCallbacks& callbacks);

/**
 * The snapshots of one data directory (see SnapshotWriter for the files).
 *
 * Opening the store creates `<dataDir>/corral-1/` if needed and deletes stale
 * `snapshot.*.tmp` files (one stderr line each): only a writer that has not
 * committed has one, and the store is opened before any snapshot starts.
 * Files that do not look like snapshots are left alone (the txn log may share
 * the directory).
 */
class FileSnapshotStore final : public SnapshotStore {
 public:
  explicit FileSnapshotStore(const std::filesystem::path& data_dir);

  std::vector<int64_t> list() const override;
  // A SnapshotWriter into directory().
  std::unique_ptr<SnapshotSink> begin(int64_t zxid) override;
  SnapshotLoad load_newest_valid(const SnapshotCallbacks& callbacks) override;

  // `<data_dir>/corral-1`
  const std::filesystem::path& directory() const { return dir_; }
  std::filesystem::path path_of(int64_t zxid) const { return dir_ / SnapshotWriter::file_name(zxid); }

 protected:
  void remove_snapshot(int64_t zxid) override;
  void after_removal() override;

 private:
  std::filesystem::path dir_;
};

}  // namespace corral::storage
