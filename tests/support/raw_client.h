// A tiny synchronous ZooKeeper client over a plain socket, built on our codec,
// for what the official C client (3.8.0) cannot send: opcodes above 102
// (getEphemerals, getAllChildrenNumber, setWatches2, addWatch, whoAmI),
// multiRead, a single `check`, and deliberately bad bytes. Test-only: blocking
// I/O, every read bounded by a deadline, no reconnects, no pings unless asked.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/wire/error.h"
#include "corral/wire/protocol.h"
#include "corral/wire/records.h"
#include "tests/support/wait.h"

namespace corral::test {

// One TCP connection to 127.0.0.1:port, speaking length-prefixed frames.
class RawConnection {
 public:
  enum class Read { frame, closed, timeout };

  // Throws if the connection cannot be made within `timeout`. `source_ip`:
  // see connect_loopback().
  explicit RawConnection(uint16_t port, milliseconds timeout = default_timeout, const std::string& source_ip = {});
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Writes raw bytes; false if the peer has closed or reset the connection.
  bool send_bytes(std::string_view bytes);
  // Writes `payload` behind its 4-byte big-endian length.
  bool send_frame(std::string_view payload);
  // The next frame's payload into `out`, the peer's close, or the deadline.
  Read read_frame(std::string& out, milliseconds timeout = default_timeout);
  // Reads and drops whatever comes until the peer closes (true) or the
  // deadline passes (false).
  bool wait_closed(milliseconds timeout = default_timeout);
  void close();
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string buf_;  // bytes read but not yet handed out
};

// A reply: its header and the body that follows it.
struct Reply {
  wire::ReplyHeader header;
  std::string body;
  Error err() const { return static_cast<Error>(header.err); }
  // Decodes the body as T; false if it does not parse.
  template <class T>
  bool decode(T& out) const {
    return wire::decode_from(body, out);
  }
};

// A ZooKeeper session on a RawConnection. The constructor does the handshake;
// watch events that arrive while a reply is awaited are queued in arrival order.
class RawSession {
 public:
  struct Options {
    int32_t timeout_ms = 10000;
    int64_t session_id = 0;  // resume this session...
    std::string password;    // ...with this password
    int64_t last_zxid_seen = 0;
    std::string source_ip;  // connect from this loopback address (default 127.0.0.1)
  };

  // Connects and sends the ConnectRequest. Throws if the connection cannot be
  // made, or no ConnectResponse arrives by the deadline. A refused session
  // (timeOut 0 in the response) is not an error here: see connect_response().
  explicit RawSession(uint16_t port) : RawSession(port, Options{}) {}
  RawSession(uint16_t port, Options options, milliseconds timeout = default_timeout);

  const wire::ConnectResponse& connect_response() const { return connect_; }
  int64_t session_id() const { return connect_.sessionId; }
  const std::string& password() const { return connect_.passwd; }
  // The largest zxid seen in a reply header.
  int64_t last_zxid() const { return last_zxid_; }

  // Sends a request with the next xid and returns that xid (for pipelining).
  // `payload` is the encoded request record (any bytes, for bad-input tests).
  int32_t send_raw(wire::OpCode op, std::string_view payload);
  template <class T>
  int32_t send(wire::OpCode op, const T& record) {
    return send_raw(op, wire::encode_to_string(record));
  }
  // The next reply that is not a watch event; nullopt if the connection closed
  // or the deadline passed first (closed() tells which).
  std::optional<Reply> read_reply(milliseconds timeout = default_timeout);
  // send() then read_reply(); throws if no reply comes, or it answers another xid.
  Reply call_raw(wire::OpCode op, std::string_view payload, milliseconds timeout = default_timeout);
  template <class T>
  Reply call(wire::OpCode op, const T& record, milliseconds timeout = default_timeout) {
    return call_raw(op, wire::encode_to_string(record), timeout);
  }
  // call() with a given xid, as for setWatches (-8), which a client sends
  // with a reserved xid and the server answers with that xid.
  Reply call_as_raw(int32_t xid, wire::OpCode op, std::string_view payload, milliseconds timeout = default_timeout);
  template <class T>
  Reply call_as(int32_t xid, wire::OpCode op, const T& record, milliseconds timeout = default_timeout) {
    return call_as_raw(xid, op, wire::encode_to_string(record), timeout);
  }
  // Sends a ping (xid -2) and waits for its answer.
  bool ping(milliseconds timeout = default_timeout);

  // The oldest queued watch event, waiting for one up to `timeout`.
  std::optional<wire::WatcherEvent> next_event(milliseconds timeout = default_timeout);
  // Watch events received and not yet taken.
  std::deque<wire::WatcherEvent>& events() { return events_; }
  // Xids of every frame received since the handshake, in arrival order (watch
  // events show as -1): for ordering checks.
  const std::vector<int32_t>& arrivals() const { return arrivals_; }

  bool closed() const { return closed_; }
  RawConnection& connection() { return conn_; }

 private:
  // Reads one frame; a watch event is queued and reported as such.
  enum class Got { reply, event, closed, timeout };
  Got read_one(Reply& reply, milliseconds timeout);

  RawConnection conn_;
  wire::ConnectResponse connect_;
  int32_t next_xid_ = 1;
  int64_t last_zxid_ = 0;
  bool closed_ = false;
  std::deque<wire::WatcherEvent> events_;
  std::vector<int32_t> arrivals_;
};

// The bytes of a framed request: [length][xid][type][payload].
std::string request_frame(int32_t xid, wire::OpCode op, std::string_view payload);
// The bytes of a framed ConnectRequest.
std::string connect_frame(const wire::ConnectRequest& request);

}  // namespace corral::test
