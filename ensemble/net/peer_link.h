// One TCP connection between two servers of an ensemble (election port or
// quorum port): frames of a 4-byte big-endian length and one protobuf message
// each, as quorum.proto describes.
//
// Writes queue while one is in flight and go out together. The owner closes a
// link with close(), after which it hears nothing more from it; a link that
// fails or that the other side closes reports on_closed once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "corral/asio.h"
#include "corral/wire/frame.h"

namespace corral::ensemble {

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  struct Handler {
    std::function<void()> on_connected;  // outgoing links only
    std::function<void(std::string_view frame)> on_frame;
    std::function<void()> on_closed;
  };

  // Frames this large carry snapshot chunks and big proposals.
  static constexpr std::size_t max_frame = 64u << 20;

  // An accepted connection; call start() once the handler is set.
  explicit PeerLink(asio::ip::tcp::socket socket);
  // An outgoing connection: sends queue until it is up.
  static std::shared_ptr<PeerLink> connect(asio::io_context& io, const asio::ip::tcp::endpoint& to, Handler handler);

  void set_handler(Handler handler) { handler_ = std::move(handler); }
  void start();
  void send(std::string_view message);
  // Stops reading and writing at once; no callback follows.
  void close();
  bool is_open() const { return !closed_; }

 private:
  void read();
  void write();
  void fail();

  asio::ip::tcp::socket socket_;
  wire::FrameDecoder decoder_{max_frame};
  Handler handler_;
  std::string out_;
  std::string writing_;
  bool connected_ = true;
  bool closed_ = false;
};

}  // namespace corral::ensemble
