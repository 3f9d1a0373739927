// Operations the official C client (3.8.0) cannot send, over the raw wire
// client: multiRead, getEphemerals, getAllChildrenNumber, whoAmI, and a check
// on its own.
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

namespace w = corral::wire;

const w::AclList kOpen = {{w::perms::all, {"world", "anyone"}}};
constexpr int32_t kEphemeral = static_cast<int32_t>(w::CreateMode::ephemeral);

class RawOpsTest : public ServerTest {
 protected:
  static void create(RawSession& s, const std::string& path, const std::string& data = {}, int32_t flags = 0,
                     const w::AclList& acl = kOpen) {
    const Reply r = s.call(w::OpCode::create, w::CreateRequest{path, data, acl, flags});
    ASSERT_EQ(r.err(), Error::ok) << "create " << path;
  }
  static w::MultiOp read_op(w::OpCode type, std::string path) {
    w::MultiOp op;
    op.type = type;
    op.path = std::move(path);
    return op;
  }
};

TEST_F(RawOpsTest, MultiReadAnswersEachReadOnItsOwn) {
  auto s = raw();
  create(*s, "/a", "alpha");
  create(*s, "/a/x");
  create(*s, "/a/y");
  create(*s, "/locked", "no", 0, {{w::perms::write, {"world", "anyone"}}});

  w::MultiRequest req;
  req.ops = {read_op(w::OpCode::getData, "/a"), read_op(w::OpCode::getChildren, "/a"),
             read_op(w::OpCode::getData, "/missing"), read_op(w::OpCode::getChildren, "/locked"),
             read_op(w::OpCode::getData, "/a/x")};
  const Reply r = s->call(w::OpCode::multiRead, req);
  ASSERT_EQ(r.err(), Error::ok);
  w::MultiResponse out;
  ASSERT_TRUE(r.decode(out));
  ASSERT_EQ(out.results.size(), 5u);

  EXPECT_EQ(out.results[0].type, w::OpCode::getData);
  EXPECT_EQ(out.results[0].data, "alpha");
  EXPECT_EQ(out.results[0].stat.dataLength, 5);
  EXPECT_EQ(out.results[0].stat.numChildren, 2);

  EXPECT_EQ(out.results[1].type, w::OpCode::getChildren);
  auto kids = out.results[1].children;
  std::sort(kids.begin(), kids.end());
  EXPECT_EQ(kids, (std::vector<std::string>{"x", "y"}));

  // A failed read does not fail the others (unlike a multi).
  EXPECT_EQ(out.results[2].type, w::OpCode::error);
  EXPECT_EQ(out.results[2].err, static_cast<int32_t>(Error::noNode));
  EXPECT_EQ(out.results[3].type, w::OpCode::error);
  EXPECT_EQ(out.results[3].err, static_cast<int32_t>(Error::noAuth));
  EXPECT_EQ(out.results[4].type, w::OpCode::getData);
  EXPECT_EQ(out.results[4].data, "");
}

TEST_F(RawOpsTest, MultiReadSeesTheSessionsEarlierWrites) {
  auto s = raw();
  create(*s, "/n", "0");
  // Pipelined: the write and the multiRead go out together.
  const int32_t set_xid = s->send(w::OpCode::setData, w::SetDataRequest{"/n", "1", -1});
  w::MultiRequest req;
  req.ops = {read_op(w::OpCode::getData, "/n")};
  const int32_t read_xid = s->send(w::OpCode::multiRead, req);
  auto first = s->read_reply();
  auto second = s->read_reply();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->header.xid, set_xid);
  ASSERT_EQ(second->header.xid, read_xid);
  w::MultiResponse out;
  ASSERT_TRUE(second->decode(out));
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_EQ(out.results[0].data, "1");
}

TEST_F(RawOpsTest, GetEphemeralsListsTheSessionsOwnByPrefix) {
  auto s = raw();
  auto other = raw();
  create(*s, "/app");
  create(*s, "/app/lock-1", "", kEphemeral);
  create(*s, "/app/member", "", kEphemeral);
  create(*s, "/apple", "", kEphemeral);
  create(*s, "/other", "", kEphemeral);
  create(*other, "/app/theirs", "", kEphemeral);

  const auto ephemerals = [&](const std::string& prefix) {
    const Reply r = s->call(w::OpCode::getEphemerals, w::GetEphemeralsRequest{prefix});
    EXPECT_EQ(r.err(), Error::ok);
    w::GetEphemeralsResponse out;
    EXPECT_TRUE(r.decode(out));
    std::sort(out.children.begin(), out.children.end());
    return out.children;
  };
  using Paths = std::vector<std::string>;
  EXPECT_EQ(ephemerals("/"), (Paths{"/app/lock-1", "/app/member", "/apple", "/other"}));
  EXPECT_EQ(ephemerals(""), (Paths{"/app/lock-1", "/app/member", "/apple", "/other"}));
  // A plain string prefix, not a path: "/app" also matches "/apple".
  EXPECT_EQ(ephemerals("/app"), (Paths{"/app/lock-1", "/app/member", "/apple"}));
  EXPECT_EQ(ephemerals("/app/"), (Paths{"/app/lock-1", "/app/member"}));
  EXPECT_EQ(ephemerals("/nothing"), Paths{});

  auto fresh = raw();
  const Reply r = fresh->call(w::OpCode::getEphemerals, w::GetEphemeralsRequest{"/"});
  ASSERT_EQ(r.err(), Error::ok);
  w::GetEphemeralsResponse none;
  ASSERT_TRUE(r.decode(none));
  EXPECT_TRUE(none.children.empty());
}

TEST_F(RawOpsTest, GetAllChildrenNumberCountsEveryDescendant) {
  auto s = raw();
  create(*s, "/t");
  create(*s, "/t/a");
  create(*s, "/t/a/1");
  create(*s, "/t/a/2");
  create(*s, "/t/b");
  create(*s, "/t/b/1");
  create(*s, "/t/b/1/deep");
  create(*s, "/tt");  // shares the prefix, not below /t

  const auto count = [&](const std::string& path, Error expect = Error::ok) {
    const Reply r = s->call(w::OpCode::getAllChildrenNumber, w::GetAllChildrenNumberRequest{path});
    EXPECT_EQ(r.err(), expect) << path;
    w::GetAllChildrenNumberResponse out;
    if (expect == Error::ok) {
      EXPECT_TRUE(r.decode(out));
    }
    return out.totalNumber;
  };
  EXPECT_EQ(count("/t"), 6);
  EXPECT_EQ(count("/t/a"), 2);
  EXPECT_EQ(count("/t/b/1/deep"), 0);
  count("/none", Error::noNode);
}

TEST_F(RawOpsTest, WhoAmIListsTheConnectionsIdentities) {
  auto s = raw();
  const auto who = [&] {
    const Reply r = s->call_raw(w::OpCode::whoAmI, {});
    EXPECT_EQ(r.err(), Error::ok);
    w::WhoAmIResponse out;
    EXPECT_TRUE(r.decode(out));
    // In no particular order (ZooKeeper lists the digest first).
    std::sort(out.clientInfo.begin(), out.clientInfo.end(), [](const auto& x, const auto& y) {
      return std::tie(x.authScheme, x.user) < std::tie(y.authScheme, y.user);
    });
    return out.clientInfo;
  };
  using Infos = std::vector<w::ClientInfo>;
  EXPECT_EQ(who(), (Infos{{"ip", "127.0.0.1"}}));

  // addAuth (xid -4): answered with xid -4.
  const Reply auth = s->call_as(w::xid::auth, w::OpCode::auth, w::AuthPacket{0, "digest", "alice:secret"});
  ASSERT_EQ(auth.err(), Error::ok);
  EXPECT_EQ(who(), (Infos{{"digest", "alice"}, {"ip", "127.0.0.1"}}));
}

// No 3.8 client sends a check outside a multi, and ZooKeeper 3.8.0 does not
// answer one (3.9 made it an operation); Corral answers it.
TEST_F(RawOpsTest, CheckOnItsOwnComparesTheVersion) {
  CORRAL_ONLY();
  auto s = raw();
  create(*s, "/c", "0");
  ASSERT_EQ(s->call(w::OpCode::setData, w::SetDataRequest{"/c", "1", -1}).err(), Error::ok);
  EXPECT_EQ(s->call(w::OpCode::check, w::CheckVersionRequest{"/c", 1}).err(), Error::ok);
  EXPECT_EQ(s->call(w::OpCode::check, w::CheckVersionRequest{"/c", 0}).err(), Error::badVersion);
  EXPECT_EQ(s->call(w::OpCode::check, w::CheckVersionRequest{"/none", 0}).err(), Error::noNode);
}

TEST_F(RawOpsTest, Create2AndGetChildren2Records) {
  auto s = raw();
  const Reply r = s->call(w::OpCode::create2, w::CreateRequest{"/c2", "d", kOpen, 0});
  ASSERT_EQ(r.err(), Error::ok);
  w::Create2Response created;
  ASSERT_TRUE(r.decode(created));
  EXPECT_EQ(created.path, "/c2");
  EXPECT_EQ(created.stat.dataLength, 1);
  EXPECT_EQ(r.header.zxid, created.stat.czxid);  // the reply carries the txn's zxid

  create(*s, "/c2/k");
  const Reply c = s->call(w::OpCode::getChildren2, w::GetChildren2Request{"/c2", false});
  ASSERT_EQ(c.err(), Error::ok);
  w::GetChildren2Response kids;
  ASSERT_TRUE(c.decode(kids));
  EXPECT_EQ(kids.children, std::vector<std::string>{"k"});
  EXPECT_EQ(kids.stat.numChildren, 1);

  const Reply sync = s->call(w::OpCode::sync, w::SyncRequest{"/c2"});
  ASSERT_EQ(sync.err(), Error::ok);
  w::SyncResponse synced;
  ASSERT_TRUE(sync.decode(synced));
  EXPECT_EQ(synced.path, "/c2");
}

TEST_F(RawOpsTest, ReplyZxidsNeverGoBackwards) {
  auto s = raw();
  auto other = raw();
  int64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string path = "/z" + std::to_string(i);
    const Reply w1 = s->call(w::OpCode::create, w::CreateRequest{path, "", kOpen, 0});
    ASSERT_EQ(w1.err(), Error::ok);
    EXPECT_GT(w1.header.zxid, last);
    last = w1.header.zxid;
    // A refused write and a read: never an older zxid than already seen.
    const Reply refused = s->call(w::OpCode::create, w::CreateRequest{path, "", kOpen, 0});
    EXPECT_EQ(refused.err(), Error::nodeExists);
    EXPECT_GE(refused.header.zxid, last);
    ASSERT_EQ(other->call(w::OpCode::setData, w::SetDataRequest{path, "x", -1}).err(), Error::ok);
    const Reply read = s->call(w::OpCode::exists, w::ExistsRequest{path, false});
    EXPECT_GE(read.header.zxid, last);
    last = read.header.zxid;
  }
}

}  // namespace
}  // namespace corral::test
