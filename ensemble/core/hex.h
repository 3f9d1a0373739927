// Zxids and session ids are shown in hex ("0x1a2b"), as ZooKeeper's logs and
// four-letter words show them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace corral::ensemble {

inline std::string hex(int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace corral::ensemble
