// GroupMembership against corral-server and Apache ZooKeeper 3.8: joins,
// leaves and updates seen by others in order, a killed member process leaves
// after its session timeout, a second holder of an id waits for the first,
// changes made while a watcher was away are seen after its reconnect, an
// expired member rejoins with its next session, a deleted member node comes
// back, bad calls.
#include <fstream>

#include "corral/recipes/group_membership.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"

namespace corral::test {
namespace {

using recipes::GroupMembership;
using Kind = GroupMembership::Change::Kind;

// args: hosts group id data session_ms. Joins, then waits to be killed.
CORRAL_RECIPE_WORKER(group_member) {
  Runtime rt;
  int rc = 1;
  rt.run([&] {
    try {
      ClientOptions o;
      o.connect_string = args.at(0);
      o.session_timeout = std::chrono::milliseconds(std::stoi(args.at(4)));
      Client c(rt, o);
      c.connect(default_timeout);
      GroupMembership group(c, args.at(1));
      group.join(args.at(2), args.at(3));
      boost::this_fiber::sleep_for(60s);  // bounded: the test kills it long before
      rc = 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "group_member: %s\n", e.what());
    }
  });
  return rc;
}

std::string describe(const GroupMembership::Change& c) {
  return std::string(recipes::to_string(c.kind)) + " " + c.id + "=" + c.data;
}

class GroupMembershipTest : public ClientTest {
 protected:
  // The next `n` changes as "joined id=data" words, waiting for each.
  static std::vector<std::string> next(GroupMembership& g, std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = g.next_change(default_timeout);
      if (!c) break;
      out.push_back(describe(*c));
    }
    return out;
  }
};
CORRAL_CLIENT_SUITE(GroupMembershipTest);

TEST_P(GroupMembershipTest, JoinsUpdatesAndLeavesAreSeenInOrder) {
  with_client([&](Runtime& rt, Client& c) {
    std::vector<std::string> heard;
    GroupMembership watcher(c, at("group"));
    ASSERT_TRUE(watcher.wait_synced(Clock::now() + default_timeout));
    EXPECT_TRUE(watcher.members().empty());
    watcher.on_change([&](const GroupMembership::Change& ch) { heard.push_back(describe(ch)); });

    auto ca = connect(rt), cb = connect(rt);
    GroupMembership a(*ca, at("group")), b(*cb, at("group"));
    a.join("a", "10.0.0.1");
    EXPECT_EQ(next(watcher, 1), std::vector<std::string>{"joined a=10.0.0.1"});
    b.join("b", "10.0.0.2");
    EXPECT_EQ(next(watcher, 1), std::vector<std::string>{"joined b=10.0.0.2"});
    EXPECT_EQ(watcher.members(), (GroupMembership::Members{{"a", "10.0.0.1"}, {"b", "10.0.0.2"}}));
    EXPECT_TRUE(b.joined());
    EXPECT_EQ(b.id(), "b");

    b.update("10.0.0.22");
    EXPECT_EQ(next(watcher, 1), std::vector<std::string>{"updated b=10.0.0.22"});
    a.leave();
    EXPECT_FALSE(a.joined());
    EXPECT_EQ(next(watcher, 1), std::vector<std::string>{"left a=10.0.0.1"});
    EXPECT_EQ(watcher.members(), (GroupMembership::Members{{"b", "10.0.0.22"}}));
    // Members see the group too, themselves included.
    ASSERT_TRUE(fiber_wait_until([&] { return b.members() == watcher.members(); }));
    EXPECT_EQ(heard, (std::vector<std::string>{"joined a=10.0.0.1", "joined b=10.0.0.2", "updated b=10.0.0.22",
                                               "left a=10.0.0.1"}));
    // Curator's GroupMember layout: an ephemeral "<group>/<id>" holding the data.
    const auto node = c.get(at("group/b"));
    EXPECT_EQ(node.data, "10.0.0.22");
    EXPECT_EQ(node.stat.ephemeralOwner, cb->session_id());
    EXPECT_FALSE(watcher.next_change(50ms).has_value()) << "nothing else happened";
  });
}

TEST_P(GroupMembershipTest, AKilledMemberProcessLeavesAfterItsSessionTimeout) {
  with_client([&](Runtime&, Client& c) {
    TempDir dir("group-member");
    GroupMembership watcher(c, at("group"));
    auto member = spawn_worker("group_member", {server().host_port(), at("group"), "doomed", "payload", "1000"},
                               dir.path() / "member.log");
    ASSERT_EQ(next(watcher, 1), std::vector<std::string>{"joined doomed=payload"});
    const auto killed = Clock::now();
    member->kill();
    EXPECT_EQ(next(watcher, 1), std::vector<std::string>{"left doomed=payload"});
    const auto gone = std::chrono::duration_cast<milliseconds>(Clock::now() - killed);
    std::printf("a killed member left the view after %lld ms (session timeout 1000 ms)\n",
                static_cast<long long>(gone.count()));
    EXPECT_LT(gone, 1000ms + 3s);
    EXPECT_TRUE(watcher.members().empty());
  });
}

TEST_P(GroupMembershipTest, ASecondHolderOfAnIdWaitsForTheFirstToGo) {
  with_client([&](Runtime& rt, Client& c) {
    auto c1 = connect(rt), c2 = connect(rt);
    GroupMembership first(*c1, at("group")), second(*c2, at("group"));
    first.join("worker-1", "first");
    std::error_code ec;
    second.join("worker-1", "second", Clock::now() + 100ms, ec);
    EXPECT_ZK(ec, Error::nodeExists);
    EXPECT_FALSE(second.joined());

    bool joined = false;
    boost::fibers::fiber waiter([&] {
      std::error_code wec;
      second.join("worker-1", "second", Clock::now() + default_timeout, wec);
      EXPECT_FALSE(wec) << wec.message();
      joined = !wec;
    });
    first.leave();
    waiter.join();
    ASSERT_TRUE(joined);
    const auto node = c.get(at("group/worker-1"));
    EXPECT_EQ(node.data, "second");
    EXPECT_EQ(node.stat.ephemeralOwner, c2->session_id());
  });
}

TEST_P(GroupMembershipTest, ChangesWhileAWatcherWasAwayAreSeenAfterItsReconnect) {
  with_client([&](Runtime& rt, Client&) {
    TcpProxy proxy(server().port());
    auto o = options();
    o.connect_string = proxy.host_port();
    auto away = connect(rt, o);
    ASSERT_TRUE(away);
    GroupMembership watcher(*away, at("group"));
    auto cs = connect(rt), ct = connect(rt), cu = connect(rt);
    GroupMembership stays(*cs, at("group")), goes(*ct, at("group")), comes(*cu, at("group"));
    stays.join("stays", "1");
    goes.join("goes", "1");
    ASSERT_EQ(next(watcher, 2).size(), 2u);

    ASSERT_TRUE(cut_off(proxy, *away));
    stays.update("2");
    goes.leave();
    comes.join("comes", "1");
    EXPECT_EQ(watcher.members().size(), 2u) << "the last view is kept while away";
    proxy.set_refusing(false);

    auto changes = next(watcher, 3);
    std::sort(changes.begin(), changes.end());
    EXPECT_EQ(changes, (std::vector<std::string>{"joined comes=1", "left goes=1", "updated stays=2"}));
    EXPECT_EQ(watcher.members(), (GroupMembership::Members{{"comes", "1"}, {"stays", "2"}}));
  });
}

TEST_P(GroupMembershipTest, AnExpiredMemberRejoinsWithItsNextSession) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto o = options();
    o.connect_string = proxy.host_port();
    o.renew_expired_session = true;
    auto cm = connect(rt, o);
    ASSERT_TRUE(cm);
    GroupMembership watcher(c, at("group"));
    GroupMembership member(*cm, at("group"));
    member.join("m", "data");
    ASSERT_EQ(next(watcher, 1), std::vector<std::string>{"joined m=data"});
    const int64_t old_session = cm->session_id();

    ASSERT_TRUE(cut_off(proxy, *cm));
    expire_session(rt, *cm);
    EXPECT_EQ(next(watcher, 1), std::vector<std::string>{"left m=data"});
    proxy.set_refusing(false);
    // A new session (renew_expired_session), and the member is back.
    EXPECT_EQ(next(watcher, 1), std::vector<std::string>{"joined m=data"});
    EXPECT_NE(cm->session_id(), old_session);
    EXPECT_EQ(c.get(at("group/m")).stat.ephemeralOwner, cm->session_id());
    EXPECT_TRUE(member.joined());
  });
}

TEST_P(GroupMembershipTest, ADeletedMemberNodeIsCreatedAgain) {
  with_client([&](Runtime& rt, Client& c) {
    auto cm = connect(rt);
    GroupMembership watcher(c, at("group"));
    GroupMembership member(*cm, at("group"));
    member.join("m", "v1");
    ASSERT_EQ(next(watcher, 1), std::vector<std::string>{"joined m=v1"});
    member.update("v2");
    ASSERT_EQ(next(watcher, 1), std::vector<std::string>{"updated m=v2"});
    c.remove(at("group/m"));
    // Deleted and created again: a leave and a join (also when both happened
    // between two looks of the watcher: the czxid changed).
    ASSERT_TRUE(fiber_wait_until([&] {
      const auto n = c.exists(at("group/m"));
      return n && n->ephemeralOwner == cm->session_id();
    }));
    EXPECT_EQ(c.get(at("group/m")).data, "v2") << "re-created with the latest data";
    EXPECT_EQ(next(watcher, 2), (std::vector<std::string>{"left m=v2", "joined m=v2"}));
    EXPECT_EQ(watcher.members(), (GroupMembership::Members{{"m", "v2"}}));
  });
}

TEST_P(GroupMembershipTest, BadCallsAreRefused) {
  with_client([&](Runtime&, Client& c) {
    GroupMembership g(c, at("group"));
    std::error_code ec;
    g.join("a/b", "", Clock::now() + default_timeout, ec);
    EXPECT_ZK(ec, Error::badArguments);
    g.join("", "", Clock::now() + default_timeout, ec);
    EXPECT_ZK(ec, Error::badArguments);
    g.update("x", ec);
    EXPECT_EQ(ec, std::errc::operation_not_permitted);
    g.leave(ec);
    EXPECT_FALSE(ec) << "leaving when not joined is fine";
    g.join("a", "", Clock::now() + default_timeout, ec);
    ASSERT_FALSE(ec) << ec.message();
    g.join("b", "", Clock::now() + default_timeout, ec);
    EXPECT_EQ(ec, std::errc::operation_not_permitted) << "one membership per object";
    EXPECT_THROW(g.join("c"), std::system_error);
  });
}

}  // namespace
}  // namespace corral::test
