#include "ensemble/storage/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "ensemble/storage/error.h"

namespace corral::storage::detail {

void throw_errno(int err, const std::string& what, const std::filesystem::path& path) {
  throw std::system_error(err, std::generic_category(), what + " " + path.string());
}

void throw_errno(const std::string& what, const std::filesystem::path& path) { throw_errno(errno, what, path); }

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File File::open(const std::filesystem::path& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_errno("open", path);
  return File(fd, path);
}

File File::open_dir(const std::filesystem::path& path) { return open(path, O_RDONLY | O_DIRECTORY); }

uint64_t File::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno("fstat", path_);
  return static_cast<uint64_t>(st.st_size);
}

std::size_t File::pread_some(void* buf, std::size_t n, uint64_t offset) const {
  auto* p = static_cast<char*>(buf);
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("pread", path_);
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

void File::pwrite_all(const void* buf, std::size_t n, uint64_t offset) const {
  const auto* p = static_cast<const char*>(buf);
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd_, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("pwrite", path_);
    }
    done += static_cast<std::size_t>(r);
  }
}

void File::write_all(const void* buf, std::size_t n) const {
  const auto* p = static_cast<const char*>(buf);
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::write(fd_, p + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", path_);
    }
    done += static_cast<std::size_t>(r);
  }
}

void File::truncate(uint64_t size) const {
  int r;
  do {
    r = ::ftruncate(fd_, static_cast<off_t>(size));
  } while (r != 0 && errno == EINTR);
  if (r != 0) throw_errno("ftruncate", path_);
}

void File::allocate(uint64_t offset, uint64_t len) const {
  if (len == 0) return;
  int err = ::posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(len));
  if (err == EOPNOTSUPP) {
    // A file system without fallocate: at least make the file the right size
    // (sparse), so reads past the data see zeros.
    if (size() < offset + len) truncate(offset + len);
    return;
  }
  if (err != 0) throw_errno(err, "posix_fallocate", path_);
}

void File::fsync() const {
  if (::fsync(fd_) != 0) throw_errno("fsync", path_);
}

void File::fdatasync() const {
  if (::fdatasync(fd_) != 0) throw_errno("fdatasync", path_);
}

void File::close() {
  if (fd_ < 0) return;
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && errno != EINTR) throw_errno("close", path_);
}

const unsigned char* BufferedReader::view(uint64_t offset, std::size_t n) {
  if (offset < buf_off_ || offset + n > buf_off_ + buf_len_) {
    std::size_t want =
        static_cast<std::size_t>(std::min<uint64_t>(std::max<std::size_t>(n, kChunk), remaining(offset)));
    want = std::max(want, n);
    if (buf_.size() < want) buf_.resize(want);
    buf_off_ = offset;
    buf_len_ = file_.pread_some(buf_.data(), want, offset);
    if (buf_len_ < n) {
      buf_len_ = 0;
      throw CorruptionError(file_.path().string() + ": offset " + std::to_string(offset) +
                            ": file shorter than expected (changed while read?)");
    }
  }
  return reinterpret_cast<const unsigned char*>(buf_.data()) + (offset - buf_off_);
}

void ensure_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::system_error(ec, "create_directories " + dir.string());
}

void fsync_dir(const std::filesystem::path& dir) {
  File d = File::open_dir(dir);
  d.fsync();
}

void rename_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw_errno("rename to " + to.string() + " from", from);
  }
}

void remove_file(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("unlink", path);
}

uint32_t crc32(const void* data, std::size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  uLong crc = ::crc32(0L, Z_NULL, 0);
  while (n > 0) {
    auto chunk = static_cast<uInt>(n > (1u << 30) ? (1u << 30) : n);
    crc = ::crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

void warn(const std::string& line) {
  std::string out = "corral storage: " + line + "\n";
  // One write(2) so concurrent lines do not interleave.
  [[maybe_unused]] ssize_t r = ::write(STDERR_FILENO, out.data(), out.size());
}

bool all_zero(const File& file, uint64_t from, uint64_t to) {
  std::string buf(std::size_t{1} << 20, '\0');
  while (from < to) {
    std::size_t want = static_cast<std::size_t>(std::min<uint64_t>(buf.size(), to - from));
    std::size_t got = file.pread_some(buf.data(), want, from);
    if (got == 0) return true;
    for (std::size_t i = 0; i < got; ++i) {
      if (buf[i] != 0) return false;
    }
    from += got;
  }
  return true;
}

std::string zxid_file_name(std::string_view prefix, int64_t zxid, std::string_view suffix) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name(prefix);
  auto v = static_cast<uint64_t>(zxid);
  for (int shift = 60; shift >= 0; shift -= 4) name.push_back(kHex[(v >> shift) & 0xf]);
  name.append(suffix);
  return name;
}

std::optional<int64_t> parse_zxid_file_name(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (name.size() != prefix.size() + 16 + suffix.size()) return std::nullopt;
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  if (name.substr(prefix.size() + 16) != suffix) return std::nullopt;
  uint64_t v = 0;
  for (char c : name.substr(prefix.size(), 16)) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return static_cast<int64_t>(v);
}

}  // namespace corral::storage::detail
