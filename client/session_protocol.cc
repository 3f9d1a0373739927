#include "client/session_protocol.h"

#include "client/connect_string.h"
#include "corral/wire/error.h"
#include "corral/wire/jute.h"

namespace corral {

namespace {

// A request frame: length, header, then the record (if any).
template <class... Record>
std::string framed_request(int32_t xid, wire::OpCode op, const Record&... record) {
  std::string out(4, '\0');
  wire::JuteWriter w(out);
  wire::encode(w, wire::RequestHeader{xid, static_cast<int32_t>(op)});
  (wire::encode(w, record), ...);
  w.patch_i32(0, static_cast<int32_t>(out.size() - 4));
  return out;
}

std::error_code code_of(int32_t err) { return static_cast<Error>(err); }

std::string auth_frame(const std::string& scheme, const std::string& credentials) {
  return framed_request(wire::xid::auth, wire::OpCode::auth, wire::AuthPacket{0, scheme, credentials});
}

}  // namespace

SessionProtocol::SessionProtocol(std::string chroot, int64_t session_id, std::string password)
    : chroot_(std::move(chroot)), session_id_(session_id), password_(std::move(password)) {
  if (password_.empty()) password_.assign(16, '\0');
}

void SessionProtocol::forget_session() {
  session_id_ = 0;
  password_.assign(16, '\0');
  last_zxid_ = 0;
}

std::string SessionProtocol::connect_request(int32_t session_timeout_ms) const {
  const wire::ConnectRequest req{0, last_zxid_, session_timeout_ms, session_id_, password_, false, true};
  std::string frame(4, '\0');
  wire::JuteWriter w(frame);
  wire::encode(w, req);
  w.patch_i32(0, static_cast<int32_t>(frame.size() - 4));
  return frame;
}

SessionProtocol::Handshake SessionProtocol::on_connect_response(std::string_view frame) {
  wire::ConnectResponse resp;
  if (!wire::decode_from(frame, resp)) return Handshake::failed;
  if (resp.timeOut <= 0) return Handshake::expired;
  session_id_ = resp.sessionId;
  password_ = resp.passwd;
  negotiated_ms_ = resp.timeOut;
  return Handshake::ok;
}

std::string SessionProtocol::submit(wire::OpCode op, std::string_view payload, Completion complete, Failure fail,
                                    bool send_now) {
  const int32_t xid = next_xid_++;
  std::string frame(4, '\0');
  {
    wire::JuteWriter w(frame);
    wire::encode(w, wire::RequestHeader{xid, static_cast<int32_t>(op)});
    w.raw(payload);
    w.patch_i32(0, static_cast<int32_t>(frame.size() - 4));
  }
  Pending p{xid, op, std::move(complete), std::move(fail)};
  if (send_now) {
    sent_.push_back(std::move(p));
    return frame;
  }
  queued_.emplace_back(std::move(p), std::move(frame));
  return {};
}

void SessionProtocol::remember_auth(std::string scheme, std::string credentials) {
  auths_.emplace_back(std::move(scheme), std::move(credentials));
}

std::string SessionProtocol::submit_auth(const std::string& scheme, const std::string& credentials, Failure done,
                                         bool send_now) {
  auth_waiters_.push_back(std::move(done));
  return send_now ? auth_frame(scheme, credentials) : std::string();
}

std::vector<std::string> SessionProtocol::on_connected() {
  std::vector<std::string> frames;
  if (!watches_.empty()) {
    // As ZooKeeper's own client (SET_WATCHES_MAX_LENGTH): one packet for
    // many watches would exceed the server's jute.maxbuffer, and the server
    // would drop every connection the client makes.
    constexpr std::size_t max_batch_bytes = std::size_t{128} * 1024;
    const wire::SetWatches2 all = watches_.registration(last_zxid_);
    wire::SetWatches2 batch;
    std::size_t bytes = 0;
    const auto send = [&] {
      batch.relativeZxid = all.relativeZxid;
      frames.push_back(framed_request(wire::xid::set_watches, wire::OpCode::setWatches2, batch));
      batch = {};
      bytes = 0;
    };
    using List = std::vector<std::string> wire::SetWatches2::*;
    for (List list :
         {&wire::SetWatches2::dataWatches, &wire::SetWatches2::existWatches, &wire::SetWatches2::childWatches,
          &wire::SetWatches2::persistentWatches, &wire::SetWatches2::persistentRecursiveWatches}) {
      for (const auto& p : all.*list) {
        std::string sp = server_path(p);
        bytes += sp.size() + 4;
        (batch.*list).push_back(std::move(sp));
        if (bytes >= max_batch_bytes) send();
      }
    }
    if (bytes > 0) send();
  }
  for (const auto& [scheme, credentials] : auths_) frames.push_back(auth_frame(scheme, credentials));
  auto queued = std::move(queued_);
  queued_.clear();
  for (auto& [p, frame] : queued) {
    sent_.push_back(std::move(p));
    frames.push_back(std::move(frame));
  }
  return frames;
}

std::string SessionProtocol::ping_request() { return framed_request(wire::xid::ping, wire::OpCode::ping); }

SessionProtocol::Frame SessionProtocol::on_frame(std::string_view frame, Fired& fired) {
  wire::JuteReader r(frame);
  wire::ReplyHeader h;
  wire::decode(r, h);
  if (!r.ok()) return Frame::protocol_error;
  const std::string_view body = frame.substr(r.position());
  switch (h.xid) {
    case wire::xid::notification: {
      wire::WatcherEvent e;
      if (!wire::decode_from(body, e)) return Frame::protocol_error;
      const WatchedEvent event{static_cast<wire::EventType>(e.type), static_cast<wire::KeeperState>(e.state),
                               client_path(e.path)};
      for (auto& w : watches_.take(event)) fired.emplace_back(std::move(w), event);
      return Frame::ok;
    }
    case wire::xid::ping:
    case wire::xid::set_watches: return Frame::ok;
    case wire::xid::auth: {
      Failure waiter;
      if (!auth_waiters_.empty()) {
        waiter = std::move(auth_waiters_.front());
        auth_waiters_.pop_front();
      }
      if (waiter) waiter(code_of(h.err));
      return h.err == 0 ? Frame::ok : Frame::auth_failed;
    }
    default: break;
  }
  if (sent_.empty() || sent_.front().xid != h.xid) return Frame::protocol_error;  // replies come in request order
  Pending p = std::move(sent_.front());
  sent_.pop_front();
  if (h.zxid > 0) last_zxid_ = h.zxid;
  p.complete(h, body);
  return Frame::ok;
}

void SessionProtocol::fail_all(std::error_code ec) {
  auto sent = std::move(sent_);
  auto queued = std::move(queued_);
  auto waiters = std::move(auth_waiters_);
  sent_.clear();
  queued_.clear();
  auth_waiters_.clear();
  for (auto& p : sent) p.fail(ec);
  for (auto& [p, frame] : queued) p.fail(ec);
  for (auto& w : waiters) w(ec);
}

void SessionProtocol::fail_queued(std::error_code ec) {
  auto queued = std::move(queued_);
  queued_.clear();
  for (auto& [p, frame] : queued) p.fail(ec);
}

void SessionProtocol::fire_all(wire::KeeperState state, Fired& fired) {
  const WatchedEvent event{wire::EventType::none, state, {}};
  for (auto& w : watches_.take_all()) fired.emplace_back(std::move(w), event);
}

std::string SessionProtocol::server_path(std::string_view path) const { return to_server_path(chroot_, path); }
std::string SessionProtocol::client_path(std::string_view path) const { return to_client_path(chroot_, path); }

}  // namespace corral
