// bsp_job: N workers run supersteps of a toy computation (iterated averaging
// on a ring: every worker's value moves to the mean of itself and its two
// neighbours, so all converge to the global mean), meeting at one
// DoubleBarrier each round:
//
//   write my value  ->  enter()  ->  read neighbours, compute  ->  leave()
//
// enter() returns once every worker has written (so the reads see this
// round's values); leave() returns once every worker has read (so nobody
// overwrites a value another still needs). Prints rounds per second.
//
//   corral-sample-bsp-job --connect HOSTS --workers 4 --rounds 20            (all workers here)
//   corral-sample-bsp-job --connect HOSTS --workers 4 --rounds 20 --index 2  (one worker per process)
#include <boost/fiber/fiber.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "corral/client.h"
#include "corral/recipes/double_barrier.h"
#include "corral/recipes/znodes.h"
#include "corral/runtime.h"
#include "samples/common/sample_options.h"

using namespace std::chrono_literals;
namespace samples = corral::samples;

namespace {

struct Job {
  std::string connect;
  std::string path;
  int workers = 4;
  int rounds = 20;
};

std::string value_path(const Job& job, int i) { return job.path + "/values/w" + std::to_string(i); }

double read_value(corral::Client& c, const Job& job, int i) { return std::stod(c.get(value_path(job, i)).data); }

// One worker: its own session, its own DoubleBarrier object on the shared path.
void run_worker(corral::Runtime& rt, const Job& job, int index, bool report) {
  corral::ClientOptions o;
  o.connect_string = job.connect;
  o.session_timeout = 5s;
  corral::Client client(rt, o);
  client.connect(30s);
  std::error_code ec;
  corral::recipes::ensure_path(client, job.path + "/values", ec);
  corral::recipes::DoubleBarrier barrier(client, job.path + "/barrier", job.workers);
  const std::string name = "worker " + std::to_string(index);
  double value = 100.0 * index;  // the global mean is 50 * (workers - 1)
  const auto started = std::chrono::steady_clock::now();
  for (int round = 1; round <= job.rounds; ++round) {
    const std::string text = std::to_string(value);
    client.set(value_path(job, index), text, -1, ec);
    if (ec == corral::make_error_code(corral::Error::noNode)) client.create(value_path(job, index), text);
    barrier.enter();
    const int left = (index + job.workers - 1) % job.workers, right = (index + 1) % job.workers;
    const double next = (value + read_value(client, job, left) + read_value(client, job, right)) / 3.0;
    double spread = 0;
    if (report) {
      double lo = 1e300, hi = -1e300;
      for (int i = 0; i < job.workers; ++i) {
        const double v = read_value(client, job, i);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      spread = hi - lo;
    }
    barrier.leave();
    value = next;
    if (report && (round <= 3 || round % 5 == 0 || round == job.rounds)) {
      char line[128];
      std::snprintf(line, sizeof line, "round %d: values spread over %.3f (my value now %.3f)", round, spread, value);
      samples::say(name, line);
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (report) {
    char line[160];
    std::snprintf(line, sizeof line, "%d rounds of %d workers in %.2f s: %.1f rounds/s (%.1f ms per superstep)",
                  job.rounds, job.workers, secs, job.rounds / secs, 1000.0 * secs / job.rounds);
    samples::say(name, line);
  }
  client.close();
}

}  // namespace

int main(int argc, char** argv) {
  const samples::Options opt(argc, argv,
                             "corral-sample-bsp-job --connect HOSTS [--workers 4] [--rounds 20] [--index I] "
                             "[--path /samples/bsp]");
  Job job;
  job.connect = opt.get("connect", "127.0.0.1:2181");
  job.path = opt.get("path", "/samples/bsp");
  job.workers = static_cast<int>(opt.number("workers", 4));
  job.rounds = static_cast<int>(opt.number("rounds", 20));
  const long index = opt.number("index", -1);
  if (job.workers < 1 || job.rounds < 1 || index >= job.workers) {
    std::fprintf(stderr,
                 "corral-sample-bsp-job: --workers and --rounds must be positive and --index below --workers\n");
    return 2;
  }
  int status = 0;
  corral::Runtime rt;
  rt.run([&] {
    try {
      if (index >= 0) {
        run_worker(rt, job, static_cast<int>(index), index == 0);
        return;
      }
      std::vector<boost::fibers::fiber> fibers;
      for (int i = 0; i < job.workers; ++i) {
        fibers.emplace_back([&, i] {
          try {
            run_worker(rt, job, i, i == 0);
          } catch (const std::exception& e) {
            samples::say("worker " + std::to_string(i), std::string("error: ") + e.what());
            status = 1;
          }
        });
      }
      for (auto& f : fibers) f.join();
    } catch (const std::exception& e) {
      samples::say("bsp_job", std::string("error: ") + e.what());
      status = 1;
    }
  });
  return status;
}
