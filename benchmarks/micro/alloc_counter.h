// Counts calls to the global operator new in the benchmark binary, so a
// benchmark can report allocations per operation ("no allocation per request
// on the hot path where it can be avoided"). The count includes
// allocations made inside libprotobuf and libstdc++; it costs one relaxed
// atomic increment per allocation.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

namespace corral::bench {

std::uint64_t allocation_count();

// Sets the "allocs_per_op" counter from the allocations since construction.
class AllocationMeter {
 public:
  AllocationMeter() : start_(allocation_count()) {}
  void report(benchmark::State& state, double ops) const {
    state.counters["allocs_per_op"] = ops > 0 ? static_cast<double>(allocation_count() - start_) / ops : 0;
  }

 private:
  std::uint64_t start_;
};

}  // namespace corral::bench
