// A loopback proxy that reads the ZooKeeper protocol going through it, for
// tests that must see what a client did on the wire: how many requests of
// each kind it sent and how many watch notifications the server delivered to
// it (herd-freedom: a release must wake exactly one waiter), and that can
// make a reply go missing (a create that reached the server but whose reply
// never came back).
//
//   WireTap tap(server.port());
//   ClientOptions o; o.connect_string = tap.host_port();   // client -> tap -> server
//   ... tap.requests(OpCode::getChildren2), tap.notifications() ...
//
// Frames are parsed in both directions (4-byte length, then the connect
// request/response, then request headers (xid, type) up and reply headers
// (xid, zxid, err) down; a notification is a reply with xid -1) and forwarded
// whole (a TcpProxy with a frame inspector). Counts are over every
// connection the tap has forwarded (a client that reconnects through it is
// counted on). Pings (xid -2) are not counted, so that a test does not depend
// on the idle timer. Runs its own thread; every call is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "corral/wire/protocol.h"
#include "tests/support/tcp_proxy.h"

namespace corral::test {

class WireTap {
 public:
  explicit WireTap(uint16_t target_port);
  WireTap(const WireTap&) = delete;
  WireTap& operator=(const WireTap&) = delete;

  std::string host_port() const { return proxy_.host_port(); }

  // Requests sent by the client, by opcode (pings and the connect request excluded).
  int requests(wire::OpCode op) const;
  int requests() const;
  // Replies that reached the client (pings and notifications excluded).
  int replies() const;
  // Requests still waiting for their reply.
  int outstanding() const;
  // Watch notifications delivered to the client, and their paths in order.
  int notifications() const;
  std::vector<std::string> notified_paths() const;

  // While on, replies (not notifications, not pings) are dropped instead of
  // forwarded; the requests they answer were applied by the server.
  void set_swallow_replies(bool on);
  int swallowed() const;
  // Closes every forwarded connection (the client sees connectionLoss and reconnects).
  void drop_all() { proxy_.drop_all(); }

 private:
  bool inspect(bool up, bool first, std::string_view body);

  mutable std::mutex mutex_;
  std::map<int32_t, int> requests_;
  int replies_ = 0;
  int notifications_ = 0;
  int swallowed_ = 0;
  bool swallow_ = false;
  std::vector<std::string> notified_paths_;
  TcpProxy proxy_;  // last: its thread calls inspect() until it is gone
};

}  // namespace corral::test
