#include "corral/wire/jute.h"

#include <limits>

namespace corral::wire {

void JuteWriter::i32(int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  const char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
                     static_cast<char>(u)};
  out_.append(b, 4);
}

void JuteWriter::i64(int64_t v) {
  i32(static_cast<int32_t>(static_cast<uint64_t>(v) >> 32));
  i32(static_cast<int32_t>(static_cast<uint64_t>(v) & 0xffffffffu));
}

void JuteWriter::bytes(std::string_view v) {
  i32(static_cast<int32_t>(v.size()));
  out_.append(v);
}

void JuteWriter::patch_i32(std::size_t at, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  out_[at] = static_cast<char>(u >> 24);
  out_[at + 1] = static_cast<char>(u >> 16);
  out_[at + 2] = static_cast<char>(u >> 8);
  out_[at + 3] = static_cast<char>(u);
}

bool JuteReader::take(std::size_t n) {
  if (!ok_ || in_.size() - pos_ < n) {
    fail();
    return false;
  }
  return true;
}

int32_t JuteReader::i32() {
  if (!take(4)) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + pos_);
  pos_ += 4;
  return static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]});
}

int64_t JuteReader::i64() {
  const auto hi = static_cast<uint32_t>(i32());
  const auto lo = static_cast<uint32_t>(i32());
  return static_cast<int64_t>((uint64_t{hi} << 32) | lo);
}

bool JuteReader::boolean() {
  if (!take(1)) return false;
  return in_[pos_++] != 0;
}

std::string JuteReader::bytes() {
  const int32_t n = i32();
  if (n == -1) return {};
  if (n < 0 || !take(static_cast<std::size_t>(n))) {
    fail();
    return {};
  }
  std::string out(in_.substr(pos_, static_cast<std::size_t>(n)));
  pos_ += static_cast<std::size_t>(n);
  return out;
}

std::size_t JuteReader::count(std::size_t min_element_size) {
  const int32_t n = i32();
  if (n == -1) return 0;
  if (n < 0 || static_cast<std::size_t>(n) * min_element_size > remaining()) {
    fail();
    return 0;
  }
  return static_cast<std::size_t>(n);
}

}  // namespace corral::wire
