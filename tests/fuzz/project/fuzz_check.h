// Helpers shared by the fuzz targets: a check that aborts with a message (so
// libFuzzer saves the input), and the DataTree invariants.
#pragma once

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace corral::fuzz {

// Where failure messages go. Targets run with -close_fd_mask=2 (the storage
// code logs recovery decisions to stderr) keep a copy of stderr here, taken in
// LLVMFuzzerInitialize before libFuzzer closes it.
inline int report_fd = 2;
inline void keep_stderr() {
  const int fd = dup(2);
  if (fd >= 0) report_fd = fd;
}

[[noreturn]] inline void fail(const char* file, int line, const char* cond, const char* fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dprintf(report_fd, "\n==FUZZ CHECK FAILED== %s:%d: %s\n  %s\n", file, line, cond, msg);
  std::abort();
}

// A bug already reported and not fixed yet can be stepped over while hunting
// for others: CORRAL_FUZZ_KNOWN_BUGS=tag1,tag2 (see README.md for the tags).
// The ctest run never sets it.
inline bool known_bug(const char* tag) {
  static const char* known = std::getenv("CORRAL_FUZZ_KNOWN_BUGS");
  return known != nullptr && std::strstr(known, tag) != nullptr;
}

}  // namespace corral::fuzz

#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) ::corral::fuzz::fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
  } while (0)
