// corral-cli's recipe commands, like `etcdctl lock` and `etcdctl elect`:
//
//   corral-cli -server HOSTS lock PATH [-- command args...]
//   corral-cli -server HOSTS elect PATH VALUE [-- command args...]
//
// lock takes the recipes::Lock at PATH (Curator's InterProcessMutex nodes),
// elect campaigns in the recipes::LeaderLatch election at PATH with VALUE as
// its id (Curator's LeaderLatch nodes). Once held/elected it prints the held
// node (elect: the node, then VALUE) on stdout, one per line, and then
//   * with a command: runs it (PATH lookup, stdin/stdout/stderr inherited,
//     CORRAL_LOCK_NODE / CORRAL_LEADER_NODE in its environment) and exits
//     with its status (128+n if a signal n ended it);
//   * without: holds until SIGINT or SIGTERM, then exits 0.
// It releases/resigns on the way out. If the session expires (or, elect,
// our node is deleted) meanwhile, it says so on stderr, sends SIGTERM to the
// command and exits 1: the command no longer runs under the lock. A
// suspended connection is reported on stderr and the command keeps running
// (the session may still come back with the lock). Usage errors exit 2,
// failures (cannot connect, cannot lock) exit 1.
#pragma once

#include <string>
#include <vector>

#include "corral/client.h"

namespace corral::cli {

// True for "lock" and "elect".
bool is_recipe_command(const std::string& name);
// Runs `command` ("lock" or "elect" and their arguments); the process's exit status.
int run_recipe_command(const ClientOptions& options, const std::vector<std::string>& command);

}  // namespace corral::cli
