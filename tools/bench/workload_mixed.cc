// mixed: getData and setData on --keys znodes created during set-up, keys
// and operations picked uniformly at random, --read-ratio of them reads.
// Latencies are recorded as "get" and "set"; both count as throughput.
#include <boost/fiber/operations.hpp>

#include "tools/bench/workloads.h"

namespace corral::bench {

namespace {

class Mixed : public Workload {
 public:
  void setup(Client& client, const Options& o) override {
    dir_ = o.root + "/kv";
    ensure_path(client, dir_);
    value_ = make_value(o.value_size);
    // Pipelined creates (a few hundred in flight); existing keys are reused.
    std::vector<boost::fibers::future<Result<Created>>> pending;
    for (int k = 0; k < o.keys; ++k) {
      pending.push_back(client.async_create(key(k), value_));
      if (pending.size() >= 256 || k + 1 == o.keys) {
        for (auto& f : pending) {
          const auto r = f.get();
          if (r.error && r.error != Error::nodeExists) throw std::system_error(r.error, "create " + key(k));
        }
        pending.clear();
      }
    }
  }

  void run(Worker& w) override {
    const Options& o = w.run.options();
    std::uniform_int_distribution<int> pick(0, o.keys - 1);
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    while (!w.run.done()) {
      const std::string path = key(pick(w.rng));
      std::error_code ec;
      const auto t0 = Clock::now();
      if (coin(w.rng) < o.read_ratio) {
        w.client.get(path, {}, ec);
        w.run.record(w.stats, "get", t0, Clock::now(), ec);
      } else {
        w.client.set(path, value_, -1, ec);
        w.run.record(w.stats, "set", t0, Clock::now(), ec);
      }
      if (ec) boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::vector<std::string> notes(const Options& o) const override {
    return {"getData/setData of " + std::to_string(o.value_size) + "-byte values on " + std::to_string(o.keys) +
            " znodes, read ratio " + std::to_string(o.read_ratio).substr(0, 4)};
  }

 private:
  std::string key(int k) const { return dir_ + "/k" + std::to_string(k); }

  std::string dir_;
  std::string value_;
};

}  // namespace

std::unique_ptr<Workload> make_mixed() { return std::make_unique<Mixed>(); }

}  // namespace corral::bench
