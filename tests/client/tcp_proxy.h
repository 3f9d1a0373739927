// A loopback TCP proxy a test controls, to take a client off the network
// while its server keeps running: the client connects to the proxy, the
// proxy forwards every connection to the server. set_refusing(true) plus
// drop_all() keeps the client away (each connection it makes is accepted and
// closed at once) until set_refusing(false). Runs its own thread and its own
// io_context, independent of the runtime under test; every control call
// returns once the proxy thread has acted on it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace corral {
class Client;
}  // namespace corral

namespace corral::test {

class TcpProxy {
 public:
  // Listens on 127.0.0.1 (a port the kernel picks) and forwards to
  // 127.0.0.1:`target_port`.
  explicit TcpProxy(uint16_t target_port);
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

// Takes `client` (connected through `proxy`) off the network: the proxy
// refuses it until set_refusing(false). True once the client noticed
// (suspended), from one of the client's fibers; false if it did not within
// the default timeout.
bool cut_off(TcpProxy& proxy, const Client& client);

}  // namespace corral::test
