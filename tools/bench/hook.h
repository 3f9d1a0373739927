// Running a user's hook command (election's --kill-hook): /bin/sh -c CMD in
// its own process group, bounded by a timeout after which the group is
// killed. Its output goes to our stderr so stdout stays the report; it
// inherits no other file descriptor of ours.
#pragma once

#include <chrono>
#include <string>

namespace corral::bench {

struct HookResult {
  bool ok = false;      // exited with status 0 in time
  std::string failure;  // why not
};

HookResult run_hook(const std::string& command, std::chrono::milliseconds timeout);

}  // namespace corral::bench
