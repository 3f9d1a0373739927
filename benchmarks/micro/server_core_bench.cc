// ServerCore's whole request path with no I/O (ensemble/core/server_core.h):
// one connected session; getData frames go in and framed replies come out
// (reads/s); setData frames go in, their txns come out for the log, synced()
// makes them durable and the replies come out (writes/s).
//
// The benchmark plays both shells the way StandaloneServer does: it takes the
// effects after every frame, and reports durability either after each write
// (batch 1) or once for a batch of writes (group commit, batch 100).
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "corral/wire/jute.h"
#include "corral/wire/records.h"
#include "ensemble/core/server_core.h"
#include "micro/alloc_counter.h"
#include "micro/bench_util.h"

namespace corral::bench {
namespace {

using ensemble::ConnId;
using ensemble::Effect;
using ensemble::Effects;
using ensemble::ServerCore;

constexpr int64_t start_ms = bench_time_ms;

template <class T>
std::string request_frame(int32_t xid, wire::OpCode op, const T& rec) {
  std::string out;
  wire::JuteWriter w(out);
  wire::encode(w, wire::RequestHeader{xid, static_cast<int32_t>(op)});
  wire::encode(w, rec);
  return out;
}

struct CoreFixture {
  std::unique_ptr<ServerCore> core;
  ConnId conn = 1;
  std::vector<std::string> get_frames;  // one per node, in visiting order
  std::vector<std::string> set_frames;
};

ensemble::CoreConfig core_config() {
  ensemble::CoreConfig c;
  c.server_id = 1;
  c.random_seed = 42;
  return c;
}

// A core holding `nodes` znodes of 100 bytes with one connected session.
CoreFixture& fixture(uint32_t nodes) {
  static std::map<uint32_t, std::unique_ptr<CoreFixture>> cache;
  auto& f = cache[nodes];
  if (f) return *f;
  f = std::make_unique<CoreFixture>();
  f->core = std::make_unique<ServerCore>(core_config());
  ServerCore& core = *f->core;
  populate(core.tree(), nodes);  // as recovery would
  core.start(start_ms);
  core.connection_opened(f->conn, "127.0.0.1", start_ms);
  core.frame(f->conn, wire::encode_to_string(wire::ConnectRequest{0, 0, 30000, 0, std::string(16, '\0'), false, true}),
             start_ms);
  Effects e = core.take_effects();
  if (e.log.size() != 1) throw std::runtime_error("connect did not log a createSession txn");
  core.synced(e.log.back().zxid(), start_ms);
  e = core.take_effects();
  if (e.io.size() != 2 || e.io[1].kind != Effect::Kind::resume_reading) throw std::runtime_error("no session");
  const std::string data = payload(100);
  int32_t xid = 1;
  for (uint32_t j : shuffled(nodes)) {
    const std::string path = shaped_path(j);
    f->get_frames.push_back(request_frame(xid++, wire::OpCode::getData, wire::GetDataRequest{path, false}));
    f->set_frames.push_back(request_frame(xid++, wire::OpCode::setData, wire::SetDataRequest{path, data, -1}));
  }
  return *f;
}

void BM_Core_GetData(benchmark::State& state) {
  CoreFixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  ServerCore& core = *f.core;
  std::size_t i = 0;
  int64_t now = start_ms;
  std::size_t bytes = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    core.frame(f.conn, f.get_frames[i], now);
    Effects e = core.take_effects();
    if (e.io.size() != 1) {
      state.SkipWithError("expected one reply per getData");
      break;
    }
    bytes += e.io.front().bytes.size();
    benchmark::DoNotOptimize(e.io.front().bytes.data());
    if (++i == f.get_frames.size()) {
      i = 0;
      ++now;
    }
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Core_GetData)->Arg(1000)->Arg(1'000'000);

// state.range(1) setData frames, then one synced() for all of them.
void BM_Core_SetData(benchmark::State& state) {
  CoreFixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  const auto batch = static_cast<std::size_t>(state.range(1));
  ServerCore& core = *f.core;
  std::size_t i = 0;
  int64_t now = start_ms;
  std::size_t replies = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    int64_t last = 0;
    for (std::size_t k = 0; k < batch; ++k) {
      core.frame(f.conn, f.set_frames[i], now);
      Effects e = core.take_effects();
      if (e.log.size() != 1) {
        state.SkipWithError("expected one txn per setData");
        return;
      }
      last = e.log.back().zxid();
      benchmark::DoNotOptimize(e.log.data());
      if (++i == f.set_frames.size()) i = 0;
    }
    core.synced(last, now);
    Effects e = core.take_effects();
    replies += e.io.size();
    benchmark::DoNotOptimize(e.io.data());
    ++now;
  }
  if (replies != static_cast<std::size_t>(state.iterations()) * batch) state.SkipWithError("missing replies");
  meter.report(state, static_cast<double>(state.iterations() * batch));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}
BENCHMARK(BM_Core_SetData)->ArgsProduct({{1000, 1'000'000}, {1, 100}})->ArgNames({"nodes", "batch"});

}  // namespace
}  // namespace corral::bench
