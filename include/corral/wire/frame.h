// Length-prefixed framing: every message on a ZooKeeper connection is a 4-byte
// big-endian length followed by that many bytes.
//
// FrameDecoder accumulates bytes from a socket and hands out whole frames. A
// length that is negative or above the configured maximum (`jute.maxbuffer`)
// is reported as an error before any buffer of that size is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace corral::wire {

// ZooKeeper's default jute.maxbuffer: the largest frame a server accepts.
inline constexpr std::size_t default_max_frame = 0xfffff;

class FrameDecoder {
 public:
  enum class Status { frame, need_more, bad_length };

  explicit FrameDecoder(std::size_t max_frame = default_max_frame) : max_frame_(max_frame) {}

  // A writable region of at least `min_size` bytes for the next socket read;
  // call commit() with how many bytes were actually read into it.
  std::span<char> prepare(std::size_t min_size = std::size_t{16} * 1024);
  void commit(std::size_t n) { end_ += n; }
  void append(std::string_view bytes);

  // The next whole frame (without its length prefix). The view stays valid
  // until the next call to prepare(), append() or next().
  Status next(std::string_view& frame);

  // The first four buffered bytes as a big-endian int, if four are buffered:
  // before the handshake these may be a four-letter word instead of a length.
  std::optional<int32_t> peek_length() const;
  std::size_t buffered() const { return end_ - begin_; }
  std::size_t max_frame() const { return max_frame_; }
  // The bad length last seen by next(), for the log line.
  int64_t bad_length() const { return bad_length_; }

 private:
  void compact();

  std::size_t max_frame_;
  std::string buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  int64_t bad_length_ = 0;
};

// Appends `payload` to `out` with its 4-byte length prefix.
void append_frame(std::string& out, std::string_view payload);

}  // namespace corral::wire
