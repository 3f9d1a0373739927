// barrier: --participants members, spread over the sessions, each with its
// own recipes::DoubleBarrier on one path (threshold = participants), run
// rounds of enter() then leave() back to back: a BSP superstep with no work.
// Throughput counts rounds; "round" is participant 0's enter-to-left time,
// "enter" and "leave" every participant's.
//
// Stopping: a barrier round needs everyone, so all participants must stop
// before the same round. Whoever first sees the run done before round r
// fixes the last round at r (it still takes part in r, as may anyone already
// past that check); nobody can reach round r+1 before that is visible, since
// round r needs the one who fixed it.
#include <boost/fiber/operations.hpp>
#include <climits>

#include "corral/recipes/double_barrier.h"
#include "tools/bench/contenders.h"
#include "tools/bench/workloads.h"

namespace corral::bench {

namespace {

class BarrierWorkload : public Workload {
 public:
  std::string unit() const override { return "rounds"; }
  int fibers_per_session(const Options& o) const override { return fibers_for(o.participants, o.sessions); }
  void setup(Client& client, const Options& o) override { ensure_path(client, o.root + "/barrier"); }

  void run(Worker& w) override {
    const Options& o = w.run.options();
    const int me = participant_of(w, o.participants);
    if (me < 0) return;
    recipes::DoubleBarrier barrier(w.client, o.root + "/barrier/rounds", o.participants);
    for (int64_t round = 0;; ++round) {
      if (w.run.done()) {
        int64_t last = last_round_.load();
        while (round < last && !last_round_.compare_exchange_weak(last, round)) {
        }
      }
      if (round > last_round_.load()) break;
      // A participant that gave up leaves the others waiting: bound each wait.
      const auto deadline = std::min(w.run.hard_deadline(), Clock::now() + o.session_timeout * 3);
      std::error_code ec;
      const auto t0 = Clock::now();
      barrier.enter(deadline, ec);
      const auto t1 = Clock::now();
      w.run.record(w.stats, "enter", t0, t1, ec, false);
      if (!ec) {
        barrier.leave(deadline, ec);
        w.run.record(w.stats, "leave", t1, Clock::now(), ec, false);
      }
      if (ec) {
        last_round_ = -1;  // the others stop before their next round
        break;
      }
      if (me == 0) w.run.record(w.stats, "round", t0, Clock::now(), {});
    }
  }

  std::vector<std::string> notes(const Options& o) const override {
    return {std::to_string(o.participants) + " participants over " + std::to_string(o.sessions) +
            " sessions; DoubleBarrier rounds (enter, leave) with no work between"};
  }

 private:
  std::atomic<int64_t> last_round_{INT64_MAX};
};

}  // namespace

std::unique_ptr<Workload> make_barrier() { return std::make_unique<BarrierWorkload>(); }

}  // namespace corral::bench
