// corral::Client against real servers: the round trip of one getData, and
// pipelined getData throughput with 1, 10, 100 and 1000 requests in flight
// from one client.
//
// Servers come from CORRAL_BENCH_TARGETS="name=host:port[,name=host:port...]"
// (benchmarks/client/run starts corral-server and Apache ZooKeeper and sets it);
// every benchmark is registered once per target, so both servers are measured
// by the same code in the same run.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "corral/client.h"
#include "corral/runtime.h"

namespace {

constexpr std::string_view kPath = "/corral-client-bench";

corral::Runtime* the_runtime = nullptr;  // main()'s

corral::Runtime& runtime() { return *the_runtime; }

// One connected client per target for the whole run (connecting is not what
// is measured). Closed by main() on the runtime, before the runtime goes.
std::map<std::string, std::unique_ptr<corral::Client>> clients;

corral::Client& client_for(const std::string& hosts) {
  auto& c = clients[hosts];
  if (!c) {
    c = std::make_unique<corral::Client>(runtime(), corral::ClientOptions{.connect_string = hosts});
    runtime().run([&] {
      c->connect(std::chrono::seconds(30));
      std::error_code ec;
      c->create(kPath, std::string(100, 'x'), {}, ec);  // NODEEXISTS on a rerun is fine
    });
  }
  return *c;
}

void get_round_trip(benchmark::State& state, const std::string& hosts) {
  corral::Client& c = client_for(hosts);
  runtime().run([&] {
    for (auto _ : state) {
      std::error_code ec;
      benchmark::DoNotOptimize(c.get(kPath, {}, ec));
      if (ec) state.SkipWithError(ec.message().c_str());
    }
  });
  state.SetItemsProcessed(state.iterations());
}

void pipelined_gets(benchmark::State& state, const std::string& hosts) {
  corral::Client& c = client_for(hosts);
  const auto window = static_cast<std::size_t>(state.range(0));
  runtime().run([&] {
    std::deque<boost::fibers::future<corral::Result<corral::NodeData>>> in_flight;
    for (auto _ : state) {
      while (in_flight.size() < window) in_flight.push_back(c.async_get(kPath));
      auto r = in_flight.front().get();
      in_flight.pop_front();
      if (r.error) state.SkipWithError(r.error.message().c_str());
    }
    while (!in_flight.empty()) {
      in_flight.front().get();
      in_flight.pop_front();
    }
  });
  state.SetItemsProcessed(state.iterations());
}

std::vector<std::pair<std::string, std::string>> targets() {
  std::vector<std::pair<std::string, std::string>> out;
  const char* env = std::getenv("CORRAL_BENCH_TARGETS");
  std::string spec = env ? env : "";
  std::size_t pos = 0;
  while (pos < spec.size()) {
    auto end = spec.find(',', pos);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(pos, end - pos);
    const auto eq = item.find('=');
    if (eq != std::string::npos) out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    pos = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  corral::Runtime rt;
  the_runtime = &rt;
  const auto list = targets();
  if (list.empty()) {
    std::fprintf(stderr,
                 "corral-client-bench: set CORRAL_BENCH_TARGETS=name=host:port[,...] "
                 "(benchmarks/client/run does)\n");
    return 2;
  }
  for (const auto& [name, hosts] : list) {
    benchmark::RegisterBenchmark(("get_round_trip/" + name).c_str(), get_round_trip, hosts)->UseRealTime();
    benchmark::RegisterBenchmark(("pipelined_get/" + name).c_str(), pipelined_gets, hosts)
        ->Arg(1)
        ->Arg(10)
        ->Arg(100)
        ->Arg(1000)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  runtime().run([] { clients.clear(); });
  return 0;
}
