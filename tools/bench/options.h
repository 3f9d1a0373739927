// corral-bench's command line: what to run, against which servers, for how long.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace corral::bench {

// A bad command line: main() prints what() on one line and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string workload;                       // mixed, create-seq, lock, rwlock, election, barrier, queue, membership
  std::string connect;                        // host:port[,host:port...], the only addresses ever contacted
  int sessions = 4;                           // one corral::Client each
  int threads = 0;                            // Runtime threads the sessions are spread over (0: min(sessions, 2))
  int inflight = 1;                           // requests in flight per session (fibers per session)
  double read_ratio = 0.9;                    // mixed: share of getData among getData/setData
  int value_size = 100;                       // bytes of each value written
  int keys = 1000;                            // mixed: pre-created znodes
  std::chrono::milliseconds duration{10000};  // measured time (with --ops: an upper bound)
  std::chrono::milliseconds warmup{1000};     // run but not measured, before the measured time
  uint64_t ops = 0;                           // stop after this many measured operations (0: by duration)
  int contenders = 0;                         // lock, rwlock: fibers competing (0: = sessions)
  std::chrono::microseconds hold{0};          // lock, rwlock: time a holder keeps the lock
  int participants = 0;                       // barrier, election, membership: members (0: = sessions)
  int rounds = 0;                             // election: failovers to measure (0: 5)
  std::string kill_hook;                      // election: shell command that kills the ensemble's leader
  std::string restore_hook;                   // election: shell command run before every round but the first
  std::chrono::milliseconds hook_timeout{60000};
  std::chrono::milliseconds session_timeout{10000};
  std::chrono::milliseconds connect_timeout{30000};
  std::string root = "/corral-bench";  // every znode the bench creates lives below it
  std::string json;                    // write a JSON result here
  bool progress = true;                // live line when stdout is a terminal
  uint64_t seed = 0;                   // 0: random
};

// Throws UsageError. `--help` throws UsageError with the usage text.
Options parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace corral::bench
