// WatchTable: which callbacks an event reaches (ZooKeeper's ZKWatchManager
// rules), one-time versus persistent versus recursive, removal by watcher type,
// and the re-registration record for setWatches2. Pure: no sockets, no fibers.
#include "corral/watch_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace corral {
namespace {

using wire::EventType;
using wire::WatcherType;

// Registers callbacks that append their tag to `fired`.
class WatchTableTest : public ::testing::Test {
 protected:
  void add(WatchKind kind, const std::string& path, const std::string& tag) {
    table_.add(kind, path, [this, tag](const WatchedEvent& e) { fired_.push_back(tag + "@" + e.path); });
  }
  // Delivers an event: takes the callbacks and runs them; returns the tags.
  std::vector<std::string> fire(EventType type, const std::string& path) {
    fired_.clear();
    const WatchedEvent event{type, wire::KeeperState::syncConnected, path};
    for (auto& w : table_.take(event)) w(event);
    return fired_;
  }

  using Tags = std::vector<std::string>;
  WatchTable table_;
  std::vector<std::string> fired_;
};

TEST_F(WatchTableTest, AnEmptyTableHasNothingToFireOrRegister) {
  EXPECT_TRUE(table_.empty());
  EXPECT_TRUE(fire(EventType::nodeDataChanged, "/a").empty());
  const auto reg = table_.registration(42);
  EXPECT_EQ(reg.relativeZxid, 42);
  EXPECT_TRUE(reg.dataWatches.empty() && reg.existWatches.empty() && reg.childWatches.empty() &&
              reg.persistentWatches.empty() && reg.persistentRecursiveWatches.empty());
}

TEST_F(WatchTableTest, DataWatchesFireOnceOnDataChangedAndDeleted) {
  add(WatchKind::data, "/a", "d1");
  EXPECT_EQ(fire(EventType::nodeDataChanged, "/a"), (Tags{"d1@/a"}));
  EXPECT_TRUE(fire(EventType::nodeDataChanged, "/a").empty()) << "a one-time watch fired twice";
  EXPECT_TRUE(table_.empty());

  add(WatchKind::data, "/a", "d2");
  EXPECT_TRUE(fire(EventType::nodeChildrenChanged, "/a").empty()) << "children events are not for data watches";
  EXPECT_TRUE(fire(EventType::nodeDataChanged, "/b").empty()) << "another path";
  EXPECT_EQ(fire(EventType::nodeDeleted, "/a"), (Tags{"d2@/a"}));
  EXPECT_TRUE(table_.empty());
}

TEST_F(WatchTableTest, ExistWatchesFireOnCreatedChangedAndDeleted) {
  add(WatchKind::exist, "/a", "e1");
  EXPECT_EQ(fire(EventType::nodeCreated, "/a"), (Tags{"e1@/a"}));
  add(WatchKind::exist, "/a", "e2");
  EXPECT_EQ(fire(EventType::nodeDataChanged, "/a"), (Tags{"e2@/a"}));
  add(WatchKind::exist, "/a", "e3");
  EXPECT_TRUE(fire(EventType::nodeChildrenChanged, "/a").empty());
  EXPECT_EQ(fire(EventType::nodeDeleted, "/a"), (Tags{"e3@/a"}));
  EXPECT_TRUE(table_.empty());
}

TEST_F(WatchTableTest, ChildWatchesFireOnChildrenChangedAndDeleted) {
  add(WatchKind::child, "/p", "c1");
  EXPECT_TRUE(fire(EventType::nodeDataChanged, "/p").empty());
  EXPECT_TRUE(fire(EventType::nodeCreated, "/p").empty());
  EXPECT_EQ(fire(EventType::nodeChildrenChanged, "/p"), (Tags{"c1@/p"}));
  EXPECT_TRUE(fire(EventType::nodeChildrenChanged, "/p").empty());
  add(WatchKind::child, "/p", "c2");
  EXPECT_EQ(fire(EventType::nodeDeleted, "/p"), (Tags{"c2@/p"}));
  EXPECT_TRUE(table_.empty());
}

TEST_F(WatchTableTest, NodeDeletedReachesDataExistAndChildWatchersAtOnce) {
  add(WatchKind::data, "/n", "data");
  add(WatchKind::exist, "/n", "exist");
  add(WatchKind::child, "/n", "child");
  add(WatchKind::child, "/other", "other");
  const auto tags = fire(EventType::nodeDeleted, "/n");
  EXPECT_EQ(tags.size(), 3u);
  for (const char* t : {"data@/n", "exist@/n", "child@/n"}) {
    EXPECT_NE(std::find(tags.begin(), tags.end(), t), tags.end()) << t;
  }
  EXPECT_FALSE(table_.empty());
  EXPECT_TRUE(table_.contains("/other", WatcherType::children));
}

TEST_F(WatchTableTest, EveryCallbackOnAPathFiresInRegistrationOrder) {
  for (const char* tag : {"first", "second", "third"}) add(WatchKind::data, "/a", tag);
  EXPECT_EQ(fire(EventType::nodeDataChanged, "/a"), (Tags{"first@/a", "second@/a", "third@/a"}));
}

TEST_F(WatchTableTest, PersistentWatchesSeeEveryEventOnTheirPathAndStay) {
  add(WatchKind::persistent, "/p", "p");
  EXPECT_EQ(fire(EventType::nodeCreated, "/p"), (Tags{"p@/p"}));
  EXPECT_EQ(fire(EventType::nodeDataChanged, "/p"), (Tags{"p@/p"}));
  EXPECT_EQ(fire(EventType::nodeChildrenChanged, "/p"), (Tags{"p@/p"}));
  EXPECT_EQ(fire(EventType::nodeDeleted, "/p"), (Tags{"p@/p"}));
  EXPECT_EQ(fire(EventType::nodeCreated, "/p"), (Tags{"p@/p"})) << "a persistent watch outlives the node";
  EXPECT_TRUE(fire(EventType::nodeCreated, "/p/child").empty()) << "not recursive";
  EXPECT_FALSE(table_.empty());
}

TEST_F(WatchTableTest, RecursiveWatchesSeeDescendantsButNotChildrenChanged) {
  add(WatchKind::recursive, "/r", "r");
  EXPECT_EQ(fire(EventType::nodeCreated, "/r"), (Tags{"r@/r"}));
  EXPECT_EQ(fire(EventType::nodeCreated, "/r/a"), (Tags{"r@/r/a"}));
  EXPECT_EQ(fire(EventType::nodeDataChanged, "/r/a/b/c"), (Tags{"r@/r/a/b/c"}));
  EXPECT_EQ(fire(EventType::nodeDeleted, "/r/a"), (Tags{"r@/r/a"}));
  EXPECT_TRUE(fire(EventType::nodeChildrenChanged, "/r").empty());
  EXPECT_TRUE(fire(EventType::nodeChildrenChanged, "/r/a").empty());
  // Siblings that merely share the prefix are not below /r.
  EXPECT_TRUE(fire(EventType::nodeCreated, "/rr").empty());
  EXPECT_TRUE(fire(EventType::nodeCreated, "/").empty());
  EXPECT_FALSE(table_.empty());
}

TEST_F(WatchTableTest, ARecursiveWatchOnTheRootSeesEverything) {
  add(WatchKind::recursive, "/", "root");
  EXPECT_EQ(fire(EventType::nodeCreated, "/x"), (Tags{"root@/x"}));
  EXPECT_EQ(fire(EventType::nodeDataChanged, "/x/y"), (Tags{"root@/x/y"}));
  EXPECT_EQ(fire(EventType::nodeDataChanged, "/"), (Tags{"root@/"}));
}

TEST_F(WatchTableTest, NestedRecursiveWatchesAllFire) {
  add(WatchKind::recursive, "/a", "outer");
  add(WatchKind::recursive, "/a/b", "inner");
  const auto tags = fire(EventType::nodeDataChanged, "/a/b/c");
  EXPECT_EQ(tags.size(), 2u);
  EXPECT_NE(std::find(tags.begin(), tags.end(), "outer@/a/b/c"), tags.end());
  EXPECT_NE(std::find(tags.begin(), tags.end(), "inner@/a/b/c"), tags.end());
  EXPECT_EQ(fire(EventType::nodeDataChanged, "/a/x"), (Tags{"outer@/a/x"}));
}

TEST_F(WatchTableTest, OneTimeAndPersistentOnOnePathBothFireAndOnlyTheOneTimeGoes) {
  add(WatchKind::data, "/a", "once");
  add(WatchKind::persistent, "/a", "always");
  add(WatchKind::recursive, "/", "root");
  auto tags = fire(EventType::nodeDataChanged, "/a");
  EXPECT_EQ(tags.size(), 3u);
  tags = fire(EventType::nodeDataChanged, "/a");
  EXPECT_EQ(tags.size(), 2u);
  EXPECT_EQ(std::count(tags.begin(), tags.end(), "once@/a"), 0);
}

TEST_F(WatchTableTest, StateEventsTakeNoPathWatchers) {
  add(WatchKind::data, "/a", "d");
  add(WatchKind::persistent, "/a", "p");
  EXPECT_TRUE(fire(EventType::none, "").empty());
  EXPECT_TRUE(fire(EventType::none, "/a").empty());
  EXPECT_TRUE(table_.contains("/a", WatcherType::data));
}

TEST_F(WatchTableTest, TakeAllEmptiesTheTable) {
  add(WatchKind::data, "/a", "d");
  add(WatchKind::exist, "/b", "e");
  add(WatchKind::child, "/c", "c");
  add(WatchKind::persistent, "/d", "p");
  add(WatchKind::recursive, "/e", "r");
  auto all = table_.take_all();
  EXPECT_EQ(all.size(), 5u);
  EXPECT_TRUE(table_.empty());
  EXPECT_TRUE(fire(EventType::nodeDataChanged, "/a").empty());
  EXPECT_TRUE(fire(EventType::nodeDataChanged, "/d").empty());
}

TEST_F(WatchTableTest, RemoveAndContainsByWatcherType) {
  const auto fill = [&] {
    add(WatchKind::data, "/a", "d");
    add(WatchKind::exist, "/a", "e");
    add(WatchKind::child, "/a", "c");
    add(WatchKind::persistent, "/a", "p");
    add(WatchKind::recursive, "/a", "r");
  };
  fill();
  for (auto type : {WatcherType::children, WatcherType::data, WatcherType::persistent, WatcherType::persistentRecursive,
                    WatcherType::any}) {
    EXPECT_TRUE(table_.contains("/a", type)) << static_cast<int>(type);
    EXPECT_FALSE(table_.contains("/b", type)) << static_cast<int>(type);
  }

  EXPECT_TRUE(table_.remove("/a", WatcherType::children));
  EXPECT_FALSE(table_.contains("/a", WatcherType::children));
  EXPECT_FALSE(table_.remove("/a", WatcherType::children)) << "nothing left to remove";
  EXPECT_TRUE(table_.contains("/a", WatcherType::data));

  // Data removes the data and the exist watchers alike (both are "data" at the server).
  EXPECT_TRUE(table_.remove("/a", WatcherType::data));
  EXPECT_FALSE(table_.contains("/a", WatcherType::data));
  EXPECT_EQ(fire(EventType::nodeDeleted, "/a"), (Tags{"p@/a", "r@/a"}));

  EXPECT_TRUE(table_.remove("/a", WatcherType::persistent));
  EXPECT_FALSE(table_.contains("/a", WatcherType::persistent));
  EXPECT_TRUE(table_.contains("/a", WatcherType::persistentRecursive));
  EXPECT_TRUE(table_.remove("/a", WatcherType::persistentRecursive));
  EXPECT_FALSE(table_.contains("/a", WatcherType::any));
  EXPECT_TRUE(table_.empty());

  fill();
  add(WatchKind::data, "/keep", "k");
  EXPECT_TRUE(table_.remove("/a", WatcherType::any));
  EXPECT_FALSE(table_.contains("/a", WatcherType::any));
  EXPECT_FALSE(table_.remove("/a", WatcherType::any));
  EXPECT_TRUE(table_.contains("/keep", WatcherType::data));
}

TEST_F(WatchTableTest, AnExistWatchAloneCountsAsData) {
  add(WatchKind::exist, "/maybe", "e");
  EXPECT_TRUE(table_.contains("/maybe", WatcherType::data));
  EXPECT_TRUE(table_.contains("/maybe", WatcherType::any));
  EXPECT_FALSE(table_.contains("/maybe", WatcherType::children));
  EXPECT_TRUE(table_.remove("/maybe", WatcherType::data));
  EXPECT_TRUE(table_.empty());
}

TEST_F(WatchTableTest, RegistrationListsEachPathOncePerKind) {
  add(WatchKind::data, "/d", "d1");
  add(WatchKind::data, "/d", "d2");
  add(WatchKind::exist, "/e", "e");
  add(WatchKind::child, "/c1", "c");
  add(WatchKind::child, "/c2", "c");
  add(WatchKind::persistent, "/p", "p");
  add(WatchKind::recursive, "/r", "r");
  const auto reg = table_.registration(0x1234);
  EXPECT_EQ(reg.relativeZxid, 0x1234);
  EXPECT_EQ(reg.dataWatches, (Tags{"/d"}));
  EXPECT_EQ(reg.existWatches, (Tags{"/e"}));
  EXPECT_EQ(reg.childWatches, (Tags{"/c1", "/c2"}));
  EXPECT_EQ(reg.persistentWatches, (Tags{"/p"}));
  EXPECT_EQ(reg.persistentRecursiveWatches, (Tags{"/r"}));

  // Fired one-time watches are no longer registered; persistent ones are.
  fire(EventType::nodeDeleted, "/d");
  fire(EventType::nodeDeleted, "/p");
  const auto after = table_.registration(1);
  EXPECT_TRUE(after.dataWatches.empty());
  EXPECT_EQ(after.persistentWatches, (Tags{"/p"}));
}

}  // namespace
}  // namespace corral
