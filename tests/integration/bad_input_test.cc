// Bad input never takes the server down: malformed frames, unknown opcodes,
// invalid paths, oversized frames, requests before the handshake, a flood of
// connections over maxClientCnxns. Each gets ZooKeeper's error code or a closed
// connection and one log line, and a separate, well-behaved client is served
// throughout.
#include <string>
#include <vector>

#include "corral/wire/frame.h"
#include "corral/wire/jute.h"
#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

namespace w = corral::wire;

const w::AclList kOpen = {{w::perms::all, {"world", "anyone"}}};

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

class BadInputTest : public ServerTest {
 protected:
  // The server wrote exactly `n` log lines containing `needle` (Corral only:
  // ZooKeeper's log lines read differently).
  void expect_log_lines(const std::string& needle, std::size_t n) {
    if (!is_corral()) return;
    EXPECT_TRUE(server().wait_for_log(needle, n)) << "no log line with '" << needle << "'";
    EXPECT_EQ(server().count_log_lines(needle), n) << server().log();
  }
  // What came back for a request: its reply's error, or that the connection closed.
  static std::string outcome(RawSession& s, int32_t xid) {
    auto r = s.read_reply();
    if (!r) return s.closed() ? "closed" : "timeout";
    if (r->header.xid != xid) return "wrong xid " + std::to_string(r->header.xid);
    return std::string(error_name(r->err()));
  }
};

TEST_F(BadInputTest, TruncatedRequestHeaderClosesTheConnection) {
  auto good = connect();
  auto s = raw();
  ASSERT_TRUE(s->connection().send_frame(std::string("\0\0\0", 3)));
  EXPECT_TRUE(s->connection().wait_closed());
  expect_log_lines("malformed request header", 1);
  ASSERT_EQ(good->create("/after-bad-header"), ZOK);
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, EmptyFrameAfterTheHandshakeClosesTheConnection) {
  auto s = raw();
  ASSERT_TRUE(s->connection().send_frame(""));
  EXPECT_TRUE(s->connection().wait_closed());
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, MalformedRequestBodiesAreMarshallingErrors) {
  auto s = raw();
  // A getData whose path claims 1000 bytes and has 2.
  const std::string short_path = be32(1000) + "/a";
  int32_t xid = s->send_raw(w::OpCode::getData, short_path);
  EXPECT_EQ(outcome(*s, xid), "MARSHALLINGERROR");
  // A create the same way (a write: refused before it becomes a txn).
  xid = s->send_raw(w::OpCode::create, short_path);
  EXPECT_EQ(outcome(*s, xid), "MARSHALLINGERROR");
  // A multi whose ACL vector claims two billion entries.
  std::string multi;
  w::JuteWriter jw(multi);
  w::encode(jw, w::MultiHeader{static_cast<int32_t>(w::OpCode::create), false, -1});
  jw.bytes("/m");
  jw.bytes("");
  jw.i32(0x7fffffff);
  xid = s->send_raw(w::OpCode::multi, multi);
  EXPECT_EQ(outcome(*s, xid), "MARSHALLINGERROR");
  // The session still works.
  EXPECT_EQ(s->call(w::OpCode::create, w::CreateRequest{"/fine", "", kOpen, 0}).err(), Error::ok);
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, UnknownOpcodeIsUnimplementedAndClosesTheConnection) {
  auto good = connect();
  auto s = raw();
  const int32_t xid = s->send_raw(static_cast<w::OpCode>(999), "junk");
  EXPECT_EQ(outcome(*s, xid), "UNIMPLEMENTED");
  EXPECT_TRUE(s->connection().wait_closed());
  expect_log_lines("unknown opcode 999", 1);
  // The session itself is not lost with the connection.
  EXPECT_EQ(good->create("/after-unknown-op"), ZOK);
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, InvalidPathsGetZooKeepersAnswers) {
  // What ZooKeeper 3.8 answers, path by path: setData/setACL validate the
  // path first (BADARGUMENTS); create looks for the parent before it
  // validates the name (so a missing parent is NONODE); delete refuses only
  // what has no slash or a NUL, and otherwise finds no such node; reads look
  // the path up as it is (exists refuses a NUL).
  struct Case {
    std::string path;
    Error create, remove, set, get, exists;
  };
  const Error bad = Error::badArguments, none = Error::noNode;
  const std::vector<Case> cases = {
      {"relative", bad, bad, bad, none, none},   {"/trailing/", none, none, bad, none, none},
      {"/ok/", bad, none, bad, none, none},      {"//double", bad, none, bad, none, none},
      {"/ok//x", none, none, bad, none, none},   {"/ok/./x", none, none, bad, none, none},
      {"/ok/../x", none, none, bad, none, none}, {"/.", bad, none, bad, none, none},
      {"/ok/..", bad, none, bad, none, none},    {std::string("/nul\0x", 6), bad, bad, bad, none, bad},
      {"/ctl\x01", bad, none, bad, none, none},  {"/del\x7f", bad, none, bad, none, none},
      {"/ok/x/", bad, none, bad, none, none},
  };
  auto s = raw();
  ASSERT_EQ(s->call(w::OpCode::create, w::CreateRequest{"/ok", "", kOpen, 0}).err(), Error::ok);
  ASSERT_EQ(s->call(w::OpCode::create, w::CreateRequest{"/ok/x", "", kOpen, 0}).err(), Error::ok);
  for (const auto& c : cases) {
    SCOPED_TRACE("path '" + c.path + "'");
    EXPECT_EQ(s->call(w::OpCode::create, w::CreateRequest{c.path, "", kOpen, 0}).err(), c.create);
    EXPECT_EQ(s->call(w::OpCode::remove, w::DeleteRequest{c.path, -1}).err(), c.remove);
    EXPECT_EQ(s->call(w::OpCode::setData, w::SetDataRequest{c.path, "x", -1}).err(), c.set);
    EXPECT_EQ(s->call(w::OpCode::setACL, w::SetACLRequest{c.path, kOpen, -1}).err(), c.set);
    EXPECT_EQ(s->call(w::OpCode::getData, w::GetDataRequest{c.path, false}).err(), c.get);
    EXPECT_EQ(s->call(w::OpCode::exists, w::ExistsRequest{c.path, false}).err(), c.exists);
  }
  // A sequential create may end in '/' or '.': the counter completes the name.
  const int32_t seq = static_cast<int32_t>(w::CreateMode::persistentSequential);
  EXPECT_EQ(s->call(w::OpCode::create, w::CreateRequest{"/ok/", "", kOpen, seq}).err(), Error::ok);
  EXPECT_EQ(s->call(w::OpCode::create, w::CreateRequest{"/ok/.", "", kOpen, seq}).err(), Error::ok);
  EXPECT_EQ(s->call(w::OpCode::create, w::CreateRequest{"/ok/\x01", "", kOpen, seq}).err(), Error::badArguments);
  // Nothing invalid was created along the way.
  const Reply kids = s->call(w::OpCode::getChildren, w::GetChildrenRequest{"/ok", false});
  w::GetChildrenResponse names;
  ASSERT_TRUE(kids.decode(names));
  EXPECT_EQ(names.children.size(), 3u);  // x and the two sequential ones
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, OversizedFrameClosesTheConnectionBeforeItIsRead) {
  auto good = connect();
  auto s = raw();
  // Over jute.maxbuffer (1 MB - 1): refused on its length alone.
  ASSERT_TRUE(s->connection().send_bytes(be32(2'000'000) + std::string(1000, 'x')));
  EXPECT_TRUE(s->connection().wait_closed());
  expect_log_lines("over jute.maxbuffer", 1);

  // A negative length too, and before the handshake as well.
  RawConnection neg(server().port());
  ASSERT_TRUE(neg.send_bytes(be32(0xfffffff0u)));
  EXPECT_TRUE(neg.wait_closed());
  RawConnection huge(server().port());
  ASSERT_TRUE(huge.send_bytes(be32(0x7fffffffu)));
  EXPECT_TRUE(huge.wait_closed());
  expect_log_lines("over jute.maxbuffer", 3);

  EXPECT_EQ(good->create("/after-oversized"), ZOK);
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, OversizedWriteFromTheCClientCostsItsConnectionOnly) {
  auto c = connect();
  ASSERT_EQ(c->create("/small", "s"), ZOK);
  const std::string too_big(1100 * 1024, 'b');
  EXPECT_NE(c->set("/small", too_big), ZOK);
  // The client reconnects (same session) and the node is unchanged.
  ASSERT_TRUE(c->wait_connected());
  std::string data;
  ASSERT_TRUE(wait_until([&] { return c->get("/small", &data) == ZOK; }));
  EXPECT_EQ(data, "s");
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, RequestsBeforeTheHandshakeCloseTheConnection) {
  // A ping frame where the ConnectRequest should be.
  RawConnection ping(server().port());
  ASSERT_TRUE(ping.send_bytes(request_frame(w::xid::ping, w::OpCode::ping, {})));
  EXPECT_TRUE(ping.wait_closed());
  // A getData frame likewise.
  RawConnection get(server().port());
  ASSERT_TRUE(get.send_bytes(request_frame(1, w::OpCode::getData, w::encode_to_string(w::GetDataRequest{"/", false}))));
  EXPECT_TRUE(get.wait_closed());
  // A truncated ConnectRequest.
  RawConnection truncated(server().port());
  std::string connect = w::encode_to_string(w::ConnectRequest{0, 0, 10000, 0, std::string(16, '\0'), false, true});
  connect.resize(10);
  ASSERT_TRUE(truncated.send_frame(connect));
  EXPECT_TRUE(truncated.wait_closed());
  expect_log_lines("malformed connect request", 3);
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, AClientFromTheFutureIsRefused) {
  auto c = connect();
  ASSERT_EQ(c->create("/x"), ZOK);
  // It has seen a zxid this server never had: it must try another server.
  RawConnection conn(server().port());
  ASSERT_TRUE(
      conn.send_bytes(connect_frame(w::ConnectRequest{0, 1'000'000, 10000, 0, std::string(16, '\0'), false, true})));
  EXPECT_TRUE(conn.wait_closed());
  expect_log_lines("client must try another server", 1);
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, HalfAFrameThenHangingUpIsHarmless) {
  for (int i = 0; i < 20; ++i) {
    RawConnection conn(server().port());
    ASSERT_TRUE(conn.send_bytes(be32(100) + "only a part"));
  }  // each closes mid-frame
  auto s = raw();
  ASSERT_TRUE(s->connection().send_bytes(be32(500) + std::string(10, 'z')));
  s.reset();
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(BadInputTest, GarbageFromManyConnectionsLeavesOthersServed) {
  auto good = connect();
  // Shorter than any ConnectRequest can be, so it cannot parse as one.
  std::string noise;
  for (int i = 0; i < 20; ++i) noise.push_back(static_cast<char>((i * 73 + 11) & 0x7f));
  for (int i = 0; i < 30; ++i) {
    RawConnection conn(server().port());
    // A length that fits, then bytes that are no ConnectRequest.
    ASSERT_TRUE(conn.send_bytes(be32(static_cast<uint32_t>(noise.size())) + noise));
    EXPECT_TRUE(conn.wait_closed()) << "connection " << i;
    ASSERT_EQ(good->set("/", "x" + std::to_string(i)), ZOK);
  }
  expect_log_lines("malformed connect request", 30);
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

class ConnectionLimitTest : public BadInputTest {
 protected:
  void configure(ServerOptions& o) override { o.extra["maxClientCnxns"] = "6"; }
};

TEST_F(ConnectionLimitTest, ConnectionsOverTheLimitAreClosedOthersKeepWorking) {
  std::vector<std::unique_ptr<RawSession>> sessions;
  for (int i = 0; i < 6; ++i) sessions.push_back(raw());
  // The seventh and later connections from 127.0.0.1 are closed at once.
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 10; ++i) {
    flood.push_back(std::make_unique<RawConnection>(server().port()));
    flood.back()->send_bytes(connect_frame(w::ConnectRequest{0, 0, 10000, 0, std::string(16, '\0'), false, true}));
  }
  for (auto& c : flood) EXPECT_TRUE(c->wait_closed());
  expect_log_lines("too many connections from 127.0.0.1", 10);
  EXPECT_TRUE(server().alive());
  // The limit is per client address: one from 127.0.0.2 is served meanwhile.
  RawSession::Options elsewhere;
  elsewhere.source_ip = "127.0.0.2";
  auto other = raw(elsewhere);
  EXPECT_NE(other->session_id(), 0);
  EXPECT_EQ(other->call(w::OpCode::create, w::CreateRequest{"/from-elsewhere", "", kOpen, 0}).err(), Error::ok);
  // Those inside the limit are unaffected.
  for (auto& s : sessions) {
    EXPECT_TRUE(s->ping());
    EXPECT_EQ(s->call(w::OpCode::exists, w::ExistsRequest{"/", false}).err(), Error::ok);
  }
  // Once they leave, there is room again.
  sessions.clear();
  flood.clear();
  ASSERT_TRUE(wait_until([&] { return server().four_letter("ruok") == "imok"; }));
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

}  // namespace
}  // namespace corral::test
