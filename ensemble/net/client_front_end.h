// The client side of a server: the listening socket, every client connection,
// maxClientCnxns per address, globalOutstandingLimit throttling, the
// four-letter words, and carrying out a ServerCore's client effects.
//
// The owner feeds it nothing but effects: after each input it gives the core
// (a frame, a closed connection) it calls `after_input`, whose job is to take
// the core's effects, do what the owner must (log appends, forwarding to a
// leader) and hand the client part back through apply().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "corral/asio.h"
#include "ensemble/config/config.h"
#include "ensemble/core/server_core.h"
#include "ensemble/net/client_connection.h"

namespace corral::ensemble {

class ClientFrontEnd {
 public:
  struct Hooks {
    std::function<void()> after_input;
    // The text for a four-letter word.
    std::function<std::string(std::string_view word)> four_letter_word;
  };

  ClientFrontEnd(asio::io_context& io, const ServerConfig& config, ServerCore& core, Hooks hooks);

  void listen(const std::string& role_for_log);
  void start_accepting();
  uint16_t port() const;
  // Sends, closes and resumes as the core asked; writes its log lines.
  void apply(Effects& effects);
  // globalOutstandingLimit: resumes clients stopped while too much was outstanding.
  void resume_throttled();
  void close_all();
  // "ip:port" of a connection, for cons/stat.
  std::string remote_address(uint64_t conn) const;
  std::size_t connection_count() const { return connections_.size(); }

 private:
  void accept();
  void on_accepted(asio::ip::tcp::socket socket);
  bool on_frame(uint64_t conn, std::string_view frame);
  void on_closed(uint64_t conn);
  bool over_outstanding_limit() const;

  const ServerConfig& config_;
  ServerCore& core_;
  Hooks hooks_;
  asio::ip::tcp::acceptor acceptor_;
  ClientConnection::Handler handler_;
  std::unordered_map<uint64_t, std::shared_ptr<ClientConnection>> connections_;
  std::unordered_map<uint64_t, bool> awaiting_handshake_;
  std::unordered_set<uint64_t> throttled_;  // stopped reading: too many txns outstanding
  std::map<std::string, int> per_ip_;
  uint64_t next_conn_ = 1;
  bool stopping_ = false;
};

}  // namespace corral::ensemble
