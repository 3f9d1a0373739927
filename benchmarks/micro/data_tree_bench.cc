// The data tree (ensemble/core/data_tree.h) at 1k and 1M znodes of 100 bytes:
// applying create txns, lookup + stat, getData, setData, children listing.
//
// Reads and setData visit nodes in a fixed pseudo-random order, so the 1M
// figures include the cache misses a real server sees; the paths themselves are
// laid out in visiting order so walking them costs little.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ensemble/core/data_tree.h"
#include "ensemble/core/reads.h"
#include "ensemble/core/watch_registry.h"
#include "micro/alloc_counter.h"
#include "micro/bench_util.h"

namespace corral::bench {
namespace {

using ensemble::DataTree;
using ensemble::NodeId;

// One populated tree per size, built on first use and shared by every
// benchmark of that size (Google Benchmark calls each function several times).
struct TreeFixture {
  DataTree tree;
  std::vector<std::string> paths;  // every node, in visiting order
  int64_t next_zxid = 0;
};

TreeFixture& fixture(uint32_t nodes) {
  static std::map<uint32_t, std::unique_ptr<TreeFixture>> cache;
  auto& f = cache[nodes];
  if (!f) {
    f = std::make_unique<TreeFixture>();
    f->next_zxid = populate(f->tree, nodes);
    f->paths.reserve(nodes);
    for (uint32_t j : shuffled(nodes)) f->paths.push_back(shaped_path(j));
  }
  return *f;
}

// Bytes malloc has handed out: small blocks from the arenas plus large blocks
// that got their own mmap (the node chunks and the hash index are such).
std::size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Applies every create txn of a tree of state.range(0) znodes to an empty tree.
// Also reports the heap the tree holds afterwards, per znode.
void BM_Tree_ApplyCreate(benchmark::State& state) {
  const auto nodes = static_cast<uint32_t>(state.range(0));
  double heap_per_node = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    state.PauseTiming();
    malloc_trim(0);
    const std::size_t before = heap_in_use();
    auto tree = std::make_unique<DataTree>();
    state.ResumeTiming();
    populate(*tree, nodes);
    state.PauseTiming();
    heap_per_node = static_cast<double>(heap_in_use() - before) / nodes;
    tree.reset();
    state.ResumeTiming();
  }
  meter.report(state, static_cast<double>(state.iterations()) * nodes);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * nodes);
  state.counters["heap_B_per_node"] = heap_per_node;
  state.counters["node_record_B"] = static_cast<double>(DataTree::node_record_size());
}
BENCHMARK(BM_Tree_ApplyCreate)->Arg(1000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_Tree_LookupStat(benchmark::State& state) {
  TreeFixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  std::size_t i = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    const NodeId id = f.tree.lookup(f.paths[i]);
    wire::Stat s = f.tree.stat(id);
    benchmark::DoNotOptimize(s);
    if (++i == f.paths.size()) i = 0;
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Tree_LookupStat)->Arg(1000)->Arg(1'000'000);

// The tree's part of a getData: lookup, the data view and the Stat.
void BM_Tree_GetData(benchmark::State& state) {
  TreeFixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  std::size_t i = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    const NodeId id = f.tree.lookup(f.paths[i]);
    std::string_view data = f.tree.data(id);
    wire::Stat s = f.tree.stat(id);
    benchmark::DoNotOptimize(data);
    benchmark::DoNotOptimize(s);
    if (++i == f.paths.size()) i = 0;
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Tree_GetData)->Arg(1000)->Arg(1'000'000);

// A whole getData answer as the core makes it (reads.cc): decode the request
// record, ACL check, encode data and Stat into the reply body.
void BM_Tree_AnswerGetData(benchmark::State& state) {
  TreeFixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  std::vector<std::string> requests;
  requests.reserve(f.paths.size());
  for (const auto& p : f.paths) requests.push_back(wire::encode_to_string(wire::GetDataRequest{p, false}));
  ensemble::WatchRegistry watches;
  const ensemble::AuthIds ids{{"ip", "127.0.0.1"}};
  ensemble::ReadContext ctx{f.tree, watches, 0x1000000000001, ids};
  std::size_t i = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    ensemble::ReadReply r = ensemble::answer_read(ctx, wire::OpCode::getData, requests[i]);
    benchmark::DoNotOptimize(r.body.data());
    if (++i == requests.size()) i = 0;
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Tree_AnswerGetData)->Arg(1000)->Arg(1'000'000);

// Applies a setData txn of 100 bytes (same size as before) to an existing node.
void BM_Tree_SetData(benchmark::State& state) {
  TreeFixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  proto::Txn t = set_data_txn(0, "", payload(100), 0);
  auto* s = t.mutable_ops(0)->mutable_set_data();
  std::vector<ensemble::OpResult> results;
  std::vector<ensemble::WatchTrigger> triggers;
  std::size_t i = 0;
  int32_t version = 1'000'000;
  const AllocationMeter meter;
  for (auto _ : state) {
    t.set_zxid(f.next_zxid++);
    s->set_path(f.paths[i]);
    s->set_version(++version);
    results.clear();
    triggers.clear();
    f.tree.apply(t, results, triggers);
    benchmark::DoNotOptimize(results.data());
    if (++i == f.paths.size()) i = 0;
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Tree_SetData)->Arg(1000)->Arg(1'000'000);

// Lists the children of a parent with 1000 children (lookup + names).
void BM_Tree_Children1000(benchmark::State& state) {
  const auto nodes = static_cast<uint32_t>(state.range(0));
  TreeFixture& f = fixture(nodes);
  std::vector<std::string> parents;
  for (uint32_t p = 0; p < nodes / children_per_parent; ++p) parents.push_back(parent_path(p));
  std::size_t i = 0;
  std::size_t names = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    const NodeId id = f.tree.lookup(parents[i]);
    std::vector<std::string> children = f.tree.children(id);
    names += children.size();
    benchmark::DoNotOptimize(children.data());
    if (++i == parents.size()) i = 0;
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.counters["children_per_s"] = benchmark::Counter(static_cast<double>(names), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Tree_Children1000)->Arg(1000)->Arg(1'000'000);

}  // namespace
}  // namespace corral::bench
