#include "ensemble/storage/file_snapshot.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "ensemble/storage/error.h"
#include "storage.pb.h"

namespace corral::storage {

using detail::File;

namespace {

constexpr char kMagic[8] = {'C', 'R', 'L', 'S', 'N', 'A', 'P', 'S'};
constexpr uint64_t kHeaderBytes = 24;
constexpr uint64_t kRecordHeaderBytes = 8;
constexpr std::size_t kWriteBufferBytes = std::size_t{1} << 20;
constexpr uint64_t kWritebackBytes = uint64_t{8} << 20;
constexpr std::string_view kPrefix = "snapshot.";
constexpr std::string_view kTmpSuffix = ".tmp";

enum RecordType : unsigned char { kNode = 1, kSession = 2, kEnd = 3 };

// Appends one framed record whose body is `type` then `message`.
void append_record(std::string& buf, unsigned char type, const google::protobuf::MessageLite& message) {
  const std::size_t size = message.ByteSizeLong();
  const std::size_t at = buf.size();
  buf.resize(at + kRecordHeaderBytes + 1 + size);
  auto* p = reinterpret_cast<unsigned char*>(buf.data()) + at;
  p[kRecordHeaderBytes] = type;
  message.SerializeWithCachedSizesToArray(p + kRecordHeaderBytes + 1);
  detail::put_u32(p, static_cast<uint32_t>(size + 1));
  detail::put_u32(p + 4, detail::crc32(p + kRecordHeaderBytes, size + 1));
}

std::string where(const std::filesystem::path& path, uint64_t off) {
  return "snapshot " + path.string() + ": offset " + std::to_string(off) + ": ";
}

}  // namespace

struct SnapshotWriter::Messages {
  pb::Node node;
  pb::Session session;
  pb::End end;
};

std::filesystem::path SnapshotWriter::file_name(int64_t zxid) { return detail::zxid_file_name(kPrefix, zxid); }

SnapshotWriter::SnapshotWriter(const std::filesystem::path& dir, int64_t zxid)
    : dir_(dir),
      tmp_path_(dir / detail::zxid_file_name(kPrefix, zxid, kTmpSuffix)),
      final_path_(dir / file_name(zxid)),
      zxid_(zxid),
      messages_(std::make_unique<Messages>()) {
  file_ = File::open(tmp_path_, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  buffer_.reserve(kWriteBufferBytes + 4096);
  unsigned char h[kHeaderBytes];
  std::memcpy(h, kMagic, sizeof kMagic);
  detail::put_u32(h + 8, kFormatVersion);
  detail::put_u64(h + 12, static_cast<uint64_t>(zxid));
  detail::put_u32(h + 20, detail::crc32(h + 8, 12));
  buffer_.append(reinterpret_cast<const char*>(h), sizeof h);
}

SnapshotWriter::~SnapshotWriter() {
  if (committed_) return;
  try {
    file_.close();
  } catch (...) {
  }
  try {
    detail::remove_file(tmp_path_);
  } catch (...) {
  }
}

void SnapshotWriter::add_node(const SnapshotNode& node) {
  if (committed_) throw std::logic_error("SnapshotWriter::add_node after commit()");
  pb::Node& m = messages_->node;
  m.set_path(node.path);
  m.set_data(node.data);
  auto* acl = m.mutable_acl();
  while (static_cast<std::size_t>(acl->size()) > node.acl.size()) acl->RemoveLast();
  for (std::size_t i = 0; i < node.acl.size(); ++i) {
    pb::Acl* a = static_cast<int>(i) < acl->size() ? acl->Mutable(static_cast<int>(i)) : acl->Add();
    a->set_perms(node.acl[i].perms);
    a->set_scheme(node.acl[i].id.scheme);
    a->set_id(node.acl[i].id.id);
  }
  m.set_czxid(node.czxid);
  m.set_mzxid(node.mzxid);
  m.set_pzxid(node.pzxid);
  m.set_ctime(node.ctime);
  m.set_mtime(node.mtime);
  m.set_version(node.version);
  m.set_cversion(node.cversion);
  m.set_aversion(node.aversion);
  m.set_ephemeral_owner(node.ephemeral_owner);
  append_record(buffer_, kNode, m);
  ++nodes_;
  if (buffer_.size() >= kWriteBufferBytes) flush();
}

void SnapshotWriter::add_session(const SnapshotSession& session) {
  if (committed_) throw std::logic_error("SnapshotWriter::add_session after commit()");
  pb::Session& m = messages_->session;
  m.set_id(session.id);
  m.set_timeout_ms(session.timeout_ms);
  m.set_password(session.password);
  append_record(buffer_, kSession, m);
  ++sessions_;
  if (buffer_.size() >= kWriteBufferBytes) flush();
}

void SnapshotWriter::flush() {
  if (buffer_.empty()) return;
  file_.write_all(buffer_.data(), buffer_.size());
  written_ += buffer_.size();
  buffer_.clear();
  // Start writeback of what is written so far, so the disk works while we
  // serialize and commit()'s fsync has little left to wait for.
  if (written_ - writeback_from_ >= kWritebackBytes) {
    ::sync_file_range(file_.fd(), static_cast<off_t>(writeback_from_), static_cast<off_t>(written_ - writeback_from_),
                      SYNC_FILE_RANGE_WRITE);
    writeback_from_ = written_;
  }
}

void SnapshotWriter::commit() {
  if (committed_) throw std::logic_error("SnapshotWriter::commit called twice");
  pb::End& end = messages_->end;
  end.set_node_count(nodes_);
  end.set_session_count(sessions_);
  end.set_zxid(zxid_);
  append_record(buffer_, kEnd, end);
  flush();
  file_.fsync();
  file_.close();
  detail::rename_file(tmp_path_, final_path_);
  committed_ = true;
  detail::fsync_dir(dir_);
}

SnapshotSummary read_snapshot(const std::filesystem::path& path, const SnapshotCallbacks& callbacks) {
  File file = File::open(path, O_RDONLY);
  const uint64_t size = file.size();
  detail::BufferedReader reader(file, size);

  if (size < kHeaderBytes) throw CorruptionError(where(path, 0) + "shorter than a header");
  const unsigned char* h = reader.view(0, kHeaderBytes);
  if (std::memcmp(h, kMagic, sizeof kMagic) != 0) {
    throw CorruptionError(where(path, 0) + "not a snapshot (bad magic)");
  }
  if (detail::get_u32(h + 20) != detail::crc32(h + 8, 12)) {
    throw CorruptionError(where(path, 0) + "header crc mismatch");
  }
  if (uint32_t v = detail::get_u32(h + 8); v != SnapshotWriter::kFormatVersion) {
    throw CorruptionError(where(path, 0) + "unsupported format version " + std::to_string(v));
  }
  SnapshotSummary summary;
  summary.zxid = static_cast<int64_t>(detail::get_u64(h + 12));
  if (callbacks.on_begin) callbacks.on_begin(summary.zxid);

  pb::Node node_msg;
  pb::Session session_msg;
  pb::End end_msg;
  SnapshotNode node;
  SnapshotSession session;
  uint64_t off = kHeaderBytes;
  for (;;) {
    const uint64_t rem = reader.remaining(off);
    if (rem == 0) throw CorruptionError(where(path, off) + "truncated: no end record");
    if (rem < kRecordHeaderBytes) {
      throw CorruptionError(where(path, off) + "truncated record header");
    }
    const unsigned char* rh = reader.view(off, kRecordHeaderBytes);
    const uint32_t len = detail::get_u32(rh);
    const uint32_t crc = detail::get_u32(rh + 4);
    if (len == 0) throw CorruptionError(where(path, off) + "zero record length");
    if (len > rem - kRecordHeaderBytes) {
      throw CorruptionError(where(path, off) + "record of " + std::to_string(len) +
                            " bytes runs past the end of the file (truncated)");
    }
    const unsigned char* body = reader.view(off + kRecordHeaderBytes, len);
    if (detail::crc32(body, len) != crc) {
      throw CorruptionError(where(path, off) + "record crc mismatch");
    }
    const unsigned char type = body[0];
    const unsigned char* msg = body + 1;
    const int msg_len = static_cast<int>(len - 1);
    const uint64_t next = off + kRecordHeaderBytes + len;
    if (type == kNode) {
      if (!node_msg.ParseFromArray(msg, msg_len)) {
        throw CorruptionError(where(path, off) + "node record does not parse");
      }
      ++summary.nodes;
      if (callbacks.on_node) {
        // `node` is reused record after record: every field is assigned again
        // here, whatever the last callee left in it (buffers are recycled).
        node.path.swap(*node_msg.mutable_path());  // NOLINT(bugprone-use-after-move)
        node.data.swap(*node_msg.mutable_data());
        node.acl.resize(static_cast<std::size_t>(node_msg.acl_size()));
        for (int i = 0; i < node_msg.acl_size(); ++i) {
          const pb::Acl& a = node_msg.acl(i);
          auto& out = node.acl[static_cast<std::size_t>(i)];
          out.perms = a.perms();
          out.id.scheme.assign(a.scheme());
          out.id.id.assign(a.id());
        }
        node.czxid = node_msg.czxid();
        node.mzxid = node_msg.mzxid();
        node.pzxid = node_msg.pzxid();
        node.ctime = node_msg.ctime();
        node.mtime = node_msg.mtime();
        node.version = node_msg.version();
        node.cversion = node_msg.cversion();
        node.aversion = node_msg.aversion();
        node.ephemeral_owner = node_msg.ephemeral_owner();
        callbacks.on_node(std::move(node));
      }
    } else if (type == kSession) {
      if (!session_msg.ParseFromArray(msg, msg_len)) {
        throw CorruptionError(where(path, off) + "session record does not parse");
      }
      ++summary.sessions;
      if (callbacks.on_session) {
        session.id = session_msg.id();  // NOLINT(bugprone-use-after-move): reused, as `node` is
        session.timeout_ms = session_msg.timeout_ms();
        session.password.swap(*session_msg.mutable_password());
        callbacks.on_session(std::move(session));
      }
    } else if (type == kEnd) {
      if (!end_msg.ParseFromArray(msg, msg_len)) {
        throw CorruptionError(where(path, off) + "end record does not parse");
      }
      if (end_msg.node_count() != summary.nodes || end_msg.session_count() != summary.sessions) {
        throw CorruptionError(where(path, off) + "end record counts " + std::to_string(end_msg.node_count()) +
                              " nodes and " + std::to_string(end_msg.session_count()) + " sessions, read " +
                              std::to_string(summary.nodes) + " and " + std::to_string(summary.sessions));
      }
      if (end_msg.zxid() != summary.zxid) {
        throw CorruptionError(where(path, off) + "end record zxid differs from the header's");
      }
      if (next != size) {
        throw CorruptionError(where(path, next) + std::to_string(size - next) + " bytes after the end record");
      }
      return summary;
    } else {
      throw CorruptionError(where(path, off) + "unknown record type " + std::to_string(type));
    }
    off = next;
  }
}

FileSnapshotStore::FileSnapshotStore(const std::filesystem::path& data_dir) : dir_(data_dir / "corral-1") {
  detail::ensure_dir(dir_);
  std::vector<std::filesystem::path> stale;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (detail::parse_zxid_file_name(name, kPrefix, kTmpSuffix)) stale.push_back(it->path());
  }
  if (ec) throw std::system_error(ec, "list " + dir_.string());
  for (const auto& path : stale) {
    detail::warn("removing unfinished snapshot " + path.string());
    detail::remove_file(path);
  }
  if (!stale.empty()) detail::fsync_dir(dir_);
}

std::vector<int64_t> FileSnapshotStore::list() const {
  std::vector<int64_t> zxids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (auto zxid = detail::parse_zxid_file_name(it->path().filename().string(), kPrefix)) {
      zxids.push_back(*zxid);
    }
  }
  if (ec) throw std::system_error(ec, "list " + dir_.string());
  std::sort(zxids.begin(), zxids.end(), std::greater<>());
  return zxids;
}

std::unique_ptr<SnapshotSink> FileSnapshotStore::begin(int64_t zxid) {
  return std::make_unique<SnapshotWriter>(dir_, zxid);
}

SnapshotLoad FileSnapshotStore::load_newest_valid(const SnapshotCallbacks& callbacks) {
  SnapshotLoad result;
  const std::vector<int64_t> zxids = list();
  for (int64_t zxid : zxids) {
    const std::filesystem::path path = path_of(zxid);
    std::string reason;
    try {
      SnapshotSummary summary = read_snapshot(path, callbacks);
      if (summary.zxid == zxid) {
        result.loaded = summary;
        return result;
      }
      reason = "snapshot " + path.string() + ": header zxid " + std::to_string(summary.zxid) +
               " does not match the file name";
    } catch (const CorruptionError& e) {
      reason = e.what();
    } catch (const std::system_error& e) {
      reason = e.what();
    }
    detail::warn("skipping snapshot: " + reason);
    result.skipped.push_back(SnapshotLoad::Skipped{zxid, reason});
  }
  if (!result.skipped.empty()) {
    std::string what = "no valid snapshot in " + dir_.string() + ":";
    for (const auto& s : result.skipped) what += " [" + s.reason + "]";
    throw CorruptionError(what);
  }
  return result;
}

void FileSnapshotStore::remove_snapshot(int64_t zxid) { detail::remove_file(path_of(zxid)); }

void FileSnapshotStore::after_removal() { detail::fsync_dir(dir_); }

}  // namespace corral::storage
