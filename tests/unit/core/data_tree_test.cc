// DataTree: ZooKeeper's znode tree with its exact Stat semantics
// (DataTree.java, DataNode.copyStat), idempotent replay, snapshot images and
// the open-addressing index under heavy churn.
#include "ensemble/core/data_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "core_test_util.h"
#include "ensemble/core/path.h"

namespace corral::ensemble {
namespace {

using namespace coretest;
using wire::EventType;

struct Image {
  std::string data;
  wire::AclList acl;
  wire::Stat stat;
  friend bool operator==(const Image&, const Image&) = default;
};

// A snapshot in for_each_node order (what a snapshot file holds).
using Snapshot = std::vector<std::pair<std::string, Image>>;

Snapshot snapshot_of(const DataTree& tree) {
  Snapshot out;
  tree.for_each_node([&](const NodeImage& n) { out.emplace_back(n.path, Image{std::string(n.data), *n.acl, n.stat}); });
  return out;
}

// The same, keyed by path, for comparisons.
std::map<std::string, Image> images(const DataTree& tree) {
  const auto s = snapshot_of(tree);
  return {s.begin(), s.end()};
}

void load(DataTree& tree, const Snapshot& snapshot, int64_t zxid) {
  for (const auto& [path, image] : snapshot) {
    ASSERT_TRUE(tree.load_node(NodeImage{path, image.data, &image.acl, image.stat})) << path;
  }
  tree.set_last_zxid(zxid);
}

TEST(DataTreeInitial, HasZooKeepersFourNodes) {
  DataTree t;
  EXPECT_EQ(t.node_count(), 4u);
  EXPECT_EQ(t.last_zxid(), 0);
  EXPECT_EQ(t.ephemeral_count(), 0u);
  EXPECT_TRUE(t.containers().empty());
  EXPECT_TRUE(t.ttl_nodes().empty());

  const NodeId root = t.lookup("/");
  ASSERT_EQ(root, 0u);
  EXPECT_EQ(t.path_of(root), "/");
  EXPECT_EQ(t.children(root), (std::vector<std::string>{"zookeeper"}));
  EXPECT_EQ(t.children(t.lookup("/zookeeper")), (std::vector<std::string>{"quota", "config"}));
  EXPECT_TRUE(t.children(t.lookup("/zookeeper/quota")).empty());
  EXPECT_EQ(t.descendant_count(root), 3u);

  // DataNode.copyStat reports cversion as 2 * stored - numChildren, so the
  // root of a fresh ZooKeeper shows cversion -1 and /zookeeper shows -2.
  EXPECT_EQ(t.stat(root), (wire::Stat{0, 0, 0, 0, 0, -1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(stat_of(t, "/zookeeper"), (wire::Stat{0, 0, 0, 0, 0, -2, 0, 0, 0, 2, 0}));
  EXPECT_EQ(stat_of(t, "/zookeeper/quota"), (wire::Stat{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  // The config node's ACL is set with version -1 upstream (addConfigNode).
  EXPECT_EQ(stat_of(t, "/zookeeper/config"), (wire::Stat{0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0}));

  EXPECT_EQ(t.acl(root), open_acl());
  EXPECT_EQ(t.acl(t.lookup("/zookeeper")), open_acl());
  EXPECT_EQ(t.acl(t.lookup("/zookeeper/quota")), open_acl());
  EXPECT_EQ(t.acl(t.lookup("/zookeeper/config")), read_acl());
  EXPECT_EQ(t.data(t.lookup("/zookeeper/config")), "");
}

TEST(DataTreeLookup, RefusesMalformedPaths) {
  DataTree t;
  create(t, 1, "/a");
  create(t, 2, "/a/b");
  EXPECT_NE(t.lookup("/a/b"), no_node);
  for (const char* p : {"", "a", "a/b", "/a/", "/a//b", "//a", "/a/b/", "/b", "/a/bb", "/a/b/c"}) {
    EXPECT_EQ(t.lookup(p), no_node) << p;
  }
}

TEST(DataTreeCreate, ExactStatOfNodeAndParent) {
  DataTree t;
  std::vector<WatchTrigger> triggers;
  auto tx = txn(5, 1000, 0x77);
  add_create(tx, "/a", "hello", 0, 1);
  const auto results = apply(t, tx, &triggers);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].err, Error::ok);
  EXPECT_EQ(results[0].path, "/a");
  const wire::Stat expected{5, 5, 1000, 1000, 0, 0, 0, 0, 5, 0, 5};
  EXPECT_EQ(results[0].stat, expected);
  EXPECT_EQ(stat_of(t, "/a"), expected);
  EXPECT_EQ(t.data(t.lookup("/a")), "hello");
  EXPECT_EQ(t.acl(t.lookup("/a")), open_acl());
  EXPECT_EQ(t.last_zxid(), 5);

  // The root: one more child, stored cversion 1 (shown as 2*1-2 = 0), pzxid moved, mzxid not.
  EXPECT_EQ(stat_of(t, "/"), (wire::Stat{0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 5}));
  EXPECT_EQ(t.cversion(0), 1);
  ASSERT_EQ(triggers.size(), 2u);
  EXPECT_EQ(triggers[0].type, EventType::nodeCreated);
  EXPECT_EQ(triggers[0].path, "/a");
  EXPECT_EQ(triggers[1].type, EventType::nodeChildrenChanged);
  EXPECT_EQ(triggers[1].path, "/");
}

TEST(DataTreeCreate, NamesLongerThan64KiBKeepTheirNameAndData) {
  DataTree t;
  const std::string name(70000, 'n');
  auto tx = txn(1);
  add_create(tx, "/" + name, "payload");
  apply(t, tx);
  const NodeId id = t.lookup("/" + name);
  ASSERT_NE(id, no_node);
  EXPECT_EQ(t.data(id), "payload");
  EXPECT_EQ(t.path_of(id), "/" + name);
  EXPECT_EQ(t.children(0).back(), name);
}

TEST(DataTreeReset, GivesBackAFreshServersTree) {
  DataTree t;
  create(t, 1, "/a");
  create(t, 2, "/a/b");
  t.reset();
  EXPECT_EQ(t.node_count(), 4u);
  EXPECT_EQ(t.lookup("/a"), no_node);
  EXPECT_EQ(t.last_zxid(), 0);
  EXPECT_NE(t.lookup("/zookeeper/config"), no_node);
  create(t, 1, "/a");  // usable again
  EXPECT_NE(t.lookup("/a"), no_node);
}

TEST(DataTreeCreate, ChildTriggersNameTheParent) {
  DataTree t;
  create(t, 1, "/a");
  std::vector<WatchTrigger> triggers;
  auto tx = txn(2);
  add_create(tx, "/a/b");
  apply(t, tx, &triggers);
  ASSERT_EQ(triggers.size(), 2u);
  EXPECT_EQ(triggers[1].type, EventType::nodeChildrenChanged);
  EXPECT_EQ(triggers[1].path, "/a");
}

TEST(DataTreeCreate, ParentCversionComesFromTheTxn) {
  DataTree t;
  create(t, 1, "/a", "", 0, 0, 7);
  EXPECT_EQ(t.cversion(0), 7);
  EXPECT_EQ(stat_of(t, "/").pzxid, 1);
  // -1 means "the parent's cversion plus one".
  create(t, 2, "/b", "", 0, 0, -1);
  EXPECT_EQ(t.cversion(0), 8);
  // A smaller value than the parent's never moves it back, nor the pzxid.
  create(t, 3, "/c", "", 0, 0, 4);
  EXPECT_EQ(t.cversion(0), 8);
  EXPECT_EQ(stat_of(t, "/").pzxid, 2);
  EXPECT_EQ(t.num_children(0), 4u);
}

TEST(DataTreeCreate, MissingParentIsNoNode) {
  DataTree t;
  std::vector<WatchTrigger> triggers;
  auto tx = txn(3);
  add_create(tx, "/x/y");
  const auto r = apply(t, tx, &triggers);
  EXPECT_EQ(r.at(0).err, Error::noNode);
  EXPECT_TRUE(triggers.empty());
  EXPECT_EQ(t.node_count(), 4u);
  EXPECT_EQ(t.last_zxid(), 3);  // the txn was still applied
}

TEST(DataTreeCreate, ApplyingTwiceIsHarmless) {
  DataTree t;
  auto tx = txn(4, 400);
  add_create(tx, "/a", "first", 0, 1);
  apply(t, tx);
  const auto before = images(t);

  std::vector<WatchTrigger> triggers;
  const auto again = apply(t, tx, &triggers);
  EXPECT_EQ(again.at(0).err, Error::nodeExists);
  EXPECT_TRUE(triggers.empty());
  EXPECT_EQ(images(t), before);
  EXPECT_EQ(t.node_count(), 5u);

  // A different create at the same path does not overwrite either.
  auto other = txn(9, 900);
  add_create(other, "/a", "second", 0, 1);
  EXPECT_EQ(apply(t, other).at(0).err, Error::nodeExists);
  EXPECT_EQ(t.data(t.lookup("/a")), "first");
  EXPECT_EQ(stat_of(t, "/a").czxid, 4);
}

TEST(DataTreeCreate, NodeExistsStillRaisesAParentCversionThatIsBehind) {
  // processTxn: a create that finds its node (replay over a fuzzy snapshot)
  // still sets the parent's cversion and pzxid when the txn's are newer.
  DataTree t;
  create(t, 1, "/a", "", 0, 0, 1);
  create(t, 6, "/a", "", 0, 0, 3);
  EXPECT_EQ(t.cversion(0), 3);
  EXPECT_EQ(stat_of(t, "/").pzxid, 6);
  EXPECT_EQ(stat_of(t, "/a").czxid, 1);
}

TEST(DataTreeDelete, ExactStatsAndTriggers) {
  DataTree t;
  create(t, 1, "/a", "", 0, 100);
  create(t, 2, "/a/x", "xx", 0, 200);
  create(t, 3, "/a/y", "", 0, 300);
  create(t, 4, "/a/z", "", 0, 400);
  EXPECT_EQ(stat_of(t, "/a").cversion, 3);  // 2*3 - 3
  EXPECT_EQ(stat_of(t, "/a").pzxid, 4);

  std::vector<WatchTrigger> triggers;
  auto tx = txn(10);
  add_delete(tx, "/a/y");
  const auto r = apply(t, tx, &triggers);
  EXPECT_EQ(r.at(0).err, Error::ok);
  EXPECT_EQ(t.lookup("/a/y"), no_node);
  // The stored cversion counts creates; a client sees creates + deletes.
  EXPECT_EQ(t.cversion(t.lookup("/a")), 3);
  EXPECT_EQ(stat_of(t, "/a"), (wire::Stat{1, 1, 100, 100, 0, 4, 0, 0, 0, 2, 10}));
  EXPECT_EQ(t.children(t.lookup("/a")), (std::vector<std::string>{"x", "z"}));
  ASSERT_EQ(triggers.size(), 2u);
  EXPECT_EQ(triggers[0].type, EventType::nodeDeleted);
  EXPECT_EQ(triggers[0].path, "/a/y");
  EXPECT_EQ(triggers[1].type, EventType::nodeChildrenChanged);
  EXPECT_EQ(triggers[1].path, "/a");
  EXPECT_EQ(t.last_zxid(), 10);

  remove(t, 11, "/a/x");
  remove(t, 12, "/a/z");
  EXPECT_EQ(stat_of(t, "/a").cversion, 6);
  EXPECT_EQ(stat_of(t, "/a").numChildren, 0);
  std::vector<WatchTrigger> top;
  auto tx2 = txn(13);
  add_delete(tx2, "/a");
  apply(t, tx2, &top);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[1].path, "/");
  EXPECT_EQ(t.node_count(), 4u);
}

TEST(DataTreeDelete, RefusalsChangeNothing) {
  DataTree t;
  create(t, 1, "/a");
  create(t, 2, "/a/b");
  const auto before = images(t);
  std::vector<WatchTrigger> triggers;
  auto tx = txn(3);
  add_delete(tx, "/a");    // has a child
  add_delete(tx, "/");     // the root is never deleted
  add_delete(tx, "/q/r");  // nothing there, nor a parent
  const auto r = apply(t, tx, &triggers);
  EXPECT_EQ(r.at(0).err, Error::notEmpty);
  EXPECT_EQ(r.at(1).err, Error::noNode);
  EXPECT_EQ(r.at(2).err, Error::noNode);
  EXPECT_TRUE(triggers.empty());
  auto after = images(t);
  EXPECT_EQ(after, before);
}

TEST(DataTreeDelete, ParentPzxidMovesEvenWhenTheChildIsAlreadyGone) {
  // DataTree.deleteNode updates the parent's pzxid before it finds the child
  // missing: replaying a delete over a fuzzy snapshot whose parent was
  // written before the delete and whose child after it must converge.
  DataTree ref;
  create(ref, 1, "/a");
  create(ref, 2, "/a/b");
  remove(ref, 3, "/a/b");

  DataTree fuzzy;
  create(fuzzy, 1, "/a");
  create(fuzzy, 2, "/a/b");
  auto snapshot = snapshot_of(fuzzy);                                        // /a as of zxid 2 ...
  std::erase_if(snapshot, [](const auto& n) { return n.first == "/a/b"; });  // ... but /a/b already deleted
  DataTree restored;
  load(restored, snapshot, 2);
  EXPECT_EQ(remove(restored, 3, "/a/b").err, Error::noNode);
  EXPECT_EQ(stat_of(restored, "/a"), stat_of(ref, "/a"));
  EXPECT_EQ(stat_of(restored, "/a").pzxid, 3);
  // An older zxid never moves it back.
  remove(restored, 2, "/a/b");
  EXPECT_EQ(stat_of(restored, "/a").pzxid, 3);
}

TEST(DataTreeSetData, ExactStatAndTrigger) {
  DataTree t;
  create(t, 1, "/a", "abc", 0, 100);
  const auto size_before = t.approximate_data_size();
  std::vector<WatchTrigger> triggers;
  auto tx = txn(8, 800);
  add_set_data(tx, "/a", "defgh", 3);
  const auto r = apply(t, tx, &triggers);
  const wire::Stat expected{1, 8, 100, 800, 3, 0, 0, 0, 5, 0, 1};
  EXPECT_EQ(r.at(0).err, Error::ok);
  EXPECT_EQ(r.at(0).stat, expected);
  EXPECT_EQ(stat_of(t, "/a"), expected);
  EXPECT_EQ(t.data(t.lookup("/a")), "defgh");
  EXPECT_EQ(t.approximate_data_size(), size_before + 2);
  ASSERT_EQ(triggers.size(), 1u);
  EXPECT_EQ(triggers[0].type, EventType::nodeDataChanged);
  EXPECT_EQ(triggers[0].path, "/a");
  // The parent is untouched.
  EXPECT_EQ(stat_of(t, "/").pzxid, 1);

  auto empty = txn(9, 900);
  add_set_data(empty, "/a", "", 4);
  apply(t, empty);
  EXPECT_EQ(stat_of(t, "/a").dataLength, 0);
  EXPECT_EQ(t.data(t.lookup("/a")), "");

  auto missing = txn(10);
  add_set_data(missing, "/nope", "x", 1);
  std::vector<WatchTrigger> none;
  EXPECT_EQ(apply(t, missing, &none).at(0).err, Error::noNode);
  EXPECT_TRUE(none.empty());
}

TEST(DataTreeSetData, BinaryDataSurvives) {
  DataTree t;
  const std::string blob("\0\x01\xff\0zz", 6);
  create(t, 1, "/bin", blob);
  EXPECT_EQ(t.data(t.lookup("/bin")), blob);
  EXPECT_EQ(stat_of(t, "/bin").dataLength, 6);
}

TEST(DataTreeSetAcl, ReplacesAclAndAversionOnly) {
  DataTree t;
  create(t, 1, "/a", "d", 0, 100);
  std::vector<WatchTrigger> triggers;
  auto tx = txn(5, 500);
  const wire::AclList acl{{wire::perms::read, {"digest", "u:h"}}, {wire::perms::admin, {"ip", "10.0.0.0/8"}}};
  add_set_acl(tx, "/a", acl, 2);
  const auto r = apply(t, tx, &triggers);
  const wire::Stat expected{1, 1, 100, 100, 0, 0, 2, 0, 1, 0, 1};
  EXPECT_EQ(r.at(0).err, Error::ok);
  EXPECT_EQ(r.at(0).stat, expected);
  EXPECT_EQ(stat_of(t, "/a"), expected);
  EXPECT_EQ(t.acl(t.lookup("/a")), acl);
  EXPECT_TRUE(triggers.empty());  // setACL fires no watch upstream
  EXPECT_EQ(t.last_zxid(), 5);

  auto missing = txn(6);
  add_set_acl(missing, "/b", acl, 1);
  EXPECT_EQ(apply(t, missing).at(0).err, Error::noNode);
}

TEST(DataTreeApply, CheckAndSessionOpsChangeNothing) {
  DataTree t;
  create(t, 1, "/a");
  const auto before = images(t);
  auto tx = txn(2);
  tx.add_ops()->mutable_check()->set_path("/a");
  tx.add_ops()->mutable_create_session()->set_session_id(42);
  tx.add_ops();  // OP_NOT_SET
  const auto r = apply(t, tx);
  ASSERT_EQ(r.size(), 3u);
  for (const auto& x : r) EXPECT_EQ(x.err, Error::ok);
  EXPECT_EQ(images(t), before);
  EXPECT_EQ(t.last_zxid(), 2);
}

TEST(DataTreeApply, MultiOpTxnSharesOneZxid) {
  DataTree t;
  std::vector<WatchTrigger> triggers;
  auto tx = txn(7, 70);
  add_create(tx, "/m", "", 0, 1);
  add_create(tx, "/m/c", "c", 0, 1);
  add_set_data(tx, "/m", "m", 1);
  add_delete(tx, "/m/c");
  const auto r = apply(t, tx, &triggers);
  ASSERT_EQ(r.size(), 4u);
  for (const auto& x : r) EXPECT_EQ(x.err, Error::ok);
  EXPECT_EQ(stat_of(t, "/m"), (wire::Stat{7, 7, 70, 70, 1, 2, 0, 0, 1, 0, 7}));
  EXPECT_EQ(triggers.size(), 2u + 2u + 1u + 2u);
}

TEST(DataTreeApply, LastZxidNeverGoesBack) {
  DataTree t;
  create(t, 10, "/a");
  create(t, 5, "/b");
  EXPECT_EQ(t.last_zxid(), 10);
  t.set_last_zxid(3);
  EXPECT_EQ(t.last_zxid(), 3);
}

TEST(DataTreeEphemerals, IndexedBySessionAndGoneOnDelete) {
  DataTree t;
  const int64_t s1 = 0x100000001, s2 = 0x100000002;
  create(t, 1, "/e1", "", s1);
  create(t, 2, "/p");
  create(t, 3, "/p/e2", "", s1);
  create(t, 4, "/e3", "", s2);
  EXPECT_EQ(t.ephemerals_of(s1), (std::vector<std::string>{"/e1", "/p/e2"}));
  EXPECT_EQ(t.ephemerals_of(s2), (std::vector<std::string>{"/e3"}));
  EXPECT_TRUE(t.ephemerals_of(0x999).empty());
  EXPECT_EQ(t.ephemeral_count(), 3u);
  EXPECT_EQ(t.ephemerals().size(), 2u);
  EXPECT_EQ(stat_of(t, "/p/e2").ephemeralOwner, s1);
  EXPECT_EQ(t.ephemeral_owner(t.lookup("/p/e2")), s1);

  remove(t, 5, "/e3");
  EXPECT_TRUE(t.ephemerals_of(s2).empty());
  EXPECT_EQ(t.ephemerals().count(s2), 0u);  // no empty sets left behind
  EXPECT_EQ(t.ephemeral_count(), 2u);
}

TEST(DataTreeEphemerals, CloseSessionDeletesListedAndRemainingEphemerals) {
  DataTree t;
  const int64_t s1 = 0x100000001, s2 = 0x100000002;
  create(t, 1, "/p");
  create(t, 2, "/p/a", "", s1);
  create(t, 3, "/p/b", "", s1);
  create(t, 4, "/c", "", s1);
  create(t, 5, "/other", "", s2);

  std::vector<WatchTrigger> triggers;
  auto tx = txn(9, 0, 0);
  add_close_session(tx, s1, {"/p/b", "/p/a"});  // "/c" not listed: it still dies
  const auto r = apply(t, tx, &triggers);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].err, Error::ok);
  EXPECT_EQ(t.lookup("/p/a"), no_node);
  EXPECT_EQ(t.lookup("/p/b"), no_node);
  EXPECT_EQ(t.lookup("/c"), no_node);
  EXPECT_NE(t.lookup("/other"), no_node);
  EXPECT_TRUE(t.ephemerals_of(s1).empty());
  EXPECT_EQ(t.ephemeral_count(), 1u);
  EXPECT_EQ(stat_of(t, "/p").pzxid, 9);
  EXPECT_EQ(stat_of(t, "/").pzxid, 9);
  // Listed paths go first, in the listed order, then the rest.
  ASSERT_EQ(triggers.size(), 6u);
  EXPECT_EQ(triggers[0].type, EventType::nodeDeleted);
  EXPECT_EQ(triggers[0].path, "/p/b");
  EXPECT_EQ(triggers[1].path, "/p");
  EXPECT_EQ(triggers[2].path, "/p/a");
  EXPECT_EQ(triggers[4].path, "/c");
  EXPECT_EQ(triggers[5].path, "/");

  // Replaying the close is harmless.
  std::vector<WatchTrigger> again;
  apply(t, tx, &again);
  EXPECT_TRUE(again.empty());
  EXPECT_NE(t.lookup("/other"), no_node);
}

TEST(DataTreeExtendedTypes, ContainersAndTtlNodesHaveTheirOwnSets) {
  DataTree t;
  const int64_t ttl = wire::ttl_owner(5000);
  create(t, 1, "/c", "", wire::container_owner);
  create(t, 2, "/t", "", ttl);
  create(t, 3, "/c/child");
  const NodeId c = t.lookup("/c"), tn = t.lookup("/t");
  EXPECT_EQ(t.containers(), (std::set<NodeId>{c}));
  EXPECT_EQ(t.ttl_nodes(), (std::set<NodeId>{tn}));
  EXPECT_EQ(t.ephemeral_count(), 0u);
  EXPECT_TRUE(t.ephemerals().empty());
  // Stored owners are the encodings; clients see 0 (DataNode.getClientEphemeralOwner).
  EXPECT_EQ(t.ephemeral_owner(c), wire::container_owner);
  EXPECT_EQ(t.ephemeral_owner(tn), ttl);
  EXPECT_EQ(stat_of(t, "/c").ephemeralOwner, 0);
  EXPECT_EQ(stat_of(t, "/t").ephemeralOwner, 0);
  EXPECT_EQ(wire::ttl_of_owner(t.ephemeral_owner(tn)), 5000);

  remove(t, 4, "/c/child");
  remove(t, 5, "/c");
  remove(t, 6, "/t");
  EXPECT_TRUE(t.containers().empty());
  EXPECT_TRUE(t.ttl_nodes().empty());
}

TEST(DataTreeExtendedTypes, CreateResultShowsClientOwner) {
  DataTree t;
  auto tx = txn(1);
  add_create(tx, "/c", "", wire::container_owner, 1);
  EXPECT_EQ(apply(t, tx).at(0).stat.ephemeralOwner, 0);
}

TEST(DataTreeReads, ChildrenInCreationOrderAndDescendants) {
  DataTree t;
  create(t, 1, "/a");
  for (int i = 0; i < 5; ++i) create(t, 2 + i, "/a/n" + std::to_string(i));
  create(t, 10, "/a/n2/deep");
  remove(t, 11, "/a/n1");
  create(t, 12, "/a/n1");
  EXPECT_EQ(t.children(t.lookup("/a")), (std::vector<std::string>{"n0", "n2", "n3", "n4", "n1"}));
  EXPECT_EQ(t.descendant_count(t.lookup("/a")), 6u);
  EXPECT_EQ(t.descendant_count(0), 3u + 1u + 6u);
  EXPECT_EQ(t.path_of(t.lookup("/a/n2/deep")), "/a/n2/deep");
}

TEST(DataTreeReads, ApproximateDataSizeCountsPathsAndData) {
  DataTree t;
  const auto base = t.approximate_data_size();
  create(t, 1, "/ab", "12345");
  EXPECT_EQ(t.approximate_data_size(), base + 3 + 5);
  create(t, 2, "/ab/c", "1");
  EXPECT_EQ(t.approximate_data_size(), base + 3 + 5 + 5 + 1);
  remove(t, 3, "/ab/c");
  remove(t, 4, "/ab");
  EXPECT_EQ(t.approximate_data_size(), base);
}

TEST(DataTreeSnapshot, ForEachNodeVisitsParentsFirst) {
  DataTree t;
  create(t, 1, "/b");
  create(t, 2, "/a");
  create(t, 3, "/b/x");
  create(t, 4, "/a/y");
  create(t, 5, "/b/x/z");
  std::vector<std::string> order;
  t.for_each_node([&](const NodeImage& n) { order.push_back(n.path); });
  ASSERT_EQ(order.size(), t.node_count());
  EXPECT_EQ(order.front(), "/");
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (order[i] == "/") continue;
    const auto parent = std::string(parent_path(order[i]));
    const auto at = std::find(order.begin(), order.end(), parent);
    ASSERT_NE(at, order.end()) << order[i];
    EXPECT_LT(at - order.begin(), static_cast<std::ptrdiff_t>(i)) << order[i];
  }
  // Siblings come in creation order.
  const auto pos = [&](const char* p) { return std::find(order.begin(), order.end(), p) - order.begin(); };
  EXPECT_LT(pos("/zookeeper"), pos("/b"));
  EXPECT_LT(pos("/b"), pos("/a"));
}

TEST(DataTreeSnapshot, ImagesCarryStoredValues) {
  DataTree t;
  create(t, 1, "/c", "", wire::container_owner);
  create(t, 2, "/c/x");
  remove(t, 3, "/c/x");
  const auto img = images(t);
  // Not the client view: the stored cversion (1) and the raw owner.
  EXPECT_EQ(img.at("/c").stat.cversion, 1);
  EXPECT_EQ(img.at("/c").stat.ephemeralOwner, wire::container_owner);
  EXPECT_EQ(stat_of(t, "/c").cversion, 2);
}

TEST(DataTreeSnapshot, LoadRoundTripGivesTheSameTree) {
  DataTree t;
  const int64_t s1 = 0x200000001;
  const wire::AclList digest{{wire::perms::all, {"digest", "u:h"}}};
  create(t, 1, "/a", "aa", 0, 10);
  create(t, 2, "/a/b", "bbb", 0, 20, -1, digest);
  create(t, 3, "/a/e", "", s1, 30);
  create(t, 4, "/c", "", wire::container_owner, 40);
  create(t, 5, "/c/k", "", 0, 50);
  create(t, 6, "/t", "", wire::ttl_owner(1234), 60);
  create(t, 7, "/a/b/x", "", 0, 70);
  remove(t, 8, "/a/b/x");
  auto sd = txn(9, 90);
  add_set_data(sd, "/a", "AAAA", 1);
  add_set_acl(sd, "/a/b", read_acl(), 1);
  apply(t, sd);
  auto cfg = txn(10, 100);
  add_set_data(cfg, "/zookeeper/config", "server.1=x", 1);
  apply(t, cfg);

  const auto ordered = snapshot_of(t);
  const auto snapshot = images(t);
  DataTree copy;
  load(copy, ordered, t.last_zxid());
  EXPECT_EQ(images(copy), snapshot);
  EXPECT_EQ(snapshot_of(copy).size(), ordered.size());
  EXPECT_EQ(copy.node_count(), t.node_count());
  EXPECT_EQ(copy.last_zxid(), 10);
  EXPECT_EQ(copy.approximate_data_size(), t.approximate_data_size());
  for (const auto& [path, image] : snapshot) {
    const NodeId a = t.lookup(path), b = copy.lookup(path);
    ASSERT_NE(b, no_node) << path;
    EXPECT_EQ(copy.stat(b), t.stat(a)) << path;
    EXPECT_EQ(copy.data(b), t.data(a)) << path;
    EXPECT_EQ(copy.acl(b), t.acl(a)) << path;
    EXPECT_EQ(copy.children(b), t.children(a)) << path;
  }
  EXPECT_EQ(copy.ephemerals_of(s1), (std::vector<std::string>{"/a/e"}));
  EXPECT_EQ(copy.containers().size(), 1u);
  EXPECT_EQ(copy.ttl_nodes().size(), 1u);

  // Loading the same image again changes nothing (indexes stay exact).
  load(copy, ordered, 10);
  EXPECT_EQ(images(copy), snapshot);
  EXPECT_EQ(copy.ephemeral_count(), 1u);
  EXPECT_EQ(copy.approximate_data_size(), t.approximate_data_size());
}

TEST(DataTreeSnapshot, LoadRefusesOrphansAndBadPaths) {
  DataTree t;
  const wire::AclList acl = open_acl();
  EXPECT_FALSE(t.load_node(NodeImage{"/x/y", "", &acl, {}}));
  EXPECT_FALSE(t.load_node(NodeImage{"relative", "", &acl, {}}));
  EXPECT_FALSE(t.load_node(NodeImage{"/a/", "", &acl, {}}));
  EXPECT_EQ(t.node_count(), 4u);
  EXPECT_TRUE(t.load_node(NodeImage{"/x", "d", &acl, {}}));
  EXPECT_TRUE(t.load_node(NodeImage{"/x/y", "", &acl, {}}));
  EXPECT_EQ(t.node_count(), 6u);
}

TEST(DataTreeSnapshot, LoadMovesAnEphemeralBetweenOwners) {
  DataTree t;
  create(t, 1, "/e", "", 11);
  wire::Stat s = stat_of(t, "/e");
  s.ephemeralOwner = 22;
  const wire::AclList acl = open_acl();
  ASSERT_TRUE(t.load_node(NodeImage{"/e", "", &acl, s}));
  EXPECT_TRUE(t.ephemerals_of(11).empty());
  EXPECT_EQ(t.ephemerals_of(22), (std::vector<std::string>{"/e"}));
}

// Replays a history over snapshots of itself taken at several points: the
// tree always converges to the one that applied each txn once (ZooKeeper's
// fuzzy-snapshot argument, with snapshots taken between txns).
TEST(DataTreeReplay, ReplayingASuffixOverASnapshotConverges) {
  std::vector<proto::Txn> history;
  DataTree ref;
  std::mt19937 rng(7);
  std::vector<std::string> live;
  std::map<std::string, int32_t> versions;
  int64_t zxid = 0;
  for (int step = 0; step < 1500; ++step) {
    ++zxid;
    auto t = txn(zxid, zxid * 10);
    const int what = static_cast<int>(rng() % 10);
    if (what < 5 || live.empty()) {
      const std::string parent = live.empty() || rng() % 3 == 0 ? "/" : live[rng() % live.size()];
      const NodeId pid = ref.lookup(parent);
      if (ref.ephemeral_owner(pid) > 0) continue;  // no children for ephemerals
      const std::string path = child_path(parent, "n" + std::to_string(rng() % 40));
      if (ref.lookup(path) != no_node) continue;
      const int64_t owner = rng() % 5 == 0 ? static_cast<int64_t>(1 + rng() % 3) : 0;
      // As prep decides it: the parent's stored cversion plus one.
      add_create(t, path, "d" + std::to_string(step), owner, ref.cversion(pid) + 1);
      live.push_back(path);
      versions[path] = 0;
    } else if (what < 7) {
      const std::size_t i = rng() % live.size();
      if (ref.num_children(ref.lookup(live[i])) > 0) continue;
      add_delete(t, live[i]);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (what < 9) {
      const std::string path = live[rng() % live.size()];
      add_set_data(t, path, "v" + std::to_string(step), ++versions[path]);
    } else {
      const int64_t session = 1 + rng() % 3;
      const auto doomed = ref.ephemerals_of(session);
      add_close_session(t, session, doomed);
      for (const auto& d : doomed) live.erase(std::find(live.begin(), live.end(), d));
    }
    apply(ref, t);
    history.push_back(t);
  }
  ASSERT_GT(ref.node_count(), 20u);
  const auto expected = images(ref);

  for (std::size_t k : {std::size_t{0}, std::size_t{100}, std::size_t{700}, history.size() - 1, history.size()}) {
    DataTree at_k;
    for (std::size_t i = 0; i < k; ++i) apply(at_k, history[i]);
    const auto snapshot = snapshot_of(at_k);
    for (std::size_t back : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{40}}) {
      const std::size_t from = k >= back ? k - back : 0;
      DataTree restored;
      load(restored, snapshot, k == 0 ? 0 : history[k - 1].zxid());
      for (std::size_t i = from; i < history.size(); ++i) apply(restored, history[i]);
      ASSERT_EQ(images(restored), expected) << "snapshot after " << k << " txns, replay from " << from;
      for (int64_t s = 1; s <= 3; ++s) EXPECT_EQ(restored.ephemerals_of(s), ref.ephemerals_of(s));
    }
  }
}

TEST(DataTreeIndex, LargeTreeWithDeletesInBetween) {
  DataTree t;
  constexpr int parents = 10;
#if defined(__SANITIZE_ADDRESS__) || !defined(__OPTIMIZE__)
  constexpr int total = 30000;  // sanitizer and debug builds: the same paths, fewer nodes
#else
  constexpr int total = 200000;
#endif
  for (int p = 0; p < parents; ++p) create(t, 1 + p, "/p" + std::to_string(p));
  int64_t zxid = 100;
  const auto name = [](int i) { return "/p" + std::to_string(i % parents) + "/node-" + std::to_string(i); };
  std::vector<char> alive(total, 0);
  std::vector<int> per_parent(parents, 0);
  proto::Txn tx;
  const auto do_create = [&](int i) {
    tx.Clear();
    tx.set_zxid(++zxid);
    add_create(tx, name(i));
    std::vector<OpResult> r;
    std::vector<WatchTrigger> trig;
    t.apply(tx, r, trig);
    ASSERT_EQ(r[0].err, Error::ok) << name(i);
    alive[i] = 1;
    ++per_parent[i % parents];
  };
  const auto do_delete = [&](int i) {
    tx.Clear();
    tx.set_zxid(++zxid);
    add_delete(tx, name(i));
    std::vector<OpResult> r;
    std::vector<WatchTrigger> trig;
    t.apply(tx, r, trig);
    ASSERT_EQ(r[0].err, Error::ok) << name(i);
    alive[i] = 0;
    --per_parent[i % parents];
  };
  for (int i = 0; i < total; ++i) {
    do_create(i);
    // Delete an older node every third create, spread across the table, and
    // bring some deleted ones back (reusing freed ids and slots).
    if (i % 3 == 2) do_delete(i - 2 - (i % 1000 == 2 ? 0 : 1));
    if (i % 7 == 6 && i >= 1000 && !alive[i - 1000]) do_create(i - 1000);
  }
  // A burst of deletes in one region of the key space.
  for (int i = total / 4; i < total / 4 + total / 20; ++i) {
    if (alive[i]) do_delete(i);
  }
  std::size_t live = 0;
  for (int i = 0; i < total; ++i) {
    const std::string p = name(i);
    const NodeId id = t.lookup(p);
    if (alive[i]) {
      ++live;
      ASSERT_NE(id, no_node) << p;
      ASSERT_EQ(t.path_of(id), p);
    } else {
      ASSERT_EQ(id, no_node) << p;
    }
  }
  EXPECT_GT(live, static_cast<std::size_t>(total) * 6 / 10);
  EXPECT_EQ(t.node_count(), 4u + parents + live);
  for (int p = 0; p < parents; ++p) {
    const NodeId id = t.lookup("/p" + std::to_string(p));
    EXPECT_EQ(t.num_children(id), static_cast<uint32_t>(per_parent[p]));
    EXPECT_EQ(t.children(id).size(), static_cast<std::size_t>(per_parent[p]));
  }
  // Everything goes; the tree is back to its start.
  for (int i = 0; i < total; ++i) {
    if (alive[i]) do_delete(i);
  }
  for (int p = 0; p < parents; ++p) remove(t, ++zxid, "/p" + std::to_string(p));
  EXPECT_EQ(t.node_count(), 4u);
  EXPECT_EQ(t.lookup("/p0/node-0"), no_node);
  create(t, ++zxid, "/again");
  EXPECT_NE(t.lookup("/again"), no_node);
}

}  // namespace
}  // namespace corral::ensemble
