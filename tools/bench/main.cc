// corral-bench: a load generator for any ZooKeeper-protocol ensemble, on
// corral::Client. See benchmarks/README.md and `corral-bench --help`.
//
// Exit status: 0 after a run, 1 when the servers cannot be reached or the
// set-up fails, 2 for a bad command line.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "corral/version.h"
#include "tools/bench/driver.h"
#include "tools/bench/options.h"
#include "tools/bench/report.h"
#include "tools/bench/workload.h"

namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_signal(int) { interrupted = true; }

}  // namespace

int main(int argc, char** argv) {
  using namespace corral::bench;
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::printf("corral-bench %s\n", CORRAL_VERSION);
    return 0;
  }
  if (argc == 2 && std::string(argv[1]) == "--list") {  // the workloads built in, for scripts
    for (const char* name : {"mixed", "create-seq", "lock", "rwlock", "election", "barrier", "queue", "membership"}) {
      if (make_workload(name)) std::printf("%s\n", name);
    }
    return 0;
  }
  Options options;
  try {
    options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    const std::string what = e.what();
    if (what == usage()) {
      std::fputs(what.c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "corral-bench: %s\n", what.c_str());
    return 2;
  }
  auto workload = make_workload(options.workload);
  if (!workload) {
    std::fprintf(stderr, "corral-bench: workload '%s' is not built into this corral-bench\n", options.workload.c_str());
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    const RunResult result = run_workload(options, *workload, interrupted);
    print_report(options, result);
    if (!options.json.empty()) write_json(options, result, options.json);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
