#include "corral/wire/frame.h"

#include <cstring>

namespace corral::wire {

namespace {
int32_t read_be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]});
}
}  // namespace

void FrameDecoder::compact() {
  if (begin_ == 0) return;
  if (begin_ == end_) {
    begin_ = end_ = 0;
    return;
  }
  std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
}

std::span<char> FrameDecoder::prepare(std::size_t min_size) {
  if (buf_.size() - end_ < min_size) {
    compact();
    if (buf_.size() - end_ < min_size) buf_.resize(end_ + min_size);
  }
  return {buf_.data() + end_, buf_.size() - end_};
}

void FrameDecoder::append(std::string_view bytes) {
  auto space = prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

std::optional<int32_t> FrameDecoder::peek_length() const {
  if (end_ - begin_ < 4) return std::nullopt;
  return read_be32(buf_.data() + begin_);
}

FrameDecoder::Status FrameDecoder::next(std::string_view& frame) {
  const auto len = peek_length();
  if (!len) return Status::need_more;
  if (*len < 0 || static_cast<std::size_t>(*len) > max_frame_) {
    bad_length_ = *len;
    return Status::bad_length;
  }
  const auto total = 4 + static_cast<std::size_t>(*len);
  if (end_ - begin_ < total) return Status::need_more;
  frame = std::string_view(buf_.data() + begin_ + 4, static_cast<std::size_t>(*len));
  begin_ += total;
  if (begin_ == end_) begin_ = end_ = 0;  // cheap reset; the view stays valid until the next call
  return Status::frame;
}

void append_frame(std::string& out, std::string_view payload) {
  const auto n = static_cast<uint32_t>(payload.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                       static_cast<char>(n)};
  out.append(len, 4);
  out.append(payload);
}

}  // namespace corral::wire
