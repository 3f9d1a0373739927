// Container and TTL nodes (createContainer, createTTL through the C client),
// and ephemerals' owner field. The server checks for empty containers and
// expired TTL nodes every 100 ms here (znode.container.checkIntervalMs).
#include <string>
#include <vector>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

class NodeTypesTest : public ServerTest {
 protected:
  static int create_ttl(ZkClient& c, const std::string& path, int mode, int64_t ttl_ms, std::string* created = nullptr,
                        const std::string& data = {}) {
    char buf[256] = {};
    const int rc = zoo_create_ttl(c.get(), path.c_str(), data.data(), static_cast<int>(data.size()),
                                  &ZOO_OPEN_ACL_UNSAFE, mode, ttl_ms, buf, sizeof buf);
    if (rc == ZOK && created) *created = buf;
    return rc;
  }
  bool gone(ZkClient& c, const std::string& path) {
    return wait_until([&] { return c.exists(path) == ZNONODE; });
  }
};

TEST_F(NodeTypesTest, ContainerGoesAfterItsLastChild) {
  auto c = connect();
  std::string created;
  ASSERT_EQ(c->create("/box", "", ZOO_CONTAINER, &created), ZOK);
  EXPECT_EQ(created, "/box");
  Stat st{};
  ASSERT_EQ(c->exists("/box", &st), ZOK);
  EXPECT_EQ(st.ephemeralOwner, 0);  // ZooKeeper 3.8 shows no owner for a container

  ASSERT_EQ(c->create("/box/a"), ZOK);
  ASSERT_EQ(c->create("/box/b", "", ZOO_EPHEMERAL), ZOK);
  ASSERT_EQ(c->remove("/box/a"), ZOK);
  // One child left: the container stays while it has one. The next check
  // after the last child goes removes it.
  ASSERT_EQ(c->exists("/box"), ZOK);
  ASSERT_EQ(c->remove("/box/b"), ZOK);
  EXPECT_TRUE(gone(*c, "/box")) << "the empty container is still there";
}

TEST_F(NodeTypesTest, ContainerThatNeverHadChildrenStays) {
  auto c = connect();
  ASSERT_EQ(c->create("/never-used", "", ZOO_CONTAINER), ZOK);
  ASSERT_EQ(c->create("/used", "", ZOO_CONTAINER), ZOK);
  ASSERT_EQ(c->create("/used/kid"), ZOK);
  ASSERT_EQ(c->remove("/used/kid"), ZOK);
  // When the used one is gone the cleanup has run at least once since both existed.
  ASSERT_TRUE(gone(*c, "/used"));
  EXPECT_EQ(c->exists("/never-used"), ZOK);
}

TEST_F(NodeTypesTest, ContainerWatchersHearOfItsRemoval) {
  auto c = connect();
  auto watcher = connect();
  ASSERT_EQ(c->create("/cbox", "", ZOO_CONTAINER), ZOK);
  ASSERT_EQ(c->create("/cbox/k"), ZOK);
  ASSERT_EQ(watcher->exists("/cbox", nullptr, true), ZOK);
  ASSERT_EQ(c->remove("/cbox/k"), ZOK);
  EXPECT_TRUE(watcher->wait_event(ZOO_DELETED_EVENT, "/cbox"));
}

TEST_F(NodeTypesTest, ContainerAndTtlNodesCreatedInAMulti) {
  // Raw: the C client (3.8.0) cannot read the create2-shaped result of a
  // container create inside a multi (it asserts), with ZooKeeper too.
  namespace w = corral::wire;
  auto s = raw();
  w::MultiRequest multi;
  const w::AclList open = {{w::perms::all, {"world", "anyone"}}};
  multi.ops.push_back({w::OpCode::createContainer, "/mbox", "", open, static_cast<int32_t>(w::CreateMode::container)});
  multi.ops.push_back({w::OpCode::create, "/mbox/k", "", open, 0});
  w::MultiOp ttl{w::OpCode::createTTL, "/mttl", "", open, static_cast<int32_t>(w::CreateMode::persistentWithTtl)};
  ttl.ttl = 200;
  multi.ops.push_back(ttl);
  const Reply r = s->call(w::OpCode::multi, multi);
  ASSERT_EQ(r.err(), Error::ok);
  w::MultiResponse out;
  ASSERT_TRUE(r.decode(out));
  ASSERT_EQ(out.results.size(), 3u);
  EXPECT_EQ(out.results[0].type, w::OpCode::create2);
  EXPECT_EQ(out.results[0].path, "/mbox");
  EXPECT_GT(out.results[0].stat.czxid, 0);
  EXPECT_EQ(out.results[1].type, w::OpCode::create);
  EXPECT_EQ(out.results[1].path, "/mbox/k");
  EXPECT_EQ(out.results[2].type, w::OpCode::create2);
  EXPECT_EQ(out.results[2].path, "/mttl");

  auto c = connect();
  ASSERT_EQ(c->remove("/mbox/k"), ZOK);
  EXPECT_TRUE(gone(*c, "/mbox"));
  EXPECT_TRUE(gone(*c, "/mttl"));
}

TEST_F(NodeTypesTest, TtlNodeExpiresWhenUnchangedAndChildless) {
  auto c = connect();
  std::string created;
  ASSERT_EQ(create_ttl(*c, "/ttl", ZOO_PERSISTENT_WITH_TTL, 300, &created, "t"), ZOK);
  EXPECT_EQ(created, "/ttl");
  Stat st{};
  ASSERT_EQ(c->exists("/ttl", &st), ZOK);
  // The TTL lives in the stored owner field, but clients are shown 0
  // (DataTree.getClientEphemeralOwner), as for containers.
  EXPECT_EQ(st.ephemeralOwner, 0);
  EXPECT_TRUE(gone(*c, "/ttl"));
}

TEST_F(NodeTypesTest, TtlNodeWithAChildStaysUntilTheChildGoes) {
  auto c = connect();
  ASSERT_EQ(create_ttl(*c, "/tp", ZOO_PERSISTENT_WITH_TTL, 200), ZOK);
  ASSERT_EQ(c->create("/tp/kid"), ZOK);
  ASSERT_EQ(create_ttl(*c, "/sibling", ZOO_PERSISTENT_WITH_TTL, 200), ZOK);
  ASSERT_TRUE(gone(*c, "/sibling"));  // the cleanup ran after /tp's TTL passed
  EXPECT_EQ(c->exists("/tp"), ZOK);
  ASSERT_EQ(c->remove("/tp/kid"), ZOK);
  EXPECT_TRUE(gone(*c, "/tp"));
}

TEST_F(NodeTypesTest, SequentialTtlNodes) {
  auto c = connect();
  ASSERT_EQ(c->create("/q"), ZOK);
  std::string created;
  ASSERT_EQ(create_ttl(*c, "/q/item-", ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL, 60000, &created), ZOK);
  EXPECT_EQ(created, "/q/item-0000000000");
  ASSERT_EQ(create_ttl(*c, "/q/item-", ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL, 60000, &created), ZOK);
  EXPECT_EQ(created, "/q/item-0000000001");
}

TEST_F(NodeTypesTest, TtlMustBePositiveAndWithinRange) {
  auto c = connect();
  EXPECT_EQ(create_ttl(*c, "/t0", ZOO_PERSISTENT_WITH_TTL, 0), ZBADARGUMENTS);
  EXPECT_EQ(create_ttl(*c, "/tneg", ZOO_PERSISTENT_WITH_TTL, -5), ZBADARGUMENTS);
  EXPECT_EQ(create_ttl(*c, "/tbig", ZOO_PERSISTENT_WITH_TTL, 0x10000000000LL), ZBADARGUMENTS);
  EXPECT_EQ(c->exists("/t0"), ZNONODE);
}

TEST_F(NodeTypesTest, EphemeralOwnerIsTheSession) {
  auto c = connect();
  ASSERT_EQ(c->create("/e", "", ZOO_EPHEMERAL), ZOK);
  Stat st{};
  ASSERT_EQ(c->exists("/e", &st), ZOK);
  EXPECT_EQ(st.ephemeralOwner, c->session_id());
  EXPECT_NE(st.ephemeralOwner, 0);
}

}  // namespace
}  // namespace corral::test
