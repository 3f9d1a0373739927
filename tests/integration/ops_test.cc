// The data operations, driven by the official C client: create/create2,
// delete, exists, getData, setData, getChildren/getChildren2, sync, multi.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

using Strings = std::vector<std::string>;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class OpsTest : public ServerTest {};

TEST_F(OpsTest, CreateThenGetReturnsDataAndAFreshStat) {
  auto c = connect();
  const int64_t before = wall_ms();
  std::string created;
  ASSERT_EQ(c->create("/a", "hello", 0, &created), ZOK);
  EXPECT_EQ(created, "/a");

  std::string data;
  Stat st{};
  ASSERT_EQ(c->get("/a", &data, &st), ZOK);
  EXPECT_EQ(data, "hello");
  EXPECT_GT(st.czxid, 0);
  EXPECT_EQ(st.mzxid, st.czxid);
  EXPECT_EQ(st.pzxid, st.czxid);
  EXPECT_EQ(st.version, 0);
  EXPECT_EQ(st.cversion, 0);
  EXPECT_EQ(st.aversion, 0);
  EXPECT_EQ(st.ephemeralOwner, 0);
  EXPECT_EQ(st.dataLength, 5);
  EXPECT_EQ(st.numChildren, 0);
  EXPECT_EQ(st.ctime, st.mtime);
  EXPECT_GE(st.ctime, before - 1000);
  EXPECT_LE(st.ctime, wall_ms() + 1000);

  // The root holds it next to /zookeeper.
  Strings kids;
  ASSERT_EQ(c->children("/", &kids), ZOK);
  EXPECT_EQ(kids, (Strings{"a", "zookeeper"}));
}

TEST_F(OpsTest, CreateKeepsBinaryDataAndEmptyData) {
  auto c = connect();
  const std::string blob("\0\x01\xff\0 binary", 10);
  ASSERT_EQ(c->create("/blob", blob), ZOK);
  ASSERT_EQ(c->create("/empty", ""), ZOK);
  std::string data;
  Stat st{};
  ASSERT_EQ(c->get("/blob", &data, &st), ZOK);
  EXPECT_EQ(data, blob);
  EXPECT_EQ(st.dataLength, 10);
  ASSERT_EQ(c->get("/empty", &data, &st), ZOK);
  EXPECT_EQ(data, "");
  EXPECT_EQ(st.dataLength, 0);
}

TEST_F(OpsTest, CreateRefusesExistingMissingParentAndEphemeralParent) {
  auto c = connect();
  ASSERT_EQ(c->create("/a", "1"), ZOK);
  EXPECT_EQ(c->create("/a", "2"), ZNODEEXISTS);
  EXPECT_EQ(c->create("/missing/child"), ZNONODE);
  ASSERT_EQ(c->create("/eph", "", ZOO_EPHEMERAL), ZOK);
  EXPECT_EQ(c->create("/eph/child"), ZNOCHILDRENFOREPHEMERALS);
  std::string data;
  ASSERT_EQ(c->get("/a", &data), ZOK);
  EXPECT_EQ(data, "1");  // the refused create changed nothing
}

TEST_F(OpsTest, Create2ReturnsTheNewNodesStat) {
  auto c = connect();
  char path[64];
  Stat st{};
  ASSERT_EQ(zoo_create2(c->get(), "/c2", "xyz", 3, &ZOO_OPEN_ACL_UNSAFE, 0, path, sizeof path, &st), ZOK);
  EXPECT_STREQ(path, "/c2");
  Stat now{};
  ASSERT_EQ(c->exists("/c2", &now), ZOK);
  EXPECT_EQ(st.czxid, now.czxid);
  EXPECT_EQ(st.mzxid, now.mzxid);
  EXPECT_EQ(st.ctime, now.ctime);
  EXPECT_EQ(st.dataLength, 3);
  EXPECT_EQ(st.version, 0);
}

TEST_F(OpsTest, SequentialNamesFollowTheParentsCversion) {
  auto c = connect();
  ASSERT_EQ(c->create("/seq"), ZOK);
  std::string p;
  ASSERT_EQ(c->create("/seq/n-", "", ZOO_PERSISTENT_SEQUENTIAL, &p), ZOK);
  EXPECT_EQ(p, "/seq/n-0000000000");
  ASSERT_EQ(c->create("/seq/n-", "", ZOO_PERSISTENT_SEQUENTIAL, &p), ZOK);
  EXPECT_EQ(p, "/seq/n-0000000001");
  // The counter counts child creations only; a deletion does not advance it.
  ASSERT_EQ(c->create("/seq/plain"), ZOK);
  ASSERT_EQ(c->remove("/seq/plain"), ZOK);
  ASSERT_EQ(c->create("/seq/e-", "", ZOO_EPHEMERAL_SEQUENTIAL, &p), ZOK);
  EXPECT_EQ(p, "/seq/e-0000000003");
  // A name may be empty before the counter.
  ASSERT_EQ(c->create("/seq/", "", ZOO_PERSISTENT_SEQUENTIAL, &p), ZOK);
  EXPECT_EQ(p, "/seq/0000000004");
  // The cversion a Stat reports counts creations and deletions (ZooKeeper's
  // DataNode.copyStat: 2 * creations - children): 5 creations, 1 deletion.
  Stat st{};
  ASSERT_EQ(c->exists("/seq", &st), ZOK);
  EXPECT_EQ(st.cversion, 6);
  EXPECT_EQ(st.numChildren, 4);
}

TEST_F(OpsTest, DeleteHonoursVersionAndRefusesNonEmptyNodes) {
  auto c = connect();
  ASSERT_EQ(c->create("/d", "0"), ZOK);
  ASSERT_EQ(c->set("/d", "1"), ZOK);
  EXPECT_EQ(c->remove("/d", 0), ZBADVERSION);
  EXPECT_EQ(c->exists("/d"), ZOK);
  EXPECT_EQ(c->remove("/d", 1), ZOK);
  EXPECT_EQ(c->exists("/d"), ZNONODE);
  EXPECT_EQ(c->remove("/d"), ZNONODE);

  ASSERT_EQ(c->create("/p"), ZOK);
  ASSERT_EQ(c->create("/p/kid"), ZOK);
  EXPECT_EQ(c->remove("/p"), ZNOTEMPTY);
  EXPECT_EQ(c->remove("/p/kid"), ZOK);
  EXPECT_EQ(c->remove("/p"), ZOK);
}

TEST_F(OpsTest, ExistsReportsPresenceAndStat) {
  auto c = connect();
  Stat st{};
  EXPECT_EQ(c->exists("/x", &st), ZNONODE);
  ASSERT_EQ(c->create("/x", "data"), ZOK);
  ASSERT_EQ(c->exists("/x", &st), ZOK);
  EXPECT_EQ(st.dataLength, 4);
  EXPECT_GT(st.czxid, 0);
}

TEST_F(OpsTest, SetDataBumpsVersionAndMzxidOnly) {
  auto c = connect();
  ASSERT_EQ(c->create("/s", "v0"), ZOK);
  Stat created{};
  ASSERT_EQ(c->exists("/s", &created), ZOK);

  Stat st{};
  ASSERT_EQ(c->set("/s", "value-1", -1, &st), ZOK);
  EXPECT_EQ(st.version, 1);
  EXPECT_EQ(st.czxid, created.czxid);
  EXPECT_GT(st.mzxid, created.mzxid);
  EXPECT_EQ(st.pzxid, created.pzxid);
  EXPECT_EQ(st.dataLength, 7);
  EXPECT_GE(st.mtime, created.mtime);
  EXPECT_EQ(st.ctime, created.ctime);

  ASSERT_EQ(c->set("/s", "value-2", 1, &st), ZOK);
  EXPECT_EQ(st.version, 2);
  EXPECT_EQ(c->set("/s", "stale", 1), ZBADVERSION);
  EXPECT_EQ(c->set("/nothing", "x"), ZNONODE);

  std::string data;
  ASSERT_EQ(c->get("/s", &data, &st), ZOK);
  EXPECT_EQ(data, "value-2");
  EXPECT_EQ(st.version, 2);
}

TEST_F(OpsTest, GetChildrenAndGetChildren2) {
  auto c = connect();
  ASSERT_EQ(c->create("/c"), ZOK);
  for (const char* n : {"/c/z", "/c/x", "/c/y"}) ASSERT_EQ(c->create(n), ZOK);
  Stat last{};
  ASSERT_EQ(c->exists("/c/y", &last), ZOK);

  Strings kids;
  ASSERT_EQ(c->children("/c", &kids), ZOK);
  EXPECT_EQ(kids, (Strings{"x", "y", "z"}));

  Stat st{};
  ASSERT_EQ(c->children2("/c", &kids, &st), ZOK);
  EXPECT_EQ(kids, (Strings{"x", "y", "z"}));
  EXPECT_EQ(st.numChildren, 3);
  EXPECT_EQ(st.cversion, 3);
  EXPECT_EQ(st.pzxid, last.czxid);

  ASSERT_EQ(c->remove("/c/y"), ZOK);
  Stat after{};
  ASSERT_EQ(c->children2("/c", &kids, &after), ZOK);
  EXPECT_EQ(kids, (Strings{"x", "z"}));
  EXPECT_EQ(after.numChildren, 2);
  EXPECT_EQ(after.cversion, 4);  // a deletion counts too
  EXPECT_GT(after.pzxid, st.pzxid);

  EXPECT_EQ(c->children("/none", &kids), ZNONODE);
  ASSERT_EQ(c->children("/c/x", &kids), ZOK);
  EXPECT_TRUE(kids.empty());
}

TEST_F(OpsTest, SyncAnswersWithItsPath) {
  auto c = connect();
  ASSERT_EQ(c->create("/synced"), ZOK);
  std::string path;
  ASSERT_EQ(c->sync("/synced", &path), ZOK);
  EXPECT_EQ(path, "/synced");
}

TEST_F(OpsTest, MultiAppliesEveryOpAndReportsEachResult) {
  auto c = connect();
  ASSERT_EQ(c->create("/m"), ZOK);
  ASSERT_EQ(c->create("/m/old", "x"), ZOK);

  char created1[64], created2[64];
  Stat set_stat{};
  zoo_op_t ops[5];
  zoo_create_op_init(&ops[0], "/m/a", "A", 1, &ZOO_OPEN_ACL_UNSAFE, 0, created1, sizeof created1);
  zoo_create_op_init(&ops[1], "/m/s-", "S", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, created2,
                     sizeof created2);
  zoo_set_op_init(&ops[2], "/m/old", "y", 1, 0, &set_stat);
  zoo_check_op_init(&ops[3], "/m/old", 1);  // sees the set before it
  zoo_delete_op_init(&ops[4], "/m/old", 1);
  zoo_op_result_t results[5];
  ASSERT_EQ(zoo_multi(c->get(), 5, ops, results), ZOK);
  for (const auto& r : results) EXPECT_EQ(r.err, ZOK);
  EXPECT_STREQ(created1, "/m/a");
  EXPECT_STREQ(created2, "/m/s-0000000002");
  EXPECT_EQ(set_stat.version, 1);

  Strings kids;
  ASSERT_EQ(c->children("/m", &kids), ZOK);
  EXPECT_EQ(kids, (Strings{"a", "s-0000000002"}));
  // One txn: every op carries the same zxid.
  Stat a{}, s{};
  ASSERT_EQ(c->exists("/m/a", &a), ZOK);
  ASSERT_EQ(c->exists("/m/s-0000000002", &s), ZOK);
  EXPECT_EQ(a.czxid, s.czxid);
  EXPECT_EQ(set_stat.mzxid, a.czxid);
}

TEST_F(OpsTest, MultiIsAllOrNothing) {
  auto c = connect();
  ASSERT_EQ(c->create("/m"), ZOK);
  ASSERT_EQ(c->create("/m/keep", "before"), ZOK);

  char buf[64];
  zoo_op_t ops[4];
  zoo_create_op_init(&ops[0], "/m/new", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
  zoo_set_op_init(&ops[1], "/m/keep", "after", 5, -1, nullptr);
  zoo_check_op_init(&ops[2], "/m/keep", 7);  // wrong version: the whole multi fails
  zoo_delete_op_init(&ops[3], "/m/keep", -1);
  zoo_op_result_t results[4];
  EXPECT_EQ(zoo_multi(c->get(), 4, ops, results), ZBADVERSION);
  // As ZooKeeper: ops before the failure report ZOK, the failure its code,
  // the ops after it ZRUNTIMEINCONSISTENCY.
  EXPECT_EQ(results[0].err, ZOK);
  EXPECT_EQ(results[1].err, ZOK);
  EXPECT_EQ(results[2].err, ZBADVERSION);
  EXPECT_EQ(results[3].err, ZRUNTIMEINCONSISTENCY);

  EXPECT_EQ(c->exists("/m/new"), ZNONODE);
  std::string data;
  Stat st{};
  ASSERT_EQ(c->get("/m/keep", &data, &st), ZOK);
  EXPECT_EQ(data, "before");
  EXPECT_EQ(st.version, 0);

  // A failing create in the middle (the parent is missing) undoes the ops
  // before it, including a delete.
  zoo_op_t ops2[3];
  zoo_delete_op_init(&ops2[0], "/m/keep", -1);
  zoo_create_op_init(&ops2[1], "/nope/child", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
  zoo_create_op_init(&ops2[2], "/m/other", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
  zoo_op_result_t results2[3];
  EXPECT_EQ(zoo_multi(c->get(), 3, ops2, results2), ZNONODE);
  EXPECT_EQ(results2[0].err, ZOK);
  EXPECT_EQ(results2[1].err, ZNONODE);
  EXPECT_EQ(results2[2].err, ZRUNTIMEINCONSISTENCY);
  EXPECT_EQ(c->exists("/m/keep"), ZOK);
  EXPECT_EQ(c->exists("/m/other"), ZNONODE);
}

TEST_F(OpsTest, MultiOpsSeeEachOthersEffects) {
  auto c = connect();
  char buf1[64], buf2[64];
  zoo_op_t ops[3];
  // The child's parent is created by the op before it; the check sees it.
  zoo_create_op_init(&ops[0], "/parent", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf1, sizeof buf1);
  zoo_create_op_init(&ops[1], "/parent/child", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf2, sizeof buf2);
  zoo_check_op_init(&ops[2], "/parent", 0);
  zoo_op_result_t results[3];
  ASSERT_EQ(zoo_multi(c->get(), 3, ops, results), ZOK);
  EXPECT_EQ(c->exists("/parent/child"), ZOK);

  // Creating the same node twice in one multi fails on the second.
  zoo_op_t dup[2];
  zoo_create_op_init(&dup[0], "/twice", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf1, sizeof buf1);
  zoo_create_op_init(&dup[1], "/twice", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf2, sizeof buf2);
  zoo_op_result_t dup_results[2];
  EXPECT_EQ(zoo_multi(c->get(), 2, dup, dup_results), ZNODEEXISTS);
  EXPECT_EQ(dup_results[1].err, ZNODEEXISTS);
  EXPECT_EQ(c->exists("/twice"), ZNONODE);
}

TEST_F(OpsTest, LargeDataUpToTheLimitRoundTrips) {
  auto c = connect();
  std::string big(900 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  ASSERT_EQ(c->create("/big", big), ZOK);
  std::string data;
  Stat st{};
  ASSERT_EQ(c->get("/big", &data, &st), ZOK);
  EXPECT_EQ(st.dataLength, static_cast<int>(big.size()));
  EXPECT_TRUE(data == big);
}

TEST_F(OpsTest, TheZookeeperNodeIsThere) {
  auto c = connect();
  EXPECT_EQ(c->exists("/zookeeper"), ZOK);
  Strings kids;
  ASSERT_EQ(c->children("/zookeeper", &kids), ZOK);
  EXPECT_NE(std::find(kids.begin(), kids.end(), "quota"), kids.end());
}

TEST_F(OpsTest, ReconfigIsDisabledAndTheConnectionStays) {
  auto c = connect();
  char buf[1024];
  int len = sizeof buf;
  Stat st{};
  EXPECT_EQ(zoo_reconfig(c->get(), "server.2=127.0.0.1:2888:3888", nullptr, nullptr, -1, buf, &len, &st),
            ZRECONFIGDISABLED);
  EXPECT_EQ(c->create("/still-connected"), ZOK);
  // getconfig reads /zookeeper/config.
  len = sizeof buf;
  EXPECT_EQ(zoo_getconfig(c->get(), 0, buf, &len, &st), ZOK);
}

}  // namespace
}  // namespace corral::test
