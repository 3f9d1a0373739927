#include "tools/bench/driver.h"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include "corral/runtime.h"
#include "tools/bench/report.h"

namespace corral::bench {

namespace {

// What the main thread and the Runtime threads share during one run.
struct Shared {
  Shared(const Options& o, Workload& w) : options(o), workload(w) {}
  const Options& options;
  Workload& workload;
  std::atomic<int> connected{0};        // threads whose sessions are connected
  std::atomic<bool> setup_done{false};  // session 0 ran Workload::setup
  std::atomic<RunState*> run{nullptr};  // published once the clock starts
  std::atomic<bool> abort{false};
  std::mutex mutex;
  std::string failure;             // why it aborted
  std::vector<ThreadStats> stats;  // one per thread

  void fail(std::string why) {
    std::lock_guard lock(mutex);
    if (failure.empty()) failure = std::move(why);
    abort = true;
  }
};

// Fiber-friendly wait for a flag set by another thread.
template <class Pred>
bool fiber_wait(Shared& shared, Pred pred) {
  while (!pred()) {
    if (shared.abort) return false;
    boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void runtime_thread(Shared& shared, int thread) {
  const Options& o = shared.options;
  Runtime runtime;
  runtime.run([&] {
    std::vector<int> sessions;
    for (int s = thread; s < o.sessions; s += o.threads) sessions.push_back(s);
    std::vector<std::unique_ptr<Client>> clients;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      clients.push_back(std::make_unique<Client>(
          runtime, ClientOptions{.connect_string = o.connect,
                                 .session_timeout = o.session_timeout,
                                 .seed = o.seed == 0 ? 0 : o.seed + static_cast<uint64_t>(sessions[i])}));
    }
    {
      std::vector<boost::fibers::fiber> connecting;
      connecting.reserve(clients.size());
      for (auto& c : clients) {
        connecting.emplace_back([&shared, &c, &o] {
          std::error_code ec;
          c->connect(o.connect_timeout, ec);
          if (ec) shared.fail("cannot connect to " + o.connect + ": " + error_label(ec));
        });
      }
      for (auto& f : connecting) f.join();
    }
    ++shared.connected;
    if (thread == 0 && fiber_wait(shared, [&] { return shared.connected.load() == o.threads; })) {
      try {
        shared.workload.setup(*clients[0], o);
        shared.setup_done = true;
      } catch (const std::exception& e) {
        shared.fail(std::string("set-up failed: ") + e.what());
      }
    }
    ThreadStats& stats = shared.stats[static_cast<std::size_t>(thread)];
    if (fiber_wait(shared, [&] { return shared.run.load() != nullptr; })) {
      RunState& run = *shared.run.load();
      const int per_session = shared.workload.fibers_per_session(o);
      std::vector<std::unique_ptr<Worker>> workers;
      std::vector<boost::fibers::fiber> fibers;
      for (std::size_t i = 0; i < sessions.size(); ++i) {
        for (int f = 0; f < per_session; ++f) {
          const int index = sessions[i] * per_session + f;
          std::seed_seq seq{o.seed == 0 ? std::random_device{}() : o.seed, static_cast<uint64_t>(index)};
          workers.push_back(
              std::make_unique<Worker>(Worker{*clients[i], sessions[i], f, index, stats, run, std::mt19937_64(seq)}));
          Worker& w = *workers.back();
          fibers.emplace_back([&shared, &w] {
            try {
              shared.workload.run(w);
            } catch (const std::system_error& e) {
              w.run.record_error(w.stats, e.code());
            } catch (const std::exception& e) {
              ++w.stats.errors[std::string("exception: ") + e.what()];
            }
          });
        }
      }
      for (auto& f : fibers) f.join();
    }
    for (auto& c : clients) c->close();
  });
}

}  // namespace

RunResult run_workload(const Options& o, Workload& workload, const std::atomic<bool>& interrupt) {
  Shared shared(o, workload);
  shared.stats.resize(static_cast<std::size_t>(o.threads));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(o.threads));
  for (int t = 0; t < o.threads; ++t) threads.emplace_back(runtime_thread, std::ref(shared), t);

  // Connect and set up, bounded by the connect timeout plus a minute of set-up.
  const auto setup_deadline = Clock::now() + o.connect_timeout + std::chrono::minutes(1);
  while (!shared.setup_done && !shared.abort && !interrupt) {
    if (Clock::now() > setup_deadline) shared.fail("connecting and set-up took too long");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (interrupt) shared.fail("interrupted");

  std::optional<RunState> run;
  RunResult result;
  if (!shared.abort) {
    run.emplace(o, Clock::now());
    shared.run = &*run;
    const bool live = o.progress && isatty(STDOUT_FILENO) == 1;
    std::atomic<bool> control_done{false};
    std::thread progress([&] {
      while (!control_done) {
        if (interrupt) run->stop();
        if (live) print_progress(o, *run, workload.unit());
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
      if (live) clear_progress();
    });
    workload.control(*run);
    run->stop();
    control_done = true;
    progress.join();
  }
  for (auto& t : threads) t.join();
  if (!run) throw std::runtime_error(shared.failure);

  for (const auto& s : shared.stats) result.total.merge(s);
  workload.finish(result.total, o);
  result.measured_s = std::chrono::duration<double>(run->effective_end() - run->measure_start()).count();
  result.ops = run->ops();
  result.all_ops = run->all_ops();
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    const auto seconds = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    result.client_cpu_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  }
  result.unit = workload.unit();
  result.notes = workload.notes(o);
  result.interrupted = interrupt.load();
  return result;
}

}  // namespace corral::bench
