// lock: --contenders fibers, spread over the sessions, take turns on one
// recipes::Lock (Curator's InterProcessMutex layout), holding it for --hold.
// Throughput counts acquisitions (handoffs/s). Latencies: "acquire" (from
// asking to holding), "handoff" (from the previous holder starting its
// release to the next holder holding, for a waiter that was already queued:
// the delete, the watch event and the new holder's check), "release".
#include <boost/fiber/operations.hpp>

#include "corral/recipes/lock.h"
#include "tools/bench/contenders.h"
#include "tools/bench/workloads.h"

namespace corral::bench {

namespace {

class LockWorkload : public Workload {
 public:
  std::string unit() const override { return "handoffs"; }
  int fibers_per_session(const Options& o) const override { return fibers_for(o.contenders, o.sessions); }
  void setup(Client& client, const Options& o) override { ensure_path(client, o.root + "/lock"); }

  void run(Worker& w) override {
    const Options& o = w.run.options();
    if (participant_of(w, o.contenders) < 0) return;
    recipes::Lock lock(w.client, o.root + "/lock/mutex");
    while (!w.run.done()) {
      std::error_code ec;
      const auto t0 = Clock::now();
      const bool held = lock.acquire(w.run.hard_deadline(), ec);
      const auto t1 = Clock::now();
      w.run.record(w.stats, "acquire", t0, t1, ec);
      if (!held) {
        boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      const auto released = Clock::time_point(Clock::duration(last_release_.load()));
      if (released > t0) w.run.record(w.stats, "handoff", released, t1, {}, false);
      if (o.hold.count() > 0) boost::this_fiber::sleep_for(o.hold);
      const auto t2 = Clock::now();
      last_release_ = t2.time_since_epoch().count();
      lock.release(ec);
      w.run.record(w.stats, "release", t2, Clock::now(), ec, false);
    }
  }

  std::vector<std::string> notes(const Options& o) const override {
    return {std::to_string(o.contenders) + " contenders over " + std::to_string(o.sessions) +
            " sessions on one Lock, held for " + std::to_string(o.hold.count()) + " µs"};
  }

 private:
  std::atomic<Clock::rep> last_release_{0};
};

}  // namespace

std::unique_ptr<Workload> make_lock() { return std::make_unique<LockWorkload>(); }

}  // namespace corral::bench
