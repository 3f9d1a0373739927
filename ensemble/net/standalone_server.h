// corral-server in standalone mode: the shell around ServerCore.
//
// Threads: one thread runs the io_context, which owns the core, the listening
// socket and every client connection; the storage thread (GroupCommitLog)
// appends and fsyncs txns and posts "durable up to zxid Z" back. Snapshots are
// written by a forked child: fork() gives it a copy-on-write image of the tree
// exactly as of the last applied zxid, so the server stops only for the fork
// itself (page-table copy, milliseconds even for large trees) and no replay
// idempotency tricks are needed, unlike ZooKeeper's fuzzy snapshots.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "client/runtime/asio.h"
#include "ensemble/config/config.h"
#include "ensemble/core/server_core.h"
#include "ensemble/net/client_connection.h"
#include "ensemble/storage/file_snapshot.h"
#include "ensemble/storage/group_commit_log.h"

namespace corral::ensemble {

class StandaloneServer {
 public:
  explicit StandaloneServer(ServerConfig config);
  ~StandaloneServer();

  // Loads the newest valid snapshot and replays the log. Throws on
  // unrecoverable storage errors (with a message naming the file).
  void recover();
  // Binds the client port; throws if it cannot.
  void listen();
  // Serves until SIGTERM/SIGINT.
  void run();
  uint16_t port() const;

 private:
  void accept();
  void on_accepted(asio::ip::tcp::socket socket);
  bool on_frame(uint64_t conn, std::string_view frame);
  bool over_outstanding_limit() const;
  void resume_throttled();
  std::string on_four_letter_word(std::string_view word);
  void on_closed(uint64_t conn);
  void on_synced(int64_t zxid);
  void apply_effects();
  void schedule_tick();
  void schedule_purge();
  void maybe_snapshot();
  void start_snapshot();
  void reap_snapshot();
  void purge();
  int64_t now_ms() const;
  void log(const std::string& line) const;

  ServerConfig config_;
  ServerCore core_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::signal_set child_signal_;
  asio::steady_timer tick_timer_;
  asio::steady_timer purge_timer_;
  std::unique_ptr<storage::FileSnapshotStore> snapshots_;
  std::unique_ptr<storage::GroupCommitLog> log_;
  ClientConnection::Handler handler_;
  std::unordered_map<uint64_t, std::shared_ptr<ClientConnection>> connections_;
  std::unordered_map<uint64_t, bool> awaiting_handshake_;
  std::unordered_set<uint64_t> throttled_;  // stopped reading: too many txns outstanding
  std::map<std::string, int> per_ip_;
  uint64_t next_conn_ = 1;
  uint64_t applied_at_last_snapshot_ = 0;
  uint64_t next_snapshot_after_ = 0;
  pid_t snapshot_child_ = -1;
  int64_t snapshot_zxid_ = 0;
  bool stopping_ = false;
};

}  // namespace corral::ensemble
