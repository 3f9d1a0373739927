#include "ensemble/storage/file_txn_log.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "ensemble/storage/error.h"

namespace corral::storage {

using detail::File;

namespace {

constexpr char kMagic[8] = {'C', 'R', 'L', 'T', 'X', 'L', 'O', 'G'};
constexpr uint64_t kRecordHeaderBytes = 8;
constexpr std::string_view kSegmentPrefix = "log.";
constexpr int64_t kNoZxid = std::numeric_limits<int64_t>::min();

std::string segment_header(int64_t first_zxid) {
  unsigned char h[FileTxnLog::kHeaderBytes];
  std::memcpy(h, kMagic, sizeof kMagic);
  detail::put_u32(h + 8, FileTxnLog::kFormatVersion);
  detail::put_u64(h + 12, static_cast<uint64_t>(first_zxid));
  detail::put_u32(h + 20, detail::crc32(h + 8, 12));
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

// Empty when the header is good; otherwise what is wrong with it.
std::string header_problem(const unsigned char* h, std::size_t n, int64_t name_zxid) {
  if (n < FileTxnLog::kHeaderBytes) return "file shorter than a segment header";
  if (std::memcmp(h, kMagic, sizeof kMagic) != 0) return "bad magic";
  if (detail::get_u32(h + 20) != detail::crc32(h + 8, 12)) return "header crc mismatch";
  uint32_t version = detail::get_u32(h + 8);
  if (version != FileTxnLog::kFormatVersion) {
    return "unsupported format version " + std::to_string(version);
  }
  auto zxid = static_cast<int64_t>(detail::get_u64(h + 12));
  if (zxid != name_zxid) return "header zxid does not match the file name";
  return {};
}

enum class Stop {
  kEnd,   // reached the limit (or stop_after_zxid) exactly on a record boundary
  kZero,  // a zero length: the end of the written data
  kTorn,  // a record that fails its checks (see ScanResult::problem)
};

struct ScanResult {
  Stop stop = Stop::kEnd;
  uint64_t end = FileTxnLog::kHeaderBytes;  // just past the last good record
  uint64_t records = 0;
  int64_t last_zxid = kNoZxid;
  uint64_t visited = 0;
  std::string problem;
};

std::string where(const File& f, uint64_t off) { return f.path().string() + ": offset " + std::to_string(off) + ": "; }

struct ScanArgs {
  uint64_t limit = 0;
  int64_t first_zxid = 0;       // the first record must carry it
  int64_t prev_zxid = kNoZxid;  // the previous segment's last zxid
  int64_t visit_after = std::numeric_limits<int64_t>::max();
  const TxnLog::Visitor* visit = nullptr;
  int64_t stop_after = std::numeric_limits<int64_t>::max();
};

// Reads the records of a segment whose header was already checked. Stops at
// the first zero length or torn record (reported, not thrown). A record with a
// good CRC that is not a Txn in order is corruption and throws.
ScanResult scan_segment(const File& file, const ScanArgs& a, corral::proto::Txn& txn) {
  ScanResult r;
  detail::BufferedReader reader(file, a.limit);
  uint64_t off = FileTxnLog::kHeaderBytes;
  int64_t prev = a.prev_zxid;
  for (;;) {
    uint64_t rem = reader.remaining(off);
    if (rem == 0) {
      r.stop = Stop::kEnd;
      break;
    }
    if (rem < kRecordHeaderBytes) {
      const unsigned char* p = reader.view(off, static_cast<std::size_t>(rem));
      bool zero = std::all_of(p, p + rem, [](unsigned char c) { return c == 0; });
      r.stop = zero ? Stop::kZero : Stop::kTorn;
      r.problem = zero ? "zeros where a record should be" : "truncated record header";
      break;
    }
    const unsigned char* h = reader.view(off, kRecordHeaderBytes);
    uint32_t len = detail::get_u32(h);
    uint32_t crc = detail::get_u32(h + 4);
    if (len == 0) {
      r.stop = crc == 0 ? Stop::kZero : Stop::kTorn;
      r.problem = crc == 0 ? "zeros where a record should be" : "zero length with a non-zero crc";
      break;
    }
    if (len > FileTxnLog::kMaxRecordBytes) {
      r.stop = Stop::kTorn;
      r.problem = "record length " + std::to_string(len) + " over the maximum";
      break;
    }
    if (len > rem - kRecordHeaderBytes) {
      r.stop = Stop::kTorn;
      r.problem = "record of " + std::to_string(len) + " bytes runs past the end of the data";
      break;
    }
    const unsigned char* payload = reader.view(off + kRecordHeaderBytes, len);
    if (detail::crc32(payload, len) != crc) {
      r.stop = Stop::kTorn;
      r.problem = "record crc mismatch";
      break;
    }
    if (!txn.ParseFromArray(payload, static_cast<int>(len))) {
      throw CorruptionError(where(file, off) + "record has a good crc but is not a Txn");
    }
    int64_t zxid = txn.zxid();
    if (r.records == 0 && zxid != a.first_zxid) {
      throw CorruptionError(where(file, off) + "first record has zxid " + std::to_string(zxid) +
                            ", the segment's name says " + std::to_string(a.first_zxid));
    }
    if (prev != kNoZxid && zxid <= prev) {
      throw CorruptionError(where(file, off) + "zxid " + std::to_string(zxid) + " does not follow " +
                            std::to_string(prev));
    }
    if (zxid > a.stop_after) {
      r.stop = Stop::kEnd;
      break;
    }
    if (a.visit != nullptr && zxid > a.visit_after) {
      (*a.visit)(txn);
      ++r.visited;
    }
    prev = zxid;
    r.last_zxid = zxid;
    ++r.records;
    off += kRecordHeaderBytes + len;
    r.end = off;
  }
  return r;
}

std::string hex_zxid(int64_t zxid) { return detail::zxid_file_name("0x", zxid); }

}  // namespace

FileTxnLog::FileTxnLog(const std::filesystem::path& data_log_dir) : FileTxnLog(data_log_dir, Options{}) {}

FileTxnLog::FileTxnLog(const std::filesystem::path& data_log_dir, Options options)
    : dir_(data_log_dir / "corral-1"), options_(options) {
  recover();
}

FileTxnLog::~FileTxnLog() = default;

namespace {
// How much of the tail after the last record recover() inspects for a warning.
constexpr uint64_t kTailCheckBytes = uint64_t{1} << 20;
}  // namespace

void FileTxnLog::recover() {
  detail::ensure_dir(dir_);
  std::vector<std::pair<int64_t, std::filesystem::path>> found;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (auto zxid = detail::parse_zxid_file_name(name, kSegmentPrefix)) {
      found.emplace_back(*zxid, it->path());
    }
  }
  if (ec) throw std::system_error(ec, "list " + dir_.string());
  std::sort(found.begin(), found.end());

  corral::proto::Txn txn;
  bool removed_any = false;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& [name_zxid, path] = found[i];
    const bool last = i + 1 == found.size();
    const int64_t prev = segments_.empty() ? kNoZxid : segments_.back().last_zxid;
    File file = File::open(path, last ? O_RDWR : O_RDONLY);
    const uint64_t size = file.size();

    unsigned char h[kHeaderBytes] = {};
    std::size_t got = file.pread_some(h, kHeaderBytes, 0);
    if (std::string problem = header_problem(h, got, name_zxid); !problem.empty()) {
      if (!last) throw CorruptionError(where(file, 0) + problem);
      // The last segment's header is written with its first records by one
      // write and synced by the sync that covers them. A bad header with no
      // good record after it was never synced; a good record after a bad
      // header is damage.
      if (size > kHeaderBytes) {
        ScanArgs args;
        args.limit = size;
        args.first_zxid = name_zxid;
        args.prev_zxid = prev;
        ScanResult r;
        try {
          r = scan_segment(file, args, txn);
        } catch (const CorruptionError&) {
          throw CorruptionError(where(file, 0) + problem + ", and records follow it");
        }
        if (r.records > 0) {
          throw CorruptionError(where(file, 0) + problem + ", and records follow it");
        }
      }
      if (!detail::all_zero(file, 0, size)) {
        detail::warn(path.string() + ": removing the last segment: " + problem + " (an unsynced segment creation)");
      }
      file.close();
      detail::remove_file(path);
      removed_any = true;
      continue;
    }
    if (prev != kNoZxid && name_zxid <= prev) {
      throw CorruptionError(path.string() + ": segment starts at zxid " + std::to_string(name_zxid) +
                            ", not after the previous segment's last zxid " + std::to_string(prev));
    }

    ScanArgs args;
    args.limit = size;
    args.first_zxid = name_zxid;
    args.prev_zxid = prev;
    ScanResult r = scan_segment(file, args, txn);
    if (!last) {
      if (r.stop != Stop::kEnd || r.records == 0) {
        throw CorruptionError(where(file, r.end) +
                              (r.records == 0 ? std::string("segment has no records") : r.problem) +
                              " (not the last segment: its txns were acknowledged)");
      }
      segments_.push_back(Segment{name_zxid, r.last_zxid, r.end, path});
      continue;
    }

    // The last segment: cut whatever follows its last good record.
    if (r.stop == Stop::kTorn) {
      detail::warn(path.string() + ": cut a torn tail at offset " + std::to_string(r.end) + " (" +
                   std::to_string(size - r.end) + " bytes dropped): " + r.problem);
    } else if (r.stop == Stop::kZero && !detail::all_zero(file, r.end, std::min(size, r.end + kTailCheckBytes))) {
      // Only the start of the tail is looked at: it decides a warning, not
      // what is kept (everything after the end is cut either way), and reading
      // a whole preallocated segment of zeros would slow every restart.
      detail::warn(path.string() + ": cut unsynced data after the end of the log at offset " + std::to_string(r.end) +
                   " (" + std::to_string(size - r.end) + " bytes dropped)");
    }
    if (r.records == 0) {
      file.close();
      detail::remove_file(path);
      removed_any = true;
      continue;
    }
    if (r.end < size) {
      file.truncate(r.end);
      file.fsync();
    }
    segments_.push_back(Segment{name_zxid, r.last_zxid, r.end, path});
  }
  if (removed_any) detail::fsync_dir(dir_);
  last_zxid_ = segments_.empty() ? 0 : segments_.back().last_zxid;
}

void FileTxnLog::check_usable() const {
  if (failed_) {
    throw std::logic_error("txn log " + dir_.string() + " failed an earlier write or sync; reopen it");
  }
}

void FileTxnLog::create_segment(int64_t first_zxid) {
  std::filesystem::path path = dir_ / detail::zxid_file_name(kSegmentPrefix, first_zxid);
  File file = File::open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  file.allocate(0, options_.preallocate_bytes);
  allocated_ = file.size();
  written_ = 0;
  open_ = std::move(file);
  buffer_ = segment_header(first_zxid);
  segments_.push_back(Segment{first_zxid, first_zxid, kHeaderBytes, path});
  dir_dirty_ = true;
}

void FileTxnLog::flush_buffer() {
  if (buffer_.empty()) return;
  const uint64_t need = written_ + buffer_.size();
  if (need > allocated_ && options_.preallocate_bytes > 0) {
    const uint64_t chunk = options_.preallocate_bytes;
    const uint64_t grow = (need - allocated_ + chunk - 1) / chunk * chunk;
    open_.allocate(allocated_, grow);
    allocated_ += grow;
  }
  open_.pwrite_all(buffer_.data(), buffer_.size(), written_);
  written_ = need;
  allocated_ = std::max(allocated_, written_);
  buffer_.clear();
}

void FileTxnLog::close_open_segment() {
  if (!open_.is_open()) return;
  flush_buffer();
  open_.truncate(written_);
  open_.fsync();
  if (dir_dirty_) {
    detail::fsync_dir(dir_);
    dir_dirty_ = false;
  }
  open_.close();
  written_ = 0;
  allocated_ = 0;
}

void FileTxnLog::append(const corral::proto::Txn& txn) {
  check_usable();
  if (txn.zxid() <= last_zxid_) {
    throw std::invalid_argument("txn log append: zxid " + hex_zxid(txn.zxid()) + " is not after the last zxid " +
                                hex_zxid(last_zxid_));
  }
  scratch_.clear();
  if (!txn.SerializeToString(&scratch_) || scratch_.size() > kMaxRecordBytes) {
    throw std::invalid_argument("txn log append: txn " + hex_zxid(txn.zxid()) + " does not serialize within " +
                                std::to_string(kMaxRecordBytes) + " bytes");
  }
  try {
    if (!open_.is_open()) create_segment(txn.zxid());
    unsigned char h[kRecordHeaderBytes];
    detail::put_u32(h, static_cast<uint32_t>(scratch_.size()));
    detail::put_u32(h + 4, detail::crc32(scratch_.data(), scratch_.size()));
    buffer_.append(reinterpret_cast<const char*>(h), sizeof h);
    buffer_.append(scratch_);
    Segment& seg = segments_.back();
    seg.end += kRecordHeaderBytes + scratch_.size();
    seg.last_zxid = txn.zxid();
    last_zxid_ = txn.zxid();
    if (buffer_.size() >= options_.write_buffer_bytes) flush_buffer();
  } catch (...) {
    failed_ = true;
    throw;
  }
}

void FileTxnLog::sync() {
  check_usable();
  try {
    if (open_.is_open()) {
      flush_buffer();
      if (options_.force_sync) open_.fdatasync();
    }
    if (dir_dirty_) {
      detail::fsync_dir(dir_);
      dir_dirty_ = false;
    }
  } catch (...) {
    failed_ = true;
    throw;
  }
}

uint64_t FileTxnLog::replay(int64_t after_zxid, const Visitor& visit) {
  check_usable();
  try {
    if (open_.is_open()) flush_buffer();
  } catch (...) {
    failed_ = true;
    throw;
  }
  std::size_t i = 0;
  while (i + 1 < segments_.size() && segments_[i + 1].first_zxid - 1 <= after_zxid) ++i;

  corral::proto::Txn txn;
  uint64_t visited = 0;
  for (; i < segments_.size(); ++i) {
    const Segment& seg = segments_[i];
    if (seg.last_zxid <= after_zxid) continue;
    const bool is_open = open_.is_open() && i + 1 == segments_.size();
    File reopened;
    if (!is_open) reopened = File::open(seg.path, O_RDONLY);
    const File& file = is_open ? open_ : reopened;
    unsigned char h[kHeaderBytes] = {};
    std::size_t got = file.pread_some(h, kHeaderBytes, 0);
    if (std::string problem = header_problem(h, got, seg.first_zxid); !problem.empty()) {
      throw CorruptionError(where(file, 0) + problem);
    }
    ScanArgs args;
    args.limit = seg.end;
    args.first_zxid = seg.first_zxid;
    args.prev_zxid = i > 0 ? segments_[i - 1].last_zxid : kNoZxid;
    args.visit_after = after_zxid;
    args.visit = &visit;
    ScanResult r = scan_segment(file, args, txn);
    if (r.stop != Stop::kEnd || r.end != seg.end || r.last_zxid != seg.last_zxid) {
      throw CorruptionError(where(file, r.end) + "segment changed since the log was opened" +
                            (r.problem.empty() ? std::string() : ": " + r.problem));
    }
    visited += r.visited;
  }
  return visited;
}

void FileTxnLog::truncate_after(int64_t zxid) {
  check_usable();
  if (zxid >= last_zxid_) return;
  try {
    if (open_.is_open()) flush_buffer();
    bool removed = false;
    while (!segments_.empty() && segments_.back().first_zxid > zxid) {
      if (open_.is_open()) {
        open_.close();
        buffer_.clear();
        written_ = allocated_ = 0;
      }
      detail::remove_file(segments_.back().path);
      segments_.pop_back();
      removed = true;
    }
    if (removed || dir_dirty_) {
      detail::fsync_dir(dir_);
      dir_dirty_ = false;
    }
    if (!segments_.empty() && segments_.back().last_zxid > zxid) {
      Segment& seg = segments_.back();
      File file = open_.is_open() ? std::move(open_) : File::open(seg.path, O_RDWR);
      written_ = allocated_ = 0;
      ScanArgs args;
      args.limit = seg.end;
      args.first_zxid = seg.first_zxid;
      args.prev_zxid = segments_.size() > 1 ? segments_[segments_.size() - 2].last_zxid : kNoZxid;
      args.stop_after = zxid;
      corral::proto::Txn txn;
      ScanResult r = scan_segment(file, args, txn);
      if (r.stop != Stop::kEnd || r.records == 0) {
        throw CorruptionError(where(file, r.end) + "cannot cut the segment: " + r.problem);
      }
      file.truncate(r.end);
      file.fsync();
      seg.end = r.end;
      seg.last_zxid = r.last_zxid;
    } else if (open_.is_open()) {
      close_open_segment();
    }
  } catch (...) {
    failed_ = true;
    throw;
  }
  last_zxid_ = segments_.empty() ? 0 : segments_.back().last_zxid;
}

void FileTxnLog::roll() {
  check_usable();
  try {
    close_open_segment();
  } catch (...) {
    failed_ = true;
    throw;
  }
}

void FileTxnLog::purge_segments_before(int64_t zxid) {
  check_usable();
  std::size_t keep_from = 0;
  while (keep_from + 1 < segments_.size() && segments_[keep_from].last_zxid <= zxid) ++keep_from;
  if (keep_from == 0) return;
  std::size_t removed = 0;
  try {
    for (; removed < keep_from; ++removed) detail::remove_file(segments_[removed].path);
  } catch (...) {
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(removed));
    throw;
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(removed));
  detail::fsync_dir(dir_);
}

std::vector<int64_t> FileTxnLog::segment_starts() const {
  std::vector<int64_t> starts;
  starts.reserve(segments_.size());
  for (const Segment& s : segments_) starts.push_back(s.first_zxid);
  return starts;
}

}  // namespace corral::storage
