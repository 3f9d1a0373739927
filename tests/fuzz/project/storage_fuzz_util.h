// Shared by the storage fuzz targets: a scratch directory (on tmpfs when there
// is one, where fsync costs nothing), file writing, and the CRC fix-up that
// lets the fuzzer get past the checksums to the parsers behind them.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "ensemble/storage/file_util.h"
#include "fuzz_check.h"

namespace corral::fuzz {

namespace fs = std::filesystem;

inline const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm")
                                                                                            : fs::temp_directory_path();
    // A crash skips the atexit cleanup: remove what dead processes left.
    const std::string prefix = "corral-fuzz-";
    for (const auto& e : fs::directory_iterator(base, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      const std::string pid = name.substr(prefix.size());
      if (!pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos && !fs::exists("/proc/" + pid, ec)) {
        fs::remove_all(e.path(), ec);
      }
    }
    const fs::path d = base / (prefix + std::to_string(getpid()));
    fs::remove_all(d, ec);
    fs::create_directories(d);
    static const fs::path made = d;
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(made, ignored);
    });
    return d;
  }();
  return dir;
}

// An empty directory `name` under the scratch directory.
inline fs::path fresh_dir(const std::string& name) {
  const fs::path d = scratch_dir() / name;
  std::error_code ec;
  fs::remove_all(d, ec);
  fs::create_directories(d);
  return d;
}

inline void write_file(const fs::path& p, std::string_view bytes) {
  std::FILE* f = std::fopen(p.c_str(), "wb");
  FUZZ_CHECK(f != nullptr, "cannot create %s", p.c_str());
  FUZZ_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size(), "short write to %s", p.c_str());
  std::fclose(f);
}

// Both file formats (txn log segments and snapshots) are a 24-byte header
// "magic(8) u32 version u64 zxid u32 crc32(bytes 8..20)" and then records
// "u32 length, u32 crc32(body), body". Rewrites every CRC the reader would
// check, walking the records as the reader does.
inline void fix_crcs(std::string& file) {
  auto* p = reinterpret_cast<unsigned char*>(file.data());
  const std::size_t n = file.size();
  if (n < 24) return;
  storage::detail::put_u32(p + 20, storage::detail::crc32(p + 8, 12));
  std::size_t off = 24;
  while (n - off >= 8) {
    const uint32_t len = storage::detail::get_u32(p + off);
    if (len == 0 || len > n - off - 8) break;
    storage::detail::put_u32(p + off + 4, storage::detail::crc32(p + off + 8, len));
    off += 8 + len;
  }
}

// The zxid in a header, or `fallback` when the bytes are too short to hold one.
inline int64_t header_zxid(std::string_view file, int64_t fallback) {
  if (file.size() < 20) return fallback;
  return static_cast<int64_t>(storage::detail::get_u64(reinterpret_cast<const unsigned char*>(file.data()) + 12));
}

}  // namespace corral::fuzz
