// The disk side of a server, shared by the standalone and the ensemble shell:
// recovery (newest valid snapshot + log replay into a ServerCore), the
// group-commit log thread, snapshots written by a forked child, autopurge, and
// for an ensemble the epoch files, log truncation and snapshot installation.
//
// Everything here runs on the io_context thread except the storage thread
// inside GroupCommitLog, whose "durable up to zxid Z" is posted back.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "corral/asio.h"
#include "ensemble/config/config.h"
#include "ensemble/core/server_core.h"
#include "ensemble/storage/file_snapshot.h"
#include "ensemble/storage/group_commit_log.h"

namespace corral::ensemble {

class DataStore {
 public:
  struct Hooks {
    std::function<void(int64_t zxid)> on_synced;             // on the io thread
    std::function<void(int64_t zxid, bool ok)> on_snapshot;  // a snapshot child finished
    std::function<void(const std::string&)> log;
  };

  DataStore(asio::io_context& io, const ServerConfig& config, Hooks hooks);
  ~DataStore();
  DataStore(const DataStore&) = delete;
  DataStore& operator=(const DataStore&) = delete;

  struct Recovery {
    int64_t snapshot_zxid = 0;
    uint64_t replayed = 0;
    bool had_snapshot = false;
  };
  // Loads the newest valid snapshot and replays the whole log after it into
  // `core` (which first forgets what it held); `each` sees every replayed txn.
  // Opens the log for appending (starts the storage thread) unless open.
  Recovery load(ServerCore& core, const std::function<void(const proto::Txn&)>& each = {});

  // Dropped after stop(): nothing is acknowledged any more.
  void append(proto::Txn txn) {  // NOLINT(performance-unnecessary-value-param): moved on to the log's queue
    if (log_) log_->submit(std::move(txn));
  }

  // Snapshots: a forked child writes the core's tree as it is now. One at a
  // time; false when one is already running.
  bool snapshot(const ServerCore& core);
  bool snapshot_running() const { return child_ > 0; }
  // After an apply: snapshot when snapCount (randomized like ZooKeeper's) txns passed.
  void maybe_snapshot(const ServerCore& core);
  std::filesystem::path snapshot_path(int64_t zxid) const { return snapshots_->path_of(zxid); }
  void start_purge_timer();

  // ---- ensemble ---------------------------------------------------------------
  // The acceptedEpoch / currentEpoch files in dataDir (0 when absent).
  int64_t read_epoch(const std::string& name) const;
  void write_epoch(const std::string& name, int64_t value);
  // The bytes of a snapshot file of the core as it is now (at its last
  // zxid), written in this process if there is none yet: what a leader
  // streams to a learner too far behind for a DIFF.
  std::string snapshot_file(const ServerCore& core);
  // Drops every logged txn after `zxid` and every newer snapshot, then reloads `core`.
  void truncate_and_reload(ServerCore& core, int64_t zxid);
  // Replaces log and snapshots with the leader's snapshot file `bytes` at `zxid`, then reloads `core`.
  void install_snapshot(ServerCore& core, int64_t zxid, const std::string& bytes);

  uint64_t data_dir_bytes() const;
  uint64_t log_dir_bytes() const;
  void stop();

 private:
  void open_log();
  void close_log();
  void watch_children();
  void purge();
  void write_snapshot(const ServerCore& core, int64_t zxid);

  asio::io_context& io_;
  const ServerConfig& config_;
  Hooks hooks_;
  std::unique_ptr<storage::FileSnapshotStore> snapshots_;
  std::unique_ptr<storage::GroupCommitLog> log_;
  asio::signal_set child_signal_;
  asio::steady_timer purge_timer_;
  pid_t child_ = -1;
  int64_t child_zxid_ = 0;
  uint64_t applied_at_last_snapshot_ = 0;
  uint64_t next_snapshot_after_ = 0;
  bool stopped_ = false;
};

}  // namespace corral::ensemble
