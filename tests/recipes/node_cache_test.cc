// NodeCache: follows one znode through creation, changes and deletion; a
// burst of writes costs few reads; re-reads after a reconnect, after a new
// session and after a server restart; caches sharing a watch close apart —
// against corral-server and Apache ZooKeeper 3.8.
#include <iostream>

#include "corral/recipes/node_cache.h"
#include "tests/client/client_fixture.h"
#include "tests/support/tcp_proxy.h"

namespace corral::test {
namespace {

using recipes::NodeCache;

Clock::time_point soon() { return Clock::now() + default_timeout; }

std::string show(const std::optional<NodeData>& n) { return n ? n->data : "-"; }

auto has_data(std::string want) {
  return [want = std::move(want)](const std::optional<NodeData>& n) { return n && n->data == want; };
}
bool absent(const std::optional<NodeData>& n) { return !n; }

class NodeCacheTest : public ClientTest {
 protected:
  std::unique_ptr<Client> connect_via(Runtime& rt, TcpProxy& proxy, bool renew = false) {
    auto o = options();
    o.connect_string = proxy.host_port();
    o.renew_expired_session = renew;
    return connect(rt, o);
  }
};
CORRAL_CLIENT_SUITE(NodeCacheTest);

TEST_P(NodeCacheTest, FollowsCreationChangesAndDeletion) {
  with_client([&](Runtime&, Client& c) {
    const std::string n = at("node");
    std::vector<std::string> heard;
    NodeCache cache(c, n);
    cache.add_listener([&](const std::optional<NodeData>& now) { heard.push_back(show(now)); });
    cache.start();
    EXPECT_TRUE(cache.initialized());
    EXPECT_FALSE(cache.current().has_value());

    c.create(n, "a");
    ASSERT_TRUE(cache.wait_until(has_data("a"), soon())) << show(cache.current());
    EXPECT_EQ(cache.current()->stat, c.exists(n).value());
    c.set(n, "b");
    ASSERT_TRUE(cache.wait_until(has_data("b"), soon())) << show(cache.current());
    c.remove(n);
    ASSERT_TRUE(cache.wait_until(absent, soon())) << show(cache.current());
    c.create(n, "c");
    ASSERT_TRUE(cache.wait_until(has_data("c"), soon())) << show(cache.current());
    // Same data again is still a write: a new mzxid.
    c.set(n, "c");
    ASSERT_TRUE(cache.wait_until([&](const auto& now) { return now && now->stat.version == 1; }, soon()));
    // Children do not count.
    c.create(n + "/kid", "");
    c.remove(n + "/kid");
    c.set(n, "d");
    ASSERT_TRUE(cache.wait_until(has_data("d"), soon()));
    EXPECT_EQ(heard, (std::vector<std::string>{"a", "b", "-", "c", "c", "d"}));
  });
}

TEST_P(NodeCacheTest, StartReadsAnExistingNodeAndTellsListeners) {
  with_client([&](Runtime&, Client& c) {
    const std::string n = at("node");
    c.create(n, "there");
    std::vector<std::string> heard;
    NodeCache cache(c, n);
    cache.add_listener([&](const std::optional<NodeData>& now) { heard.push_back(show(now)); });
    cache.start();
    ASSERT_TRUE(cache.current().has_value());
    EXPECT_EQ(cache.current()->data, "there");
    EXPECT_TRUE(cache.is_current());
    EXPECT_EQ(heard, (std::vector<std::string>{"there"}));
  });
}

TEST_P(NodeCacheTest, ABurstOfWritesEndsOnTheLastValueInOrderWithFewReads) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    const std::string n = at("node");
    writer->create(n, "0");
    std::vector<int32_t> versions;
    NodeCache cache(c, n);
    cache.add_listener([&](const std::optional<NodeData>& now) { versions.push_back(now ? now->stat.version : -1); });
    cache.start();
    constexpr int writes = 300;
    std::vector<boost::fibers::future<Result<Stat>>> sets;
    for (int i = 1; i <= writes; ++i) sets.push_back(writer->async_set(n, std::to_string(i)));
    for (auto& s : sets) ASSERT_FALSE(s.get().error);
    ASSERT_TRUE(cache.wait_until(has_data(std::to_string(writes)), soon())) << show(cache.current());
    EXPECT_TRUE(std::is_sorted(versions.begin(), versions.end()));
    EXPECT_EQ(std::adjacent_find(versions.begin(), versions.end()), versions.end()) << "a state reported twice";
    EXPECT_EQ(versions.back(), writes);
    // One read at start, then reads coalesce the events that queued meanwhile.
    EXPECT_LT(cache.reads(), static_cast<uint64_t>(writes) / 2) << cache.reads();
    std::cout << "[          ] " << writes << " writes, " << cache.reads() << " reads, " << versions.size()
              << " states heard\n";
  });
}

TEST_P(NodeCacheTest, ReReadsWhatChangedWhileTheConnectionWasDown) {
  with_client([&](Runtime& rt, Client& writer) {
    TcpProxy proxy(server().port());
    auto c = connect_via(rt, proxy);
    ASSERT_TRUE(c);
    const std::string n = at("node");
    const std::string gone = at("gone");
    writer.create(n, "before");
    writer.create(gone, "here");
    NodeCache cache(*c, n);
    NodeCache gone_cache(*c, gone);
    cache.start();
    gone_cache.start();
    ASSERT_TRUE(cache.wait_until(has_data("before"), soon()));

    ASSERT_TRUE(cut_off(proxy, *c));
    ASSERT_TRUE(fiber_wait_until([&] { return !cache.is_current(); }));
    writer.set(n, "while away");
    writer.remove(gone);
    EXPECT_EQ(cache.current()->data, "before") << "the last copy stays while suspended";
    proxy.set_refusing(false);

    // A persistent watch reports nothing of this after the reconnect: the cache reads.
    ASSERT_TRUE(cache.wait_until(has_data("while away"), soon())) << show(cache.current());
    ASSERT_TRUE(gone_cache.wait_until(absent, soon())) << show(gone_cache.current());
    EXPECT_EQ(c->state(), SessionState::reconnected);
    EXPECT_TRUE(fiber_wait_until([&] { return cache.is_current(); }));
    // And the watch is still there.
    writer.set(n, "after");
    ASSERT_TRUE(cache.wait_until(has_data("after"), soon())) << show(cache.current());
    writer.create(gone, "back");
    ASSERT_TRUE(gone_cache.wait_until(has_data("back"), soon())) << show(gone_cache.current());
  });
}

TEST_P(NodeCacheTest, FollowsIntoANewSessionAfterExpiry) {
  with_client([&](Runtime& rt, Client& writer) {
    TcpProxy proxy(server().port());
    auto c = connect_via(rt, proxy, /*renew=*/true);
    ASSERT_TRUE(c);
    const int64_t first_session = c->session_id();
    const std::string n = at("node");
    writer.create(n, "1");
    NodeCache cache(*c, n);
    cache.start();
    ASSERT_TRUE(cache.wait_until(has_data("1"), soon()));

    ASSERT_TRUE(cut_off(proxy, *c));
    expire_session(rt, *c);
    writer.set(n, "2");
    proxy.set_refusing(false);
    ASSERT_TRUE(cache.wait_until(has_data("2"), soon())) << show(cache.current());
    EXPECT_NE(c->session_id(), first_session);
    // The watch was added again in the new session.
    writer.set(n, "3");
    ASSERT_TRUE(cache.wait_until(has_data("3"), soon())) << show(cache.current());
    writer.remove(n);
    ASSERT_TRUE(cache.wait_until(absent, soon())) << show(cache.current());
  });
}

TEST_P(NodeCacheTest, FollowsAcrossAServerRestart) {
  ServerOptions so;
  so.kind = kind();
  TestServer own(so);
  own.start(kind() == ServerKind::zookeeper ? 60s : default_timeout);
  run_fibers([&](Runtime& rt) {
    ClientOptions o;
    o.connect_string = own.host_port();
    o.session_timeout = 15s;
    Client c(rt, o);
    c.connect();
    c.create("/n", "1");
    NodeCache cache(c, "/n");
    cache.start();
    ASSERT_TRUE(cache.wait_until(has_data("1"), soon()));
    own.kill9();
    ASSERT_TRUE(fiber_wait_until([&] { return !cache.is_current(); }));
    own.start(kind() == ServerKind::zookeeper ? 60s : default_timeout);
    Client writer(rt, o);
    writer.connect();
    writer.set("/n", "2");
    ASSERT_TRUE(cache.wait_until(has_data("2"), Clock::now() + 30s)) << show(cache.current());
    writer.set("/n", "3");
    ASSERT_TRUE(cache.wait_until(has_data("3"), soon())) << show(cache.current());
    EXPECT_EQ(c.state(), SessionState::reconnected);
  });
}

TEST_P(NodeCacheTest, CachesOfOnePathShareAWatchAndCloseApart) {
  with_client([&](Runtime&, Client& c) {
    const std::string n = at("node");
    c.create(n, "0");
    int heard_by_first = 0;
    auto first = std::make_unique<NodeCache>(c, n);
    NodeCache second(c, n);
    first->add_listener([&](const auto&) { ++heard_by_first; });
    first->start();
    second.start();
    c.set(n, "1");
    ASSERT_TRUE(first->wait_until(has_data("1"), soon()));
    ASSERT_TRUE(second.wait_until(has_data("1"), soon()));
    first->close();
    const int heard = heard_by_first;
    c.set(n, "2");
    ASSERT_TRUE(second.wait_until(has_data("2"), soon())) << "closing one cache took the other's watch";
    EXPECT_EQ(heard_by_first, heard) << "a closed cache's listener was called";
    EXPECT_EQ(first->current()->data, "1");
    first.reset();
    c.set(n, "3");
    ASSERT_TRUE(second.wait_until(has_data("3"), soon()));
  });
}

TEST_P(NodeCacheTest, StartTimesOutWhileTheClientCannotConnectAndCatchesUpLater) {
  with_client([&](Runtime& rt, Client& writer) {
    TcpProxy proxy(server().port());
    auto c = connect_via(rt, proxy);
    ASSERT_TRUE(c);
    const std::string n = at("node");
    writer.create(n, "x");
    ASSERT_TRUE(cut_off(proxy, *c));
    NodeCache cache(*c, n);
    std::error_code ec;
    cache.start(Clock::now() + 200ms, ec);
    EXPECT_ZK(ec, Error::operationTimeout);
    EXPECT_FALSE(cache.initialized());
    proxy.set_refusing(false);
    ASSERT_TRUE(cache.wait_until(has_data("x"), soon())) << show(cache.current());
    EXPECT_TRUE(cache.initialized());
  });
}

}  // namespace
}  // namespace corral::test
