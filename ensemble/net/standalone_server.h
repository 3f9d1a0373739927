// corral-server in standalone mode: the shell around ServerCore.
//
// Threads: one thread runs the io_context, which owns the core, the listening
// socket and every client connection; the storage thread (GroupCommitLog)
// appends and fsyncs txns and posts "durable up to zxid Z" back. Snapshots are
// written by a forked child (DataStore): fork() gives it a copy-on-write image
// of the tree exactly as of the last applied zxid, so the server stops only
// for the fork itself and no replay idempotency tricks are needed, unlike
// ZooKeeper's fuzzy snapshots.
#pragma once

#include <cstdint>
#include <string>

#include "corral/asio.h"
#include "ensemble/config/config.h"
#include "ensemble/core/server_core.h"
#include "ensemble/net/client_front_end.h"
#include "ensemble/net/data_store.h"

namespace corral::ensemble {

class StandaloneServer {
 public:
  explicit StandaloneServer(ServerConfig config);

  // Loads the newest valid snapshot and replays the log. Throws on
  // unrecoverable storage errors (with a message naming the file).
  void recover();
  // Binds the client port; throws if it cannot.
  void listen();
  // Serves until SIGTERM/SIGINT.
  void run();
  uint16_t port() const { return front_.port(); }

 private:
  void after_input();
  void on_synced(int64_t zxid);
  std::string on_four_letter_word(std::string_view word);
  void schedule_tick();

  ServerConfig config_;
  ServerCore core_;
  asio::io_context io_;
  DataStore store_;
  ClientFrontEnd front_;
  asio::signal_set signals_;
  asio::steady_timer tick_timer_;
  bool stopping_ = false;
};

}  // namespace corral::ensemble
