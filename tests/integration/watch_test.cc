// Watches: one-time data, exists and child watches through the C client, their
// order, setWatches when the C client reconnects after a server crash, watch
// removal, persistent and recursive watches (addWatch, raw), and the ordering
// guarantee that a watch event reaches a client before any reply showing the
// change.
#include <algorithm>
#include <string>
#include <vector>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

namespace w = corral::wire;

class WatchTest : public ServerTest {
 protected:
  // Everything `watcher` was sent before this call is in its event queue when
  // it returns: a fresh marker node it watches is created by `writer`, and the
  // C client delivers events in the order they arrived.
  void flush(ZkClient& watcher, ZkClient& writer) {
    const std::string marker = "/marker-" + std::to_string(++markers_);
    ASSERT_EQ(watcher.exists(marker, nullptr, true), ZNONODE);
    ASSERT_EQ(writer.create(marker), ZOK);
    ASSERT_TRUE(watcher.wait_event(ZOO_CREATED_EVENT, marker)) << "no event for " << marker;
  }

  static std::size_t count(const std::vector<ZkEvent>& events, int type, const std::string& path) {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(),
                                                  [&](const ZkEvent& e) { return e.type == type && e.path == path; }));
  }

  int markers_ = 0;
};

TEST_F(WatchTest, DataWatchFiresOnceOnChange) {
  auto a = connect();
  auto b = connect();
  ASSERT_EQ(b->create("/w", "0"), ZOK);
  std::string data;
  ASSERT_EQ(a->get("/w", &data, nullptr, true), ZOK);
  ASSERT_EQ(b->set("/w", "1"), ZOK);
  auto e = a->wait_event(ZOO_CHANGED_EVENT, "/w");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, ZOO_CONNECTED_STATE);
  // One-time: the next change is not reported.
  ASSERT_EQ(b->set("/w", "2"), ZOK);
  ASSERT_NO_FATAL_FAILURE(flush(*a, *b));
  EXPECT_EQ(count(a->pending_events(), ZOO_CHANGED_EVENT, "/w"), 0u);
  // Setting the watch again re-arms it.
  ASSERT_EQ(a->get("/w", &data, nullptr, true), ZOK);
  EXPECT_EQ(data, "2");
  ASSERT_EQ(b->set("/w", "3"), ZOK);
  EXPECT_TRUE(a->wait_event(ZOO_CHANGED_EVENT, "/w"));
}

TEST_F(WatchTest, ExistsWatchOnAMissingNodeFiresOnCreate) {
  auto a = connect();
  auto b = connect();
  ASSERT_EQ(a->exists("/later", nullptr, true), ZNONODE);
  ASSERT_EQ(b->create("/later", "x"), ZOK);
  EXPECT_TRUE(a->wait_event(ZOO_CREATED_EVENT, "/later"));
  // An exists watch on a node that exists fires on its deletion.
  ASSERT_EQ(a->exists("/later", nullptr, true), ZOK);
  ASSERT_EQ(b->remove("/later"), ZOK);
  EXPECT_TRUE(a->wait_event(ZOO_DELETED_EVENT, "/later"));
}

TEST_F(WatchTest, ChildWatchFiresOnChildCreateAndDeleteNotOnChildData) {
  auto a = connect();
  auto b = connect();
  ASSERT_EQ(b->create("/p"), ZOK);
  std::vector<std::string> kids;
  ASSERT_EQ(a->children("/p", &kids, true), ZOK);
  ASSERT_EQ(b->create("/p/k", "0"), ZOK);
  EXPECT_TRUE(a->wait_event(ZOO_CHILD_EVENT, "/p"));

  ASSERT_EQ(a->children("/p", &kids, true), ZOK);
  ASSERT_EQ(b->set("/p/k", "1"), ZOK);  // a child's data is not the parent's children
  ASSERT_EQ(b->set("/p", "1"), ZOK);    // nor is the parent's own data
  ASSERT_NO_FATAL_FAILURE(flush(*a, *b));
  EXPECT_TRUE(a->pending_events().empty());

  ASSERT_EQ(b->remove("/p/k"), ZOK);
  EXPECT_TRUE(a->wait_event(ZOO_CHILD_EVENT, "/p"));

  // getChildren2 sets the same watch.
  Stat st{};
  ASSERT_EQ(a->children2("/p", &kids, &st, true), ZOK);
  ASSERT_EQ(b->create("/p/k2"), ZOK);
  EXPECT_TRUE(a->wait_event(ZOO_CHILD_EVENT, "/p"));
}

TEST_F(WatchTest, DeleteFiresDataAndChildWatchersOnceAndTheParentsChildWatch) {
  auto a = connect();
  auto b = connect();
  ASSERT_EQ(b->create("/p"), ZOK);
  ASSERT_EQ(b->create("/p/d"), ZOK);
  std::string data;
  std::vector<std::string> kids;
  ASSERT_EQ(a->get("/p/d", &data, nullptr, true), ZOK);
  ASSERT_EQ(a->children("/p/d", &kids, true), ZOK);
  ASSERT_EQ(a->children("/p", &kids, true), ZOK);
  ASSERT_EQ(b->remove("/p/d"), ZOK);
  ASSERT_NO_FATAL_FAILURE(flush(*a, *b));
  const auto events = a->pending_events();
  EXPECT_EQ(count(events, ZOO_DELETED_EVENT, "/p/d"), 1u);
  EXPECT_EQ(count(events, ZOO_CHILD_EVENT, "/p"), 1u);
  EXPECT_EQ(events.size(), 2u);
}

TEST_F(WatchTest, EventsArriveInTheOrderOfTheChanges) {
  auto a = connect();
  auto b = connect();
  const std::vector<std::string> paths = {"/o1", "/o2", "/o3", "/o4", "/o5"};
  for (const auto& p : paths) {
    ASSERT_EQ(b->create(p), ZOK);
    ASSERT_EQ(a->exists(p, nullptr, true), ZOK);
  }
  const std::vector<std::string> order = {"/o3", "/o1", "/o5", "/o2", "/o4"};
  for (const auto& p : order) ASSERT_EQ(b->set(p, "x"), ZOK);
  ASSERT_NO_FATAL_FAILURE(flush(*a, *b));
  std::vector<std::string> seen;
  for (const auto& e : a->pending_events()) seen.push_back(e.path);
  EXPECT_EQ(seen, order);

  // Within a multi, events follow the op order too.
  for (const auto& p : paths) ASSERT_EQ(a->exists(p, nullptr, true), ZOK);
  a->clear_events();
  zoo_op_t ops[3];
  zoo_set_op_init(&ops[0], "/o4", "y", 1, -1, nullptr);
  zoo_delete_op_init(&ops[1], "/o2", -1);
  zoo_set_op_init(&ops[2], "/o1", "y", 1, -1, nullptr);
  zoo_op_result_t results[3];
  ASSERT_EQ(zoo_multi(b->get(), 3, ops, results), ZOK);
  ASSERT_NO_FATAL_FAILURE(flush(*a, *b));
  std::vector<ZkEvent> events = a->pending_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].path, "/o4");
  EXPECT_EQ(events[0].type, ZOO_CHANGED_EVENT);
  EXPECT_EQ(events[1].path, "/o2");
  EXPECT_EQ(events[1].type, ZOO_DELETED_EVENT);
  EXPECT_EQ(events[2].path, "/o1");
}

TEST_F(WatchTest, AClientsOwnWriteFiresItsWatch) {
  auto a = connect();
  ASSERT_EQ(a->create("/self", "0"), ZOK);
  ASSERT_EQ(a->exists("/self", nullptr, true), ZOK);
  ASSERT_EQ(a->set("/self", "1"), ZOK);
  EXPECT_TRUE(a->wait_event(ZOO_CHANGED_EVENT, "/self"));
}

TEST_F(WatchTest, RemoveAllWatchesStopsEvents) {
  auto a = connect();
  auto b = connect();
  ASSERT_EQ(b->create("/r", "0"), ZOK);
  ASSERT_EQ(b->create("/r/k"), ZOK);
  std::string data;
  std::vector<std::string> kids;
  ASSERT_EQ(a->get("/r", &data, nullptr, true), ZOK);
  ASSERT_EQ(a->children("/r", &kids, true), ZOK);
  // removeWatches (opcode 18) for the data watch: the child watch stays.
  ASSERT_EQ(zoo_remove_all_watches(a->get(), "/r", ZWATCHTYPE_DATA, 0), ZOK);
  ASSERT_EQ(b->set("/r", "1"), ZOK);
  ASSERT_EQ(b->create("/r/k2"), ZOK);
  ASSERT_NO_FATAL_FAILURE(flush(*a, *b));
  auto events = a->pending_events();
  EXPECT_EQ(count(events, ZOO_CHANGED_EVENT, "/r"), 0u);
  EXPECT_EQ(count(events, ZOO_CHILD_EVENT, "/r"), 1u);
  a->clear_events();

  // ANY removes both kinds.
  ASSERT_EQ(a->get("/r", &data, nullptr, true), ZOK);
  ASSERT_EQ(a->children("/r", &kids, true), ZOK);
  ASSERT_EQ(zoo_remove_all_watches(a->get(), "/r", ZWATCHTYPE_ANY, 0), ZOK);
  ASSERT_EQ(b->set("/r", "2"), ZOK);
  ASSERT_EQ(b->remove("/r/k2"), ZOK);
  ASSERT_NO_FATAL_FAILURE(flush(*a, *b));
  events = a->pending_events();
  EXPECT_EQ(count(events, ZOO_CHANGED_EVENT, "/r"), 0u);
  EXPECT_EQ(count(events, ZOO_CHILD_EVENT, "/r"), 0u);
}

struct WatcherFlag {
  std::mutex mutex;
  std::vector<ZkEvent> events;
  static void fn(zhandle_t*, int type, int state, const char* path, void* ctx) {
    auto* self = static_cast<WatcherFlag*>(ctx);
    std::lock_guard lock(self->mutex);
    self->events.push_back({type, state, path ? path : ""});
  }
};

TEST_F(WatchTest, RemoveOneWatcherAsksTheServerWithCheckWatches) {
  auto a = connect();
  auto b = connect();
  ASSERT_EQ(b->create("/cw", "0"), ZOK);
  WatcherFlag flag;
  Stat st{};
  ASSERT_EQ(zoo_wexists(a->get(), "/cw", &WatcherFlag::fn, &flag, &st), ZOK);
  // checkWatches (opcode 17): the server confirms the watch; the C client then
  // drops its watcher, which hears of that (a "watcher removed" event).
  ASSERT_EQ(zoo_remove_watches(a->get(), "/cw", ZWATCHTYPE_DATA, &WatcherFlag::fn, &flag, 0), ZOK);
  ASSERT_EQ(b->set("/cw", "1"), ZOK);
  ASSERT_NO_FATAL_FAILURE(flush(*a, *b));
  std::lock_guard lock(flag.mutex);
  for (const auto& e : flag.events) EXPECT_NE(e.type, ZOO_CHANGED_EVENT) << to_string(e);
}

TEST_F(WatchTest, WatchesSurviveAServerCrashThroughSetWatches) {
  auto a = connect();
  auto b = connect();
  ASSERT_EQ(b->create("/sw", "0"), ZOK);
  ASSERT_EQ(b->create("/swc"), ZOK);
  std::string data;
  std::vector<std::string> kids;
  ASSERT_EQ(a->get("/sw", &data, nullptr, true), ZOK);
  ASSERT_EQ(a->children("/swc", &kids, true), ZOK);
  ASSERT_EQ(a->exists("/swnew", nullptr, true), ZNONODE);
  const int64_t session = a->session_id();
  b.reset();

  server().restart();
  // The C client reconnects with its session and re-registers its watches
  // (setWatches, opcode 101).
  ASSERT_TRUE(a->wait_session_event(ZOO_CONNECTING_STATE));
  ASSERT_TRUE(a->wait_session_event(ZOO_CONNECTED_STATE));
  EXPECT_EQ(a->session_id(), session);
  a->clear_events();

  b = connect();
  ASSERT_EQ(b->set("/sw", "1"), ZOK);
  ASSERT_EQ(b->create("/swc/kid"), ZOK);
  ASSERT_EQ(b->create("/swnew"), ZOK);
  EXPECT_TRUE(a->wait_event(ZOO_CHANGED_EVENT, "/sw"));
  EXPECT_TRUE(a->wait_event(ZOO_CHILD_EVENT, "/swc"));
  EXPECT_TRUE(a->wait_event(ZOO_CREATED_EVENT, "/swnew"));
}

// ---- raw: setWatches/setWatches2, addWatch, connection scope, ordering -----------

class RawWatchTest : public ServerTest {
 protected:
  Reply get_data(RawSession& s, const std::string& path, bool watch) {
    return s.call(w::OpCode::getData, w::GetDataRequest{path, watch});
  }
  Reply exists(RawSession& s, const std::string& path, bool watch) {
    return s.call(w::OpCode::exists, w::ExistsRequest{path, watch});
  }
  Reply set(RawSession& s, const std::string& path, const std::string& data) {
    return s.call(w::OpCode::setData, w::SetDataRequest{path, data, -1});
  }
  Reply create(RawSession& s, const std::string& path, const std::string& data = {}, int32_t flags = 0) {
    return s.call(w::OpCode::create, w::CreateRequest{path, data, {{w::perms::all, {"world", "anyone"}}}, flags});
  }
  Reply remove(RawSession& s, const std::string& path) { return s.call(w::OpCode::remove, w::DeleteRequest{path, -1}); }
  // A round trip: every event sent to `s` before it is queued when it returns.
  void flush(RawSession& s) { ASSERT_EQ(exists(s, "/", false).err(), Error::ok); }

  static std::vector<std::pair<int32_t, std::string>> drain(RawSession& s) {
    std::vector<std::pair<int32_t, std::string>> out;
    for (auto& e : s.events()) out.emplace_back(e.type, e.path);
    s.events().clear();
    return out;
  }
  using Events = std::vector<std::pair<int32_t, std::string>>;
  static constexpr int32_t created = static_cast<int32_t>(w::EventType::nodeCreated);
  static constexpr int32_t deleted = static_cast<int32_t>(w::EventType::nodeDeleted);
  static constexpr int32_t changed = static_cast<int32_t>(w::EventType::nodeDataChanged);
  static constexpr int32_t children = static_cast<int32_t>(w::EventType::nodeChildrenChanged);
};

TEST_F(RawWatchTest, SetWatchesReportsWhatChangedSinceTheGivenZxid) {
  auto a = raw();
  auto b = raw();
  ASSERT_EQ(create(*b, "/changed", "0").err(), Error::ok);
  ASSERT_EQ(create(*b, "/gone").err(), Error::ok);
  ASSERT_EQ(create(*b, "/parent").err(), Error::ok);
  ASSERT_EQ(create(*b, "/same").err(), Error::ok);
  ASSERT_EQ(create(*b, "/born").err(), Error::ok);
  const int64_t seen = b->last_zxid();
  ASSERT_EQ(set(*b, "/changed", "1").err(), Error::ok);
  ASSERT_EQ(remove(*b, "/gone").err(), Error::ok);
  ASSERT_EQ(create(*b, "/parent/kid").err(), Error::ok);

  // As if `a` had these watches on another server as of `seen`.
  w::SetWatches sw{seen, {"/changed", "/gone", "/same"}, {"/born", "/unborn"}, {"/parent", "/same"}};
  const Reply r = a->call_as(w::xid::set_watches, w::OpCode::setWatches, sw);
  EXPECT_EQ(r.header.xid, w::xid::set_watches);
  EXPECT_EQ(r.err(), Error::ok);
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  Events got = drain(*a);
  std::sort(got.begin(), got.end());
  Events want = {{created, "/born"}, {deleted, "/gone"}, {changed, "/changed"}, {children, "/parent"}};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);

  // The ones that had nothing to report are now registered.
  ASSERT_EQ(set(*b, "/same", "x").err(), Error::ok);
  ASSERT_EQ(create(*b, "/same/kid").err(), Error::ok);
  ASSERT_EQ(create(*b, "/unborn").err(), Error::ok);
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  got = drain(*a);
  EXPECT_EQ(got, (Events{{changed, "/same"}, {children, "/same"}, {created, "/unborn"}}));
}

TEST_F(RawWatchTest, SetWatches2RegistersPersistentWatchesToo) {
  auto a = raw();
  auto b = raw();
  ASSERT_EQ(create(*b, "/pw").err(), Error::ok);
  ASSERT_EQ(create(*b, "/rw").err(), Error::ok);
  w::SetWatches2 sw;
  sw.relativeZxid = b->last_zxid();
  sw.dataWatches = {"/pw"};
  sw.persistentWatches = {"/pw"};
  sw.persistentRecursiveWatches = {"/rw"};
  const Reply r = a->call_as(w::xid::set_watches, w::OpCode::setWatches2, sw);
  EXPECT_EQ(r.header.xid, w::xid::set_watches);
  ASSERT_EQ(r.err(), Error::ok);

  ASSERT_EQ(set(*b, "/pw", "1").err(), Error::ok);
  ASSERT_EQ(set(*b, "/pw", "2").err(), Error::ok);
  ASSERT_EQ(create(*b, "/rw/a").err(), Error::ok);
  ASSERT_EQ(create(*b, "/rw/a/b").err(), Error::ok);
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  // The one-time and the persistent watch on /pw are one watcher: one event per change.
  EXPECT_EQ(drain(*a), (Events{{changed, "/pw"}, {changed, "/pw"}, {created, "/rw/a"}, {created, "/rw/a/b"}}));
}

// The Java client sends SetWatches with an ordinary xid after a reconnect
// (its socket layer numbers every request but pings and auth) and drops the
// connection when the reply carries another: the reply echoes the request's
// xid, behind the replies to what was sent before it.
TEST_F(RawWatchTest, SetWatchesSentWithAnOrdinaryXidIsAnsweredWithThatXid) {
  auto a = raw();
  ASSERT_EQ(create(*a, "/w").err(), Error::ok);
  const int64_t seen = a->last_zxid();
  const Reply r1 = a->call_as(4, w::OpCode::setWatches, w::SetWatches{seen, {"/w"}, {}, {}});
  EXPECT_EQ(r1.header.xid, 4);
  EXPECT_EQ(r1.err(), Error::ok);
  w::SetWatches2 sw2;
  sw2.relativeZxid = seen;
  sw2.childWatches = {"/w"};
  const Reply r2 = a->call_as(5, w::OpCode::setWatches2, sw2);
  EXPECT_EQ(r2.header.xid, 5);
  EXPECT_EQ(r2.err(), Error::ok);
  // Both registered: a change fires the data watch and the child watch.
  auto b = raw();
  ASSERT_EQ(create(*b, "/w/kid").err(), Error::ok);
  ASSERT_EQ(set(*b, "/w", "x").err(), Error::ok);
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  EXPECT_EQ(drain(*a), (Events{{children, "/w"}, {changed, "/w"}}));
}

TEST_F(RawWatchTest, PersistentWatchStaysAndSeesDataAndChildrenOfItsNodeOnly) {
  auto a = raw();
  auto b = raw();
  ASSERT_EQ(create(*b, "/p").err(), Error::ok);
  const Reply r = a->call(w::OpCode::addWatch, w::AddWatchRequest{"/p", 0});
  ASSERT_EQ(r.err(), Error::ok);
  ASSERT_EQ(set(*b, "/p", "1").err(), Error::ok);
  ASSERT_EQ(set(*b, "/p", "2").err(), Error::ok);
  ASSERT_EQ(create(*b, "/p/c").err(), Error::ok);
  ASSERT_EQ(set(*b, "/p/c", "x").err(), Error::ok);  // below: not seen (not recursive)
  ASSERT_EQ(remove(*b, "/p/c").err(), Error::ok);
  ASSERT_EQ(remove(*b, "/p").err(), Error::ok);
  ASSERT_EQ(create(*b, "/p").err(), Error::ok);  // still there after the delete
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  EXPECT_EQ(
      drain(*a),
      (Events{{changed, "/p"}, {changed, "/p"}, {children, "/p"}, {children, "/p"}, {deleted, "/p"}, {created, "/p"}}));

  // removeWatches with type Any (3) ends it (ZooKeeper 3.8 knows no
  // Persistent type here); a second time there is none.
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/p", 3}).err(), Error::ok);
  ASSERT_EQ(a->call(w::OpCode::removeWatches, w::RemoveWatchesRequest{"/p", 3}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::removeWatches, w::RemoveWatchesRequest{"/p", 3}).err(), Error::noWatcher);
  ASSERT_EQ(set(*b, "/p", "3").err(), Error::ok);
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  EXPECT_TRUE(drain(*a).empty());
}

TEST_F(RawWatchTest, RecursiveWatchSeesTheWholeSubtreeButNoChildEvents) {
  auto a = raw();
  auto b = raw();
  ASSERT_EQ(create(*b, "/r").err(), Error::ok);
  ASSERT_EQ(a->call(w::OpCode::addWatch, w::AddWatchRequest{"/r", 1}).err(), Error::ok);
  ASSERT_EQ(create(*b, "/r/a").err(), Error::ok);
  ASSERT_EQ(create(*b, "/r/a/b").err(), Error::ok);
  ASSERT_EQ(set(*b, "/r/a/b", "x").err(), Error::ok);
  ASSERT_EQ(set(*b, "/r", "y").err(), Error::ok);
  ASSERT_EQ(remove(*b, "/r/a/b").err(), Error::ok);
  ASSERT_EQ(create(*b, "/elsewhere").err(), Error::ok);
  ASSERT_EQ(create(*b, "/rr").err(), Error::ok);  // a sibling sharing the prefix is not below /r
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  EXPECT_EQ(
      drain(*a),
      (Events{{created, "/r/a"}, {created, "/r/a/b"}, {changed, "/r/a/b"}, {changed, "/r"}, {deleted, "/r/a/b"}}));

  ASSERT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/r", 3}).err(), Error::ok);
  ASSERT_EQ(a->call(w::OpCode::removeWatches, w::RemoveWatchesRequest{"/r", 3}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/r", 3}).err(), Error::noWatcher);
  ASSERT_EQ(create(*b, "/r/z").err(), Error::ok);
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  EXPECT_TRUE(drain(*a).empty());
}

// ZooKeeper 3.8 knows only the watcher types Children (1), Data (2) and Any (3)
// in checkWatches/removeWatches, and Data matches a watch in the data table
// whatever its mode (DataTree.containsWatcher/removeWatch -> WatchManager
// .containsWatcher/removeWatcher(path, watcher), no mode test): persistent and
// recursive watches included. This is how a 3.8 client removes them.
TEST_F(RawWatchTest, DataTypeFindsAndRemovesPersistentAndRecursiveWatchesAsIn38) {
  auto a = raw();
  auto b = raw();
  ASSERT_EQ(create(*b, "/pd").err(), Error::ok);
  ASSERT_EQ(create(*b, "/rd").err(), Error::ok);
  ASSERT_EQ(a->call(w::OpCode::addWatch, w::AddWatchRequest{"/pd", 0}).err(), Error::ok);
  ASSERT_EQ(a->call(w::OpCode::addWatch, w::AddWatchRequest{"/rd", 1}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/pd", 2}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/rd", 2}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::removeWatches, w::RemoveWatchesRequest{"/rd", 2}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::removeWatches, w::RemoveWatchesRequest{"/pd", 2}).err(), Error::ok);
  ASSERT_EQ(set(*b, "/pd", "x").err(), Error::ok);
  ASSERT_EQ(create(*b, "/rd/kid").err(), Error::ok);
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  EXPECT_TRUE(drain(*a).empty());
}

TEST_F(RawWatchTest, CheckAndRemoveWatchesAnswerNoWatcherWhenThereIsNone) {
  auto a = raw();
  ASSERT_EQ(create(*a, "/n").err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/n", 3}).err(), Error::noWatcher);
  EXPECT_EQ(a->call(w::OpCode::removeWatches, w::RemoveWatchesRequest{"/n", 1}).err(), Error::noWatcher);
  ASSERT_EQ(get_data(*a, "/n", true).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/n", 2}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/n", 3}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/n", 1}).err(), Error::noWatcher);
  // checkWatches only looks; the watch is still there.
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/n", 2}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::removeWatches, w::RemoveWatchesRequest{"/n", 3}).err(), Error::ok);
  EXPECT_EQ(a->call(w::OpCode::checkWatches, w::CheckWatchesRequest{"/n", 2}).err(), Error::noWatcher);
}

TEST_F(RawWatchTest, WatchesBelongToTheConnection) {
  auto b = raw();
  ASSERT_EQ(create(*b, "/cw").err(), Error::ok);
  int64_t id = 0;
  std::string password;
  {
    auto a = raw();
    ASSERT_EQ(get_data(*a, "/cw", true).err(), Error::ok);
    id = a->session_id();
    password = a->password();
  }  // the socket closes; the session lives on
  RawSession::Options resume;
  resume.session_id = id;
  resume.password = password;
  auto a = raw(resume);
  ASSERT_EQ(a->session_id(), id);
  ASSERT_EQ(set(*b, "/cw", "1").err(), Error::ok);
  ASSERT_NO_FATAL_FAILURE(flush(*a));
  EXPECT_TRUE(drain(*a).empty()) << "a watch outlived its connection";
}

TEST_F(RawWatchTest, AnEventPrecedesTheReplyToAReadIssuedAfterTheChange) {
  auto a = raw();
  auto b = raw();
  ASSERT_EQ(create(*b, "/x", "old").err(), Error::ok);
  ASSERT_EQ(get_data(*a, "/x", true).err(), Error::ok);
  ASSERT_EQ(set(*b, "/x", "new").err(), Error::ok);  // acknowledged: the change happened
  const std::size_t before = a->arrivals().size();
  const Reply r = get_data(*a, "/x", false);
  ASSERT_EQ(r.err(), Error::ok);
  w::GetDataResponse body;
  ASSERT_TRUE(r.decode(body));
  EXPECT_EQ(body.data, "new");
  // The event came first (possibly before the read was even sent).
  const auto& arrivals = a->arrivals();
  ASSERT_FALSE(a->events().empty());
  EXPECT_EQ(arrivals.back(), r.header.xid);
  EXPECT_NE(std::find(arrivals.begin(), arrivals.end(), w::xid::notification), arrivals.end());
  EXPECT_LE(before, arrivals.size());
}

TEST_F(RawWatchTest, AnEventPrecedesTheReplyToTheWriteThatCausedIt) {
  auto a = raw();
  ASSERT_EQ(create(*a, "/y", "0").err(), Error::ok);
  ASSERT_EQ(get_data(*a, "/y", true).err(), Error::ok);
  ASSERT_EQ(create(*a, "/y/k").err(), Error::ok);  // no child watch: nothing yet
  EXPECT_TRUE(a->events().empty());

  // A pipelined write and read: event, then the write's reply, then the read's.
  const std::size_t from = a->arrivals().size();
  const int32_t set_xid = a->send(w::OpCode::setData, w::SetDataRequest{"/y", "1", -1});
  const int32_t get_xid = a->send(w::OpCode::getData, w::GetDataRequest{"/y", false});
  auto r1 = a->read_reply();
  auto r2 = a->read_reply();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->header.xid, set_xid);
  EXPECT_EQ(r2->header.xid, get_xid);
  const std::vector<int32_t> order(a->arrivals().begin() + static_cast<std::ptrdiff_t>(from), a->arrivals().end());
  EXPECT_EQ(order, (std::vector<int32_t>{w::xid::notification, set_xid, get_xid}));
  ASSERT_EQ(a->events().size(), 1u);
  EXPECT_EQ(a->events().front().type, changed);
  EXPECT_EQ(a->events().front().path, "/y");
}

TEST_F(RawWatchTest, ManyWatchersAllHearOfOneChange) {
  std::vector<std::unique_ptr<RawSession>> watchers;
  auto b = raw();
  ASSERT_EQ(create(*b, "/popular").err(), Error::ok);
  for (int i = 0; i < 20; ++i) {
    watchers.push_back(raw());
    ASSERT_EQ(exists(*watchers.back(), "/popular", true).err(), Error::ok);
  }
  ASSERT_EQ(set(*b, "/popular", "!").err(), Error::ok);
  for (auto& s : watchers) {
    auto e = s->next_event();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, changed);
    EXPECT_EQ(e->path, "/popular");
  }
}

}  // namespace
}  // namespace corral::test
