// create-seq: persistent sequential creates of --value-size bytes under one
// parent, as fast as the sessions and --inflight allow (the create-rate
// experiment of the ZooKeeper paper). The nodes are left in place: a
// benchmark server is thrown away afterwards, and deleting them would cost as
// much again.
#include <boost/fiber/operations.hpp>

#include "tools/bench/workloads.h"

namespace corral::bench {

namespace {

class CreateSeq : public Workload {
 public:
  std::string unit() const override { return "creates"; }

  void setup(Client& client, const Options& o) override {
    parent_ = o.root + "/seq";
    ensure_path(client, parent_);
    value_ = make_value(o.value_size);
  }

  void run(Worker& w) override {
    const std::string prefix = parent_ + "/n-";
    const CreateOptions mode{.mode = CreateMode::persistentSequential};
    while (!w.run.done()) {
      std::error_code ec;
      const auto t0 = Clock::now();
      w.client.create(prefix, value_, mode, ec);
      w.run.record(w.stats, "create", t0, Clock::now(), ec);
      if (ec) boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::vector<std::string> notes(const Options& o) const override {
    return {"persistent sequential creates of " + std::to_string(o.value_size) + "-byte values under one parent"};
  }

 private:
  std::string parent_;
  std::string value_;
};

}  // namespace

std::unique_ptr<Workload> make_create_seq() { return std::make_unique<CreateSeq>(); }

}  // namespace corral::bench
