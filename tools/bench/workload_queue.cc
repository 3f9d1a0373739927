// queue: producers put items of --value-size bytes into one recipes::Queue
// (Curator's DistributedQueue layout), consumers take them. Workers alternate
// roles (session + fiber even: producer), each with its own Queue object;
// with one session, use --inflight 2 or more. Producers pause while 10,000
// items wait, so the queue stays bounded. Throughput counts takes;
// latencies "put", "take" (a take that found an item) and "put-to-take" (from
// the start of the put to the end of the take, through the item's payload).
#include <boost/fiber/operations.hpp>
#include <cstring>

#include "corral/recipes/queue.h"
#include "tools/bench/workloads.h"

namespace corral::bench {

namespace {

constexpr int64_t kMaxWaiting = 10000;

class QueueWorkload : public Workload {
 public:
  std::string unit() const override { return "takes"; }
  int fibers_per_session(const Options& o) const override { return o.sessions == 1 && o.inflight < 2 ? 2 : o.inflight; }
  void setup(Client& client, const Options& o) override { ensure_path(client, o.root + "/queue"); }

  void run(Worker& w) override {
    const Options& o = w.run.options();
    recipes::Queue queue(w.client, o.root + "/queue/items");
    if ((w.session + w.fiber) % 2 == 0) {
      produce(w, queue, o);
    } else {
      consume(w, queue);
    }
  }

  std::vector<std::string> notes(const Options& o) const override {
    return {"Queue put/take of " + std::to_string(o.value_size) + "-byte items, " + std::to_string(o.sessions) +
            " sessions x " + std::to_string(fibers_per_session(o)) + " workers, half producers, half consumers"};
  }

 private:
  void produce(Worker& w, recipes::Queue& queue, const Options& o) {
    std::string item = make_value(o.value_size < 8 ? 8 : o.value_size);
    while (!w.run.done()) {
      if (puts_.load() - takes_.load() >= kMaxWaiting) {
        boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      const auto t0 = Clock::now();
      const int64_t stamp = t0.time_since_epoch().count();
      std::memcpy(item.data(), &stamp, sizeof stamp);
      std::error_code ec;
      queue.put(item, w.run.hard_deadline(), ec);
      w.run.record(w.stats, "put", t0, Clock::now(), ec, false);
      if (ec) {
        boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
      } else {
        ++puts_;
      }
    }
  }

  void consume(Worker& w, recipes::Queue& queue) {
    while (!w.run.done()) {
      std::error_code ec;
      const auto t0 = Clock::now();
      const auto item = queue.take(t0 + std::chrono::milliseconds(200), ec);
      const auto t1 = Clock::now();
      if (ec == Error::operationTimeout || (!ec && !item)) continue;
      w.run.record(w.stats, "take", t0, t1, ec);
      if (ec) {
        boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      ++takes_;
      if (item->size() >= sizeof(int64_t)) {
        int64_t stamp = 0;
        std::memcpy(&stamp, item->data(), sizeof stamp);
        const Clock::time_point put_at{Clock::duration(stamp)};
        if (put_at <= t1) w.run.record(w.stats, "put-to-take", put_at, t1, {}, false);
      }
    }
  }

  std::atomic<int64_t> puts_{0};
  std::atomic<int64_t> takes_{0};
};

}  // namespace

std::unique_ptr<Workload> make_queue() { return std::make_unique<QueueWorkload>(); }

}  // namespace corral::bench
