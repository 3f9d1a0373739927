// Sessions: timeout negotiation, resumption on a new connection, explicit close,
// expiry (short timeouts: tickTime is 100 ms here, minSessionTimeout 200 ms),
// and what each does to ephemerals and to other sessions' watches.
#include <set>
#include <string>
#include <vector>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

namespace w = corral::wire;

const w::AclList kOpen = {{w::perms::all, {"world", "anyone"}}};
constexpr int32_t kEphemeral = static_cast<int32_t>(w::CreateMode::ephemeral);

class SessionTest : public ServerTest {
 protected:
  static Reply create(RawSession& s, const std::string& path, int32_t flags = 0) {
    return s.call(w::OpCode::create, w::CreateRequest{path, "", kOpen, flags});
  }
  static RawSession::Options resume(const RawSession& s) {
    RawSession::Options o;
    o.session_id = s.session_id();
    o.password = s.password();
    return o;
  }
  static clientid_t client_id(int64_t id, const std::string& password) {
    clientid_t c{};
    c.client_id = id;
    std::copy_n(password.begin(), std::min<std::size_t>(password.size(), sizeof c.passwd), c.passwd);
    return c;
  }
};

TEST_F(SessionTest, TimeoutIsNegotiatedWithinTheServersBounds) {
  RawSession::Options o;
  o.timeout_ms = 50;
  EXPECT_EQ(raw(o)->connect_response().timeOut, 200);
  o.timeout_ms = 1000000;
  EXPECT_EQ(raw(o)->connect_response().timeOut, 30000);
  o.timeout_ms = 4321;
  auto s = raw(o);
  EXPECT_EQ(s->connect_response().timeOut, 4321);
  EXPECT_NE(s->session_id(), 0);
  EXPECT_EQ(s->password().size(), 16u);

  auto c = connect(100);
  EXPECT_EQ(c->negotiated_timeout(), 200);
}

TEST_F(SessionTest, EverySessionGetsItsOwnId) {
  std::set<int64_t> ids;
  std::vector<std::unique_ptr<RawSession>> sessions;
  for (int i = 0; i < 20; ++i) {
    sessions.push_back(raw());
    ids.insert(sessions.back()->session_id());
  }
  auto c = connect();
  ids.insert(c->session_id());
  EXPECT_EQ(ids.size(), 21u);
}

TEST_F(SessionTest, ExplicitCloseRemovesEphemeralsBeforeItsReply) {
  auto watcher = connect();
  auto a = raw();
  ASSERT_EQ(create(*a, "/e", kEphemeral).err(), Error::ok);
  ASSERT_EQ(watcher->exists("/e", nullptr, true), ZOK);

  const Reply bye = a->call_raw(w::OpCode::closeSession, {});
  EXPECT_EQ(bye.err(), Error::ok);
  // The reply means the session is gone: its ephemeral already is.
  EXPECT_EQ(watcher->exists("/e"), ZNONODE);
  EXPECT_TRUE(watcher->wait_event(ZOO_DELETED_EVENT, "/e"));
  EXPECT_TRUE(a->connection().wait_closed()) << "the server keeps a closed session's connection open";
}

TEST_F(SessionTest, CClientCloseRemovesEphemeralsAndFiresWatches) {
  auto watcher = connect();
  auto a = connect();
  ASSERT_EQ(a->create("/parent"), ZOK);
  ASSERT_EQ(a->create("/parent/e1", "", ZOO_EPHEMERAL), ZOK);
  std::string seq;
  ASSERT_EQ(a->create("/parent/e-", "", ZOO_EPHEMERAL_SEQUENTIAL, &seq), ZOK);
  std::vector<std::string> kids;
  ASSERT_EQ(watcher->children("/parent", &kids, true), ZOK);
  ASSERT_EQ(watcher->exists(seq, nullptr, true), ZOK);
  ASSERT_EQ(a->close(), ZOK);
  EXPECT_TRUE(watcher->wait_event(ZOO_CHILD_EVENT, "/parent"));
  EXPECT_TRUE(watcher->wait_event(ZOO_DELETED_EVENT, seq));
  ASSERT_EQ(watcher->children("/parent", &kids), ZOK);
  EXPECT_TRUE(kids.empty());
}

TEST_F(SessionTest, ResumedOnANewConnectionTheSessionKeepsItsEphemerals) {
  auto observer = connect();
  auto a = raw();
  const int64_t id = a->session_id();
  ASSERT_EQ(create(*a, "/mine", kEphemeral).err(), Error::ok);
  const auto again = resume(*a);
  a.reset();  // the connection drops without a closeSession
  EXPECT_EQ(observer->exists("/mine"), ZOK);

  // The C client picks the session up on a new connection.
  const clientid_t cid = client_id(id, again.password);
  auto c = ZkClient::connect(server().host_port(), 10000, &cid);
  EXPECT_EQ(c->session_id(), id);
  Stat st{};
  ASSERT_EQ(c->exists("/mine", &st), ZOK);
  EXPECT_EQ(st.ephemeralOwner, id);
  ASSERT_EQ(c->create("/mine-too", "", ZOO_EPHEMERAL), ZOK);
  ASSERT_EQ(c->close(), ZOK);
  EXPECT_TRUE(wait_until([&] { return observer->exists("/mine") == ZNONODE; }));
  EXPECT_EQ(observer->exists("/mine-too"), ZNONODE);
}

TEST_F(SessionTest, ResumingMovesTheSessionAndClosesTheOldConnection) {
  auto first = raw();
  auto second = raw(resume(*first));
  EXPECT_EQ(second->session_id(), first->session_id());
  EXPECT_EQ(second->connect_response().timeOut, first->connect_response().timeOut);
  EXPECT_TRUE(first->connection().wait_closed()) << "the old connection is still open";
  EXPECT_EQ(create(*second, "/works").err(), Error::ok);
}

TEST_F(SessionTest, WrongPasswordOrUnknownSessionIsRefusedAsExpired) {
  auto a = raw();
  auto bad = resume(*a);
  bad.password[0] = static_cast<char>(bad.password[0] ^ 0x55);
  auto refused = raw(bad);
  EXPECT_EQ(refused->connect_response().timeOut, 0);
  EXPECT_EQ(refused->connect_response().sessionId, 0);
  EXPECT_TRUE(refused->connection().wait_closed());
  // Corral leaves the rightful connection alone (ZooKeeper 3.8 closes it
  // before it checks the password; the session survives either way).
  if (is_corral()) {
    EXPECT_TRUE(a->ping()) << "a wrong password cost the rightful owner its connection";
  }
  auto rightful = raw(resume(*a));
  EXPECT_EQ(rightful->session_id(), a->session_id());
  EXPECT_EQ(create(*rightful, "/still-mine").err(), Error::ok);

  RawSession::Options unknown;
  unknown.session_id = a->session_id() + 1000;
  unknown.password = std::string(16, 'x');
  auto nobody = raw(unknown);
  EXPECT_EQ(nobody->connect_response().timeOut, 0);
  EXPECT_TRUE(nobody->connection().wait_closed());

  // The C client reports such a refusal as an expired session.
  const clientid_t cid = client_id(a->session_id(), bad.password);
  ZkClient c(server().host_port(), 10000, &cid);
  EXPECT_TRUE(c.wait_session_event(ZOO_EXPIRED_SESSION_STATE));
}

TEST_F(SessionTest, ExpiryRemovesEphemeralsAndFiresOtherSessionsWatches) {
  auto watcher = connect();
  // Long enough that a loaded machine sets the watches below before it expires.
  RawSession::Options quick;
  quick.timeout_ms = 1000;
  auto a = raw(quick);
  ASSERT_EQ(a->connect_response().timeOut, 1000);
  ASSERT_EQ(create(*a, "/group").err(), Error::ok);
  ASSERT_EQ(create(*a, "/group/member", kEphemeral).err(), Error::ok);
  ASSERT_EQ(create(*a, "/leader", kEphemeral).err(), Error::ok);
  std::vector<std::string> kids;
  ASSERT_EQ(watcher->children("/group", &kids, true), ZOK);
  ASSERT_EQ(watcher->exists("/leader", nullptr, true), ZOK);
  const int64_t id = a->session_id();
  const std::string password = a->password();

  // `a` goes silent (no pings); the server expires it.
  EXPECT_TRUE(watcher->wait_event(ZOO_DELETED_EVENT, "/leader"));
  EXPECT_TRUE(watcher->wait_event(ZOO_CHILD_EVENT, "/group"));
  EXPECT_EQ(watcher->exists("/group/member"), ZNONODE);
  EXPECT_EQ(watcher->exists("/group"), ZOK);  // not an ephemeral
  EXPECT_TRUE(a->connection().wait_closed()) << "the expired session's connection is still open";

  // Coming back later, the C client is told its session expired.
  const clientid_t cid = client_id(id, password);
  ZkClient late(server().host_port(), 10000, &cid);
  EXPECT_TRUE(late.wait_session_event(ZOO_EXPIRED_SESSION_STATE));
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(SessionTest, PingsKeepAShortSessionAlive) {
  RawSession::Options quick;
  quick.timeout_ms = 500;
  auto a = raw(quick);
  ASSERT_EQ(create(*a, "/alive", kEphemeral).err(), Error::ok);
  auto observer = connect();
  // Three timeouts' worth of pings, one every 80 ms (a sixth of the timeout).
  const Deadline span(1500ms);
  while (!span.expired()) {
    ASSERT_TRUE(a->ping()) << "ping not answered";
    std::this_thread::sleep_for(80ms);
  }
  EXPECT_EQ(observer->exists("/alive"), ZOK);
  // And requests other than pings count as activity too.
  const Deadline span2(1000ms);
  while (!span2.expired()) {
    ASSERT_EQ(a->call(w::OpCode::exists, w::ExistsRequest{"/alive", false}).err(), Error::ok);
    std::this_thread::sleep_for(80ms);
  }
  EXPECT_EQ(observer->exists("/alive"), ZOK);
}

TEST_F(SessionTest, AnExpiredSessionsCClientSeesTheExpiry) {
  // The C client pings at a third of its timeout; stop it by pointing it at
  // a session that is about to expire: take over a raw session, then drop it.
  RawSession::Options quick;
  quick.timeout_ms = 400;
  auto a = raw(quick);
  ASSERT_EQ(create(*a, "/e", kEphemeral).err(), Error::ok);
  const clientid_t cid = client_id(a->session_id(), a->password());
  a.reset();
  auto observer = connect();
  ASSERT_TRUE(wait_until([&] { return observer->exists("/e") == ZNONODE; }));
  ZkClient c(server().host_port(), 400, &cid);
  EXPECT_TRUE(c.wait_session_event(ZOO_EXPIRED_SESSION_STATE));
  EXPECT_EQ(zoo_state(c.get()), ZOO_EXPIRED_SESSION_STATE);
}

}  // namespace
}  // namespace corral::test
