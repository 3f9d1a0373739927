// A loopback TCP proxy a test controls, to take a client off the network
// while its server keeps running: the client connects to the proxy, the
// proxy forwards every connection to the server. set_refusing(true) plus
// drop_all() keeps the client away (each connection it makes is accepted and
// closed at once) until set_refusing(false).
//
// Given a FrameInspector, the proxy reads the ZooKeeper protocol's framing (a
// 4-byte big-endian length, then the body) in both directions, shows the
// inspector every whole frame and forwards only those it keeps (WireTap
// counts and swallows replies that way). Without one it forwards bytes as
// they come.
//
// Runs its own thread and its own io_context, independent of the runtime
// under test; every control call returns once the proxy thread has acted on
// it. The inspector runs on the proxy thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace corral::test {

class TcpProxy {
 public:
  // `up`: client to server. `first`: the first frame of that direction of
  // the connection (the connect request or response). False drops the frame.
  using FrameInspector = std::function<bool(bool up, bool first, std::string_view body)>;

  // Listens on 127.0.0.1 (a port the kernel picks) and forwards to
  // 127.0.0.1:`target_port`.
  explicit TcpProxy(uint16_t target_port, FrameInspector inspector = {});
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  uint16_t port() const;
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port()); }

  // While refusing, new connections are closed as soon as they are accepted.
  void set_refusing(bool refusing);
  // Closes every connection being forwarded, both of its sockets.
  void drop_all();
  // Connections accepted and forwarded so far (refused ones not counted).
  int forwarded() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::test
