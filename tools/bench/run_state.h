// What the workers of one run share: the clock of the run's phases, the stop
// signal, the live counters the progress line reads, and each thread's
// statistics (histograms per operation, errors by ZooKeeper code name).
//
// Phases: warm-up (operations run, nothing recorded), measured (operations
// that *end* in it are recorded), then stop — at the end of --duration, at
// --ops measured primary operations, or when the driver asks (Ctrl-C, a
// workload's control loop finishing). Workers check done() between
// operations; every blocking wait they make is bounded by hard_deadline().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <system_error>

#include "tools/bench/histogram.h"
#include "tools/bench/options.h"

namespace corral::bench {

using Clock = std::chrono::steady_clock;

inline uint64_t ns_between(Clock::time_point a, Clock::time_point b) {
  return b <= a ? 0 : static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
}

// One Runtime thread's results; only that thread writes them, merged at the end.
struct ThreadStats {
  std::map<std::string, LatencyHistogram> latency;  // by operation name
  std::map<std::string, uint64_t> errors;           // by ZooKeeper code name
  void merge(const ThreadStats& other);
};

// "NONODE", "CONNECTIONLOSS", ... for ZooKeeper codes; the message otherwise.
std::string error_label(const std::error_code& ec);

class RunState {
 public:
  RunState(const Options& options, Clock::time_point start)
      : options_(options),
        measure_start_(start + options.warmup),
        measure_end_(measure_start_ + options.duration),
        hard_deadline_(measure_end_ + std::chrono::seconds(30)) {}

  const Options& options() const { return options_; }
  Clock::time_point measure_start() const { return measure_start_; }
  Clock::time_point measure_end() const { return measure_end_; }
  // Bound for any single blocking wait of a worker (locks, barriers, ...).
  Clock::time_point hard_deadline() const { return hard_deadline_; }

  bool done() const { return stop_.load(std::memory_order_relaxed) || Clock::now() >= measure_end_; }
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }
  void stop() {
    bool expected = false;
    if (stop_.compare_exchange_strong(expected, true)) stopped_at_ = Clock::now().time_since_epoch().count();
  }
  bool measuring(Clock::time_point t) const { return t >= measure_start_ && t < measure_end_; }

  // Records one finished operation: its latency under `op` when it ended in
  // the measured phase, or its error by code. Primary operations are what the
  // workload's throughput counts (and what --ops counts).
  void record(ThreadStats& stats, const std::string& op, Clock::time_point begin, Clock::time_point end,
              const std::error_code& ec, bool primary = true);
  // A figure measured outside the workers' loop (e.g. by a control loop):
  // counts as `n` primary operations whatever the phase.
  void add_ops(uint64_t n) { ops_.fetch_add(n, std::memory_order_relaxed); }
  // An error outside any timed operation.
  void record_error(ThreadStats& stats, const std::error_code& ec);

  // Live counters (all threads): measured primary operations and errors.
  uint64_t ops() const { return ops_.load(std::memory_order_relaxed); }
  // Primary operations over the whole run, warm-up included (for costs per
  // operation measured from outside, like a server's CPU time).
  uint64_t all_ops() const { return all_ops_.load(std::memory_order_relaxed); }
  uint64_t error_count() const { return errors_.load(std::memory_order_relaxed); }
  // End of the measured time: the stop, or the duration's end.
  Clock::time_point effective_end() const;

 private:
  const Options& options_;
  Clock::time_point measure_start_, measure_end_, hard_deadline_;
  std::atomic<bool> stop_{false};
  std::atomic<Clock::rep> stopped_at_{0};
  std::atomic<uint64_t> ops_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> all_ops_{0};
};

}  // namespace corral::bench
