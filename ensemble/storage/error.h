// Errors of the storage layer.
//
// * CorruptionError: bytes on disk that fail a check (CRC, magic, length, zxid
//   order) in a place where dropping them could lose acknowledged data. The
//   message names the file, the offset and what failed. A server that sees one
//   at startup must not serve: an operator has to look.
// * std::system_error: an operating-system call failed; the message names the
//   call and the path. After a failed write or fsync the state of the file is
//   unknown, so the object that saw it refuses further work.
// * std::invalid_argument / std::logic_error: a caller broke the contract
//   (zxids out of order, a call after stop()); a bug, not input.
#pragma once

#include <stdexcept>
#include <string>

namespace corral::storage {

class CorruptionError : public std::runtime_error {
 public:
  explicit CorruptionError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace corral::storage
