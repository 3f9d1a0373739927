// TreeCache: the initial walk (parents before children, then initialized),
// following adds, updates and removals in a consistent order, max depth, a
// root that comes and goes, a burst of random changes after which the cache
// equals the tree, and re-syncs after a reconnect and after a new session —
// against corral-server and Apache ZooKeeper 3.8.
#include <map>
#include <random>

#include "corral/recipes/tree_cache.h"
#include "tests/client/client_fixture.h"
#include "tests/support/tcp_proxy.h"

namespace corral::test {
namespace {

using recipes::TreeCache;
using recipes::TreeEvent;
using recipes::TreeEventType;

Clock::time_point soon() { return Clock::now() + default_timeout; }

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// path -> data of the tree below (and with) `root`, down to `max_depth`, as the server has it.
std::map<std::string, std::string> read_tree(Client& c, const std::string& root, int max_depth = 1000) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  const auto d = c.get(root, {}, ec);
  if (ec) return out;
  out[root] = d.data;
  if (max_depth == 0) return out;
  for (const auto& name : c.children(root, {}, ec).names) {
    if (ec) break;
    for (auto& [p, data] : read_tree(c, root + "/" + name, max_depth - 1)) out[p] = std::move(data);
  }
  return out;
}

std::map<std::string, std::string> cached_tree(const TreeCache& cache) {
  std::map<std::string, std::string> out;
  for (const auto& p : cache.paths()) out[p] = cache.current(p)->data;
  return out;
}

// Records what a cache reports, and checks the order rules as the events
// come: a node is added only under a cached parent and removed only after
// its cached descendants.
struct Recorder {
  explicit Recorder(TreeCache& c) : cache(c) {
    cache.add_listener([this](const TreeEvent& e) {
      if (e.type == TreeEventType::nodeAdded && e.path != cache.root() && !cache.current(parent_of(e.path))) {
        problems.push_back("added without a cached parent: " + e.path);
      }
      if (e.type == TreeEventType::nodeRemoved) {
        for (const auto& p : cache.paths()) {
          if (p.starts_with(e.path + "/")) problems.push_back("removed " + e.path + " before " + p);
        }
      }
      if (e.type == TreeEventType::nodeAdded || e.type == TreeEventType::nodeUpdated) {
        if (cache.current(e.path) && cache.current(e.path)->stat.mzxid != e.node.stat.mzxid) {
          problems.push_back("event data is not the cached data: " + e.path);
        }
      }
      events.push_back(e);
    });
  }
  std::vector<std::string> described() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      out.push_back(
          std::string(to_string(e.type)) + (e.path.empty() ? "" : " " + e.path.substr(base_len)) +
          (e.type == TreeEventType::nodeAdded || e.type == TreeEventType::nodeUpdated ? "=" + e.node.data : ""));
    }
    return out;
  }
  bool heard(TreeEventType type) const {
    return std::any_of(events.begin(), events.end(), [&](const TreeEvent& e) { return e.type == type; });
  }
  TreeCache& cache;
  std::size_t base_len = 0;
  std::vector<TreeEvent> events;
  std::vector<std::string> problems;
};

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

class TreeCacheTest : public ClientTest {
 protected:
  std::unique_ptr<Client> connect_via(Runtime& rt, TcpProxy& proxy, bool renew = false) {
    auto o = options();
    o.connect_string = proxy.host_port();
    o.renew_expired_session = renew;
    return connect(rt, o);
  }
};
CORRAL_CLIENT_SUITE(TreeCacheTest);

TEST_P(TreeCacheTest, TheFirstWalkReportsParentsBeforeChildrenThenInitialized) {
  with_client([&](Runtime&, Client& c) {
    const std::string r = at("root");
    c.create(r, "r");
    c.create(r + "/b", "b");
    c.create(r + "/a", "a");
    c.create(r + "/a/x", "x");
    TreeCache cache(c, r);
    Recorder rec(cache);
    rec.base_len = r.size();
    cache.start();
    EXPECT_TRUE(cache.initialized());
    EXPECT_TRUE(cache.is_current());
    EXPECT_EQ(rec.described(), (std::vector<std::string>{"nodeAdded =r", "nodeAdded /a=a", "nodeAdded /a/x=x",
                                                         "nodeAdded /b=b", "initialized"}));
    EXPECT_EQ(cache.paths(), (std::vector<std::string>{r, r + "/a", r + "/a/x", r + "/b"}));
    const auto kids = cache.current_children(r);
    ASSERT_EQ(kids.size(), 2u);
    EXPECT_EQ(kids.at("a").data, "a");
    EXPECT_EQ(kids.at("b").stat, c.exists(r + "/b").value());
    EXPECT_FALSE(cache.current(r + "/nope"));
    EXPECT_TRUE(rec.problems.empty()) << joined(rec.problems);
  });
}

TEST_P(TreeCacheTest, FollowsAddsUpdatesAndRemovalsInOrder) {
  with_client([&](Runtime&, Client& c) {
    const std::string r = at("root");
    c.create(r, "");
    TreeCache cache(c, r);
    Recorder rec(cache);
    rec.base_len = r.size();
    cache.start();
    c.create(r + "/c", "1");
    c.create(r + "/c/d", "2");
    ASSERT_TRUE(cache.wait_until([&] { return cache.current(r + "/c/d").has_value(); }, soon()));
    c.set(r + "/c", "3");
    ASSERT_TRUE(cache.wait_until([&] { return cache.current(r + "/c")->data == "3"; }, soon()));
    c.remove(r + "/c/d");
    c.remove(r + "/c");
    ASSERT_TRUE(cache.wait_until([&] { return cache.size() == 1; }, soon()));
    EXPECT_EQ(rec.described(),
              (std::vector<std::string>{"nodeAdded =", "initialized", "nodeAdded /c=1", "nodeAdded /c/d=2",
                                        "nodeUpdated /c=3", "nodeRemoved /c/d", "nodeRemoved /c"}));
    EXPECT_TRUE(rec.problems.empty()) << joined(rec.problems);
  });
}

TEST_P(TreeCacheTest, MaxDepthLimitsWhatIsCached) {
  with_client([&](Runtime&, Client& c) {
    const std::string r = at("root");
    c.create(r, "");
    c.create(r + "/a", "");
    c.create(r + "/a/deep", "");
    TreeCache cache(c, r, {.max_depth = 1});
    cache.start();
    EXPECT_EQ(cache.paths(), (std::vector<std::string>{r, r + "/a"}));
    c.create(r + "/b", "");
    c.create(r + "/b/deep", "");
    c.create(r + "/c", "");
    ASSERT_TRUE(cache.wait_until([&] { return cache.current(r + "/c").has_value(); }, soon()));
    EXPECT_EQ(cache.paths(), (std::vector<std::string>{r, r + "/a", r + "/b", r + "/c"}));
    EXPECT_EQ(cached_tree(cache), read_tree(c, r, 1));
  });
}

// The root need not exist: the cache starts empty, follows its creation, and
// its removal (children first).
TEST_P(TreeCacheTest, ARootThatComesAndGoes) {
  with_client([&](Runtime&, Client& c) {
    const std::string r = at("later");
    TreeCache cache(c, r);
    Recorder rec(cache);
    rec.base_len = r.size();
    cache.start();
    EXPECT_EQ(cache.size(), 0u);
    c.create(r, "r");
    c.create(r + "/k", "k");
    ASSERT_TRUE(cache.wait_until([&] { return cache.size() == 2; }, soon()));
    Transaction t;
    t.remove(r + "/k").remove(r);
    c.multi(t);
    ASSERT_TRUE(cache.wait_until([&] { return cache.size() == 0; }, soon()));
    EXPECT_EQ(rec.described(), (std::vector<std::string>{"initialized", "nodeAdded =r", "nodeAdded /k=k",
                                                         "nodeRemoved /k", "nodeRemoved "}));
    EXPECT_TRUE(rec.problems.empty()) << joined(rec.problems);
  });
}

// Another client makes 600 random changes (creates, sets, deletes at random
// depths, pipelined); afterwards the cache is the tree, and every event kept
// the order rules.
TEST_P(TreeCacheTest, ABurstOfRandomChangesEndsWithTheCacheEqualToTheTree) {
  with_client([&](Runtime& rt, Client& c) {
    const std::string r = at("root");
    c.create(r, "");
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    TreeCache cache(c, r);
    Recorder rec(cache);
    cache.start();
    std::mt19937 rng(12345);
    std::vector<std::string> nodes{r};
    std::vector<boost::fibers::future<Result<Created>>> creates;
    for (int i = 0; i < 600; ++i) {
      const auto pick = nodes[rng() % nodes.size()];
      const int what = static_cast<int>(rng() % 10);
      if (what < 5 || pick == r) {
        const std::string child = pick + "/n" + std::to_string(i);
        writer->create(child, std::to_string(i));
        nodes.push_back(child);
      } else if (what < 8) {
        writer->async_set(pick, "v" + std::to_string(i));
      } else {
        // Delete `pick` and everything below it, deepest first, in one multi.
        std::vector<std::string> doomed;
        for (const auto& n : nodes) {
          if (n == pick || n.starts_with(pick + "/")) doomed.push_back(n);
        }
        std::sort(doomed.begin(), doomed.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
        Transaction t;
        for (const auto& d : doomed) t.remove(d);
        writer->multi(t);
        std::erase_if(nodes, [&](const std::string& n) { return n == pick || n.starts_with(pick + "/"); });
      }
    }
    writer->sync(r);
    const auto want = read_tree(*writer, r);
    ASSERT_TRUE(cache.wait_until([&] { return cached_tree(cache) == want; }, soon()))
        << cache.size() << " cached, " << want.size() << " in the tree";
    EXPECT_TRUE(rec.problems.empty()) << joined(rec.problems);
    std::printf("[ figures  ] %s: %zu events, %llu reads for 600 changes\n", kind_name(kind()).c_str(),
                rec.events.size(), static_cast<unsigned long long>(cache.reads()));
  });
}

// Changes made while the cache's connection is down are found by the walk
// after the reconnect: suspended, the differences, reconnected.
TEST_P(TreeCacheTest, ReSyncsWhatChangedWhileTheConnectionWasDown) {
  with_client([&](Runtime& rt, Client& writer) {
    TcpProxy proxy(server().port());
    auto c = connect_via(rt, proxy);
    ASSERT_TRUE(c);
    const std::string r = at("root");
    writer.create(r, "");
    writer.create(r + "/stays", "1");
    writer.create(r + "/goes", "1");
    writer.create(r + "/goes/kid", "1");
    TreeCache cache(*c, r);
    Recorder rec(cache);
    rec.base_len = r.size();
    cache.start();
    rec.events.clear();

    ASSERT_TRUE(cut_off(proxy, *c));
    ASSERT_TRUE(cache.wait_until([&] { return !cache.is_current(); }, soon()));
    writer.set(r + "/stays", "2");
    writer.remove(r + "/goes/kid");
    writer.remove(r + "/goes");
    writer.create(r + "/new", "n");
    EXPECT_EQ(cache.current(r + "/stays")->data, "1") << "the copy stays while suspended";
    proxy.set_refusing(false);
    ASSERT_TRUE(cache.wait_until([&] { return cache.is_current(); }, soon()));
    EXPECT_EQ(cached_tree(cache), read_tree(writer, r));
    EXPECT_EQ(rec.described(),
              (std::vector<std::string>{"connectionSuspended", "nodeRemoved /goes/kid", "nodeRemoved /goes",
                                        "nodeAdded /new=n", "nodeUpdated /stays=2", "connectionReconnected"}));
    // The watch is back.
    writer.create(r + "/after", "a");
    ASSERT_TRUE(cache.wait_until([&] { return cache.current(r + "/after").has_value(); }, soon()));
    EXPECT_TRUE(rec.problems.empty()) << joined(rec.problems);
  });
}

TEST_P(TreeCacheTest, FollowsIntoANewSessionAfterExpiry) {
  with_client([&](Runtime& rt, Client& writer) {
    TcpProxy proxy(server().port());
    auto c = connect_via(rt, proxy, /*renew=*/true);
    ASSERT_TRUE(c);
    const int64_t first_session = c->session_id();
    const std::string r = at("root");
    writer.create(r, "");
    writer.create(r + "/a", "1");
    TreeCache cache(*c, r);
    Recorder rec(cache);
    cache.start();

    ASSERT_TRUE(cut_off(proxy, *c));
    expire_session(rt, *c);
    writer.set(r + "/a", "2");
    writer.create(r + "/b", "");
    proxy.set_refusing(false);
    ASSERT_TRUE(cache.wait_until([&] { return cache.is_current() && cache.size() == 3; }, soon()));
    EXPECT_NE(c->session_id(), first_session);
    EXPECT_EQ(cached_tree(cache), read_tree(writer, r));
    EXPECT_TRUE(rec.heard(TreeEventType::connectionLost));
    EXPECT_EQ(rec.events.back().type, TreeEventType::connectionReconnected);
    writer.create(r + "/c", "");
    ASSERT_TRUE(cache.wait_until([&] { return cache.current(r + "/c").has_value(); }, soon()));
    EXPECT_TRUE(rec.problems.empty()) << joined(rec.problems);
  });
}

}  // namespace
}  // namespace corral::test
