// MemorySnapshotStore: the in-memory twin of FileSnapshotStore, for unit tests
// and simulation. Same contract; corrupt(zxid) makes a stored snapshot fail to
// load, so tests can exercise the fallback to an older one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ensemble/storage/snapshot.h"

namespace corral::storage {

class MemorySnapshotStore final : public SnapshotStore {
 public:
  struct Snapshot {
    std::vector<SnapshotNode> nodes;
    std::vector<SnapshotSession> sessions;
    bool corrupt = false;
  };

  std::vector<int64_t> list() const override;
  std::unique_ptr<SnapshotSink> begin(int64_t zxid) override;
  SnapshotLoad load_newest_valid(const SnapshotCallbacks& callbacks) override;

  // Marks a stored snapshot as damaged; loading it fails with CorruptionError
  // after handing out half of its nodes (as a truncated file would).
  void corrupt(int64_t zxid);
  // A stored snapshot, or nullptr.
  const Snapshot* find(int64_t zxid) const;

 protected:
  void remove_snapshot(int64_t zxid) override;

 private:
  std::shared_ptr<std::map<int64_t, Snapshot>> snapshots_ = std::make_shared<std::map<int64_t, Snapshot>>();
};

}  // namespace corral::storage
