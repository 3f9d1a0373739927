// ServerCore end to end with no I/O: frames built with the wire codec go in,
// the test plays the storage role (synced) and the clock (tick), and the
// framed bytes that come out are decoded and checked against what a ZooKeeper
// 3.8 server would send (ZooKeeperServer, FinalRequestProcessor).
#include "ensemble/core/server_core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core_test_util.h"
#include "corral/wire/frame.h"

namespace corral::ensemble {
namespace {

using namespace coretest;
using wire::EventType;
using wire::OpCode;
namespace perms = wire::perms;

constexpr const char* alice_digest = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";  // alice:secret
constexpr const char* super_digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";  // super:test

// One thing the core told the shells to do, decoded.
struct Out {
  ConnId conn = 0;
  Effect::Kind kind = Effect::Kind::send;
  std::string payload;  // a sent frame without its length prefix

  bool is_send() const { return kind == Effect::Kind::send; }
  wire::ReplyHeader header() const {
    wire::ReplyHeader h;
    EXPECT_TRUE(wire::decode_from(payload, h));
    return h;
  }
  bool is_notification() const { return is_send() && payload.size() >= 16 && header().xid == wire::xid::notification; }
  std::string body() const { return payload.size() >= 16 ? payload.substr(16) : std::string(); }
  Error err() const { return static_cast<Error>(header().err); }
  template <class T>
  T as() const {
    T t{};
    EXPECT_TRUE(wire::decode_from(body(), t)) << "body does not decode";
    return t;
  }
  wire::WatcherEvent event() const { return as<wire::WatcherEvent>(); }
  wire::ConnectResponse connect_response() const {
    wire::ConnectResponse r;
    EXPECT_TRUE(wire::decode_from(payload, r));
    return r;
  }
};

struct Client {
  ConnId conn = 0;
  int64_t session = 0;
  std::string passwd;
  int32_t timeout = 0;
  int32_t next_xid = 1;
};

template <class T>
std::string request_frame(int32_t xid, OpCode op, const T& rec) {
  std::string out;
  wire::JuteWriter w(out);
  wire::encode(w, wire::RequestHeader{xid, static_cast<int32_t>(op)});
  wire::encode(w, rec);
  return out;
}

std::string header_only_frame(int32_t xid, int32_t type) {
  return wire::encode_to_string(wire::RequestHeader{xid, type});
}

std::string connect_frame(int32_t timeout, int64_t session = 0, std::string passwd = std::string(16, '\0'),
                          int64_t last_zxid = 0) {
  return wire::encode_to_string(wire::ConnectRequest{0, last_zxid, timeout, session, std::move(passwd), false, true});
}

class Server : public ::testing::Test {
 protected:
  static constexpr int64_t start_ms = 1'700'000'000'000;
  int64_t now = start_ms;
  std::unique_ptr<ServerCore> core;
  std::vector<Out> outs;
  std::vector<proto::Txn> log;
  std::vector<std::string> lines;
  int64_t logged = 0;  // highest zxid handed to "storage"
  ConnId next_conn = 1;

  static CoreConfig config() {
    CoreConfig c;
    c.tick_ms = 2000;
    c.min_session_timeout_ms = 4000;
    c.max_session_timeout_ms = 40000;
    c.container_check_interval_ms = 1000;
    c.server_id = 3;
    c.random_seed = 42;
    return c;
  }

  void SetUp() override { make(config()); }

  void make(CoreConfig c) {
    core = std::make_unique<ServerCore>(std::move(c));
    core->start(now);
  }

  // Moves the core's effects into outs/log, checking every frame's length prefix.
  void pump() {
    Effects e = core->take_effects();
    for (auto& t : e.log) {
      EXPECT_GT(t.zxid(), logged) << "txns reach the log in zxid order";
      logged = t.zxid();
      log.push_back(std::move(t));
    }
    for (auto& l : e.log_lines) lines.push_back(std::move(l));
    for (auto& f : e.io) {
      Out o{f.conn, f.kind, {}};
      if (f.kind == Effect::Kind::send) {
        wire::FrameDecoder d;
        d.append(f.bytes);
        std::string_view frame;
        EXPECT_EQ(d.next(frame), wire::FrameDecoder::Status::frame) << "a sent frame is not one whole frame";
        EXPECT_EQ(d.buffered(), 0u);
        o.payload = std::string(frame);
      } else {
        EXPECT_TRUE(f.bytes.empty());
      }
      outs.push_back(std::move(o));
    }
  }

  // The storage shell: everything logged so far is durable.
  void sync() {
    pump();
    core->synced(logged, now);
    pump();
  }

  void tick() {
    core->tick(now);
    pump();
  }

  std::vector<Out> take() { return std::exchange(outs, {}); }

  ConnId open(const std::string& ip = "127.0.0.1") {
    const ConnId c = next_conn++;
    core->connection_opened(c, ip, now);
    pump();
    return c;
  }

  void frame(ConnId conn, const std::string& bytes) {
    core->frame(conn, bytes, now);
    pump();
  }

  Client connect(int32_t timeout = 30000, const std::string& ip = "127.0.0.1") {
    Client c;
    c.conn = open(ip);
    frame(c.conn, connect_frame(timeout));
    sync();
    std::vector<Out> got;
    std::erase_if(outs, [&](const Out& o) {
      if (o.conn != c.conn) return false;
      got.push_back(o);
      return true;
    });
    EXPECT_EQ(got.size(), 2u);
    if (got.size() != 2) return c;
    EXPECT_TRUE(got[0].is_send());
    EXPECT_EQ(got[1].kind, Effect::Kind::resume_reading);
    const auto r = got[0].connect_response();
    c.session = r.sessionId;
    c.passwd = r.passwd;
    c.timeout = r.timeOut;
    return c;
  }

  template <class T>
  int32_t send(Client& c, OpCode op, const T& rec) {
    const int32_t xid = c.next_xid++;
    frame(c.conn, request_frame(xid, op, rec));
    return xid;
  }

  // The first reply to `xid` on `c`, taken out of `outs` (the rest stays).
  Out reply(const Client& c, int32_t xid) {
    for (std::size_t i = 0; i < outs.size(); ++i) {
      if (outs[i].conn == c.conn && outs[i].is_send() && outs[i].header().xid == xid) {
        Out o = outs[i];
        outs.erase(outs.begin() + static_cast<std::ptrdiff_t>(i));
        return o;
      }
    }
    ADD_FAILURE() << "no reply with xid " << xid << " on connection " << c.conn;
    return Out{c.conn, Effect::Kind::send, std::string(16, '\0')};
  }

  // Sends, makes everything durable, and returns the reply.
  template <class T>
  Out call(Client& c, OpCode op, const T& rec) {
    const int32_t xid = send(c, op, rec);
    sync();
    return reply(c, xid);
  }

  // A request with no record after its header (whoAmI, closeSession).
  Out call_bare(Client& c, OpCode op) {
    const int32_t xid = c.next_xid++;
    frame(c.conn, header_only_frame(xid, static_cast<int32_t>(op)));
    sync();
    return reply(c, xid);
  }

  // addauth: the reply comes at once, with the auth xid.
  Out auth(Client& c, const std::string& scheme, const std::string& credentials) {
    frame(c.conn, request_frame(wire::xid::auth, OpCode::auth, wire::AuthPacket{0, scheme, credentials}));
    return reply(c, wire::xid::auth);
  }

  Out create(Client& c, const std::string& path, const std::string& data = "",
             wire::CreateMode mode = wire::CreateMode::persistent, const wire::AclList& acl = open_acl(),
             OpCode op = OpCode::create) {
    return call(c, op, wire::CreateRequest{path, data, acl, static_cast<int32_t>(mode)});
  }

  std::vector<Out> sends_to(const std::vector<Out>& v, ConnId conn) {
    std::vector<Out> r;
    for (const auto& o : v) {
      if (o.conn == conn && o.is_send()) r.push_back(o);
    }
    return r;
  }

  bool closed(const std::vector<Out>& v, ConnId conn) {
    return std::any_of(v.begin(), v.end(),
                       [&](const Out& o) { return o.conn == conn && o.kind == Effect::Kind::close; });
  }
};

// ---- sessions ------------------------------------------------------------------------

TEST_F(Server, NewSessionIsAnsweredOnceItsTxnIsDurable) {
  const ConnId c = open();
  frame(c, connect_frame(30000));
  EXPECT_TRUE(outs.empty());  // nothing until the createSession txn is durable
  ASSERT_EQ(log.size(), 1u);
  ASSERT_EQ(log[0].ops_size(), 1);
  ASSERT_TRUE(log[0].ops(0).has_create_session());
  EXPECT_EQ(log[0].zxid(), 1);
  EXPECT_EQ(log[0].ops(0).create_session().timeout_ms(), 30000);
  EXPECT_EQ(core->session_count(), 0u);

  sync();
  const auto got = take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].conn, c);
  const auto r = got[0].connect_response();
  EXPECT_EQ(r.protocolVersion, 0);
  EXPECT_EQ(r.timeOut, 30000);
  EXPECT_EQ(r.sessionId, log[0].ops(0).create_session().session_id());
  EXPECT_EQ(r.sessionId >> 56, 3);  // the server id in the top byte
  EXPECT_EQ(r.passwd.size(), 16u);
  EXPECT_EQ(r.passwd, log[0].ops(0).create_session().password());
  EXPECT_FALSE(r.readOnly);
  EXPECT_EQ(got[1].kind, Effect::Kind::resume_reading);
  EXPECT_EQ(got[1].conn, c);
  EXPECT_EQ(core->session_count(), 1u);
  EXPECT_EQ(core->last_zxid(), 1);

  const Client other = connect();
  EXPECT_NE(other.session, r.sessionId);
  EXPECT_NE(other.passwd, r.passwd);
}

TEST_F(Server, SessionTimeoutIsClampedToTheConfiguredRange) {
  EXPECT_EQ(connect(1).timeout, 4000);
  EXPECT_EQ(connect(-5).timeout, 4000);
  EXPECT_EQ(connect(4000).timeout, 4000);
  EXPECT_EQ(connect(12345).timeout, 12345);
  EXPECT_EQ(connect(40000).timeout, 40000);
  EXPECT_EQ(connect(10'000'000).timeout, 40000);
}

TEST_F(Server, ResumingWithThePasswordMovesTheSession) {
  Client a = connect();
  ASSERT_EQ(create(a, "/e", "", wire::CreateMode::ephemeral).err(), Error::ok);
  const auto log_size = log.size();

  const ConnId c2 = open();
  frame(c2, connect_frame(9999, a.session, a.passwd, core->last_zxid()));
  EXPECT_EQ(log.size(), log_size);  // no txn for a resumption
  const auto got = take();
  EXPECT_TRUE(closed(got, a.conn));  // the old connection goes
  const auto to_new = sends_to(got, c2);
  ASSERT_EQ(to_new.size(), 1u);
  const auto r = to_new[0].connect_response();
  EXPECT_EQ(r.sessionId, a.session);
  EXPECT_EQ(r.passwd, a.passwd);
  EXPECT_EQ(r.timeOut, 9999);  // negotiated again, as reopenSession does
  EXPECT_TRUE(std::any_of(got.begin(), got.end(),
                          [&](const Out& o) { return o.conn == c2 && o.kind == Effect::Kind::resume_reading; }));

  Client b = a;
  b.conn = c2;
  const auto e = call(b, OpCode::exists, wire::ExistsRequest{"/e", false});
  EXPECT_EQ(e.err(), Error::ok);
  EXPECT_EQ(e.as<wire::ExistsResponse>().stat.ephemeralOwner, a.session);
  EXPECT_EQ(core->session_count(), 1u);
}

TEST_F(Server, ResumedSessionLivesByItsRenegotiatedTimeout) {
  Client a = connect(30000);
  const ConnId c2 = open();
  frame(c2, connect_frame(5000, a.session, a.passwd));
  EXPECT_EQ(sends_to(take(), c2).at(0).connect_response().timeOut, 5000);
  const auto before = log.size();
  now += 4999;
  tick();
  EXPECT_EQ(log.size(), before);
  now += 1;
  tick();
  ASSERT_EQ(log.size(), before + 1);
  EXPECT_TRUE(log.back().ops(0).has_close_session());
}

TEST_F(Server, ResumingAfterTheConnectionDropped) {
  Client a = connect();
  core->connection_closed(a.conn, now);
  pump();
  EXPECT_TRUE(outs.empty());
  const ConnId c2 = open();
  frame(c2, connect_frame(30000, a.session, a.passwd));
  const auto got = take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].connect_response().sessionId, a.session);
  EXPECT_EQ(got[1].kind, Effect::Kind::resume_reading);
}

TEST_F(Server, WrongPasswordOrUnknownSessionGetsAZeroResponseAndClose) {
  Client a = connect();
  std::string bad = a.passwd;
  bad[0] = static_cast<char>(bad[0] ^ 1);
  for (const auto& [session, pw] :
       std::vector<std::pair<int64_t, std::string>>{{a.session, bad}, {a.session, ""}, {a.session + 1000, a.passwd}}) {
    const ConnId c = open();
    frame(c, connect_frame(30000, session, pw));
    const auto got = take();
    ASSERT_EQ(got.size(), 2u);
    const auto r = got[0].connect_response();
    EXPECT_EQ(r.timeOut, 0);
    EXPECT_EQ(r.sessionId, 0);
    EXPECT_EQ(r.passwd, std::string(16, '\0'));
    EXPECT_EQ(got[1].kind, Effect::Kind::close);
    EXPECT_EQ(got[1].conn, c);
  }
  // The real owner is undisturbed.
  EXPECT_EQ(call(a, OpCode::exists, wire::ExistsRequest{"/", false}).err(), Error::ok);
}

TEST_F(Server, ClientAheadOfTheServerIsRefused) {
  Client a = connect();
  const int64_t last = core->last_zxid();
  const ConnId c = open();
  frame(c, connect_frame(30000, 0, std::string(16, '\0'), last + 1));
  const auto got = take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, Effect::Kind::close);
  EXPECT_TRUE(log.size() == 1u);  // no session was made
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("client must try another server"), std::string::npos);
  // Equal is fine, for new and resumed sessions alike.
  const ConnId c2 = open();
  frame(c2, connect_frame(30000, a.session, a.passwd, last));
  EXPECT_EQ(sends_to(take(), c2).at(0).connect_response().sessionId, a.session);
}

TEST_F(Server, MalformedConnectRequestClosesTheConnection) {
  const ConnId c = open();
  frame(c, "\x00\x01\x02");
  const auto got = take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, Effect::Kind::close);
  EXPECT_TRUE(log.empty());
  // Frames for a connection the core no longer knows are ignored.
  frame(c, connect_frame(30000));
  EXPECT_TRUE(outs.empty());
  EXPECT_TRUE(log.empty());
}

TEST_F(Server, RestoredSessionsCanBeResumed) {
  now += 1000;
  auto fresh = std::make_unique<ServerCore>(config());
  auto t = txn(7, now);
  t.add_ops()->mutable_create_session()->set_session_id(0x0300000000000abc);
  t.mutable_ops(0)->mutable_create_session()->set_timeout_ms(20000);
  t.mutable_ops(0)->mutable_create_session()->set_password(std::string(16, 'k'));
  fresh->replay(t);
  auto e = txn(8, now);
  add_create(e, "/eph", "", 0x0300000000000abc, 1);
  fresh->replay(e);
  fresh->start(now);
  core = std::move(fresh);
  EXPECT_EQ(core->session_count(), 1u);
  EXPECT_EQ(core->last_zxid(), 8);
  const ConnId c = open();
  frame(c, connect_frame(20000, 0x0300000000000abc, std::string(16, 'k'), 8));
  const auto r = sends_to(take(), c).at(0).connect_response();
  EXPECT_EQ(r.sessionId, 0x0300000000000abc);
  EXPECT_EQ(r.timeOut, 20000);
  // A new session never reuses a restored id, and zxids continue.
  Client n = connect();
  EXPECT_NE(n.session, 0x0300000000000abc);
  EXPECT_EQ(log.back().zxid(), 9);
  // The restored session expires like any other once recovery is over.
  now += 20000;
  tick();
  sync();
  EXPECT_EQ(core->tree().lookup("/eph"), no_node);
}

// ---- every request -----------------------------------------------------------------------

TEST_F(Server, WritesReplyWithZooKeepersRecords) {
  Client a = connect();
  const int64_t t0 = now;

  auto r = create(a, "/a", "hello");
  EXPECT_EQ(r.err(), Error::ok);
  EXPECT_EQ(r.header().zxid, 2);
  EXPECT_EQ(r.as<wire::CreateResponse>().path, "/a");

  r = create(a, "/s-", "", wire::CreateMode::persistentSequential, open_acl(), OpCode::create2);
  const auto c2 = r.as<wire::Create2Response>();
  EXPECT_EQ(c2.path, "/s-0000000001");
  EXPECT_EQ(c2.stat, (wire::Stat{3, 3, t0, t0, 0, 0, 0, 0, 0, 0, 3}));
  EXPECT_EQ(r.header().zxid, 3);

  r = create(a, "/c", "", wire::CreateMode::container, open_acl(), OpCode::createContainer);
  EXPECT_EQ(r.as<wire::Create2Response>().path, "/c");
  EXPECT_EQ(r.as<wire::Create2Response>().stat.ephemeralOwner, 0);  // clients never see the container marker

  r = call(a, OpCode::createTTL, wire::CreateTTLRequest{"/t", "ttl", open_acl(), 5, 5000});
  EXPECT_EQ(r.err(), Error::ok);
  EXPECT_EQ(r.as<wire::Create2Response>().stat.dataLength, 3);
  EXPECT_EQ(r.as<wire::Create2Response>().stat.ephemeralOwner, 0);

  now += 10;
  r = call(a, OpCode::setData, wire::SetDataRequest{"/a", "bye", 0});
  EXPECT_EQ(r.as<wire::SetDataResponse>().stat, (wire::Stat{2, 6, t0, t0 + 10, 1, 0, 0, 0, 3, 0, 2}));
  EXPECT_EQ(r.header().zxid, 6);

  r = call(a, OpCode::setACL, wire::SetACLRequest{"/a", read_acl(), 0});
  EXPECT_EQ(r.as<wire::SetACLResponse>().stat.aversion, 1);
  EXPECT_EQ(r.as<wire::SetACLResponse>().stat.mzxid, 6);

  r = call(a, OpCode::check, wire::CheckVersionRequest{"/a", 1});
  EXPECT_EQ(r.err(), Error::ok);
  EXPECT_EQ(r.as<wire::StatResponse>().stat.version, 1);

  r = call(a, OpCode::remove, wire::DeleteRequest{"/t", 0});
  EXPECT_EQ(r.err(), Error::ok);
  EXPECT_TRUE(r.body().empty());
  EXPECT_EQ(r.header().zxid, 9);

  // Refusals carry the code and no body.
  r = call(a, OpCode::setData, wire::SetDataRequest{"/a", "x", 7});
  EXPECT_EQ(r.err(), Error::noAuth);
  EXPECT_TRUE(r.body().empty());
  r = create(a, "/a");
  EXPECT_EQ(r.err(), Error::nodeExists);
  r = call(a, OpCode::remove, wire::DeleteRequest{"/zookeeper", -1});
  EXPECT_EQ(r.err(), Error::badArguments);
  r = call(a, OpCode::setACL, wire::SetACLRequest{"/c", {}, -1});
  EXPECT_EQ(r.err(), Error::invalidAcl);
  EXPECT_EQ(core->last_zxid(), 9);  // refusals take no zxid
}

TEST_F(Server, MultiRepliesPerOp) {
  Client a = connect();
  wire::MultiRequest m;
  m.ops.push_back({OpCode::create, "/m", "d", open_acl(), 0, -1, -1});
  m.ops.push_back({OpCode::create2, "/m/k", "", open_acl(), 0, -1, -1});
  m.ops.push_back({OpCode::setData, "/m", "e", {}, 0, -1, 0});
  m.ops.push_back({OpCode::check, "/m", "", {}, 0, -1, 1});
  m.ops.push_back({OpCode::remove, "/m/k", "", {}, 0, -1, -1});
  m.ops.push_back({OpCode::createContainer, "/mc", "", open_acl(), 4, -1, -1});
  m.ops.push_back({OpCode::createTTL, "/mt", "", open_acl(), 5, 1000, -1});
  auto r = call(a, OpCode::multi, m);
  EXPECT_EQ(r.err(), Error::ok);
  EXPECT_EQ(r.header().zxid, 2);
  const auto res = r.as<wire::MultiResponse>().results;
  ASSERT_EQ(res.size(), 7u);
  EXPECT_EQ(res[0].type, OpCode::create);
  EXPECT_EQ(res[0].path, "/m");
  EXPECT_EQ(res[1].type, OpCode::create2);
  EXPECT_EQ(res[1].path, "/m/k");
  EXPECT_EQ(res[1].stat.czxid, 2);
  EXPECT_EQ(res[2].type, OpCode::setData);
  EXPECT_EQ(res[2].stat.version, 1);
  EXPECT_EQ(res[3].type, OpCode::check);
  EXPECT_EQ(res[4].type, OpCode::remove);
  // Creates of the extended kinds answer as create2, owner hidden.
  EXPECT_EQ(res[5].type, OpCode::create2);
  EXPECT_EQ(res[5].path, "/mc");
  EXPECT_EQ(res[5].stat.ephemeralOwner, 0);
  EXPECT_EQ(res[6].type, OpCode::create2);
  EXPECT_EQ(res[6].path, "/mt");
  EXPECT_EQ(core->tree().containers().size(), 1u);
  EXPECT_EQ(core->tree().ttl_nodes().size(), 1u);

  // A failed multi: header OK, every result an error; nothing applied, no zxid.
  wire::MultiRequest bad;
  bad.ops.push_back({OpCode::create, "/n", "", open_acl(), 0, -1, -1});
  bad.ops.push_back({OpCode::check, "/m", "", {}, 0, -1, 0});
  bad.ops.push_back({OpCode::remove, "/m", "", {}, 0, -1, -1});
  r = call(a, OpCode::multi, bad);
  EXPECT_EQ(r.err(), Error::ok);
  const auto fail = r.as<wire::MultiResponse>().results;
  ASSERT_EQ(fail.size(), 3u);
  for (const auto& x : fail) EXPECT_EQ(x.type, OpCode::error);
  EXPECT_EQ(fail[0].err, 0);
  EXPECT_EQ(fail[1].err, static_cast<int32_t>(Error::badVersion));
  EXPECT_EQ(fail[2].err, static_cast<int32_t>(Error::runtimeInconsistency));
  EXPECT_EQ(core->tree().lookup("/n"), no_node);
  EXPECT_EQ(core->last_zxid(), 2);
}

TEST_F(Server, ReadsReplyWithZooKeepersRecords) {
  Client a = connect();
  const int64_t t0 = now;
  create(a, "/a", "data");
  create(a, "/a/x");
  create(a, "/a/y");
  create(a, "/e", "", wire::CreateMode::ephemeral);
  call(a, OpCode::remove, wire::DeleteRequest{"/a/x", -1});
  int64_t last = core->last_zxid();
  ASSERT_EQ(last, 6);

  auto r = call(a, OpCode::exists, wire::ExistsRequest{"/a", false});
  EXPECT_EQ(r.header().zxid, last);
  EXPECT_EQ(r.as<wire::ExistsResponse>().stat, (wire::Stat{2, 2, t0, t0, 0, 3, 0, 0, 4, 1, 6}));
  EXPECT_EQ(call(a, OpCode::exists, wire::ExistsRequest{"/nope", false}).err(), Error::noNode);
  EXPECT_EQ(call(a, OpCode::exists, wire::ExistsRequest{std::string("/a\0", 3), false}).err(), Error::badArguments);

  r = call(a, OpCode::getData, wire::GetDataRequest{"/a", false});
  EXPECT_EQ(r.as<wire::GetDataResponse>().data, "data");
  EXPECT_EQ(r.as<wire::GetDataResponse>().stat.numChildren, 1);
  EXPECT_EQ(call(a, OpCode::getData, wire::GetDataRequest{"/nope", false}).err(), Error::noNode);

  r = call(a, OpCode::getChildren, wire::GetChildrenRequest{"/", false});
  auto kids = r.as<wire::GetChildrenResponse>().children;
  std::sort(kids.begin(), kids.end());
  EXPECT_EQ(kids, (std::vector<std::string>{"a", "e", "zookeeper"}));
  r = call(a, OpCode::getChildren2, wire::GetChildren2Request{"/a", false});
  EXPECT_EQ(r.as<wire::GetChildren2Response>().children, (std::vector<std::string>{"y"}));
  EXPECT_EQ(r.as<wire::GetChildren2Response>().stat.cversion, 3);
  EXPECT_EQ(call(a, OpCode::getChildren2, wire::GetChildren2Request{"/nope", false}).err(), Error::noNode);

  r = call(a, OpCode::getAllChildrenNumber, wire::GetAllChildrenNumberRequest{"/"});
  EXPECT_EQ(r.as<wire::GetAllChildrenNumberResponse>().totalNumber, 3 + 3);
  r = call(a, OpCode::getAllChildrenNumber, wire::GetAllChildrenNumberRequest{"/a"});
  EXPECT_EQ(r.as<wire::GetAllChildrenNumberResponse>().totalNumber, 1);

  r = call(a, OpCode::getACL, wire::GetACLRequest{"/zookeeper/config"});
  EXPECT_EQ(r.as<wire::GetACLResponse>().acl, read_acl());
  EXPECT_EQ(r.as<wire::GetACLResponse>().stat.aversion, -1);

  r = call(a, OpCode::getEphemerals, wire::GetEphemeralsRequest{"/"});
  EXPECT_EQ(r.as<wire::GetEphemeralsResponse>().children, (std::vector<std::string>{"/e"}));
  r = call(a, OpCode::getEphemerals, wire::GetEphemeralsRequest{"/a"});
  EXPECT_TRUE(r.as<wire::GetEphemeralsResponse>().children.empty());
  r = call(a, OpCode::getEphemerals, wire::GetEphemeralsRequest{""});
  EXPECT_EQ(r.as<wire::GetEphemeralsResponse>().children.size(), 1u);
  Client other = connect();  // only the caller's own ephemerals
  create(other, "/e-other", "", wire::CreateMode::ephemeral);
  r = call(a, OpCode::getEphemerals, wire::GetEphemeralsRequest{"/"});
  EXPECT_EQ(r.as<wire::GetEphemeralsResponse>().children, (std::vector<std::string>{"/e"}));
  last = core->last_zxid();

  r = call(a, OpCode::sync, wire::SyncRequest{"/a"});
  EXPECT_EQ(r.err(), Error::ok);
  EXPECT_EQ(r.as<wire::SyncResponse>().path, "/a");

  wire::MultiRequest mr;
  mr.ops.push_back({OpCode::getData, "/a", "", {}, 0, -1, -1});
  mr.ops.push_back({OpCode::getChildren, "/a", "", {}, 0, -1, -1});
  mr.ops.push_back({OpCode::getData, "/nope", "", {}, 0, -1, -1});
  r = call(a, OpCode::multiRead, mr);
  const auto res = r.as<wire::MultiResponse>().results;
  ASSERT_EQ(res.size(), 3u);
  EXPECT_EQ(res[0].type, OpCode::getData);
  EXPECT_EQ(res[0].data, "data");
  EXPECT_EQ(res[0].stat.czxid, 2);
  EXPECT_EQ(res[1].type, OpCode::getChildren);
  EXPECT_EQ(res[1].children, (std::vector<std::string>{"y"}));
  EXPECT_EQ(res[2].type, OpCode::error);
  EXPECT_EQ(res[2].err, static_cast<int32_t>(Error::noNode));

  r = call_bare(a, OpCode::whoAmI);
  const auto who = r.as<wire::WhoAmIResponse>().clientInfo;
  ASSERT_EQ(who.size(), 1u);
  EXPECT_EQ(who[0].authScheme, "ip");
  EXPECT_EQ(who[0].user, "127.0.0.1");

  take();
  frame(a.conn, header_only_frame(wire::xid::ping, static_cast<int32_t>(OpCode::ping)));
  const auto pong = take();
  ASSERT_EQ(pong.size(), 1u);
  EXPECT_EQ(pong[0].header().xid, wire::xid::ping);
  EXPECT_EQ(pong[0].header().zxid, last);
  EXPECT_EQ(pong[0].err(), Error::ok);
  EXPECT_TRUE(pong[0].body().empty());
  EXPECT_EQ(core->last_zxid(), last);  // reads never take a zxid
}

TEST_F(Server, WatchManagementRequests) {
  Client a = connect();
  create(a, "/w");
  auto r = call(a, OpCode::addWatch, wire::AddWatchRequest{"/w", 1});
  EXPECT_EQ(r.err(), Error::ok);
  EXPECT_EQ(r.as<wire::ErrorResponse>().err, 0);
  EXPECT_TRUE(core->watches().contains("/w", a.session, wire::WatcherType::persistentRecursive));
  EXPECT_EQ(call(a, OpCode::addWatch, wire::AddWatchRequest{"/w", 2}).err(), Error::marshallingError);

  EXPECT_EQ(call(a, OpCode::checkWatches, wire::CheckWatchesRequest{"/w", 5}).err(), Error::ok);
  EXPECT_EQ(call(a, OpCode::checkWatches, wire::CheckWatchesRequest{"/w", 3}).err(), Error::ok);
  // ZooKeeper 3.8: Data (2) means any watch in the data table, recursive included.
  EXPECT_EQ(call(a, OpCode::checkWatches, wire::CheckWatchesRequest{"/w", 2}).err(), Error::ok);
  EXPECT_EQ(call(a, OpCode::checkWatches, wire::CheckWatchesRequest{"/w", 1}).err(), Error::noWatcher);
  EXPECT_EQ(call(a, OpCode::checkWatches, wire::CheckWatchesRequest{"/w", 9}).err(), Error::marshallingError);
  call(a, OpCode::getChildren, wire::GetChildrenRequest{"/w", true});
  EXPECT_EQ(call(a, OpCode::checkWatches, wire::CheckWatchesRequest{"/w", 1}).err(), Error::ok);
  EXPECT_EQ(call(a, OpCode::removeWatches, wire::RemoveWatchesRequest{"/w", 1}).err(), Error::ok);
  EXPECT_EQ(call(a, OpCode::removeWatches, wire::RemoveWatchesRequest{"/w", 1}).err(), Error::noWatcher);
  EXPECT_EQ(call(a, OpCode::removeWatches, wire::RemoveWatchesRequest{"/w", 3}).err(), Error::ok);
  EXPECT_EQ(call(a, OpCode::checkWatches, wire::CheckWatchesRequest{"/w", 3}).err(), Error::noWatcher);
  EXPECT_EQ(core->watches().watch_count(), 0u);
}

// ---- ordering ----------------------------------------------------------------------

TEST_F(Server, ReadsWaitBehindTheSessionsUndurableWrites) {
  Client a = connect();
  Client b = connect();
  const int32_t w = send(a, OpCode::create, wire::CreateRequest{"/f", "v", open_acl(), 0});
  const int64_t create_zxid = logged;
  const int32_t g = send(a, OpCode::getData, wire::GetDataRequest{"/f", false});
  const int32_t dup = send(a, OpCode::create, wire::CreateRequest{"/zookeeper", "", open_acl(), 0});
  const int32_t e = send(a, OpCode::exists, wire::ExistsRequest{"/f", false});
  EXPECT_TRUE(outs.empty());  // all four wait for the create to be durable
  EXPECT_EQ(core->outstanding_txns(), 1u);

  // Another session is not held up, and does not see the undurable node.
  const int32_t bg = send(b, OpCode::getData, wire::GetDataRequest{"/f", false});
  auto got = take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].conn, b.conn);
  EXPECT_EQ(got[0].header().xid, bg);
  EXPECT_EQ(got[0].err(), Error::noNode);

  sync();
  got = take();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].header().xid, w);
  EXPECT_EQ(got[1].header().xid, g);
  EXPECT_EQ(got[1].as<wire::GetDataResponse>().data, "v");
  EXPECT_EQ(got[2].header().xid, dup);
  EXPECT_EQ(got[2].err(), Error::nodeExists);
  EXPECT_EQ(got[3].header().xid, e);
  EXPECT_EQ(got[3].err(), Error::ok);
  // The reply zxid never goes back within a session, not even for the refusal
  // that was decided before the create became durable.
  for (const auto& o : got) EXPECT_EQ(o.header().zxid, create_zxid);
}

TEST_F(Server, RepliesFollowRequestOrderAcrossSeveralSyncs) {
  Client a = connect();
  const int32_t x1 = send(a, OpCode::create, wire::CreateRequest{"/1", "", open_acl(), 0});
  pump();
  const int64_t first = logged;
  const int32_t x2 = send(a, OpCode::getChildren, wire::GetChildrenRequest{"/", false});
  const int32_t x3 = send(a, OpCode::create, wire::CreateRequest{"/2", "", open_acl(), 0});
  const int32_t x4 = send(a, OpCode::getChildren, wire::GetChildrenRequest{"/", false});
  core->synced(first, now);  // only the first create is durable
  pump();
  auto got = take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].header().xid, x1);
  EXPECT_EQ(got[1].header().xid, x2);
  EXPECT_EQ(got[1].as<wire::GetChildrenResponse>().children.size(), 2u);  // zookeeper, 1
  sync();
  got = take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].header().xid, x3);
  EXPECT_EQ(got[1].header().xid, x4);
  EXPECT_EQ(got[1].as<wire::GetChildrenResponse>().children.size(), 3u);
}

TEST_F(Server, WatchEventReachesAnotherSessionBeforeTheWritersReply) {
  Client a = connect();
  Client b = connect();
  create(a, "/w", "1");
  ASSERT_EQ(call(a, OpCode::getData, wire::GetDataRequest{"/w", true}).err(), Error::ok);
  ASSERT_EQ(call(a, OpCode::getChildren, wire::GetChildrenRequest{"/w", true}).err(), Error::ok);
  take();

  const int32_t x = send(b, OpCode::setData, wire::SetDataRequest{"/w", "2", -1});
  EXPECT_TRUE(outs.empty());
  sync();
  auto got = take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].conn, a.conn);
  ASSERT_TRUE(got[0].is_notification());
  EXPECT_EQ(got[0].header().zxid, -1);
  EXPECT_EQ(got[0].header().err, 0);
  const auto ev = got[0].event();
  EXPECT_EQ(ev.type, static_cast<int32_t>(EventType::nodeDataChanged));
  EXPECT_EQ(ev.state, static_cast<int32_t>(wire::KeeperState::syncConnected));
  EXPECT_EQ(ev.path, "/w");
  EXPECT_EQ(got[1].conn, b.conn);
  EXPECT_EQ(got[1].header().xid, x);

  // One-time: the next change notifies nobody.
  call(b, OpCode::setData, wire::SetDataRequest{"/w", "3", -1});
  EXPECT_TRUE(sends_to(take(), a.conn).empty());

  // The child watch fires for a create below, then is spent too.
  const int32_t y = send(b, OpCode::create, wire::CreateRequest{"/w/k", "", open_acl(), 0});
  sync();
  got = take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].conn, a.conn);
  EXPECT_EQ(got[0].event().type, static_cast<int32_t>(EventType::nodeChildrenChanged));
  EXPECT_EQ(got[0].event().path, "/w");
  EXPECT_EQ(got[1].header().xid, y);
}

TEST_F(Server, WatchEventReachesTheWriterItselfBeforeItsReply) {
  Client a = connect();
  ASSERT_EQ(call(a, OpCode::exists, wire::ExistsRequest{"/x", true}).err(), Error::noNode);  // watch left anyway
  const int32_t x = send(a, OpCode::create, wire::CreateRequest{"/x", "", open_acl(), 0});
  sync();
  const auto got = take();
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(got[0].is_notification());
  EXPECT_EQ(got[0].event().type, static_cast<int32_t>(EventType::nodeCreated));
  EXPECT_EQ(got[0].event().path, "/x");
  EXPECT_EQ(got[1].header().xid, x);
}

TEST_F(Server, PersistentRecursiveWatchSeesTheSubtree) {
  Client a = connect();
  Client b = connect();
  call(a, OpCode::addWatch, wire::AddWatchRequest{"/r", 1});
  create(b, "/r");
  create(b, "/r/s");
  call(b, OpCode::setData, wire::SetDataRequest{"/r/s", "d", -1});
  call(b, OpCode::remove, wire::DeleteRequest{"/r/s", -1});
  std::vector<std::pair<int32_t, std::string>> events;
  for (const auto& o : take()) {
    if (o.conn == a.conn && o.is_notification()) events.emplace_back(o.event().type, o.event().path);
  }
  // Creates, data changes and deletes anywhere below; never NodeChildrenChanged.
  EXPECT_EQ(events, (std::vector<std::pair<int32_t, std::string>>{{1, "/r"}, {1, "/r/s"}, {3, "/r/s"}, {2, "/r/s"}}));
}

TEST_F(Server, SetWatchesReportsWhatTheClientMissed) {
  Client a = connect();
  Client b = connect();
  create(b, "/x", "1");
  create(b, "/same");
  create(b, "/p");
  create(b, "/gone");
  const int64_t seen = core->last_zxid();
  call(b, OpCode::setData, wire::SetDataRequest{"/x", "2", -1});
  create(b, "/created");
  create(b, "/p/kid");
  call(b, OpCode::remove, wire::DeleteRequest{"/gone", -1});
  take();

  wire::SetWatches sw{seen, {"/x", "/same", "/gone"}, {"/created", "/absent"}, {"/p", "/same", "/gone"}};
  frame(a.conn, request_frame(wire::xid::set_watches, OpCode::setWatches, sw));
  const auto got = take();
  std::vector<std::pair<int32_t, std::string>> events;
  for (const auto& o : got) {
    if (o.is_notification()) events.emplace_back(o.event().type, o.event().path);
  }
  EXPECT_EQ(events, (std::vector<std::pair<int32_t, std::string>>{
                        {3, "/x"}, {2, "/gone"}, {1, "/created"}, {4, "/p"}, {2, "/gone"}}));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().header().xid, wire::xid::set_watches);  // the reply comes after the events
  EXPECT_EQ(got.back().err(), Error::ok);
  for (const auto& o : got) EXPECT_EQ(o.conn, a.conn);

  // The unchanged ones are now ordinary watches.
  EXPECT_TRUE(core->watches().contains("/same", a.session, wire::WatcherType::data));
  EXPECT_TRUE(core->watches().contains("/same", a.session, wire::WatcherType::children));
  EXPECT_TRUE(core->watches().contains("/absent", a.session, wire::WatcherType::data));
  EXPECT_FALSE(core->watches().contains("/x", a.session, wire::WatcherType::data));
  create(b, "/absent");
  const auto later = sends_to(take(), a.conn);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].event().type, static_cast<int32_t>(EventType::nodeCreated));

  // setWatches2 also restores persistent and recursive watches.
  wire::SetWatches2 sw2{core->last_zxid(), {}, {}, {}, {"/p"}, {"/x"}};
  frame(a.conn, request_frame(wire::xid::set_watches, OpCode::setWatches2, sw2));
  EXPECT_EQ(take().back().header().xid, wire::xid::set_watches);
  EXPECT_TRUE(core->watches().contains("/p", a.session, wire::WatcherType::persistent));
  EXPECT_TRUE(core->watches().contains("/x", a.session, wire::WatcherType::persistentRecursive));
}

// ---- session end ------------------------------------------------------------------------

TEST_F(Server, ExpiredSessionLosesItsEphemeralsAndWatchersHearOfIt) {
  Client a = connect(4000);
  Client b = connect(40000);
  create(a, "/e", "", wire::CreateMode::ephemeral);
  create(a, "/p");
  create(a, "/p/e2", "", wire::CreateMode::ephemeralSequential);
  ASSERT_EQ(call(b, OpCode::exists, wire::ExistsRequest{"/e", true}).err(), Error::ok);
  ASSERT_EQ(call(b, OpCode::getChildren, wire::GetChildrenRequest{"/p", true}).err(), Error::ok);
  take();
  const auto log_before = log.size();

  now += 3999;
  tick();
  EXPECT_EQ(log.size(), log_before);  // not yet
  // A ping keeps a session alive: its deadline restarts.
  frame(a.conn, header_only_frame(wire::xid::ping, static_cast<int32_t>(OpCode::ping)));
  take();
  now += 3999;
  tick();
  EXPECT_EQ(log.size(), log_before);
  now += 1;
  tick();
  ASSERT_EQ(log.size(), log_before + 1);
  const auto& close = log.back();
  ASSERT_TRUE(close.ops(0).has_close_session());
  EXPECT_EQ(close.ops(0).close_session().session_id(), a.session);
  EXPECT_EQ(close.ops(0).close_session().paths_to_delete_size(), 2);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("expiring session"), std::string::npos);

  // Until the close is durable the session answers SESSIONEXPIRED, and cannot be resumed.
  const int32_t x = send(a, OpCode::getData, wire::GetDataRequest{"/e", false});
  EXPECT_EQ(reply(a, x).err(), Error::sessionExpired);
  const ConnId c = open();
  frame(c, connect_frame(4000, a.session, a.passwd));
  EXPECT_EQ(sends_to(take(), c).at(0).connect_response().sessionId, 0);

  now += 10;  // b is still well within its timeout
  sync();
  const auto got = take();
  EXPECT_TRUE(closed(got, a.conn));
  std::vector<std::pair<int32_t, std::string>> events;
  for (const auto& o : sends_to(got, b.conn)) events.emplace_back(o.event().type, o.event().path);
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<std::pair<int32_t, std::string>>{{2, "/e"}, {4, "/p"}}));
  EXPECT_EQ(core->tree().lookup("/e"), no_node);
  EXPECT_TRUE(core->tree().children(core->tree().lookup("/p")).empty());
  EXPECT_EQ(core->session_count(), 1u);
  // Once gone, the session is unknown.
  const ConnId c2 = open();
  frame(c2, connect_frame(4000, a.session, a.passwd));
  EXPECT_EQ(sends_to(take(), c2).at(0).connect_response().sessionId, 0);
}

TEST_F(Server, CloseSessionRepliesThenCloses) {
  Client a = connect();
  Client b = connect();
  create(a, "/e", "", wire::CreateMode::ephemeral);
  call(b, OpCode::exists, wire::ExistsRequest{"/e", true});
  take();
  const int32_t x = a.next_xid++;
  frame(a.conn, header_only_frame(x, static_cast<int32_t>(OpCode::closeSession)));
  ASSERT_TRUE(log.back().ops(0).has_close_session());
  EXPECT_EQ(log.back().ops(0).close_session().session_id(), a.session);
  EXPECT_TRUE(outs.empty());
  // Requests after the close get SESSIONEXPIRED, in order.
  const int32_t late = send(a, OpCode::exists, wire::ExistsRequest{"/", false});
  EXPECT_TRUE(outs.empty());
  sync();
  const auto got = take();
  const auto to_a = sends_to(got, a.conn);
  ASSERT_EQ(to_a.size(), 1u);  // the late request's reply died with the connection
  EXPECT_EQ(to_a[0].header().xid, x);
  EXPECT_EQ(to_a[0].err(), Error::ok);
  EXPECT_TRUE(to_a[0].body().empty());
  EXPECT_EQ(to_a[0].header().zxid, log.back().zxid());
  // The reply is sent before the close.
  const auto reply_at =
      std::find_if(got.begin(), got.end(), [&](const Out& o) { return o.conn == a.conn && o.is_send(); });
  const auto close_at = std::find_if(got.begin(), got.end(),
                                     [&](const Out& o) { return o.conn == a.conn && o.kind == Effect::Kind::close; });
  ASSERT_NE(close_at, got.end());
  EXPECT_LT(reply_at, close_at);
  (void)late;
  EXPECT_EQ(sends_to(got, b.conn).size(), 1u);  // NodeDeleted for /e
  EXPECT_EQ(core->session_count(), 1u);
  EXPECT_EQ(core->tree().lookup("/e"), no_node);
  EXPECT_EQ(core->watches().watcher_count(), 0u);
}

TEST_F(Server, ClosingSessionSparesTheNodeAnotherSessionJustTookOver) {
  // Leader handover pipelined inside one group commit: a gives up /leader,
  // b takes it, a closes its session; b must keep /leader.
  Client a = connect();
  Client b = connect();
  create(a, "/leader", "a", wire::CreateMode::ephemeral);
  send(a, OpCode::remove, wire::DeleteRequest{"/leader", -1});
  send(b, OpCode::create, wire::CreateRequest{"/leader", "b", open_acl(), 1});
  frame(a.conn, header_only_frame(a.next_xid++, static_cast<int32_t>(OpCode::closeSession)));
  sync();
  const NodeId leader = core->tree().lookup("/leader");
  ASSERT_NE(leader, no_node);
  EXPECT_EQ(core->tree().data(leader), "b");
  EXPECT_EQ(core->tree().ephemeral_owner(leader), b.session);
}

TEST_F(Server, ConnectionLossKeepsTheSessionUntilItExpires) {
  Client a = connect(4000);
  const int32_t x = send(a, OpCode::create, wire::CreateRequest{"/e", "", open_acl(), 1});
  core->connection_closed(a.conn, now);
  sync();  // the write still applies; its reply has nowhere to go
  EXPECT_TRUE(outs.empty());
  (void)x;
  EXPECT_NE(core->tree().lookup("/e"), no_node);
  EXPECT_EQ(core->session_count(), 1u);
  now += 4000;
  tick();
  sync();
  EXPECT_EQ(core->tree().lookup("/e"), no_node);
  EXPECT_EQ(core->session_count(), 0u);
}

// ---- authentication and ACLs ------------------------------------------------------------

TEST_F(Server, DigestAuthThenAclChecks) {
  Client a = connect();
  Client b = connect();
  take();
  frame(a.conn, request_frame(wire::xid::auth, OpCode::auth, wire::AuthPacket{0, "digest", "alice:secret"}));
  auto got = take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header().xid, wire::xid::auth);
  EXPECT_EQ(got[0].err(), Error::ok);

  ASSERT_EQ(create(a, "/secret", "s", wire::CreateMode::persistent, {{perms::all, {"auth", ""}}}).err(), Error::ok);
  EXPECT_EQ(core->tree().acl(core->tree().lookup("/secret")), digest_acl(perms::all, alice_digest));
  // "auth" needs an authenticated id: b has only its address.
  EXPECT_EQ(create(b, "/x", "", wire::CreateMode::persistent, {{perms::all, {"auth", ""}}}).err(), Error::invalidAcl);

  EXPECT_EQ(call(b, OpCode::getData, wire::GetDataRequest{"/secret", false}).err(), Error::noAuth);
  // ZooKeeper 3.8 answers exists without checking the ACL.
  EXPECT_EQ(call(b, OpCode::exists, wire::ExistsRequest{"/secret", false}).err(), Error::ok);
  EXPECT_EQ(call(b, OpCode::getChildren, wire::GetChildrenRequest{"/secret", false}).err(), Error::noAuth);
  EXPECT_EQ(call(b, OpCode::getACL, wire::GetACLRequest{"/secret"}).err(), Error::noAuth);
  EXPECT_EQ(call(b, OpCode::setData, wire::SetDataRequest{"/secret", "x", -1}).err(), Error::noAuth);
  EXPECT_EQ(create(b, "/secret/kid").err(), Error::noAuth);
  EXPECT_EQ(call(a, OpCode::getData, wire::GetDataRequest{"/secret", false}).as<wire::GetDataResponse>().data, "s");

  EXPECT_EQ(auth(b, "digest", "alice:secret").err(), Error::ok);
  EXPECT_EQ(call(b, OpCode::getData, wire::GetDataRequest{"/secret", false}).err(), Error::ok);
  const auto who = call_bare(b, OpCode::whoAmI).as<wire::WhoAmIResponse>().clientInfo;
  ASSERT_EQ(who.size(), 2u);
  EXPECT_EQ(who[1].authScheme, "digest");
  EXPECT_EQ(who[1].user, "alice");
}

TEST_F(Server, GetAclHidesDigestsWithoutAdmin) {
  Client a = connect();
  Client b = connect();
  auth(a, "digest", "alice:secret");
  const wire::AclList acl{{perms::read, {"world", "anyone"}}, {perms::all, {"digest", alice_digest}}};
  ASSERT_EQ(create(a, "/n", "", wire::CreateMode::persistent, acl).err(), Error::ok);
  EXPECT_EQ(call(a, OpCode::getACL, wire::GetACLRequest{"/n"}).as<wire::GetACLResponse>().acl, acl);
  const auto seen = call(b, OpCode::getACL, wire::GetACLRequest{"/n"}).as<wire::GetACLResponse>();
  EXPECT_EQ(seen.acl, (wire::AclList{{perms::read, {"world", "anyone"}}, {perms::all, {"digest", "alice:x"}}}));
}

TEST_F(Server, SuperDigestPassesEveryAcl) {
  CoreConfig c = config();
  c.super_digest = super_digest;
  make(c);
  Client a = connect();
  Client s = connect();
  auth(a, "digest", "alice:secret");
  create(a, "/secret", "s", wire::CreateMode::persistent, digest_acl(perms::all, alice_digest));
  create(a, "/locked", "", wire::CreateMode::persistent, wire::AclList{{0, {"world", "anyone"}}});
  EXPECT_EQ(call(s, OpCode::getData, wire::GetDataRequest{"/secret", false}).err(), Error::noAuth);
  for (int i = 0; i < 2; ++i) {  // twice: the ids are a set
    EXPECT_EQ(auth(s, "digest", "super:test").err(), Error::ok);
  }
  EXPECT_EQ(call(s, OpCode::getData, wire::GetDataRequest{"/secret", false}).err(), Error::ok);
  EXPECT_EQ(call(s, OpCode::setData, wire::SetDataRequest{"/locked", "x", -1}).err(), Error::ok);
  EXPECT_EQ(create(s, "/locked/kid").err(), Error::ok);
  EXPECT_EQ(call(s, OpCode::setACL, wire::SetACLRequest{"/zookeeper/config", open_acl(), -1}).err(), Error::ok);
  const auto who = call_bare(s, OpCode::whoAmI).as<wire::WhoAmIResponse>().clientInfo;
  ASSERT_EQ(who.size(), 3u);
  EXPECT_EQ(who[1].authScheme, "super");
  EXPECT_EQ(who[1].user, "");
  EXPECT_EQ(who[2].authScheme, "digest");
  EXPECT_EQ(who[2].user, "super");
  // A wrong super password is just another digest id.
  Client w = connect();
  auth(w, "digest", "super:wrong");
  EXPECT_EQ(call(w, OpCode::getData, wire::GetDataRequest{"/secret", false}).err(), Error::noAuth);
}

TEST_F(Server, IpAclsUseTheConnectionsAddress) {
  Client a = connect(30000, "10.1.2.3");
  Client b = connect(30000, "192.168.0.9");
  ASSERT_EQ(create(a, "/lan", "", wire::CreateMode::persistent, {{perms::all, {"ip", "10.0.0.0/8"}}}).err(), Error::ok);
  EXPECT_EQ(call(a, OpCode::getData, wire::GetDataRequest{"/lan", false}).err(), Error::ok);
  EXPECT_EQ(call(b, OpCode::getData, wire::GetDataRequest{"/lan", false}).err(), Error::noAuth);
  // addauth ip is accepted and changes nothing.
  EXPECT_EQ(auth(b, "ip", "10.1.2.3").err(), Error::ok);
  EXPECT_EQ(call(b, OpCode::getData, wire::GetDataRequest{"/lan", false}).err(), Error::noAuth);
}

TEST_F(Server, UnknownAuthSchemeFailsAndCloses) {
  Client a = connect();
  frame(a.conn, request_frame(wire::xid::auth, OpCode::auth, wire::AuthPacket{0, "kerberos", "x"}));
  const auto got = take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].header().xid, wire::xid::auth);
  EXPECT_EQ(got[0].err(), Error::authFailed);
  EXPECT_EQ(got[1].kind, Effect::Kind::close);
  EXPECT_EQ(core->session_count(), 1u);  // the session itself lives on
}

// ---- bad input ---------------------------------------------------------------------------

TEST_F(Server, UnknownOpcodeIsUnimplementedThenClose) {
  Client a = connect();
  frame(a.conn, header_only_frame(9, 999));
  const auto got = take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].header().xid, 9);
  EXPECT_EQ(got[0].err(), Error::unimplemented);
  EXPECT_EQ(got[1].kind, Effect::Kind::close);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("unknown opcode 999"), std::string::npos);
}

TEST_F(Server, UnknownOpcodeWaitsItsTurn) {
  Client a = connect();
  const int32_t w = send(a, OpCode::create, wire::CreateRequest{"/a", "", open_acl(), 0});
  frame(a.conn, header_only_frame(50, 12345));
  EXPECT_TRUE(outs.empty());
  sync();
  const auto got = take();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].header().xid, w);
  EXPECT_EQ(got[1].header().xid, 50);
  EXPECT_EQ(got[2].kind, Effect::Kind::close);
}

TEST_F(Server, ReconfigIsRefusedAndTheConnectionStays) {
  Client a = connect();
  frame(a.conn, header_only_frame(7, static_cast<int32_t>(OpCode::reconfig)));
  const auto got = take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header().xid, 7);
  EXPECT_EQ(got[0].err(), Error::reconfigDisabled);
  const int32_t x = send(a, OpCode::exists, wire::ExistsRequest{"/", false});
  const auto after = take();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].header().xid, x);
}

TEST_F(Server, MultiWithAReadIsAMarshallingErrorAndChangesNothing) {
  Client a = connect();
  wire::MultiRequest m;
  m.ops.push_back({OpCode::create, "/m", "", open_acl(), 0, -1, -1});
  m.ops.push_back({OpCode::getData, "/", "", {}, 0, -1, -1});
  const int32_t x = send(a, OpCode::multi, m);
  const auto got = take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header().xid, x);
  EXPECT_EQ(got[0].err(), Error::marshallingError);
  EXPECT_EQ(core->tree().lookup("/m"), no_node);
}

TEST_F(Server, TruncatedHeaderClosesTheConnection) {
  Client a = connect();
  frame(a.conn, std::string("\x00\x00\x00", 3));
  const auto got = take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, Effect::Kind::close);
  // Nothing more is accepted from it.
  frame(a.conn, request_frame(1, OpCode::exists, wire::ExistsRequest{"/", false}));
  EXPECT_TRUE(outs.empty());
}

TEST_F(Server, MalformedBodiesAreMarshallingErrors) {
  Client a = connect();
  for (const OpCode op : {OpCode::getData, OpCode::exists, OpCode::getChildren, OpCode::getACL, OpCode::setWatches,
                          OpCode::create, OpCode::setData, OpCode::remove, OpCode::multi, OpCode::multiRead}) {
    // setWatches is answered with its reserved xid, as clients send it.
    const int32_t xid = op == OpCode::setWatches ? wire::xid::set_watches : a.next_xid++;
    std::string f = header_only_frame(xid, static_cast<int32_t>(op));
    f += std::string("\x7f\xff\xff\xff", 4);  // a string length far beyond the frame
    frame(a.conn, f);
    sync();
    EXPECT_EQ(reply(a, xid).err(), Error::marshallingError) << static_cast<int>(op);
  }
  EXPECT_EQ(core->last_zxid(), 1);
  EXPECT_EQ(call(a, OpCode::exists, wire::ExistsRequest{"/", false}).err(), Error::ok);  // still connected
}

TEST_F(Server, RequestsBeforeTheSessionExistsCloseTheConnection) {
  const ConnId c = open();
  frame(c, connect_frame(30000));
  // The shell should hold this until resume_reading; if it does not, the core refuses it.
  frame(c, request_frame(1, OpCode::exists, wire::ExistsRequest{"/", false}));
  const auto got = take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, Effect::Kind::close);
}

TEST_F(Server, TtlNodesAreUnimplementedWhenExtendedTypesAreOff) {
  CoreConfig c = config();
  c.extended_types = false;
  make(c);
  Client a = connect();
  const auto r = call(a, OpCode::createTTL, wire::CreateTTLRequest{"/t", "", open_acl(), 5, 1000});
  EXPECT_EQ(r.err(), Error::unimplemented);
  EXPECT_EQ(call(a, OpCode::exists, wire::ExistsRequest{"/", false}).err(), Error::ok);  // connection kept
}

// ---- server-side cleanup -------------------------------------------------------------------

TEST_F(Server, EmptiedContainersAreDeletedAfterTheCheckInterval) {
  Client a = connect();
  Client b = connect();
  create(a, "/c", "", wire::CreateMode::container, open_acl(), OpCode::createContainer);
  create(a, "/never", "", wire::CreateMode::container, open_acl(), OpCode::createContainer);
  create(a, "/c/k");
  create(a, "/busy", "", wire::CreateMode::container, open_acl(), OpCode::createContainer);
  create(a, "/busy/k");
  call(a, OpCode::remove, wire::DeleteRequest{"/c/k", -1});
  call(b, OpCode::exists, wire::ExistsRequest{"/c", true});
  take();
  const auto before = log.size();

  now = start_ms + 999;
  tick();
  EXPECT_EQ(log.size(), before);  // the first check is one interval after start
  now = start_ms + 1000;
  tick();
  ASSERT_EQ(log.size(), before + 1);
  ASSERT_TRUE(log.back().ops(0).has_delete_());
  EXPECT_EQ(log.back().ops(0).delete_().path(), "/c");
  EXPECT_EQ(log.back().session_id(), 0);
  sync();
  EXPECT_EQ(core->tree().lookup("/c"), no_node);
  EXPECT_NE(core->tree().lookup("/never"), no_node);  // never had a child
  EXPECT_NE(core->tree().lookup("/busy"), no_node);
  const auto to_b = sends_to(take(), b.conn);
  ASSERT_EQ(to_b.size(), 1u);
  EXPECT_EQ(to_b[0].event().type, static_cast<int32_t>(EventType::nodeDeleted));
  // The next check comes one interval later.
  call(a, OpCode::remove, wire::DeleteRequest{"/busy/k", -1});
  const auto after = log.size();
  now += 999;
  tick();
  EXPECT_EQ(log.size(), after);
  now += 1;
  tick();
  sync();
  EXPECT_EQ(core->tree().lookup("/busy"), no_node);
}

TEST_F(Server, ExpiredTtlNodesAreDeleted) {
  Client a = connect();
  const auto ttl = [&](const std::string& p, int64_t ms) {
    return call(a, OpCode::createTTL, wire::CreateTTLRequest{p, "", open_acl(), 5, ms}).err();
  };
  ASSERT_EQ(ttl("/short", 500), Error::ok);
  ASSERT_EQ(ttl("/long", 5000), Error::ok);
  ASSERT_EQ(ttl("/parent", 500), Error::ok);
  create(a, "/parent/kid");
  ASSERT_EQ(ttl("/touched", 500), Error::ok);
  now += 600;
  call(a, OpCode::setData, wire::SetDataRequest{"/touched", "x", -1});  // mtime moves
  now = start_ms + 1000;
  frame(a.conn, header_only_frame(wire::xid::ping, static_cast<int32_t>(OpCode::ping)));
  tick();
  sync();
  EXPECT_EQ(core->tree().lookup("/short"), no_node);
  EXPECT_NE(core->tree().lookup("/long"), no_node);
  EXPECT_NE(core->tree().lookup("/parent"), no_node);
  EXPECT_NE(core->tree().lookup("/touched"), no_node);
}

TEST_F(Server, ContainerCleanupRespectsItsBudget) {
  CoreConfig c = config();
  c.container_check_interval_ms = 1000;
  c.container_max_per_minute = 120;  // two per one-second check
  make(c);
  Client a = connect();
  for (int i = 0; i < 5; ++i) {
    const std::string p = "/c" + std::to_string(i);
    create(a, p, "", wire::CreateMode::container, open_acl(), OpCode::createContainer);
    create(a, p + "/k");
    call(a, OpCode::remove, wire::DeleteRequest{p + "/k", -1});
  }
  const auto before = log.size();
  now = start_ms + 1000;
  tick();
  EXPECT_EQ(log.size(), before + 2);
  sync();
  now += 1000;
  frame(a.conn, header_only_frame(wire::xid::ping, static_cast<int32_t>(OpCode::ping)));
  tick();
  EXPECT_EQ(log.size(), before + 4);
}

// ---- observation -----------------------------------------------------------------------------

TEST_F(Server, ConnectionStatsCountPackets) {
  Client a = connect();
  call(a, OpCode::exists, wire::ExistsRequest{"/", false});
  create(a, "/s");
  const auto stats = core->connection_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].id, a.conn);
  EXPECT_EQ(stats[0].session, a.session);
  EXPECT_EQ(stats[0].remote, "127.0.0.1");
  EXPECT_EQ(stats[0].received, 3u);  // connect + 2 requests
  EXPECT_EQ(stats[0].sent, 3u);      // connect response + 2 replies
  EXPECT_EQ(stats[0].last_op, "CREA");
  EXPECT_EQ(stats[0].last_zxid, core->last_zxid());
  EXPECT_EQ(core->stats().packets_received, 3u);
  EXPECT_EQ(core->applied_count(), 2u);  // createSession and create
  core->reset_stats();
  EXPECT_EQ(core->stats().packets_received, 0u);
  EXPECT_EQ(core->connection_stats()[0].received, 0u);
}

}  // namespace
}  // namespace corral::ensemble
