// A corral-bench workload: what each session's fibers do, plus optional set-up
// before the clock starts, a control loop on the main thread (for workloads
// the bench itself drives, like election rounds with a kill hook) and the
// figures it adds to the report.
//
// The driver (driver.cc) makes one corral::Client per session, spreads the
// sessions over Runtime threads, calls setup() once on session 0 before any
// worker runs, then starts fibers_per_session() fibers per session, each
// calling run() until the RunState says done. Each Runtime thread has its own
// ThreadStats; run() may only touch the workload's shared state through
// atomics or its own synchronisation (threads differ).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "corral/client.h"
#include "tools/bench/run_state.h"

namespace corral::bench {

// One worker fiber's view.
struct Worker {
  Client& client;
  int session = 0;  // 0..sessions-1
  int fiber = 0;    // 0..fibers_per_session()-1
  int index = 0;    // 0..sessions*fibers-1, unique over the run
  ThreadStats& stats;
  RunState& run;
  std::mt19937_64 rng;
};

class Workload {
 public:
  virtual ~Workload() = default;
  // What the throughput counts ("ops", "handoffs", "rounds", ...).
  virtual std::string unit() const { return "ops"; }
  // Fibers per session; their sum over sessions is the number of workers.
  virtual int fibers_per_session(const Options& o) const { return o.inflight; }
  // Once, before any worker starts, on session 0's runtime (throws to abort).
  virtual void setup(Client& client, const Options& o) { (void)client, (void)o; }
  // A worker fiber; returns once run.done() (or when it cannot go on).
  virtual void run(Worker& w) = 0;
  // On the main thread while the workers run; returns when the run should
  // end. The default waits for the RunState to be done.
  virtual void control(RunState& run);
  // Called by the main thread after every worker has finished.
  virtual void finish(ThreadStats& total, const Options& o) { (void)total, (void)o; }
  // Lines for the report's notes (say what was measured).
  virtual std::vector<std::string> notes(const Options& o) const {
    (void)o;
    return {};
  }
};

// nullptr for an unknown name (parse_options refuses those first).
std::unique_ptr<Workload> make_workload(const std::string& name);

// Creates every missing ancestor of `path` and `path` itself (persistent,
// empty); nodeExists is fine. Throws std::system_error on other errors.
void ensure_path(Client& client, const std::string& path);

// A value of `size` bytes.
std::string make_value(int size);

}  // namespace corral::bench
