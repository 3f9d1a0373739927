#include "tests/support/raw_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "corral/wire/frame.h"
#include "tests/support/net.h"

namespace corral::test {

namespace {

int32_t be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3]);
}

}  // namespace

// ---- RawConnection ------------------------------------------------------------------

RawConnection::RawConnection(uint16_t port, milliseconds timeout, const std::string& source_ip)
    : fd_(connect_loopback(port, timeout, source_ip)) {
  if (fd_ < 0) throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
}

RawConnection::~RawConnection() { close(); }

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::send_bytes(std::string_view bytes) {
  while (!bytes.empty()) {
    if (fd_ < 0) return false;
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawConnection::send_frame(std::string_view payload) {
  std::string out;
  wire::append_frame(out, payload);
  return send_bytes(out);
}

RawConnection::Read RawConnection::read_frame(std::string& out, milliseconds timeout) {
  const Deadline deadline(timeout);
  for (;;) {
    if (buf_.size() >= 4) {
      const int32_t len = be32(buf_.data());
      if (len < 0) return Read::closed;  // not a frame we can follow; treat as a broken stream
      if (buf_.size() >= 4 + static_cast<std::size_t>(len)) {
        out.assign(buf_, 4, static_cast<std::size_t>(len));
        buf_.erase(0, 4 + static_cast<std::size_t>(len));
        return Read::frame;
      }
    }
    if (fd_ < 0) return Read::closed;
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(deadline.remaining().count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return Read::timeout;
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Read::closed;
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool RawConnection::wait_closed(milliseconds timeout) {
  const Deadline deadline(timeout);
  buf_.clear();
  for (;;) {
    if (fd_ < 0) return true;
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(deadline.remaining().count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return false;
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
  }
}

// ---- frames ---------------------------------------------------------------------------

std::string request_frame(int32_t xid, wire::OpCode op, std::string_view payload) {
  std::string body = wire::encode_to_string(wire::RequestHeader{xid, static_cast<int32_t>(op)});
  body.append(payload);
  std::string out;
  wire::append_frame(out, body);
  return out;
}

std::string connect_frame(const wire::ConnectRequest& request) {
  std::string out;
  wire::append_frame(out, wire::encode_to_string(request));
  return out;
}

// ---- RawSession ---------------------------------------------------------------------------

RawSession::RawSession(uint16_t port, Options options, milliseconds timeout) : conn_(port, timeout, options.source_ip) {
  wire::ConnectRequest req;
  req.protocolVersion = 0;
  req.lastZxidSeen = options.last_zxid_seen;
  req.timeOut = options.timeout_ms;
  req.sessionId = options.session_id;
  req.passwd = options.password.empty() ? std::string(16, '\0') : options.password;
  if (!conn_.send_bytes(connect_frame(req))) throw std::runtime_error("connect request not sent");
  std::string frame;
  const auto got = conn_.read_frame(frame, timeout);
  if (got != RawConnection::Read::frame) {
    throw std::runtime_error(got == RawConnection::Read::closed ? "server closed the connection during the handshake"
                                                                : "no ConnectResponse before the deadline");
  }
  if (!wire::decode_from(frame, connect_)) throw std::runtime_error("malformed ConnectResponse");
}

int32_t RawSession::send_raw(wire::OpCode op, std::string_view payload) {
  const int32_t xid = next_xid_++;
  if (!conn_.send_bytes(request_frame(xid, op, payload))) closed_ = true;
  return xid;
}

RawSession::Got RawSession::read_one(Reply& reply, milliseconds timeout) {
  std::string frame;
  switch (conn_.read_frame(frame, timeout)) {
    case RawConnection::Read::closed: closed_ = true; return Got::closed;
    case RawConnection::Read::timeout: return Got::timeout;
    case RawConnection::Read::frame: break;
  }
  wire::JuteReader r(frame);
  wire::decode(r, reply.header);
  if (!r.ok()) throw std::runtime_error("malformed reply header");
  arrivals_.push_back(reply.header.xid);
  reply.body.assign(frame.substr(r.position()));
  if (reply.header.xid == wire::xid::notification) {
    wire::WatcherEvent event;
    if (!reply.decode(event)) throw std::runtime_error("malformed watch event");
    events_.push_back(std::move(event));
    return Got::event;
  }
  if (reply.header.zxid > last_zxid_) last_zxid_ = reply.header.zxid;
  return Got::reply;
}

std::optional<Reply> RawSession::read_reply(milliseconds timeout) {
  const Deadline deadline(timeout);
  for (;;) {
    Reply reply;
    switch (read_one(reply, deadline.remaining())) {
      case Got::reply: return reply;
      case Got::event: continue;
      case Got::closed:
      case Got::timeout: return std::nullopt;
    }
  }
}

Reply RawSession::call_raw(wire::OpCode op, std::string_view payload, milliseconds timeout) {
  const int32_t xid = send_raw(op, payload);
  auto reply = read_reply(timeout);
  if (!reply) {
    throw std::runtime_error("no reply to xid " + std::to_string(xid) +
                             (closed_ ? ": the server closed the connection" : ": deadline passed"));
  }
  if (reply->header.xid != xid) {
    throw std::runtime_error("reply for xid " + std::to_string(reply->header.xid) + " while waiting for " +
                             std::to_string(xid));
  }
  return *reply;
}

Reply RawSession::call_as_raw(int32_t xid, wire::OpCode op, std::string_view payload, milliseconds timeout) {
  if (!conn_.send_bytes(request_frame(xid, op, payload))) closed_ = true;
  auto reply = read_reply(timeout);
  if (!reply) {
    throw std::runtime_error("no reply to xid " + std::to_string(xid) +
                             (closed_ ? ": the server closed the connection" : ": deadline passed"));
  }
  if (reply->header.xid != xid) {
    throw std::runtime_error("reply for xid " + std::to_string(reply->header.xid) + " while waiting for " +
                             std::to_string(xid));
  }
  return *reply;
}

bool RawSession::ping(milliseconds timeout) {
  if (!conn_.send_bytes(request_frame(wire::xid::ping, wire::OpCode::ping, {}))) return false;
  auto reply = read_reply(timeout);
  return reply && reply->header.xid == wire::xid::ping;
}

std::optional<wire::WatcherEvent> RawSession::next_event(milliseconds timeout) {
  const Deadline deadline(timeout);
  while (events_.empty()) {
    Reply reply;
    const Got got = read_one(reply, deadline.remaining());
    if (got == Got::closed || got == Got::timeout) break;
    if (got == Got::reply)
      throw std::runtime_error("unexpected reply xid " + std::to_string(reply.header.xid) +
                               " while waiting for a watch event");
  }
  if (events_.empty()) return std::nullopt;
  auto e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace corral::test
