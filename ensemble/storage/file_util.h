// Small POSIX helpers shared by the file-backed log and snapshots. Internal to
// ensemble/storage: nothing here is part of the public API.
//
// Everything is plain POSIX (no threads, no locks, no globals), so the snapshot
// writer can use it in a forked child.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace corral::storage::detail {

// Throws std::system_error(errno) with "<what> <path>: <strerror>".
[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& path);
[[noreturn]] void throw_errno(int err, const std::string& what, const std::filesystem::path& path);

// An owned file descriptor that remembers its path for error messages.
class File {
 public:
  File() = default;
  File(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  // open(2) with O_CLOEXEC added; throws on failure.
  static File open(const std::filesystem::path& path, int flags, int mode = 0644);
  // Opens a directory read-only (for fsync of its entries).
  static File open_dir(const std::filesystem::path& path);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }

  uint64_t size() const;
  // Reads up to n bytes at offset; returns the count (short only at EOF).
  std::size_t pread_some(void* buf, std::size_t n, uint64_t offset) const;
  void pwrite_all(const void* buf, std::size_t n, uint64_t offset) const;
  void write_all(const void* buf, std::size_t n) const;
  void truncate(uint64_t size) const;
  // Makes [offset, offset+len) allocated; the file grows to cover it.
  void allocate(uint64_t offset, uint64_t len) const;
  void fsync() const;
  void fdatasync() const;
  void close();

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// Buffered reads of one file up to a limit, for scanning records in order.
class BufferedReader {
 public:
  BufferedReader(const File& file, uint64_t limit) : file_(file), limit_(limit) {}

  uint64_t remaining(uint64_t offset) const { return offset >= limit_ ? 0 : limit_ - offset; }

  // The n bytes at `offset`, valid until the next call. The caller has checked
  // that they lie below the limit; a file that turns out shorter throws
  // CorruptionError.
  const unsigned char* view(uint64_t offset, std::size_t n);

 private:
  static constexpr std::size_t kChunk = std::size_t{1} << 20;
  const File& file_;
  uint64_t limit_;
  std::string buf_;
  uint64_t buf_off_ = 0;
  std::size_t buf_len_ = 0;
};

// Creates the directory (and parents) if missing.
void ensure_dir(const std::filesystem::path& dir);
void fsync_dir(const std::filesystem::path& dir);
void rename_file(const std::filesystem::path& from, const std::filesystem::path& to);
void remove_file(const std::filesystem::path& path);

// Big-endian fixed-width integers.
inline void put_u32(unsigned char* p, uint32_t v) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}
inline uint32_t get_u32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline void put_u64(unsigned char* p, uint64_t v) {
  put_u32(p, static_cast<uint32_t>(v >> 32));
  put_u32(p + 4, static_cast<uint32_t>(v));
}
inline uint64_t get_u64(const unsigned char* p) { return (uint64_t{get_u32(p)} << 32) | get_u32(p + 4); }

uint32_t crc32(const void* data, std::size_t n);

// One line to stderr, prefixed "corral storage: ". The storage layer's only
// logging: recovery decisions an operator should be able to find.
void warn(const std::string& line);

// True when every byte of the file in [from, to) is zero.
bool all_zero(const File& file, uint64_t from, uint64_t to);

// "<prefix><16 lower-case hex digits of zxid><suffix>"
std::string zxid_file_name(std::string_view prefix, int64_t zxid, std::string_view suffix = {});
// Parses a name made by zxid_file_name; nullopt when `name` is not exactly that.
std::optional<int64_t> parse_zxid_file_name(std::string_view name, std::string_view prefix,
                                            std::string_view suffix = {});

}  // namespace corral::storage::detail
