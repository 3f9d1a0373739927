#include "tools/bench/options.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

namespace corral::bench {

namespace {

const std::set<std::string> kWorkloads = {"mixed",    "create-seq", "lock",  "rwlock",
                                          "election", "barrier",    "queue", "membership"};

template <class T>
T number(const std::string& name, const std::string& text, T lo, T hi) {
  T v{};
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (err != std::errc{} || end != text.data() + text.size()) {
    throw UsageError("--" + name + ": not a number: '" + text + "'");
  }
  if (v < lo || v > hi) {
    throw UsageError("--" + name + ": " + text + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                     "]");
  }
  return v;
}

double fraction(const std::string& name, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v >= 0.0 && v <= 1.0)) {
    throw UsageError("--" + name + ": expected a number in [0, 1], got '" + text + "'");
  }
  return v;
}

// "10s", "500ms", "250us", "2m", or plain seconds ("1.5").
std::chrono::microseconds duration(const std::string& name, const std::string& text, std::chrono::hours limit) {
  std::size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  const std::string num = text.substr(0, digits), unit = text.substr(digits);
  char* end = nullptr;
  const double v = std::strtod(num.c_str(), &end);
  static const std::map<std::string, double> kUnits = {{"", 1e6}, {"s", 1e6}, {"ms", 1e3}, {"us", 1.0}, {"m", 60e6}};
  const auto u = kUnits.find(unit);
  if (num.empty() || end != num.c_str() + num.size() || u == kUnits.end()) {
    throw UsageError("--" + name + ": expected a duration like 10s, 500ms or 2m, got '" + text + "'");
  }
  const double us = v * u->second;
  if (us > static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(limit).count())) {
    throw UsageError("--" + name + ": " + text + " is longer than " + std::to_string(limit.count()) + "h");
  }
  return std::chrono::microseconds(static_cast<int64_t>(us));
}

std::chrono::milliseconds millis(const std::string& name, const std::string& text, std::chrono::hours limit) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration(name, text, limit));
}

}  // namespace

std::string usage() {
  return R"(usage: corral-bench WORKLOAD --connect HOST:PORT[,HOST:PORT...] [options]
       corral-bench --list | --version | --help

Workloads:
  mixed        getData/setData on --keys pre-created znodes (--read-ratio)
  create-seq   sequential creates (the ZooKeeper paper's create rate)
  lock         --contenders fibers over --sessions take turns on one Lock (handoffs/s)
  rwlock       ReadWriteLock: readers (--read-ratio) and writers
  election     LeaderLatch participants; failover time per round (--kill-hook kills
               the ensemble's leader; without it the leader resigns)
  barrier      DoubleBarrier rounds with --participants members (round time)
  queue        Queue put/take throughput (half the sessions put, half take)
  membership   GroupMembership join/leave churn

Options:
  --connect LIST        servers to use (the only addresses contacted); required
  --sessions N          clients, each its own session (4)
  --threads N           Runtime threads the sessions are spread over (min(sessions, 2))
  --inflight K          requests in flight per session (1)
  --read-ratio R        share of reads, 0..1 (0.9)
  --value-size B        bytes per value written (100)
  --keys N              mixed: znodes read and written (1000)
  --duration D          measured time, e.g. 10s, 500ms, 2m (10s); with --ops an upper bound
  --ops N               stop after N measured operations
  --warmup D            unmeasured run first (1s)
  --contenders N        lock, rwlock: competing fibers (= sessions)
  --hold D              lock, rwlock: time the lock is held (0)
  --participants N      barrier, election, membership: members (= sessions)
  --rounds N            election: failovers to measure (5)
  --kill-hook CMD       election: shell command that kills the ensemble's leader
  --restore-hook CMD    election: shell command run before each later round
  --hook-timeout D      bound on each hook (60s)
  --session-timeout D   requested session timeout (10s)
  --root PATH           parent of every znode the bench creates (/corral-bench)
  --json FILE           write the result as JSON
  --no-progress         no live progress line
  --seed N              random seed (random)
  --list                print the workloads built in, one a line
)";
}

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  bool ops_given = false, duration_given = false;
  using Setter = std::function<void(const std::string&)>;
  const std::map<std::string, Setter> setters = {
      {"connect", [&](const std::string& v) { o.connect = v; }},
      {"workload", [&](const std::string& v) { o.workload = v; }},
      {"sessions", [&](const std::string& v) { o.sessions = number("sessions", v, 1, 10000); }},
      {"threads", [&](const std::string& v) { o.threads = number("threads", v, 1, 64); }},
      {"inflight", [&](const std::string& v) { o.inflight = number("inflight", v, 1, 10000); }},
      {"read-ratio", [&](const std::string& v) { o.read_ratio = fraction("read-ratio", v); }},
      {"value-size", [&](const std::string& v) { o.value_size = number("value-size", v, 0, 1 << 20); }},
      {"keys", [&](const std::string& v) { o.keys = number("keys", v, 1, 10'000'000); }},
      {"duration",
       [&](const std::string& v) {
         o.duration = millis("duration", v, std::chrono::hours(24));
         duration_given = true;
       }},
      {"warmup", [&](const std::string& v) { o.warmup = millis("warmup", v, std::chrono::hours(1)); }},
      {"ops",
       [&](const std::string& v) {
         o.ops = number<uint64_t>("ops", v, 1, 1'000'000'000'000);
         ops_given = true;
       }},
      {"contenders", [&](const std::string& v) { o.contenders = number("contenders", v, 1, 100000); }},
      {"hold", [&](const std::string& v) { o.hold = duration("hold", v, std::chrono::hours(1)); }},
      {"participants", [&](const std::string& v) { o.participants = number("participants", v, 1, 100000); }},
      {"rounds", [&](const std::string& v) { o.rounds = number("rounds", v, 1, 1000); }},
      {"kill-hook", [&](const std::string& v) { o.kill_hook = v; }},
      {"restore-hook", [&](const std::string& v) { o.restore_hook = v; }},
      {"hook-timeout",
       [&](const std::string& v) { o.hook_timeout = millis("hook-timeout", v, std::chrono::hours(1)); }},
      {"session-timeout",
       [&](const std::string& v) { o.session_timeout = millis("session-timeout", v, std::chrono::hours(1)); }},
      {"root", [&](const std::string& v) { o.root = v; }},
      {"json", [&](const std::string& v) { o.json = v; }},
      {"seed", [&](const std::string& v) { o.seed = number<uint64_t>("seed", v, 0, UINT64_MAX); }},
  };

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") throw UsageError(usage());
    if (a == "--no-progress") {
      o.progress = false;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      if (!o.workload.empty())
        throw UsageError("unexpected argument '" + a + "' (workload is already " + o.workload + ")");
      o.workload = a;
      continue;
    }
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const auto s = setters.find(name);
    if (s == setters.end()) throw UsageError("unknown option --" + name + " (see --help)");
    if (eq == std::string::npos) {
      if (i + 1 >= args.size()) throw UsageError("--" + name + " needs a value");
      value = args[++i];
    }
    s->second(value);
  }

  if (o.workload.empty()) throw UsageError("no workload given (mixed, create-seq, lock, ...; see --help)");
  if (!kWorkloads.contains(o.workload)) throw UsageError("unknown workload '" + o.workload + "' (see --help)");
  if (o.connect.empty()) throw UsageError("--connect is required (host:port[,host:port...])");
  if (o.root.size() < 2 || o.root[0] != '/' || o.root.back() == '/') {
    throw UsageError("--root must be an absolute znode path other than /, got '" + o.root + "'");
  }
  if (ops_given && !duration_given) o.duration = std::chrono::minutes(5);
  if (o.threads == 0) o.threads = o.sessions < 2 ? o.sessions : 2;
  if (o.threads > o.sessions) o.threads = o.sessions;
  if (o.contenders == 0) o.contenders = o.sessions;
  if (o.participants == 0) o.participants = o.sessions;
  if (o.rounds == 0) o.rounds = 5;
  if (!o.restore_hook.empty() && o.kill_hook.empty()) throw UsageError("--restore-hook needs --kill-hook");
  if (!o.kill_hook.empty() && o.workload != "election") throw UsageError("--kill-hook is for the election workload");
  return o;
}

}  // namespace corral::bench
