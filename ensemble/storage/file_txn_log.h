// FileTxnLog: the txn log in files, one file per segment.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ensemble/storage/file_util.h"
#include "ensemble/storage/txn_log.h"

namespace corral::storage {

/**
 * The txn log as a directory of segment files.
 *
 * Files. Everything lives in `<dataLogDir>/corral-1/` (the "1" is the layout
 * version of the directory). A segment is named `log.<first zxid as 16 lower-case
 * hex digits>`; its first record always has exactly that zxid. Other files in the
 * directory (snapshots share it when dataLogDir == dataDir) are left alone.
 *
 * A segment is a 24-byte header followed by records, all integers big-endian:
 *
 *     header:  "CRLTXLOG"  u32 version (=1)  u64 first zxid  u32 crc32(bytes 8..20)
 *     record:  u32 payload length (> 0)  u32 crc32(payload)  payload
 *
 * where the payload is a serialized corral.proto.Txn (txn.proto). Zxids are
 * strictly increasing within a segment and from one segment to the next.
 *
 * Open and closed segments. Appends go to the one open segment, which is
 * preallocated in chunks (Options::preallocate_bytes, 64 MiB by default) with
 * posix_fallocate, so its size only changes once per chunk and the fdatasync of
 * a sync() normally has no size to update. The bytes after the last record are
 * zeros, and a zero length marks the end of the data. (File systems still record
 * that a preallocated extent was written; that cost is the file system's.)
 * roll(), truncate_after(), and opening the log close the open segment: its
 * buffered bytes are written, the file is cut to the end of its last record
 * (dropping the preallocated zeros) and fsync'ed. So a closed segment ends
 * exactly at its last record, and the first append after a roll or after
 * opening the log starts a new segment.
 *
 * Durability. append() only buffers (bytes are written with write(2) when the
 * buffer passes Options::write_buffer_bytes). sync() writes the buffer,
 * fdatasyncs the open segment, and fsyncs the directory when a segment was
 * created since the last sync. A txn is durable when a sync() that started after
 * its append() returns. truncate_after(), roll() and purge_segments_before()
 * are durable when they return.
 *
 * What happens after a crash (checked when the constructor opens the log):
 *  - Only the last segment can have been written to when the crash happened.
 *    Its data is read up to the first zero length, and the bytes after that
 *    must be zero. A record that fails its checks (length past the end of the
 *    file, CRC mismatch) is a torn write: it and everything after it were never
 *    synced, so they were never acknowledged. Non-zero bytes after the zero
 *    length are unsynced writes that reached the disk out of order. Either way
 *    the segment is cut at the end of its last good record and one line goes to
 *    stderr. (A bit flip in the last segment looks the same as a torn write;
 *    the file cannot tell them apart, so it is cut too, loudly.)
 *  - A last segment whose header never reached the disk (file shorter than a
 *    header, or all zeros), or that has no record, is deleted: nothing in it
 *    was synced.
 *  - Every other segment must be intact: a good header, good records up to
 *    exactly the end of the file, its first zxid equal to its name, zxids in
 *    order. Anything else throws CorruptionError naming the file and offset;
 *    those txns were acknowledged and the log refuses to guess.
 *  - A record whose CRC is right but whose payload is not a Txn, or whose zxid
 *    is out of order, is corruption wherever it is (CorruptionError).
 *  - truncate_after() deletes later segments newest first, then cuts the
 *    segment that keeps the tail; purge deletes oldest first. A crash in the
 *    middle of either leaves a log that is still a contiguous run of segments.
 *
 * Errors. A failed system call throws std::system_error naming the call and
 * the file. After a failed write or sync the log refuses every later call
 * (std::logic_error): whether the data reached the disk is unknown, so the
 * server has to stop and reopen.
 *
 * Not thread-safe; see TxnLog.
 */
class FileTxnLog final : public TxnLog {
 public:
  struct Options {
    // Size of each preallocation chunk of the open segment.
    uint64_t preallocate_bytes = uint64_t{64} << 20;
    // Buffered appends are written (not synced) once they reach this size.
    std::size_t write_buffer_bytes = std::size_t{1} << 20;
    // zoo.cfg forceSync: false makes sync() write without fdatasync, so an
    // acknowledged write can be lost to a power failure (not to a crash of
    // the process). For tests and benchmarks that choose speed over that.
    bool force_sync = true;
  };

  // A record's payload is at most this big; append() refuses larger txns.
  static constexpr uint32_t kMaxRecordBytes = 64u << 20;
  static constexpr uint64_t kHeaderBytes = 24;
  static constexpr uint32_t kFormatVersion = 1;

  // Opens (creating if missing) `<data_log_dir>/corral-1/` and recovers it as
  // described above.
  explicit FileTxnLog(const std::filesystem::path& data_log_dir);
  FileTxnLog(const std::filesystem::path& data_log_dir, Options options);
  // Closes the open segment without writing unsynced appends (as a crash
  // would lose them). Call sync() first for a clean shutdown.
  ~FileTxnLog() override;

  FileTxnLog(const FileTxnLog&) = delete;
  FileTxnLog& operator=(const FileTxnLog&) = delete;

  void append(const corral::proto::Txn& txn) override;
  void sync() override;
  int64_t last_zxid() const override { return last_zxid_; }
  uint64_t replay(int64_t after_zxid, const Visitor& visit) override;
  void truncate_after(int64_t zxid) override;
  void roll() override;
  void purge_segments_before(int64_t zxid) override;
  std::vector<int64_t> segment_starts() const override;

  // `<data_log_dir>/corral-1`
  const std::filesystem::path& directory() const { return dir_; }

 private:
  struct Segment {
    int64_t first_zxid = 0;
    int64_t last_zxid = 0;
    uint64_t end = 0;  // offset just past the last record (buffered ones included)
    std::filesystem::path path;
  };

  void recover();
  void check_usable() const;
  void create_segment(int64_t first_zxid);
  void flush_buffer();
  void close_open_segment();

  std::filesystem::path dir_;
  Options options_;
  std::vector<Segment> segments_;
  // Open iff segments_.back() is the open segment.
  detail::File open_;
  uint64_t written_ = 0;    // bytes of the open segment written to the file
  uint64_t allocated_ = 0;  // size of the open segment's file
  std::string buffer_;      // bytes that go at written_
  std::string scratch_;     // one serialized txn
  bool dir_dirty_ = false;  // a segment was created since the last directory fsync
  bool failed_ = false;
  int64_t last_zxid_ = 0;
};

}  // namespace corral::storage
