// election: --participants LeaderLatch participants, spread over the
// sessions. Whoever leads "acts" in a loop: a guarded transaction (a check of
// its latch node, then a setData), as a leader fencing its writes would, with
// 1 ms between acts. Each of --rounds rounds takes leadership away and
// measures "failover": from that moment to the end of the first successful
// act that *started* after it (so an act already under way does not count).
//
//   with --kill-hook CMD: the bench runs CMD (meant to kill -9 the server
//     ensemble's leader); the moment is when CMD returns. --restore-hook runs
//     before every round but the first (to bring the killed server back)
//     and the round waits for a leader's act after it.
//   without: the leading participant resigns (its node is deleted, the next
//     in line is woken) and queues again at the back; the moment is just
//     before its resign().
//
// Rounds, not --duration, bound this workload: each round waits at most
// --hook-timeout plus a minute. Latencies: "failover" (primary), "act".
#include <boost/fiber/operations.hpp>
#include <thread>

#include "corral/recipes/leader_election.h"
#include "tools/bench/contenders.h"
#include "tools/bench/hook.h"
#include "tools/bench/workloads.h"

namespace corral::bench {

namespace {

Clock::rep now_rep() { return Clock::now().time_since_epoch().count(); }
Clock::time_point at(Clock::rep r) { return Clock::time_point(Clock::duration(r)); }

class Election : public Workload {
 public:
  std::string unit() const override { return "failovers"; }
  int fibers_per_session(const Options& o) const override { return fibers_for(o.participants, o.sessions); }
  void setup(Client& client, const Options& o) override {
    ensure_path(client, o.root + "/election");
    std::error_code ec;
    client.create(acts_path(o), {}, {}, ec);
    if (ec && ec != Error::nodeExists) throw std::system_error(ec, "create " + acts_path(o));
  }

  void run(Worker& w) override {
    const Options& o = w.run.options();
    const int me = participant_of(w, o.participants);
    if (me < 0) return;
    const std::string id = "participant-" + std::to_string(me);
    recipes::LeaderLatch latch(w.client, o.root + "/election/latch", id);
    latch.start();
    const std::string value = make_value(o.value_size);
    while (!finished_) {
      if (!latch.is_leader()) {
        boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      const int requested = resign_requested_.load();
      int seen = resigned_round_.load();
      if (requested > seen && resigned_round_.compare_exchange_strong(seen, requested)) {
        std::error_code ec;
        kill_at_ = now_rep();
        latch.resign(ec);
        if (ec) w.run.record_error(w.stats, ec);
        latch.start();
        continue;
      }
      Transaction txn;
      try {
        txn = latch.guarded();
      } catch (const std::system_error&) {
        continue;  // deposed between is_leader() and here
      }
      txn.set(acts_path(o), value);
      std::error_code ec;
      const auto t0 = Clock::now();
      w.client.multi(txn, ec);
      const auto t1 = Clock::now();
      w.run.record(w.stats, "act", t0, t1, ec, false);
      if (!ec) acted(t0, t1);
      boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
    }
  }

  void control(RunState& run) override {
    const Options& o = run.options();
    const auto round_bound = o.hook_timeout + std::chrono::minutes(1);
    for (int round = 0; round < o.rounds && !run.stopped(); ++round) {
      Clock::time_point since = Clock::now();
      if (round > 0 && !o.restore_hook.empty()) {
        const HookResult h = run_hook(o.restore_hook, o.hook_timeout);
        if (!h.ok) fail("restore hook: " + h.failure);
        since = Clock::now();
      }
      // A leader is acting (and the warm-up is over).
      const auto deadline = Clock::now() + round_bound;
      while ((last_act_start_.load() < since.time_since_epoch().count() || Clock::now() < run.measure_start()) &&
             Clock::now() < deadline && !run.stopped()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (Clock::now() >= deadline) {
        fail("no leader acted within " + std::to_string(round_bound.count()) + " ms");
        break;
      }
      kill_at_ = 0;  // first, so no act is taken as the answer to an old round
      answered_end_ = 0;
      if (!o.kill_hook.empty()) {
        const HookResult h = run_hook(o.kill_hook, o.hook_timeout);
        kill_at_ = now_rep();
        if (!h.ok) {
          fail("kill hook: " + h.failure);
          break;
        }
      } else {
        resign_requested_ = round + 1;
      }
      while (answered_end_.load() == 0 && Clock::now() < deadline + round_bound && !run.stopped()) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      const Clock::rep end = answered_end_.load();
      if (end == 0) {
        fail("no leader acted within " + std::to_string(round_bound.count()) + " ms of round " +
             std::to_string(round + 1) + "'s failover");
        break;
      }
      control_stats_.latency["failover"].record(ns_between(at(kill_at_.load()), at(end)));
      run.add_ops(1);
    }
    finished_ = true;
  }

  void finish(ThreadStats& total, const Options& o) override {
    (void)o;
    total.merge(control_stats_);
  }

  std::vector<std::string> notes(const Options& o) const override {
    std::vector<std::string> n = {
        std::to_string(o.participants) + " LeaderLatch participants over " + std::to_string(o.sessions) +
            " sessions; the leader makes guarded writes; " + std::to_string(o.rounds) + " rounds",
        o.kill_hook.empty() ? "failover: from the leader's resign() to the next leader's first write"
                            : "failover: from the kill hook's return to the first write that started after it"};
    return n;
  }

 private:
  static std::string acts_path(const Options& o) { return o.root + "/election/acts"; }

  void acted(Clock::time_point t0, Clock::time_point t1) {
    const Clock::rep s = t0.time_since_epoch().count();
    Clock::rep prev = last_act_start_.load();
    while (prev < s && !last_act_start_.compare_exchange_weak(prev, s)) {
    }
    const Clock::rep k = kill_at_.load();
    if (k != 0 && s >= k) {
      Clock::rep zero = 0;
      answered_end_.compare_exchange_strong(zero, t1.time_since_epoch().count());
    }
  }

  void fail(const std::string& why) { ++control_stats_.errors["round failed: " + why]; }

  std::atomic<bool> finished_{false};
  std::atomic<Clock::rep> last_act_start_{0};
  std::atomic<Clock::rep> kill_at_{0};
  std::atomic<Clock::rep> answered_end_{0};
  std::atomic<int> resign_requested_{0};
  std::atomic<int> resigned_round_{0};
  ThreadStats control_stats_;
};

}  // namespace

std::unique_ptr<Workload> make_election() { return std::make_unique<Election>(); }

}  // namespace corral::bench
