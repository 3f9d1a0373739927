#include "tools/bench/report.h"

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace corral::bench {

namespace {

std::string human_ns(uint64_t ns) {
  char buf[32];
  if (ns < 1'000) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " ns", ns);
  } else if (ns < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1f µs", static_cast<double>(ns) / 1e3);
  } else if (ns < 10'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(ns) / 1e9);
  }
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  std::ostringstream out;
  out.precision(6);
  out << std::fixed << v;
  std::string s = out.str();
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

double us(uint64_t ns) { return static_cast<double>(ns) / 1e3; }

}  // namespace

void print_progress(const Options& o, const RunState& run, const std::string& unit) {
  const auto now = Clock::now();
  if (now < run.measure_start()) {
    const double left = std::chrono::duration<double>(run.measure_start() - now).count();
    std::printf("\r\033[K[%s] warming up, %.1f s left", o.workload.c_str(), left);
  } else {
    const double s = std::chrono::duration<double>(now - run.measure_start()).count();
    const double total = std::chrono::duration<double>(run.measure_end() - run.measure_start()).count();
    std::printf("\r\033[K[%s] %.1f/%.0f s  %" PRIu64 " %s  %.0f/s  errors %" PRIu64, o.workload.c_str(), s, total,
                run.ops(), unit.c_str(), s > 0 ? static_cast<double>(run.ops()) / s : 0.0, run.error_count());
  }
  std::fflush(stdout);
}

void clear_progress() {
  std::printf("\r\033[K");
  std::fflush(stdout);
}

void print_report(const Options& o, const RunResult& r) {
  std::printf("corral-bench %s against %s: %d sessions on %d threads, %d in flight per session\n", o.workload.c_str(),
              o.connect.c_str(), o.sessions, o.threads, o.inflight);
  for (const auto& n : r.notes) std::printf("  %s\n", n.c_str());
  std::printf("measured %.2f s after %.1f s of warm-up%s\n", r.measured_s,
              std::chrono::duration<double>(o.warmup).count(), r.interrupted ? " (interrupted)" : "");
  std::printf("throughput: %.1f %s/s (%" PRIu64 " %s)\n",
              r.measured_s > 0 ? static_cast<double>(r.ops) / r.measured_s : 0.0, r.unit.c_str(), r.ops,
              r.unit.c_str());
  if (!r.total.latency.empty()) {
    std::printf("%-12s %10s %10s %10s %10s %10s %10s %10s\n", "latency", "count", "mean", "p50", "p90", "p99", "p999",
                "max");
    for (const auto& [op, h] : r.total.latency) {
      std::printf("%-12s %10" PRIu64 " %10s %10s %10s %10s %10s %10s\n", op.c_str(), h.count(),
                  human_ns(static_cast<uint64_t>(h.mean())).c_str(), human_ns(h.percentile(0.5)).c_str(),
                  human_ns(h.percentile(0.9)).c_str(), human_ns(h.percentile(0.99)).c_str(),
                  human_ns(h.percentile(0.999)).c_str(), human_ns(h.max()).c_str());
    }
  }
  std::printf("corral-bench CPU time: %.2f s (a load generator on the servers' machine competes with them)\n",
              r.client_cpu_s);
  if (r.total.errors.empty()) {
    std::printf("errors: none\n");
  } else {
    std::printf("errors:");
    for (const auto& [code, n] : r.total.errors) std::printf(" %s %" PRIu64, code.c_str(), n);
    std::printf("\n");
  }
}

void write_json(const Options& o, const RunResult& r, const std::string& path) {
  std::ostringstream j;
  j << "{\n  \"workload\": " << json_string(o.workload) << ",\n  \"connect\": " << json_string(o.connect)
    << ",\n  \"sessions\": " << o.sessions << ",\n  \"threads\": " << o.threads << ",\n  \"inflight\": " << o.inflight
    << ",\n  \"read_ratio\": " << json_number(o.read_ratio) << ",\n  \"value_size\": " << o.value_size
    << ",\n  \"contenders\": " << o.contenders << ",\n  \"participants\": " << o.participants
    << ",\n  \"warmup_s\": " << json_number(std::chrono::duration<double>(o.warmup).count())
    << ",\n  \"measured_s\": " << json_number(r.measured_s) << ",\n  \"unit\": " << json_string(r.unit)
    << ",\n  \"ops\": " << r.ops << ",\n  \"all_ops\": " << r.all_ops
    << ",\n  \"throughput\": " << json_number(r.measured_s > 0 ? static_cast<double>(r.ops) / r.measured_s : 0.0)
    << ",\n  \"client_cpu_s\": " << json_number(r.client_cpu_s)
    << ",\n  \"interrupted\": " << (r.interrupted ? "true" : "false") << ",\n  \"latency_us\": {";
  const char* sep = "";
  for (const auto& [op, h] : r.total.latency) {
    j << sep << "\n    " << json_string(op) << ": {\"count\": " << h.count()
      << ", \"mean\": " << json_number(h.mean() / 1e3) << ", \"p50\": " << json_number(us(h.percentile(0.5)))
      << ", \"p90\": " << json_number(us(h.percentile(0.9))) << ", \"p99\": " << json_number(us(h.percentile(0.99)))
      << ", \"p999\": " << json_number(us(h.percentile(0.999))) << ", \"max\": " << json_number(us(h.max())) << "}";
    sep = ",";
  }
  j << "\n  },\n  \"errors\": {";
  sep = "";
  for (const auto& [code, n] : r.total.errors) {
    j << sep << json_string(code) << ": " << n;
    sep = ", ";
  }
  j << "},\n  \"notes\": [";
  sep = "";
  for (const auto& n : r.notes) {
    j << sep << json_string(n);
    sep = ", ";
  }
  j << "]\n}\n";
  std::ofstream out(path, std::ios::trunc);
  out << j.str();
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace corral::bench
