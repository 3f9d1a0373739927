// Jute, ZooKeeper's record serialization: big-endian integers, length-prefixed
// buffers and strings (-1 means null), length-prefixed vectors.
//
// JuteWriter appends to a byte string. JuteReader reads from a bounded view and
// never throws: the first malformed or truncated field puts it into a failed
// state, every later read returns a zero value, and the caller checks ok() once
// at the end. Lengths are checked against the bytes that remain before anything
// is allocated, so hostile input cannot make us allocate more than it sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral::wire {

class JuteWriter {
 public:
  explicit JuteWriter(std::string& out) : out_(out) {}

  void i32(int32_t v);
  void i64(int64_t v);
  void boolean(bool v) { out_.push_back(v ? 1 : 0); }
  void bytes(std::string_view v);  // buffer and ustring share one encoding
  void raw(std::string_view v) { out_.append(v); }
  std::size_t size() const { return out_.size(); }
  // Overwrites 4 bytes at `at` (used to patch a frame length after the fact).
  void patch_i32(std::size_t at, int32_t v);

 private:
  std::string& out_;
};

class JuteReader {
 public:
  explicit JuteReader(std::string_view in) : in_(in) {}

  int32_t i32();
  int64_t i64();
  bool boolean();
  std::string bytes();  // a null (-1) buffer reads as empty
  // A vector length: checked so that `n * min_element_size` fits in what remains.
  std::size_t count(std::size_t min_element_size);

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }
  std::size_t position() const { return pos_; }
  void fail() {
    ok_ = false;
    pos_ = in_.size();
  }

 private:
  bool take(std::size_t n);

  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace corral::wire
