// Watches through corral::Client, against corral-server and Apache ZooKeeper:
// one-time data/exist/child watches, persistent and recursive watches, their
// removal, delivery order on the client's event fiber, and the rule that a
// client sees a watch event before the reply of a read issued after it.
#include <algorithm>

#include "tests/client/client_fixture.h"

namespace corral::test {
namespace {

using wire::AddWatchMode;
using wire::WatcherType;

class ClientWatchTest : public ClientTest {};
CORRAL_CLIENT_SUITE(ClientWatchTest);

TEST_P(ClientWatchTest, DataWatchFiresOnceBeforeTheReplyOfALaterRead) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    EventLog log;
    c.create(at("n"), "0");
    EXPECT_EQ(c.get(at("n"), log.watcher("get")).data, "0");

    writer->set(at("n"), "1");
    // The notification precedes the reply on the connection, and the client
    // delivers it before the read returns.
    EXPECT_EQ(c.get(at("n")).data, "1");
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"get NodeDataChanged " + at("n")}));

    writer->set(at("n"), "2");
    EXPECT_EQ(c.get(at("n")).data, "2");
    EXPECT_EQ(log.size(), 1u) << "a one-time watch fired twice: " << log.dump();
  });
}

TEST_P(ClientWatchTest, ExistWatchSeesCreationAndThenDeletion) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    EventLog log;
    EXPECT_FALSE(c.exists(at("later"), log.watcher("missing")).has_value());
    writer->create(at("later"), "");
    EXPECT_TRUE(c.exists(at("later"), log.watcher("present")).has_value());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"missing NodeCreated " + at("later")}));
    writer->remove(at("later"));
    EXPECT_FALSE(c.exists(at("later")).has_value());
    EXPECT_EQ(log.entries(),
              (std::vector<std::string>{"missing NodeCreated " + at("later"), "present NodeDeleted " + at("later")}));
  });
}

TEST_P(ClientWatchTest, ChildWatchSeesChildrenAndTheParentsDeletion) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    EventLog log;
    c.create(at("p"), "");
    c.children(at("p"), log.watcher("c1"));
    writer->create(at("p/kid"), "");
    EXPECT_EQ(c.children(at("p"), log.watcher("c2")).names, (std::vector<std::string>{"kid"}));
    writer->set(at("p"), "data changes are not child events");
    writer->set(at("p/kid"), "nor are a child's");
    writer->remove(at("p/kid"));
    EXPECT_TRUE(c.children(at("p"), log.watcher("c3")).names.empty());
    c.get(at("p"), log.watcher("d"));
    writer->remove(at("p"));
    // NodeDeleted reaches the child and the data watchers.
    EXPECT_FALSE(c.exists(at("p")).has_value());
    EXPECT_EQ(log.entries(),
              (std::vector<std::string>{"c1 NodeChildrenChanged " + at("p"), "c2 NodeChildrenChanged " + at("p"),
                                        "d NodeDeleted " + at("p"), "c3 NodeDeleted " + at("p")}))
        << log.dump();
  });
}

TEST_P(ClientWatchTest, EverySameKindWatcherOnAPathFires) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    EventLog log;
    c.create(at("n"), "");
    c.get(at("n"), log.watcher("first"));
    c.get(at("n"), log.watcher("second"));
    c.exists(at("n"), log.watcher("third"));
    writer->set(at("n"), "x");
    c.sync(at("n"));
    EXPECT_EQ(c.get(at("n")).data, "x");
    EXPECT_EQ(log.entries(),
              (std::vector<std::string>{"first NodeDataChanged " + at("n"), "second NodeDataChanged " + at("n"),
                                        "third NodeDataChanged " + at("n")}));
  });
}

TEST_P(ClientWatchTest, EventsComeInServerOrderOnOneEventFiber) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    constexpr int n = 100;
    EventLog log;
    std::vector<std::string> expected;
    for (int i = 0; i < n; ++i) {
      const std::string p = at("n" + std::to_string(i));
      c.create(p, "");
      c.get(p, log.watcher("w"));
    }
    // Changed in an order other than the one the watches were set in.
    for (int i = n - 1; i >= 0; i -= 2) expected.push_back("w NodeDataChanged " + at("n" + std::to_string(i)));
    for (int i = 0; i < n; i += 2) expected.push_back("w NodeDeleted " + at("n" + std::to_string(i)));
    std::vector<boost::fibers::future<Result<Stat>>> sets;
    for (int i = n - 1; i >= 0; i -= 2) sets.push_back(writer->async_set(at("n" + std::to_string(i)), "x"));
    std::vector<boost::fibers::future<Result<Empty>>> removes;
    for (int i = 0; i < n; i += 2) removes.push_back(writer->async_remove(at("n" + std::to_string(i))));
    for (auto& f : sets) ASSERT_FALSE(f.get().error);
    for (auto& f : removes) ASSERT_FALSE(f.get().error);

    ASSERT_TRUE(log.wait_for_size(expected.size())) << log.dump();
    EXPECT_EQ(log.entries(), expected);
    const auto fiber = log.fibers().front();
    EXPECT_NE(fiber, boost::this_fiber::get_id()) << "callbacks run on the client's event fiber";
    for (const auto& f : log.fibers()) EXPECT_EQ(f, fiber);
  });
}

TEST_P(ClientWatchTest, PersistentWatchSeesEveryEventOnItsPath) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    EventLog log;
    const std::string p = at("pw");
    c.add_watch(p, AddWatchMode::persistent, log.watcher("p"));
    writer->create(p, "");
    writer->set(p, "1");
    writer->create(p + "/kid", "");
    writer->set(p + "/kid", "not for a non-recursive watch");
    writer->remove(p + "/kid");
    writer->remove(p);
    writer->create(p, "again");
    c.sync(p);
    EXPECT_TRUE(c.exists(p).has_value());
    const std::vector<std::string> expected{"p NodeCreated " + p,         "p NodeDataChanged " + p,
                                            "p NodeChildrenChanged " + p, "p NodeChildrenChanged " + p,
                                            "p NodeDeleted " + p,         "p NodeCreated " + p};
    EXPECT_EQ(log.entries(), expected);

    // WatcherType::any: ZooKeeper 3.8 knows no "persistent" watcher type (below).
    c.remove_watches(p, WatcherType::any);
    writer->set(p, "2");
    c.sync(p);
    EXPECT_EQ(c.get(p).data, "2");
    EXPECT_EQ(log.entries(), expected) << "an event after removeWatches";
  });
}

TEST_P(ClientWatchTest, RecursiveWatchSeesTheSubtreeButNoChildEvents) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    EventLog log;
    const std::string r = at("tree");
    c.create(r, "");
    c.add_watch(r, AddWatchMode::persistentRecursive, log.watcher("r"));
    writer->create(r + "/a", "");
    writer->create(r + "/a/b", "");
    writer->set(r + "/a/b", "x");
    writer->set(r, "x");
    writer->remove(r + "/a/b");
    writer->create(at("tree-sibling"), "");  // not below /tree
    writer->set(at("tree-sibling"), "x");
    c.sync(r);
    EXPECT_TRUE(c.exists(r).has_value());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"r NodeCreated " + r + "/a", "r NodeCreated " + r + "/a/b",
                                                       "r NodeDataChanged " + r + "/a/b", "r NodeDataChanged " + r,
                                                       "r NodeDeleted " + r + "/a/b"}));

    // A one-time watch on a node below still fires once, next to the recursive one.
    c.get(r + "/a", log.watcher("once"));
    writer->set(r + "/a", "1");
    writer->set(r + "/a", "2");
    c.sync(r);
    EXPECT_TRUE(c.exists(r).has_value());
    const auto once = log.with_prefix("once");
    EXPECT_EQ(once, (std::vector<std::string>{"once NodeDataChanged " + r + "/a"}));
    const auto& all = log.entries();
    EXPECT_EQ(std::count(all.begin(), all.end(), "r NodeDataChanged " + r + "/a"), 2) << log.dump();

    c.remove_watches(r, WatcherType::any);
    const auto count = log.size();
    writer->create(r + "/after", "");
    c.sync(r);
    EXPECT_TRUE(c.exists(r).has_value());
    EXPECT_EQ(log.size(), count) << log.dump();
  });
}

TEST_P(ClientWatchTest, RemoveWatchesByType) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    EventLog log;
    const std::string n = at("n");
    c.create(n, "");
    std::error_code ec;

    c.remove_watches(n, WatcherType::data, false, ec);
    EXPECT_ZK(ec, Error::noWatcher) << "no watch yet";

    c.get(n, log.watcher("data"));
    c.children(n, log.watcher("child"));
    c.remove_watches(n, WatcherType::data, false, ec);
    EXPECT_FALSE(ec) << ec.message();
    c.remove_watches(n, WatcherType::data, false, ec);
    EXPECT_ZK(ec, Error::noWatcher) << "already removed";
    writer->set(n, "x");
    writer->create(n + "/kid", "");
    c.sync(n);
    EXPECT_TRUE(c.exists(n).has_value());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"child NodeChildrenChanged " + n})) << log.dump();

    // Local removal forgets the callback; the server may still send the event,
    // which then reaches nobody.
    c.get(n, log.watcher("local"));
    c.remove_watches(n, WatcherType::any, true, ec);
    EXPECT_FALSE(ec) << ec.message();
    writer->set(n, "y");
    c.sync(n);
    EXPECT_EQ(c.get(n).data, "y");
    EXPECT_EQ(log.size(), 1u) << log.dump();

    // Any removes every kind at once.
    c.exists(n, log.watcher("e"));
    c.children(n, log.watcher("c"));
    c.add_watch(n, wire::AddWatchMode::persistent, log.watcher("p"));
    c.remove_watches(n, WatcherType::any, false, ec);
    EXPECT_FALSE(ec) << ec.message();
    writer->remove(n + "/kid");
    writer->remove(n);
    c.sync(base());
    EXPECT_FALSE(c.exists(n).has_value());
    EXPECT_EQ(log.size(), 1u) << log.dump();

    c.remove_watches("bad path", WatcherType::any, false, ec);
    EXPECT_ZK(ec, Error::badArguments);
  });
}

// The watcher types Persistent (4) and PersistentRecursive (5) of
// removeWatches came with ZooKeeper 3.9; a 3.8 server fails the request
// (MARSHALLINGERROR) and keeps the watch, corral-server removes it.
TEST_P(ClientWatchTest, RemovingAPersistentWatchByItsOwnType) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    EventLog log;
    const std::string p = at("p");
    c.add_watch(p, AddWatchMode::persistent, log.watcher("p"));
    c.add_watch(p, AddWatchMode::persistentRecursive, log.watcher("r"));
    std::error_code ec;
    c.remove_watches(p, WatcherType::persistent, false, ec);
    if (is_corral()) {
      EXPECT_FALSE(ec) << ec.message();
    } else {
      EXPECT_ZK(ec, Error::marshallingError);
    }
    writer->create(p, "");
    c.sync(p);
    EXPECT_TRUE(c.exists(p).has_value());
    const bool removed = !ec;
    EXPECT_EQ(log.with_prefix("p ").size(), removed ? 0u : 1u) << log.dump();
    EXPECT_EQ(log.with_prefix("r ").size(), 1u) << log.dump();
    c.remove_watches(p, WatcherType::any);
    writer->set(p, "x");
    c.sync(p);
    EXPECT_TRUE(c.exists(p).has_value());
    EXPECT_EQ(log.with_prefix("r ").size(), 1u) << log.dump();
  });
}

TEST_P(ClientWatchTest, AWatcherMayCallTheClient) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    const std::string n = at("n");
    c.create(n, "0");
    std::vector<std::string> seen;
    // Re-arms itself from inside the callback, as recipes do.
    std::function<void(const WatchedEvent&)> rearm = [&](const WatchedEvent&) {
      std::error_code ec;
      seen.push_back(c.get(n, rearm, ec).data);
    };
    c.get(n, rearm);
    for (int i = 1; i <= 5; ++i) {
      writer->set(n, std::to_string(i));
      ASSERT_TRUE(fiber_wait_until([&] { return seen.size() == static_cast<std::size_t>(i); })) << i;
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  });
}

}  // namespace
}  // namespace corral::test
