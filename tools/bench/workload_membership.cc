// membership: --participants members, spread over the sessions, each with its
// own recipes::GroupMembership on one group (so each also follows the whole
// group, as services do), join and leave in a loop. Throughput counts joins;
// latencies "join" and "leave".
#include <boost/fiber/operations.hpp>

#include "corral/recipes/group_membership.h"
#include "tools/bench/contenders.h"
#include "tools/bench/workloads.h"

namespace corral::bench {

namespace {

class Membership : public Workload {
 public:
  std::string unit() const override { return "joins"; }
  int fibers_per_session(const Options& o) const override { return fibers_for(o.participants, o.sessions); }
  void setup(Client& client, const Options& o) override { ensure_path(client, o.root + "/group"); }

  void run(Worker& w) override {
    const Options& o = w.run.options();
    const int me = participant_of(w, o.participants);
    if (me < 0) return;
    recipes::GroupMembership group(w.client, o.root + "/group/members");
    const std::string id = "member-" + std::to_string(me);
    const std::string data = make_value(o.value_size);
    while (!w.run.done()) {
      std::error_code ec;
      const auto t0 = Clock::now();
      group.join(id, data, w.run.hard_deadline(), ec);
      const auto t1 = Clock::now();
      w.run.record(w.stats, "join", t0, t1, ec);
      if (ec) {
        boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      group.leave(ec);
      w.run.record(w.stats, "leave", t1, Clock::now(), ec, false);
    }
  }

  std::vector<std::string> notes(const Options& o) const override {
    return {std::to_string(o.participants) + " members over " + std::to_string(o.sessions) +
            " sessions join and leave one group, each following the group"};
  }
};

}  // namespace

std::unique_ptr<Workload> make_membership() { return std::make_unique<Membership>(); }

}  // namespace corral::bench
