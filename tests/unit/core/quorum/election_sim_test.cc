// Fast leader election under a simulated network (election_sim.h), many seeds
// per scenario. A failing seed is printed with the command that reruns it and
// the last events of its run:
//   CORRAL_ELECTION_SEED=<seed> [CORRAL_ELECTION_TRACE=1] election_test --gtest_filter='ElectionSim.<name>'
// CORRAL_ELECTION_SEEDS=<n> runs n seeds per scenario instead of the default.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "election_sim.h"

namespace corral::ensemble::quorum::sim {
namespace {

// One run of a scenario: its seed, and the first thing that went wrong.
struct SimRun {
  uint64_t seed;
  bool keep_trace;
  std::string failure;
  std::vector<std::string> trace;

  // Records the first failure; returns `ok` so checks read `if (!expect(...)) return;`.
  bool expect(bool ok, const std::string& what) {
    if (!ok && failure.empty()) failure = what;
    return ok;
  }
  // The cluster's own invariant checks.
  bool clean(const Cluster& c) {
    if (!c.violations().empty()) return expect(false, "invariant broken: " + c.violations().front());
    return true;
  }
  void keep(const Cluster& c) {
    if (keep_trace) trace = c.trace();
  }
};

using Scenario = std::function<void(SimRun&)>;

std::optional<uint64_t> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::strtoull(v, nullptr, 10);
}

// Runs `scenario` for seeds 1..count (or the one in CORRAL_ELECTION_SEED). On
// the first failure, runs that seed again keeping the trace, and reports it.
void for_seeds(const char* name, uint64_t count, const Scenario& scenario) {
  const bool print_trace = env_number("CORRAL_ELECTION_TRACE").value_or(0) != 0;
  uint64_t first = 1, last = env_number("CORRAL_ELECTION_SEEDS").value_or(count);
  if (auto only = env_number("CORRAL_ELECTION_SEED")) first = last = *only;
  for (uint64_t seed = first; seed <= last; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SimRun run{seed, print_trace && first == last, {}, {}};
    scenario(run);
    if (run.keep_trace)
      for (const std::string& line : run.trace) std::fprintf(stderr, "%s\n", line.c_str());
    if (run.failure.empty()) continue;
    SimRun again{seed, true, {}, {}};
    scenario(again);
    std::string tail;
    const std::size_t from = again.trace.size() > 60 ? again.trace.size() - 60 : 0;
    for (std::size_t i = from; i < again.trace.size(); ++i) tail += "  " + again.trace[i] + "\n";
    ADD_FAILURE() << name << ", seed " << seed << ": " << run.failure << "\nrerun: CORRAL_ELECTION_SEED=" << seed
                  << " CORRAL_ELECTION_TRACE=1 election_test --gtest_filter='ElectionSim." << name << "'"
                  << "\nlast events of the run:\n"
                  << tail;
    return;
  }
}

// Voters 1..voters, observers after them. Histories differ: current epochs
// 1-3, last zxids in that epoch or the one before, short counters so ties on
// (epoch, zxid) are common and the server id decides.
std::vector<ServerSpec> random_servers(Rng& rng, int voters, int observers) {
  std::vector<ServerSpec> out;
  for (int i = 1; i <= voters + observers; ++i) {
    ServerSpec s;
    s.id = static_cast<PeerId>(i);
    s.observer = i > voters;
    s.current_epoch = rng.between(1, 3);
    s.last_zxid = make_zxid(rng.between(s.current_epoch - 1, s.current_epoch), rng.between(0, 3));
    out.push_back(s);
  }
  return out;
}

// The vote a round among `among` (voters) should elect: the best history.
Vote best_vote(const std::vector<ServerSpec>& servers, const std::set<PeerId>& among) {
  std::optional<Vote> best;
  for (const ServerSpec& s : servers) {
    if (s.observer || !among.contains(s.id)) continue;
    const Vote v{s.id, s.last_zxid, s.current_epoch};
    if (!best || outranks(v, *best)) best = v;
  }
  return *best;
}

std::set<PeerId> voter_set(const std::vector<ServerSpec>& servers) {
  std::set<PeerId> out;
  for (const ServerSpec& s : servers)
    if (!s.observer) out.insert(s.id);
  return out;
}

std::string str(const Vote& v) { return describe(v); }

bool all_settled(const Cluster& c, const std::vector<PeerId>& ids) {
  return std::all_of(ids.begin(), ids.end(), [&](PeerId id) { return c.state(id) != proto::LOOKING; });
}

// A network without loss: random delays up to `max_delay` (below the finalize
// wait, so votes overtake each other but arrive in time), maybe duplicates.
NetworkFaults calm(Rng& rng) {
  NetworkFaults f;
  f.min_delay_ms = 1;
  f.max_delay_ms = rng.between(5, 90);
  f.duplicate = rng.chance(0.5) ? 0.2 : 0;
  return f;
}

// ---- scenarios -----------------------------------------------------------------

// Everyone starts at once over a network that loses nothing and delivers
// within the finalize wait: every server decides, in round 1, the best voter.
void synchronous_start(SimRun& run) {
  Rng setup(run.seed * 7919 + 1);
  const int voters = run.seed % 2 ? 3 : 5;
  const auto servers = random_servers(setup, voters, static_cast<int>(setup.between(0, 2)));
  Cluster c(run.seed, servers, calm(setup), run.keep_trace);
  for (PeerId id : c.ids()) c.start(id);
  const bool settled = c.run_until([&] { return all_settled(c, c.ids()); }, 60000);
  run.keep(c);
  if (!run.clean(c) || !run.expect(settled, "not everyone decided within 60 s")) return;
  const Vote best = best_vote(servers, voter_set(servers));
  if (!run.expect(c.decisions().size() == c.ids().size(), "a server decided more than once")) return;
  for (const DecisionRecord& r : c.decisions()) {
    const std::string who = std::to_string(r.server) + " decided " + str(r.decision.vote);
    if (!run.expect(r.decision.vote == best, who + ", not the best voter " + str(best)) ||
        !run.expect(r.decision.election_epoch == 1, who + " in round " + std::to_string(r.decision.election_epoch)))
      return;
  }
}

// A partition from the start: the side with a quorum of voters elects its
// best voter; the other side never decides. After healing, the minority joins
// that leader and no server of the majority looks again.
void partition_from_start(SimRun& run, bool observers_on_minority) {
  Rng setup(run.seed * 7919 + 2);
  const int voters = observers_on_minority ? 3 : (run.seed % 2 ? 3 : 5);
  const int observers = observers_on_minority ? 2 : static_cast<int>(setup.between(0, 2));
  const auto servers = random_servers(setup, voters, observers);
  Cluster c(run.seed, servers, calm(setup), run.keep_trace);
  c.enable_zab(ZabStandIn{});

  std::vector<PeerId> ids = c.voters();
  for (std::size_t i = ids.size(); i > 1; --i)
    std::swap(ids[i - 1], ids[setup.between(0, static_cast<int64_t>(i) - 1)]);
  const std::size_t majority_size =
      observers_on_minority ? 2 : static_cast<std::size_t>(setup.between(c.quorum(), voters - 1));
  std::vector<PeerId> majority(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(majority_size));
  std::vector<PeerId> minority(ids.begin() + static_cast<std::ptrdiff_t>(majority_size), ids.end());
  for (PeerId o : c.observers()) (observers_on_minority || setup.chance(0.5) ? minority : majority).push_back(o);
  c.partition({majority, minority});
  for (PeerId id : c.ids()) c.start(id);

  const bool elected = c.run_until([&] { return all_settled(c, majority); }, 20000);
  c.run_until(20000);
  const std::set<PeerId> majority_voters(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(majority_size));
  const Vote best = best_vote(servers, majority_voters);
  const std::set<PeerId> minority_set(minority.begin(), minority.end());
  if (!run.clean(c) || !run.expect(elected, "the majority side did not elect within 20 s")) return run.keep(c);
  for (const DecisionRecord& r : c.decisions()) {
    const std::string who = std::to_string(r.server) + " decided " + str(r.decision.vote);
    if (!run.expect(!minority_set.contains(r.server), who + " on the minority side") ||
        !run.expect(r.decision.vote.leader == best.leader, who + ", not the majority's best " + str(best)))
      return run.keep(c);
  }

  c.heal();
  const auto leader = c.run_until([&] { return c.converged().has_value(); }, c.now() + 90000);
  run.keep(c);
  if (!run.clean(c) || !run.expect(leader, "no convergence within 90 s of healing")) return;
  if (!run.expect(*c.converged() == best.leader, "converged on " + std::to_string(*c.converged()))) return;
  for (PeerId id : majority)
    if (!run.expect(c.starts(id) == 1, std::to_string(id) + " of the majority looked again after healing")) return;
  for (const DecisionRecord& r : c.decisions())
    if (minority_set.contains(r.server) &&
        !run.expect(r.decision.joined, std::to_string(r.server) + " did not join the running ensemble"))
      return;
}

// A running ensemble (elected, established, writing) loses a server and
// gets it back with a fresh election module, after 0-3 extra rounds of its
// own: it learns the leader from the others (joined), and nobody else looks
// again. When the lost server led, the others elect a new leader first.
void restart_into_running_ensemble(SimRun& run) {
  Rng setup(run.seed * 7919 + 3);
  const int voters = run.seed % 2 ? 3 : 5;
  const auto servers = random_servers(setup, voters, static_cast<int>(setup.between(0, 1)));
  Cluster c(run.seed, servers, calm(setup), run.keep_trace);
  c.enable_zab(ZabStandIn{.writes = true});
  for (PeerId id : c.ids()) c.start(id);
  const bool first = c.run_until([&] { return c.converged().has_value(); }, 30000);
  if (!run.clean(c) || !run.expect(first, "no first leader within 30 s")) return run.keep(c);
  const PeerId leader = *c.converged();
  c.run_until(c.now() + setup.between(0, 3000));  // a few writes

  const PeerId x = setup.pick(c.ids());
  c.crash(x);
  const bool without = c.run_until([&] { return c.converged().has_value(); }, c.now() + 60000);
  if (!run.clean(c) || !run.expect(without, "no leader without " + std::to_string(x) + " within 60 s"))
    return run.keep(c);
  const PeerId running = *c.converged();
  if (x != leader && !run.expect(running == leader, "losing follower " + std::to_string(x) + " changed the leader"))
    return run.keep(c);
  c.run_until(c.now() + setup.between(0, 3000));

  std::map<PeerId, int> starts;
  for (PeerId id : c.ids()) starts[id] = c.starts(id);
  const std::size_t decisions_before = c.decisions().size();
  c.recover(x);
  const int64_t rounds = setup.between(1, 4);
  for (int64_t i = 0; i < rounds; ++i) c.start(x);
  const bool back = c.run_until([&] { return c.converged().has_value(); }, c.now() + 90000);
  run.keep(c);
  if (!run.clean(c) || !run.expect(back, std::to_string(x) + " did not rejoin within 90 s")) return;
  if (!run.expect(*c.converged() == running, "the ensemble moved to " + std::to_string(*c.converged()))) return;
  for (PeerId id : c.ids())
    if (id != x && !run.expect(c.starts(id) == starts[id],
                               std::to_string(id) + " looked again when " + std::to_string(x) + " came back"))
      return;
  const auto& d = c.decisions();
  if (!run.expect(d.size() == decisions_before + 1, "more decisions than the returning server's")) return;
  const DecisionRecord& r = d.back();
  run.expect(r.server == x && r.decision.joined && r.decision.vote.leader == running &&
                 r.decision.state == (c.is_observer(x) ? proto::OBSERVING : proto::FOLLOWING),
             std::to_string(x) + " came back deciding " + str(r.decision.vote));
}

// Staggered starts, lossy and slow links, duplicates, partitions that come
// and go, crashes and recoveries, for 20 s; then the network heals and every
// server is up. Every decision along the way passes the cluster's invariant
// checks; afterwards the ensemble converges on one established leader and
// stays there.
struct ChaosStats {
  uint64_t runs = 0, decisions = 0, joined = 0, messages = 0, split_rounds = 0;
  int64_t slowest_convergence_ms = 0;
};

NetworkFaults stormy(Rng& rng) {
  NetworkFaults f;
  f.min_delay_ms = 1;
  f.max_delay_ms = rng.between(10, 400);
  f.loss = rng.chance(0.7) ? static_cast<double>(rng.between(0, 30)) / 100 : 0;
  f.duplicate = static_cast<double>(rng.between(0, 20)) / 100;
  return f;
}

void chaos(SimRun& run, ChaosStats& stats) {
  Rng setup(run.seed * 7919 + 4);
  const int voters = run.seed % 2 ? 3 : 5;
  const auto servers = random_servers(setup, voters, static_cast<int>(setup.between(0, 1)));
  Cluster c(run.seed, servers, stormy(setup), run.keep_trace);
  c.enable_zab(ZabStandIn{.writes = true});

  std::vector<std::pair<int64_t, PeerId>> starts;
  for (PeerId id : c.ids()) starts.emplace_back(setup.between(0, 2000), id);
  std::sort(starts.begin(), starts.end());
  for (auto [at, id] : starts) {
    c.run_until(at);
    c.start(id);
  }
  constexpr int64_t chaos_ends = 20000;
  while (c.now() < chaos_ends) {
    c.run_until(std::min(chaos_ends, c.now() + setup.between(100, 2500)));
    switch (setup.between(0, 9)) {
      case 0:
      case 1:
      case 2: {
        std::vector<PeerId> side;
        for (PeerId id : c.ids())
          if (setup.chance(0.5)) side.push_back(id);
        c.partition({side});
        break;
      }
      case 3:
      case 4: c.heal(); break;
      case 5:
      case 6: c.crash(setup.pick(c.ids())); break;
      case 7:
      case 8: {
        const PeerId id = setup.pick(c.ids());
        if (!c.up(id)) {
          c.recover(id);
          c.start(id);
        }
        break;
      }
      default: c.set_faults(stormy(setup)); break;
    }
  }
  c.heal();
  c.set_faults(NetworkFaults{1, 100, 0, 0.05});
  for (PeerId id : c.ids())
    if (!c.up(id)) {
      c.recover(id);
      c.start(id);
    }
  const int64_t healed = c.now();
  const bool converged = c.run_until([&] { return c.converged().has_value(); }, healed + 300000);
  if (!run.clean(c) || !run.expect(converged, "no convergence within 300 s of healing")) return run.keep(c);
  const int64_t took = c.now() - healed;
  const PeerId leader = *c.converged();
  c.run_until(c.now() + 5000);
  run.keep(c);
  if (!run.clean(c) || !run.expect(c.converged() == leader, "the converged ensemble did not stay")) return;

  ++stats.runs;
  stats.messages += c.messages_sent();
  stats.slowest_convergence_ms = std::max(stats.slowest_convergence_ms, took);
  std::map<int64_t, std::set<PeerId>> leaders_by_round;
  for (const DecisionRecord& r : c.decisions()) {
    ++stats.decisions;
    if (r.decision.joined) ++stats.joined;
    leaders_by_round[r.decision.election_epoch].insert(r.decision.vote.leader);
  }
  for (const auto& [round, leaders] : leaders_by_round)
    if (leaders.size() > 1) ++stats.split_rounds;
}

// ---- the tests ---------------------------------------------------------------------

TEST(ElectionSim, SynchronousStartElectsTheBestVoterEverywhere) {
  for_seeds("SynchronousStartElectsTheBestVoterEverywhere", 500, synchronous_start);
}

TEST(ElectionSim, MajoritySideElectsMinorityNeverDecidesHealingJoins) {
  for_seeds("MajoritySideElectsMinorityNeverDecidesHealingJoins", 500,
            [](SimRun& run) { partition_from_start(run, false); });
}

TEST(ElectionSim, ObserversNeverMakeAQuorum) {
  // One voter with both observers is three of five servers, but one of three voters.
  for_seeds("ObserversNeverMakeAQuorum", 200, [](SimRun& run) { partition_from_start(run, true); });
}

TEST(ElectionSim, RestartedServerLearnsTheRunningLeader) {
  for_seeds("RestartedServerLearnsTheRunningLeader", 500, restart_into_running_ensemble);
}

TEST(ElectionSim, ChaosThenHealConvergesAndEveryDecisionIsValid) {
  ChaosStats stats;
  for_seeds("ChaosThenHealConvergesAndEveryDecisionIsValid", 500, [&](SimRun& run) { chaos(run, stats); });
  std::printf(
      "[ chaos    ] %llu runs, %llu messages, %llu decisions (%llu joined a running ensemble), "
      "%llu rounds in which servers decided different leaders, slowest convergence after healing %lld ms\n",
      static_cast<unsigned long long>(stats.runs), static_cast<unsigned long long>(stats.messages),
      static_cast<unsigned long long>(stats.decisions), static_cast<unsigned long long>(stats.joined),
      static_cast<unsigned long long>(stats.split_rounds), static_cast<long long>(stats.slowest_convergence_ms));
}

}  // namespace
}  // namespace corral::ensemble::quorum::sim
