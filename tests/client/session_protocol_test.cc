// SessionProtocol, the client's protocol core, driven frame by frame with no
// socket and no fiber: the handshake, requests sent now or kept for the next
// connection, replies matched in order, notifications through the chroot,
// what a new connection sends first (watches in bounded packets, credentials,
// queued requests), auth failures, and failing everything at once.
#include "client/session_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corral/wire/error.h"
#include "corral/wire/jute.h"

namespace corral {
namespace {

using wire::OpCode;

// A frame the client wrote: its length prefix checked and removed.
std::string body_of(const std::string& frame) {
  EXPECT_GE(frame.size(), 4u);
  wire::JuteReader r(frame);
  const int32_t length = r.i32();
  EXPECT_EQ(static_cast<std::size_t>(length), frame.size() - 4);
  return frame.substr(4);
}

wire::RequestHeader header_of(const std::string& frame) {
  wire::RequestHeader h;
  const std::string body = body_of(frame);
  wire::JuteReader r(body);
  wire::decode(r, h);
  EXPECT_TRUE(r.ok());
  return h;
}

// A server's reply (without the length prefix, as the shell hands it over).
template <class... Record>
std::string reply(int32_t xid, int64_t zxid, Error err, const Record&... record) {
  std::string out;
  wire::JuteWriter w(out);
  wire::encode(w, wire::ReplyHeader{xid, zxid, static_cast<int32_t>(err)});
  (wire::encode(w, record), ...);
  return out;
}

std::string notification(wire::EventType type, const std::string& server_path) {
  return reply(wire::xid::notification, -1, Error::ok,
               wire::WatcherEvent{static_cast<int32_t>(type), static_cast<int32_t>(wire::KeeperState::syncConnected),
                                  server_path});
}

// Records what the callbacks of one request heard.
struct Outcome {
  bool replied = false;
  int32_t err = 0;
  std::string body;
  std::error_code failed;
  SessionProtocol::Completion complete() {
    return [this](const wire::ReplyHeader& h, std::string_view b) {
      replied = true;
      err = h.err;
      body = std::string(b);
    };
  }
  SessionProtocol::Failure fail() {
    return [this](std::error_code ec) { failed = ec; };
  }
};

SessionProtocol connected_protocol(std::string chroot = {}) {
  SessionProtocol p(std::move(chroot), 0, {});
  EXPECT_EQ(
      p.on_connect_response(wire::encode_to_string(wire::ConnectResponse{0, 6000, 0x1234, "pw-16-bytes-long", false})),
      SessionProtocol::Handshake::ok);
  return p;
}

TEST(SessionProtocol, TheHandshakeResumesTheSessionAndTakesWhatTheServerGave) {
  SessionProtocol p({}, 0x77, "secret-password!");
  wire::ConnectRequest req;
  ASSERT_TRUE(wire::decode_from(body_of(p.connect_request(10000)), req));
  EXPECT_EQ(req.sessionId, 0x77);
  EXPECT_EQ(req.passwd, "secret-password!");
  EXPECT_EQ(req.timeOut, 10000);
  EXPECT_EQ(req.lastZxidSeen, 0);

  EXPECT_EQ(
      p.on_connect_response(wire::encode_to_string(wire::ConnectResponse{0, 4000, 0x77, "new-password-16b", false})),
      SessionProtocol::Handshake::ok);
  EXPECT_EQ(p.session_id(), 0x77);
  EXPECT_EQ(p.password(), "new-password-16b");
  EXPECT_EQ(p.negotiated_ms(), 4000);
  // A timeout of 0: the session is gone. Garbage: not a handshake.
  EXPECT_EQ(p.on_connect_response(wire::encode_to_string(wire::ConnectResponse{0, 0, 0, std::string(16, '\0'), false})),
            SessionProtocol::Handshake::expired);
  EXPECT_EQ(p.on_connect_response("\x01"), SessionProtocol::Handshake::failed);

  p.forget_session();
  ASSERT_TRUE(wire::decode_from(body_of(p.connect_request(10000)), req));
  EXPECT_EQ(req.sessionId, 0);
  EXPECT_EQ(req.passwd, std::string(16, '\0'));
}

TEST(SessionProtocol, RepliesCompleteRequestsInOrderAndAdvanceTheZxid) {
  auto p = connected_protocol();
  Outcome a, b;
  const std::string fa = p.submit(OpCode::getData, "payload-a", a.complete(), a.fail(), true);
  const std::string fb = p.submit(OpCode::exists, "payload-b", b.complete(), b.fail(), true);
  const auto ha = header_of(fa), hb = header_of(fb);
  EXPECT_EQ(ha.type, static_cast<int32_t>(OpCode::getData));
  EXPECT_EQ(hb.xid, ha.xid + 1);
  EXPECT_EQ(body_of(fa).substr(8), "payload-a");

  SessionProtocol::Fired fired;
  EXPECT_EQ(p.on_frame(reply(ha.xid, 41, Error::ok, std::string("data")), fired), SessionProtocol::Frame::ok);
  EXPECT_TRUE(a.replied);
  EXPECT_FALSE(b.replied);
  EXPECT_EQ(p.last_zxid(), 41);
  EXPECT_EQ(p.on_frame(reply(hb.xid, 42, Error::noNode), fired), SessionProtocol::Frame::ok);
  EXPECT_EQ(b.err, static_cast<int32_t>(Error::noNode));
  EXPECT_EQ(p.last_zxid(), 42);
  EXPECT_TRUE(fired.empty());
}

TEST(SessionProtocol, AReplyOutOfOrderIsAProtocolError) {
  auto p = connected_protocol();
  Outcome a, b;
  p.submit(OpCode::getData, {}, a.complete(), a.fail(), true);
  const auto hb = header_of(p.submit(OpCode::getData, {}, b.complete(), b.fail(), true));
  SessionProtocol::Fired fired;
  EXPECT_EQ(p.on_frame(reply(hb.xid, 1, Error::ok), fired), SessionProtocol::Frame::protocol_error);
  EXPECT_EQ(p.on_frame("\x00\x01", fired), SessionProtocol::Frame::protocol_error);
  EXPECT_FALSE(a.replied || b.replied);
  // Pings and the watch re-registration's answer are not replies to requests.
  EXPECT_EQ(p.on_frame(reply(wire::xid::ping, 0, Error::ok), fired), SessionProtocol::Frame::ok);
  EXPECT_EQ(p.on_frame(reply(wire::xid::set_watches, 0, Error::ok), fired), SessionProtocol::Frame::ok);
}

TEST(SessionProtocol, NotificationsFireWatchesWithTheClientsPath) {
  auto p = connected_protocol("/app");
  std::vector<std::string> heard;
  p.watches().add(WatchKind::data, "/node", [&](const WatchedEvent& e) { heard.push_back(e.path); });
  SessionProtocol::Fired fired;
  EXPECT_EQ(p.on_frame(notification(wire::EventType::nodeDataChanged, "/app/node"), fired), SessionProtocol::Frame::ok);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].second.path, "/node");
  EXPECT_EQ(fired[0].second.type, wire::EventType::nodeDataChanged);
  fired[0].first(fired[0].second);
  EXPECT_EQ(heard, std::vector<std::string>{"/node"});
  fired.clear();
  EXPECT_EQ(p.on_frame(notification(wire::EventType::nodeDataChanged, "/app/node"), fired), SessionProtocol::Frame::ok);
  EXPECT_TRUE(fired.empty()) << "a one-time watch fired twice";
  EXPECT_EQ(p.server_path("/x"), "/app/x");
}

TEST(SessionProtocol, ANewConnectionSendsWatchesThenCredentialsThenWhatWaited) {
  SessionProtocol p({}, 0, {});
  p.watches().add(WatchKind::child, "/kids", [](const WatchedEvent&) {});
  p.remember_auth("digest", "u:p");
  Outcome waited;
  EXPECT_EQ(p.submit(OpCode::create, "c", waited.complete(), waited.fail(), false), "") << "sent while away";

  const auto frames = p.on_connected();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(header_of(frames[0]).xid, wire::xid::set_watches);
  EXPECT_EQ(header_of(frames[0]).type, static_cast<int32_t>(OpCode::setWatches2));
  EXPECT_EQ(header_of(frames[1]).xid, wire::xid::auth);
  const auto queued = header_of(frames[2]);
  EXPECT_EQ(queued.type, static_cast<int32_t>(OpCode::create));
  // Now it awaits its reply.
  SessionProtocol::Fired fired;
  EXPECT_EQ(p.on_frame(reply(queued.xid, 5, Error::ok), fired), SessionProtocol::Frame::ok);
  EXPECT_TRUE(waited.replied);
  EXPECT_TRUE(p.on_connected().size() == 2u) << "watches and credentials again, nothing else";
}

TEST(SessionProtocol, ManyWatchesGoInPacketsOfAbout128KiB) {
  SessionProtocol p({}, 0, {});
  const std::string long_name(1000, 'x');
  for (int i = 0; i < 400; ++i)
    p.watches().add(WatchKind::data, "/" + long_name + std::to_string(i), [](const WatchedEvent&) {});
  const auto frames = p.on_connected();
  ASSERT_EQ(frames.size(), 4u);  // 400 paths of ~1 KiB
  std::size_t paths = 0;
  for (const auto& f : frames) {
    EXPECT_LT(f.size(), std::size_t{130} * 1024);
    const std::string body = body_of(f);
    wire::JuteReader r(body);
    wire::RequestHeader h;
    wire::SetWatches2 sw;
    wire::decode(r, h);
    wire::decode(r, sw);
    ASSERT_TRUE(r.ok());
    paths += sw.dataWatches.size();
  }
  EXPECT_EQ(paths, 400u);
}

TEST(SessionProtocol, AnAuthFailureIsToldToItsWaiter) {
  auto p = connected_protocol();
  std::error_code first = Error::systemError, second = Error::systemError;
  const std::string frame = p.submit_auth(
      "digest", "u:p", [&](std::error_code ec) { first = ec; }, true);
  EXPECT_EQ(header_of(frame).xid, wire::xid::auth);
  EXPECT_EQ(p.submit_auth(
                 "digest", "u:bad", [&](std::error_code ec) { second = ec; }, true)
                .empty(),
            false);
  SessionProtocol::Fired fired;
  EXPECT_EQ(p.on_frame(reply(wire::xid::auth, 0, Error::ok), fired), SessionProtocol::Frame::ok);
  EXPECT_FALSE(first);
  EXPECT_EQ(p.on_frame(reply(wire::xid::auth, 0, Error::authFailed), fired), SessionProtocol::Frame::auth_failed);
  EXPECT_EQ(second, Error::authFailed);
}

TEST(SessionProtocol, FailAllFailsSentWaitingAndAuthAndFireAllEndsEveryWatch) {
  auto p = connected_protocol();
  Outcome sent, waiting;
  std::error_code auth = Error::ok;
  p.submit(OpCode::getData, {}, sent.complete(), sent.fail(), true);
  p.submit(OpCode::getData, {}, waiting.complete(), waiting.fail(), false);
  p.submit_auth(
      "digest", "u:p", [&](std::error_code ec) { auth = ec; }, true);
  p.fail_all(Error::sessionExpired);
  EXPECT_EQ(sent.failed, Error::sessionExpired);
  EXPECT_EQ(waiting.failed, Error::sessionExpired);
  EXPECT_EQ(auth, Error::sessionExpired);

  Outcome later;
  p.submit(OpCode::getData, {}, later.complete(), later.fail(), false);
  p.fail_queued(Error::connectionLoss);
  EXPECT_EQ(later.failed, Error::connectionLoss);

  p.watches().add(WatchKind::data, "/a", [](const WatchedEvent&) {});
  p.watches().add(WatchKind::child, "/b", [](const WatchedEvent&) {});
  SessionProtocol::Fired fired;
  p.fire_all(wire::KeeperState::expired, fired);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].second.type, wire::EventType::none);
  EXPECT_EQ(fired[0].second.state, wire::KeeperState::expired);
  EXPECT_TRUE(p.watches().empty());
}

}  // namespace
}  // namespace corral
