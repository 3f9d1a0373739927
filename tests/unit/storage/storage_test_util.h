// Helpers shared by the storage tests: a temporary directory that cleans up
// after itself, txns with given zxids, and raw file surgery for crash tests.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "txn.pb.h"

namespace corral::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "corral-storage-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline corral::proto::Txn make_txn(int64_t zxid, std::size_t data_bytes = 16) {
  corral::proto::Txn txn;
  txn.set_zxid(zxid);
  txn.set_session_id(0x1000 + zxid);
  txn.set_cxid(static_cast<int32_t>(zxid));
  txn.set_time_ms(1700000000000 + zxid);
  auto* create = txn.add_ops()->mutable_create();
  create->set_path("/node-" + std::to_string(zxid));
  create->set_data(std::string(data_bytes, static_cast<char>('a' + zxid % 26)));
  auto* acl = create->add_acl();
  acl->set_perms(31);
  acl->set_scheme("world");
  acl->set_id("anyone");
  return txn;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Replaces the file (removing it first: rewriting a truncated file in place
// makes ext4 flush it on close, which is slow).
inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::remove(path);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void truncate_file(const std::filesystem::path& path, uint64_t size) {
  std::filesystem::resize_file(path, size);
}

// Overwrites [offset, offset + n) with zeros.
inline void zero_range(const std::filesystem::path& path, uint64_t offset, uint64_t n) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  const std::string zeros(n, '\0');
  f.write(zeros.data(), static_cast<std::streamsize>(n));
}

// XORs one byte of the file in place.
inline void flip_byte(const std::filesystem::path& path, uint64_t offset, unsigned char mask = 0x5a) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ static_cast<char>(mask)));
}

}  // namespace corral::storage::testing
