// Runs one workload: sessions on Runtime threads, the phases of RunState, a
// live progress line, and the merged statistics at the end.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "tools/bench/options.h"
#include "tools/bench/run_state.h"
#include "tools/bench/workload.h"

namespace corral::bench {

struct RunResult {
  ThreadStats total;
  double measured_s = 0;    // length of the measured phase (shorter when --ops ended it)
  uint64_t ops = 0;         // measured primary operations
  uint64_t all_ops = 0;     // primary operations, warm-up included
  double client_cpu_s = 0;  // this process's CPU time (user + system), whole run
  std::string unit;
  std::vector<std::string> notes;
  bool interrupted = false;
};

// Throws std::runtime_error when the sessions cannot connect or set-up fails.
// `interrupt` (set from a signal handler) ends the run early.
RunResult run_workload(const Options& options, Workload& workload, const std::atomic<bool>& interrupt);

}  // namespace corral::bench
