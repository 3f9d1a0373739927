// WatchRegistry: ZooKeeper's data and child watch tables with standard,
// persistent and persistent-recursive modes (WatchManager.java; the
// per-mode remove/contains of ZooKeeper 3.9's DataTree.removeWatch).
#include "ensemble/core/watch_registry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::ensemble {
namespace {

using wire::EventType;
using wire::WatcherType;

constexpr WatcherId A = 0xa, B = 0xb, C = 0xc;

std::vector<Notification> fire(WatchRegistry& r, EventType type, std::string path) {
  std::vector<Notification> out;
  r.fire(WatchTrigger{type, std::move(path)}, out);
  return out;
}

std::vector<WatcherId> who(const std::vector<Notification>& ns) {
  std::vector<WatcherId> out;
  for (const auto& n : ns) out.push_back(n.watcher);
  return out;
}

// The triggers a create of `path` under `parent` produces, in order.
std::vector<Notification> created(WatchRegistry& r, const std::string& path, const std::string& parent) {
  auto out = fire(r, EventType::nodeCreated, path);
  auto more = fire(r, EventType::nodeChildrenChanged, parent);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::vector<Notification> deleted(WatchRegistry& r, const std::string& path, const std::string& parent) {
  auto out = fire(r, EventType::nodeDeleted, path);
  auto more = fire(r, EventType::nodeChildrenChanged, parent);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

TEST(WatchStandard, DataWatchFiresOnceWithTheEvent) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  const auto ns = fire(r, EventType::nodeDataChanged, "/a");
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].watcher, A);
  EXPECT_EQ(ns[0].type, EventType::nodeDataChanged);
  EXPECT_EQ(ns[0].path, "/a");
  EXPECT_TRUE(fire(r, EventType::nodeDataChanged, "/a").empty());
  EXPECT_EQ(r.watch_count(), 0u);
  EXPECT_EQ(r.watcher_count(), 0u);
  EXPECT_EQ(r.watched_path_count(), 0u);
}

TEST(WatchStandard, ExistsWatchFiresOnCreation) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  const auto ns = created(r, "/a", "/");
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].type, EventType::nodeCreated);
}

TEST(WatchStandard, OtherPathsAndOtherTablesDoNotFire) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  r.add(WatchTable::child, "/b", B, watch_mode::standard);
  EXPECT_TRUE(fire(r, EventType::nodeDataChanged, "/b").empty());
  EXPECT_TRUE(fire(r, EventType::nodeChildrenChanged, "/a").empty());
  EXPECT_TRUE(fire(r, EventType::nodeDataChanged, "/a/x").empty());  // not recursive
  EXPECT_TRUE(created(r, "/b/c", "/b").size() == 1u);                // B's child watch
  EXPECT_EQ(r.watch_count(), 1u);
}

TEST(WatchStandard, ChildWatchFiresOnChildrenChangedAndOnDeletion) {
  WatchRegistry r;
  r.add(WatchTable::child, "/p", A, watch_mode::standard);
  const auto ns = created(r, "/p/c", "/p");
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].type, EventType::nodeChildrenChanged);
  EXPECT_EQ(ns[0].path, "/p");
  EXPECT_TRUE(created(r, "/p/d", "/p").empty());

  r.add(WatchTable::child, "/p", A, watch_mode::standard);
  const auto gone = deleted(r, "/p", "/");
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].type, EventType::nodeDeleted);
  EXPECT_EQ(gone[0].path, "/p");
}

TEST(WatchStandard, SeveralWatchersInIdOrder) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", C, watch_mode::standard);
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  r.add(WatchTable::data, "/a", B, watch_mode::standard);
  r.add(WatchTable::data, "/a", A, watch_mode::standard);  // twice is once
  EXPECT_EQ(who(fire(r, EventType::nodeDataChanged, "/a")), (std::vector<WatcherId>{A, B, C}));
}

TEST(WatchDeleted, DataAndChildWatchOfOneWatcherGiveOneEvent) {
  // DataTree.deleteNode: the child table's trigger suppresses watchers the
  // data table already notified.
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  r.add(WatchTable::child, "/a", A, watch_mode::standard);
  r.add(WatchTable::child, "/a", B, watch_mode::standard);
  r.add(WatchTable::data, "/a", C, watch_mode::standard);
  const auto ns = fire(r, EventType::nodeDeleted, "/a");
  ASSERT_EQ(ns.size(), 3u);
  for (const auto& n : ns) {
    EXPECT_EQ(n.type, EventType::nodeDeleted);
    EXPECT_EQ(n.path, "/a");
  }
  EXPECT_EQ(who(ns), (std::vector<WatcherId>{A, C, B}));  // data table first, then child
  // Both of A's watches are spent.
  EXPECT_EQ(r.watch_count(), 0u);
}

TEST(WatchPersistent, FiresEveryTimeForTheNodeItself) {
  WatchRegistry r;
  r.add_persistent("/a", A, wire::AddWatchMode::persistent);
  EXPECT_EQ(r.watch_count(), 2u);  // one entry in each table
  EXPECT_EQ(r.watched_path_count(), 1u);
  for (int i = 0; i < 3; ++i) {
    const auto ns = fire(r, EventType::nodeDataChanged, "/a");
    ASSERT_EQ(ns.size(), 1u);
  }
  EXPECT_EQ(created(r, "/a/c", "/a").size(), 1u);      // children changed
  EXPECT_EQ(created(r, "/a/c/d", "/a/c").size(), 0u);  // not below
  EXPECT_EQ(fire(r, EventType::nodeCreated, "/a").size(), 1u);
  const auto gone = fire(r, EventType::nodeDeleted, "/a");
  ASSERT_EQ(gone.size(), 1u);                                   // in both tables, yet one event
  EXPECT_EQ(fire(r, EventType::nodeDeleted, "/a").size(), 1u);  // and still there
  EXPECT_EQ(r.watch_count(), 2u);
}

TEST(WatchRecursive, FiresForTheSubtreeButNeverForChildrenChanged) {
  WatchRegistry r;
  r.add_persistent("/a", A, wire::AddWatchMode::persistentRecursive);
  EXPECT_EQ(r.watch_count(), 1u);  // the data table only
  EXPECT_TRUE(r.contains("/a", A, WatcherType::persistentRecursive));

  auto ns = created(r, "/a/b", "/a");
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].type, EventType::nodeCreated);
  EXPECT_EQ(ns[0].path, "/a/b");

  ns = created(r, "/a/b/c/d", "/a/b/c");
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].path, "/a/b/c/d");

  EXPECT_EQ(fire(r, EventType::nodeDataChanged, "/a").size(), 1u);
  EXPECT_EQ(fire(r, EventType::nodeDataChanged, "/a/b").size(), 1u);
  EXPECT_TRUE(fire(r, EventType::nodeChildrenChanged, "/a").empty());
  EXPECT_TRUE(fire(r, EventType::nodeChildrenChanged, "/a/b").empty());

  ns = deleted(r, "/a/b", "/a");
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].type, EventType::nodeDeleted);
  // Not for siblings that merely share a prefix, nor above.
  EXPECT_TRUE(fire(r, EventType::nodeDataChanged, "/ab").empty());
  EXPECT_TRUE(fire(r, EventType::nodeDataChanged, "/").empty());
  EXPECT_EQ(r.watch_count(), 1u);
}

TEST(WatchRecursive, AtTheRootCoversEverything) {
  WatchRegistry r;
  r.add_persistent("/", A, wire::AddWatchMode::persistentRecursive);
  EXPECT_EQ(fire(r, EventType::nodeCreated, "/x").size(), 1u);
  EXPECT_EQ(fire(r, EventType::nodeDataChanged, "/x/y/z").size(), 1u);
  EXPECT_EQ(fire(r, EventType::nodeDataChanged, "/").size(), 1u);
  EXPECT_TRUE(fire(r, EventType::nodeChildrenChanged, "/").empty());
}

TEST(WatchRecursive, OneEventPerTriggerEvenWithSeveralMatchingWatches) {
  WatchRegistry r;
  r.add_persistent("/", A, wire::AddWatchMode::persistentRecursive);
  r.add_persistent("/a", A, wire::AddWatchMode::persistentRecursive);
  r.add(WatchTable::data, "/a/b", A, watch_mode::standard);
  r.add(WatchTable::child, "/a/b", A, watch_mode::standard);
  r.add_persistent("/a", B, wire::AddWatchMode::persistentRecursive);
  EXPECT_EQ(who(fire(r, EventType::nodeDataChanged, "/a/b")), (std::vector<WatcherId>{A, B}));
  EXPECT_EQ(who(fire(r, EventType::nodeDeleted, "/a/b")), (std::vector<WatcherId>{A, B}));
}

TEST(WatchModes, StandardAndPersistentOnOnePathLiveSideBySide) {
  // ZooKeeper 3.9 (ZOOKEEPER-4466) keeps both modes; the standard watch is
  // spent by the first event and the persistent one stays.
  WatchRegistry r;
  r.add_persistent("/a", A, wire::AddWatchMode::persistent);
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  EXPECT_TRUE(r.contains("/a", A, WatcherType::data));
  EXPECT_TRUE(r.contains("/a", A, WatcherType::persistent));
  EXPECT_EQ(fire(r, EventType::nodeDataChanged, "/a").size(), 1u);  // one event, not two
  EXPECT_TRUE(r.contains("/a", A, WatcherType::persistent));
  EXPECT_EQ(fire(r, EventType::nodeDataChanged, "/a").size(), 1u);
}

TEST(WatchContains, ByWatcherType) {
  WatchRegistry r;
  r.add(WatchTable::data, "/d", A, watch_mode::standard);
  r.add(WatchTable::child, "/c", A, watch_mode::standard);
  r.add_persistent("/p", A, wire::AddWatchMode::persistent);
  r.add_persistent("/r", A, wire::AddWatchMode::persistentRecursive);

  EXPECT_TRUE(r.contains("/d", A, WatcherType::data));
  EXPECT_FALSE(r.contains("/d", A, WatcherType::children));
  EXPECT_TRUE(r.contains("/d", A, WatcherType::any));
  EXPECT_FALSE(r.contains("/d", B, WatcherType::any));

  EXPECT_TRUE(r.contains("/c", A, WatcherType::children));
  EXPECT_FALSE(r.contains("/c", A, WatcherType::data));
  EXPECT_TRUE(r.contains("/c", A, WatcherType::any));

  // ZooKeeper 3.8: Data and Children see every mode in their table.
  EXPECT_TRUE(r.contains("/p", A, WatcherType::persistent));
  EXPECT_TRUE(r.contains("/p", A, WatcherType::data));
  EXPECT_TRUE(r.contains("/p", A, WatcherType::children));
  EXPECT_FALSE(r.contains("/p", A, WatcherType::persistentRecursive));
  EXPECT_TRUE(r.contains("/p", A, WatcherType::any));

  EXPECT_TRUE(r.contains("/r", A, WatcherType::persistentRecursive));
  EXPECT_FALSE(r.contains("/r", A, WatcherType::persistent));
  EXPECT_TRUE(r.contains("/r", A, WatcherType::data));
  EXPECT_FALSE(r.contains("/r", A, WatcherType::children));  // recursive watches live in the data table only
  EXPECT_TRUE(r.contains("/r", A, WatcherType::any));
  // A recursive watch on an ancestor is not a watch on the descendant's path.
  EXPECT_FALSE(r.contains("/r/x", A, WatcherType::any));
  EXPECT_FALSE(r.contains("/nothing", A, WatcherType::any));
}

TEST(WatchRemove, ByWatcherType) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  r.add(WatchTable::child, "/a", A, watch_mode::standard);
  r.add_persistent("/p", A, wire::AddWatchMode::persistent);
  r.add_persistent("/r", A, wire::AddWatchMode::persistentRecursive);
  r.add(WatchTable::data, "/a", B, watch_mode::standard);

  // Data removes the data-table watch and leaves the child one.
  EXPECT_TRUE(r.remove("/a", A, WatcherType::data));
  EXPECT_FALSE(r.remove("/a", A, WatcherType::data));  // nothing left of that kind
  EXPECT_TRUE(r.contains("/a", A, WatcherType::children));
  EXPECT_TRUE(r.remove("/a", A, WatcherType::children));
  EXPECT_FALSE(r.contains("/a", A, WatcherType::any));

  // Persistent (type 4) removes a persistent watch from both tables.
  EXPECT_TRUE(r.remove("/p", A, WatcherType::persistent));
  EXPECT_FALSE(r.contains("/p", A, WatcherType::any));

  // ZooKeeper 3.8: Data also removes a recursive watch (it is in the data table).
  EXPECT_TRUE(r.remove("/r", A, WatcherType::data));
  EXPECT_TRUE(fire(r, EventType::nodeDataChanged, "/r/x").empty());  // recursion gone
  EXPECT_FALSE(r.remove("/r", A, WatcherType::persistentRecursive));

  EXPECT_FALSE(r.remove("/a", A, WatcherType::any));
  // B untouched.
  EXPECT_TRUE(r.contains("/a", B, WatcherType::data));
  EXPECT_EQ(r.watch_count(), 1u);
}

TEST(WatchRemove, PersistentRecursiveTypeRemovesOnlyTheRecursiveMode) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  r.add_persistent("/a", A, wire::AddWatchMode::persistentRecursive);
  EXPECT_TRUE(r.remove("/a", A, WatcherType::persistentRecursive));
  EXPECT_TRUE(fire(r, EventType::nodeDataChanged, "/a/x").empty());
  EXPECT_TRUE(r.contains("/a", A, WatcherType::data));
}

TEST(WatchRemove, AnyRemovesEveryMode) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  r.add(WatchTable::child, "/a", A, watch_mode::standard);
  r.add_persistent("/a", A, wire::AddWatchMode::persistentRecursive);
  EXPECT_TRUE(r.remove("/a", A, WatcherType::any));
  EXPECT_EQ(r.watch_count(), 0u);
  EXPECT_EQ(r.watcher_count(), 0u);
  EXPECT_TRUE(fire(r, EventType::nodeDataChanged, "/a/b").empty());
  EXPECT_FALSE(r.remove("/a", A, WatcherType::any));
}

TEST(WatchRemove, RemoveWatcherDropsEverythingOfOneWatcher) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  r.add(WatchTable::child, "/b", A, watch_mode::standard);
  r.add_persistent("/c", A, wire::AddWatchMode::persistent);
  r.add_persistent("/", A, wire::AddWatchMode::persistentRecursive);
  r.add(WatchTable::data, "/a", B, watch_mode::standard);
  r.remove_watcher(A);
  r.remove_watcher(C);  // unknown: nothing happens
  EXPECT_EQ(r.watcher_count(), 1u);
  EXPECT_EQ(r.watch_count(), 1u);
  EXPECT_EQ(who(fire(r, EventType::nodeDataChanged, "/a")), (std::vector<WatcherId>{B}));
  EXPECT_TRUE(fire(r, EventType::nodeDataChanged, "/zzz").empty());
}

TEST(WatchCounts, ForTheFourLetterWords) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  r.add(WatchTable::child, "/a", A, watch_mode::standard);
  r.add(WatchTable::data, "/b", A, watch_mode::standard);
  r.add(WatchTable::data, "/a", B, watch_mode::standard);
  r.add_persistent("/c", C, wire::AddWatchMode::persistent);
  EXPECT_EQ(r.watch_count(), 6u);  // (watcher, path, table) entries
  EXPECT_EQ(r.watched_path_count(), 3u);
  EXPECT_EQ(r.watcher_count(), 3u);
  const auto by_path = r.by_path();
  ASSERT_EQ(by_path.size(), 3u);
  EXPECT_EQ(by_path[0].first, "/a");
  EXPECT_EQ(by_path[0].second, (std::vector<WatcherId>{A, B}));
  EXPECT_EQ(by_path[1].first, "/b");
  EXPECT_EQ(by_path[2].first, "/c");
  EXPECT_EQ(by_path[2].second, (std::vector<WatcherId>{C}));
  const auto by_watcher = r.by_watcher();
  ASSERT_EQ(by_watcher.size(), 3u);
  EXPECT_EQ(by_watcher[0].first, A);
  EXPECT_EQ(by_watcher[0].second, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(by_watcher[2].second, (std::vector<std::string>{"/c"}));

  fire(r, EventType::nodeDeleted, "/a");  // spends A's two and B's one
  EXPECT_EQ(r.watch_count(), 3u);
  EXPECT_EQ(r.watched_path_count(), 2u);
  EXPECT_EQ(r.watcher_count(), 2u);
}

TEST(WatchFire, EventTypesWithoutWatchesFireNothing) {
  WatchRegistry r;
  r.add(WatchTable::data, "/a", A, watch_mode::standard);
  EXPECT_TRUE(fire(r, EventType::none, "/a").empty());
  EXPECT_TRUE(fire(r, EventType::dataWatchRemoved, "/a").empty());
  EXPECT_EQ(r.watch_count(), 1u);
}

}  // namespace
}  // namespace corral::ensemble
