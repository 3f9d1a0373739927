// LatencyHistogram: latencies in nanoseconds, log-bucketed in the manner of
// HdrHistogram, so percentiles keep a bounded relative error (under 1/64,
// about 1.6%) from 1 ns to hours in a few kilobytes, and two histograms merge
// by adding counts.
//
// Layout: values below 2^kSubBits go to their own bucket; above that a
// value's bucket is (its highest set bit, the next kSubBits-1 bits below it).
// Each bucket's reported value is its upper bound (never below the truth),
// except max(), which is exact. Recording is one shift and one increment: no
// allocation, no lock (one histogram per thread; merge at the end).
#pragma once

#include <array>
#include <cstdint>

namespace corral::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 7;  // 64 sub-buckets per power of two above 128 ns
  static constexpr int kSubCount = 1 << kSubBits;
  static constexpr int kHalf = kSubCount / 2;
  static constexpr int kBuckets = kSubCount + (64 - kSubBits) * kHalf;

  void record(uint64_t ns) {
    ++counts_[index_of(ns)];
    ++count_;
    sum_ += ns;
    if (ns > max_) max_ = ns;
    if (count_ == 1 || ns < min_) min_ = ns;
  }
  void merge(const LatencyHistogram& other);
  void clear() { *this = LatencyHistogram{}; }

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return min_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  // The smallest bucket bound at or below which `q` (0..1) of the values lie;
  // 0 when empty. q >= 1 gives max().
  uint64_t percentile(double q) const;

  static int index_of(uint64_t ns);
  static uint64_t upper_bound_of(int index);

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = 0;
};

}  // namespace corral::bench
