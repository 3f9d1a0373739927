#include "tools/bench/run_state.h"

#include "corral/wire/error.h"

namespace corral::bench {

void ThreadStats::merge(const ThreadStats& other) {
  for (const auto& [op, h] : other.latency) latency[op].merge(h);
  for (const auto& [code, n] : other.errors) errors[code] += n;
}

std::string error_label(const std::error_code& ec) {
  if (ec.category() == zookeeper_category()) return std::string(error_name(static_cast<Error>(ec.value())));
  return ec.category().name() + std::string(":") + ec.message();
}

void RunState::record(ThreadStats& stats, const std::string& op, Clock::time_point begin, Clock::time_point end,
                      const std::error_code& ec, bool primary) {
  if (ec) {
    record_error(stats, ec);
    return;
  }
  if (stop_.load(std::memory_order_relaxed)) return;
  if (primary) all_ops_.fetch_add(1, std::memory_order_relaxed);
  if (!measuring(end)) return;
  stats.latency[op].record(ns_between(begin, end));
  if (primary) {
    const uint64_t n = ops_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (options_.ops != 0 && n >= options_.ops) stop();
  }
}

void RunState::record_error(ThreadStats& stats, const std::error_code& ec) {
  if (Clock::now() < measure_start_) return;  // warm-up errors are not counted
  ++stats.errors[error_label(ec)];
  errors_.fetch_add(1, std::memory_order_relaxed);
}

Clock::time_point RunState::effective_end() const {
  const Clock::rep s = stopped_at_.load();
  if (s != 0) {
    const Clock::time_point t{Clock::duration(s)};
    if (t < measure_end_) return t < measure_start_ ? measure_start_ : t;
  }
  return measure_end_;
}

}  // namespace corral::bench
