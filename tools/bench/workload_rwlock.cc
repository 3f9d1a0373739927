// rwlock: --contenders fibers, spread over the sessions, each with its own
// recipes::ReadWriteLock on one path (Curator's InterProcessReadWriteLock
// layout), take the read lock (--read-ratio of the time) or the write lock,
// hold it for --hold and release it. Throughput counts acquisitions of
// either kind; latencies "read" and "write" (asking to holding), "release".
#include <boost/fiber/operations.hpp>

#include "corral/recipes/read_write_lock.h"
#include "tools/bench/contenders.h"
#include "tools/bench/workloads.h"

namespace corral::bench {

namespace {

class RwLockWorkload : public Workload {
 public:
  std::string unit() const override { return "acquisitions"; }
  int fibers_per_session(const Options& o) const override { return fibers_for(o.contenders, o.sessions); }
  void setup(Client& client, const Options& o) override { ensure_path(client, o.root + "/rwlock"); }

  void run(Worker& w) override {
    const Options& o = w.run.options();
    if (participant_of(w, o.contenders) < 0) return;
    recipes::ReadWriteLock rw(w.client, o.root + "/rwlock/lock");
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    while (!w.run.done()) {
      const bool read = coin(w.rng) < o.read_ratio;
      recipes::Lock& lock = read ? rw.read_lock() : rw.write_lock();
      std::error_code ec;
      const auto t0 = Clock::now();
      const bool held = lock.acquire(w.run.hard_deadline(), ec);
      w.run.record(w.stats, read ? "read" : "write", t0, Clock::now(), ec);
      if (!held) {
        boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (o.hold.count() > 0) boost::this_fiber::sleep_for(o.hold);
      const auto t1 = Clock::now();
      lock.release(ec);
      w.run.record(w.stats, "release", t1, Clock::now(), ec, false);
    }
  }

  std::vector<std::string> notes(const Options& o) const override {
    return {std::to_string(o.contenders) + " contenders over " + std::to_string(o.sessions) +
            " sessions on one ReadWriteLock, read ratio " + std::to_string(o.read_ratio).substr(0, 4) + ", held for " +
            std::to_string(o.hold.count()) + " µs"};
  }
};

}  // namespace

std::unique_ptr<Workload> make_rwlock() { return std::make_unique<RwLockWorkload>(); }

}  // namespace corral::bench
