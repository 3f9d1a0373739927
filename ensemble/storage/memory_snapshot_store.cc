#include "ensemble/storage/memory_snapshot_store.h"

#include <algorithm>
#include <stdexcept>

#include "ensemble/storage/error.h"

namespace corral::storage {

namespace {

class MemorySink final : public SnapshotSink {
 public:
  MemorySink(std::shared_ptr<std::map<int64_t, MemorySnapshotStore::Snapshot>> store, int64_t zxid)
      : store_(std::move(store)), zxid_(zxid) {}

  void add_node(const SnapshotNode& node) override {
    check();
    snapshot_.nodes.push_back(node);
  }
  void add_session(const SnapshotSession& session) override {
    check();
    snapshot_.sessions.push_back(session);
  }
  void commit() override {
    check();
    committed_ = true;
    (*store_)[zxid_] = std::move(snapshot_);
  }

 private:
  void check() const {
    if (committed_) throw std::logic_error("snapshot sink used after commit()");
  }

  std::shared_ptr<std::map<int64_t, MemorySnapshotStore::Snapshot>> store_;
  int64_t zxid_;
  MemorySnapshotStore::Snapshot snapshot_;
  bool committed_ = false;
};

}  // namespace

std::vector<int64_t> MemorySnapshotStore::list() const {
  std::vector<int64_t> zxids;
  for (auto it = snapshots_->rbegin(); it != snapshots_->rend(); ++it) zxids.push_back(it->first);
  return zxids;
}

std::unique_ptr<SnapshotSink> MemorySnapshotStore::begin(int64_t zxid) {
  return std::make_unique<MemorySink>(snapshots_, zxid);
}

SnapshotLoad MemorySnapshotStore::load_newest_valid(const SnapshotCallbacks& callbacks) {
  SnapshotLoad result;
  for (auto it = snapshots_->rbegin(); it != snapshots_->rend(); ++it) {
    const auto& [zxid, snap] = *it;
    if (callbacks.on_begin) callbacks.on_begin(zxid);
    const std::size_t nodes = snap.corrupt ? snap.nodes.size() / 2 : snap.nodes.size();
    for (std::size_t i = 0; i < nodes; ++i) {
      if (callbacks.on_node) callbacks.on_node(SnapshotNode(snap.nodes[i]));
    }
    if (snap.corrupt) {
      result.skipped.push_back(SnapshotLoad::Skipped{zxid, "memory snapshot " + std::to_string(zxid) + " is corrupt"});
      continue;
    }
    for (const SnapshotSession& s : snap.sessions) {
      if (callbacks.on_session) callbacks.on_session(SnapshotSession(s));
    }
    result.loaded = SnapshotSummary{zxid, snap.nodes.size(), snap.sessions.size()};
    return result;
  }
  if (!result.skipped.empty()) throw CorruptionError("no valid snapshot in the memory store");
  return result;
}

void MemorySnapshotStore::remove_snapshot(int64_t zxid) { snapshots_->erase(zxid); }

void MemorySnapshotStore::corrupt(int64_t zxid) {
  auto it = snapshots_->find(zxid);
  if (it != snapshots_->end()) it->second.corrupt = true;
}

const MemorySnapshotStore::Snapshot* MemorySnapshotStore::find(int64_t zxid) const {
  auto it = snapshots_->find(zxid);
  return it == snapshots_->end() ? nullptr : &it->second;
}

}  // namespace corral::storage
