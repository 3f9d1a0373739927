// work_queue: producers put numbered jobs on a distributed FIFO Queue;
// consumers take them, each job exactly once, however many consumers there
// are (a take's delete decides who gets an item; a lost reply is resolved by
// the queue's receipt). Each consumer records what it did under
// /samples/queue-done, so the totals can be checked.
//
//   corral-sample-work-queue --connect HOSTS --produce 1000 --from 0          (a producer)
//   corral-sample-work-queue --connect HOSTS --consume --idle-ms 2000 --name c1 (a consumer)
//   corral-sample-work-queue --connect HOSTS --check 2000                      (count the done jobs)
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "corral/client.h"
#include "corral/recipes/queue.h"
#include "corral/recipes/znodes.h"
#include "corral/runtime.h"
#include "samples/common/sample_options.h"

using namespace std::chrono_literals;
namespace samples = corral::samples;

int main(int argc, char** argv) {
  const samples::Options opt(argc, argv,
                             "corral-sample-work-queue --connect HOSTS (--produce N [--from K] | --consume [--name C] "
                             "[--idle-ms 2000] | --check N) [--path /samples/queue]");
  const std::string path = opt.get("path", "/samples/queue");
  const std::string done_path = path + "-done";
  const std::string name = opt.get("name", opt.flag("consume") ? "consumer" : "producer");
  int status = 0;
  corral::Runtime rt;
  rt.run([&] {
    try {
      corral::ClientOptions o;
      o.connect_string = opt.get("connect", "127.0.0.1:2181");
      o.session_timeout = 5s;
      corral::Client client(rt, o);
      client.connect(30s);
      std::error_code ec;
      corral::recipes::ensure_path(client, done_path, ec);
      corral::recipes::Queue queue(client, path);
      if (opt.flag("produce")) {
        const long n = opt.number("produce", 100), from = opt.number("from", 0);
        std::vector<std::string> jobs;
        for (long i = from; i < from + n; ++i) jobs.push_back("job-" + std::to_string(i));
        const auto t0 = std::chrono::steady_clock::now();
        queue.put_all(jobs);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        samples::say(name,
                     "put " + std::to_string(n) + " jobs in " + std::to_string(static_cast<int>(s * 1000)) + " ms");
      } else if (opt.flag("consume")) {
        const auto idle = std::chrono::milliseconds(opt.number("idle-ms", 2000));
        long count = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (;;) {
          auto jobs = queue.take_batch(50, idle);
          if (jobs.empty()) break;  // idle that long: the work is done
          corral::Transaction done;
          for (const auto& job : jobs) done.create(done_path + "/" + job, name);
          client.multi(done);  // nodeExists here would mean a job done twice
          count += static_cast<long>(jobs.size());
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() -
                         static_cast<double>(idle.count()) / 1000.0;
        samples::say(name, "took and did " + std::to_string(count) + " jobs (" +
                               std::to_string(static_cast<long>(count / std::max(s, 0.001))) + "/s)");
      } else if (opt.flag("check")) {
        const long expected = opt.number("check", 0);
        const auto done = client.children(done_path).names;
        std::set<std::string> unique(done.begin(), done.end());
        samples::say("check", std::to_string(done.size()) + " jobs done, " + std::to_string(unique.size()) +
                                  " distinct, " + std::to_string(queue.size()) + " left in the queue; expected " +
                                  std::to_string(expected));
        if (static_cast<long>(unique.size()) != expected || queue.size() != 0) status = 1;
      }
      client.close();
    } catch (const std::exception& e) {
      samples::say(name, std::string("error: ") + e.what());
      status = 1;
    }
  });
  return status;
}
