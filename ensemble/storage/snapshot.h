// Snapshots: the records a snapshot holds, and the SnapshotStore interface.
//
// A snapshot is the whole tree and the session table as of one applied zxid.
// The records here are neutral: they do not depend on the server's tree, so
// the tree decides its own layout and only converts at the edges. After a
// restart the server loads the newest valid snapshot and replays the txn log
// from its zxid.
//
// Implementations: FileSnapshotStore (file_snapshot.h) and MemorySnapshotStore
// (memory_snapshot_store.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corral/wire/records.h"

namespace corral::storage {

struct SnapshotNode {
  std::string path;
  std::string data;
  std::vector<corral::wire::Acl> acl;
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t pzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  friend bool operator==(const SnapshotNode&, const SnapshotNode&) = default;
};

struct SnapshotSession {
  int64_t id = 0;
  int32_t timeout_ms = 0;
  std::string password;
  friend bool operator==(const SnapshotSession&, const SnapshotSession&) = default;
};

// Where records of a snapshot being loaded go. Records arrive in the order
// they were written (the server writes parents before children). The callee
// may move from the records it is handed.
struct SnapshotCallbacks {
  // Called first, with the snapshot's zxid. When a load falls back to an older
  // snapshot it is called again: discard everything received before.
  std::function<void(int64_t zxid)> on_begin;
  std::function<void(SnapshotNode&&)> on_node;
  std::function<void(SnapshotSession&&)> on_session;
};

struct SnapshotSummary {
  int64_t zxid = 0;
  uint64_t nodes = 0;
  uint64_t sessions = 0;
};

// A snapshot being written. Nothing is visible to the store's readers until
// commit() returns; destroying a sink without commit() abandons it.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void add_node(const SnapshotNode& node) = 0;
  virtual void add_session(const SnapshotSession& session) = 0;
  // Makes the snapshot durable and visible. Call once.
  virtual void commit() = 0;
};

struct SnapshotLoad {
  struct Skipped {
    int64_t zxid = 0;
    std::string reason;
  };
  // The snapshot loaded; nullopt when the store holds none (start from an
  // empty tree and replay the whole log).
  std::optional<SnapshotSummary> loaded;
  // Newer snapshots that failed to load, newest first, and why.
  std::vector<Skipped> skipped;
};

struct SnapshotPurge {
  // The oldest snapshot kept: the txn log can drop segments before it
  // (TxnLog::purge_segments_before). nullopt when the store is empty.
  std::optional<int64_t> oldest_retained_zxid;
  std::vector<int64_t> removed;  // zxids of the snapshots deleted
};

class SnapshotStore {
 public:
  // purge() keeps at least this many, as ZooKeeper's autopurge.snapRetainCount.
  static constexpr std::size_t kMinRetainCount = 3;

  virtual ~SnapshotStore() = default;

  // The zxids of the stored snapshots, newest first.
  virtual std::vector<int64_t> list() const = 0;

  // Starts a snapshot of the state as of `zxid`.
  virtual std::unique_ptr<SnapshotSink> begin(int64_t zxid) = 0;

  // Loads the newest snapshot that reads back whole, trying older ones when a
  // newer one is corrupt (each skip is reported in the result and on stderr).
  // Throws CorruptionError when snapshots exist but none is valid: starting
  // empty could silently lose the state they held.
  virtual SnapshotLoad load_newest_valid(const SnapshotCallbacks& callbacks) = 0;

  // Deletes all but the newest `retain_count` snapshots. retain_count must be
  // at least kMinRetainCount (else std::invalid_argument).
  SnapshotPurge purge(std::size_t retain_count);

 protected:
  // Deletes one snapshot (purge() decides which).
  virtual void remove_snapshot(int64_t zxid) = 0;
  // Called once after purge() removed at least one (e.g. to sync the directory).
  virtual void after_removal() {}
};

}  // namespace corral::storage
