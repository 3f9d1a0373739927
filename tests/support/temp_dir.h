// A fresh directory under $TMPDIR (or /tmp) that is removed with everything in
// it when the object goes away.
#pragma once

#include <filesystem>
#include <string_view>

namespace corral::test {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "corral-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Leave the directory behind (for a post-mortem of a failed test).
  void keep() { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

}  // namespace corral::test
