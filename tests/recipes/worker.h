// Multi-process recipe tests: a test binary re-runs itself as a worker.
//
//   CORRAL_RECIPE_WORKER(lock_contender) {   // (const std::vector<std::string>& args) -> int
//     ... connect with args[0], take the lock args[1] times ...
//     return 0;
//   }
//   auto p = spawn_worker("lock_contender", {hosts, "50"}, log_path);  // a tests/support Process
//
// main() (worker_main.cc) runs the named worker when the first argument is
// --corral-worker=<name>, and the gtest suite otherwise. Workers are killed
// with their test (Process) and bound every wait of their own.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace corral::test {

using WorkerFn = int (*)(const std::vector<std::string>& args);

std::map<std::string, WorkerFn>& worker_registry();

struct WorkerRegistrar {
  WorkerRegistrar(const char* name, WorkerFn fn) { worker_registry()[name] = fn; }
};

// Starts this test binary as worker `name` with `args`; output to `log`.
std::unique_ptr<Process> spawn_worker(const std::string& name, const std::vector<std::string>& args,
                                      const std::filesystem::path& log);

}  // namespace corral::test

#define CORRAL_RECIPE_WORKER(name)                                                                           \
  static int corral_worker_##name(const std::vector<std::string>& args);                                     \
  static const ::corral::test::WorkerRegistrar corral_worker_registrar_##name(#name, &corral_worker_##name); \
  static int corral_worker_##name(const std::vector<std::string>& args)
