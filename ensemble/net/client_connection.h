// One client socket: reads frames into the core, writes what the core sends.
//
// Replies queue in one buffer while a write is in flight and go out together
// in the next write, so a burst of pipelined requests costs one syscall per
// batch, not per reply. Before the handshake the first four bytes may be a
// four-letter word instead of a frame length. While the core finishes a
// handshake the connection stops handing frames over (ZooKeeper's
// disableRecv), keeping what arrives for when the session exists.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "corral/asio.h"
#include "corral/wire/frame.h"

namespace corral::ensemble {

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  struct Handler {
    // A whole frame; false means stop handing frames over (a handshake is pending).
    std::function<bool(uint64_t id, std::string_view frame)> on_frame;
    // The first four bytes spelled a four-letter word; returns the reply text.
    std::function<std::string(uint64_t id, std::string_view word)> on_four_letter_word;
    // The connection is gone (peer closed, error, or close() finished).
    std::function<void(uint64_t id)> on_closed;
    // A line for the server log.
    std::function<void(const std::string&)> log;
  };

  ClientConnection(uint64_t id, asio::ip::tcp::socket socket, std::size_t max_frame, Handler& handler);

  void start();
  void send(std::string bytes);
  // Closes once everything queued is written.
  void close();
  // The core finished the handshake: hand over the frames held meanwhile.
  void resume();
  uint64_t id() const { return id_; }
  const std::string& remote_ip() const { return remote_ip_; }
  // "ip:port" (IPv6 in brackets), as ZooKeeper's cons/stat show a client.
  const std::string& remote_address() const { return remote_address_; }
  std::size_t pending_output() const { return out_.size() + writing_.size(); }

 private:
  void read();
  void process();
  void write();
  void shutdown();

  uint64_t id_;
  asio::ip::tcp::socket socket_;
  wire::FrameDecoder decoder_;
  Handler& handler_;
  std::string remote_ip_;
  std::string remote_address_;
  std::string out_;
  std::string writing_;
  bool reading_ = false;
  bool paused_ = false;
  bool saw_first_frame_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace corral::ensemble
