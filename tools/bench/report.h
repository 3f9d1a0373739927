// corral-bench's output: the live progress line (a terminal only), the text
// report on stdout, and the JSON result for scripts (--json).
//
// JSON layout (latencies in microseconds):
//   {"workload": "mixed", "connect": "...", "sessions": 4, "threads": 2,
//    "inflight": 1, "warmup_s": 1, "measured_s": 10.0, "unit": "ops",
//    "ops": 123456, "all_ops": 134567 (warm-up included), "throughput": 12345.6,
//    "client_cpu_s": 3.2 (this process, whole run), "interrupted": false,
//    "latency_us": {"get": {"count": n, "mean": .., "p50": .., "p90": ..,
//                           "p99": .., "p999": .., "max": ..}, ...},
//    "errors": {"CONNECTIONLOSS": 3, ...}, "notes": [...]}
#pragma once

#include <string>

#include "tools/bench/driver.h"

namespace corral::bench {

void print_progress(const Options& options, const RunState& run, const std::string& unit);
void clear_progress();
void print_report(const Options& options, const RunResult& result);
// Throws std::runtime_error when the file cannot be written.
void write_json(const Options& options, const RunResult& result, const std::string& path);

}  // namespace corral::bench
