#include "tools/bench/histogram.h"

#include <bit>
#include <cmath>

namespace corral::bench {

int LatencyHistogram::index_of(uint64_t ns) {
  if (ns < static_cast<uint64_t>(kSubCount)) return static_cast<int>(ns);
  const int top = 63 - std::countl_zero(ns);       // >= kSubBits
  const int shift = top - (kSubBits - 1);          // keep kSubBits significant bits
  const auto sub = static_cast<int>(ns >> shift);  // in [kHalf, kSubCount)
  return kSubCount + (shift - 1) * kHalf + (sub - kHalf);
}

uint64_t LatencyHistogram::upper_bound_of(int index) {
  if (index < kSubCount) return static_cast<uint64_t>(index);
  const int shift = (index - kSubCount) / kHalf + 1;
  const uint64_t sub = static_cast<uint64_t>((index - kSubCount) % kHalf) + static_cast<uint64_t>(kHalf);
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.max_ > max_) max_ = other.max_;
}

uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  if (q >= 1.0) return max_;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t bound = upper_bound_of(i);
      return bound < max_ ? bound : max_;
    }
  }
  return max_;
}

}  // namespace corral::bench
