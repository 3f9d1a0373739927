#include "ensemble/storage/snapshot.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace corral::storage {

SnapshotPurge SnapshotStore::purge(std::size_t retain_count) {
  if (retain_count < kMinRetainCount) {
    throw std::invalid_argument("snapshot purge must retain at least " + std::to_string(kMinRetainCount) +
                                " snapshots");
  }
  SnapshotPurge result;
  const std::vector<int64_t> zxids = list();
  if (zxids.empty()) return result;
  const std::size_t keep = std::min(retain_count, zxids.size());
  result.oldest_retained_zxid = zxids[keep - 1];
  for (std::size_t i = zxids.size(); i > keep; --i) {
    remove_snapshot(zxids[i - 1]);
    result.removed.push_back(zxids[i - 1]);
  }
  if (!result.removed.empty()) after_removal();
  return result;
}

}  // namespace corral::storage
