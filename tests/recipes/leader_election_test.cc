// LeaderLatch, LeaderSelector and LeaderObserver against corral-server and
// Apache ZooKeeper 3.8: one leader at a time across processes with fencing
// tokens that only rise, failover when the leader's process is killed, a
// leader whose session expires is told and replaced, an election that outlives
// a server restart, resign hands over in line order, a deleted leader node,
// selectors taking turns, a selector told of a suspension.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "corral/recipes/leader_election.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"

namespace corral::test {
namespace {

using recipes::election_participants;
using recipes::LeaderLatch;
using recipes::LeaderObserver;
using recipes::LeaderSelector;
using recipes::LeadershipChange;
using recipes::Participant;

// One term of a leader in a worker: the fence (a znode holding the highest
// token written) only moves forward, and the term shows in the log as a
// "start" and an "end" entry written with guarded transactions.
void lead_one_term(Client& c, LeaderLatch& latch, const std::string& log, const std::string& fence) {
  const int64_t token = latch.token();
  if (token == 0) throw std::runtime_error("campaign returned, but no token");
  const auto f = c.get(fence);
  if (token <= std::stoll(f.data)) {
    throw std::runtime_error("fencing token " + std::to_string(token) + " not above " + f.data);
  }
  c.set(fence, std::to_string(token), f.stat.version);  // badVersion if another leader wrote meanwhile
  const std::string entry = std::to_string(token) + " " + latch.id();
  c.multi(latch.guarded().create(log + "/e-", "start " + entry, {.mode = CreateMode::persistentSequential}));
  c.sync();  // hold the lead for a round trip
  c.multi(latch.guarded().create(log + "/e-", "end " + entry, {.mode = CreateMode::persistentSequential}));
}

// args: hosts election log fence name latches terms
CORRAL_RECIPE_WORKER(elector) {
  const std::string &hosts = args.at(0), &election = args.at(1), &log = args.at(2), &fence = args.at(3),
                    &name = args.at(4);
  const int latches = std::stoi(args.at(5)), terms = std::stoi(args.at(6));
  int failures = 0;
  Runtime rt;
  rt.run([&] {
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < latches; ++i) {
      fibers.emplace_back([&, i] {
        try {
          auto c = connect_client(rt, hosts, 10s);
          LeaderLatch latch(*c, election, name + "." + std::to_string(i));
          for (int t = 0; t < terms; ++t) {
            if (!latch.campaign(30s)) throw std::runtime_error("campaign timed out");
            lead_one_term(*c, latch, log, fence);
            latch.resign();
          }
        } catch (const std::exception& e) {
          std::fprintf(stderr, "%s.%d: %s\n", name.c_str(), i, e.what());
          ++failures;
        }
      });
    }
    for (auto& f : fibers) f.join();
  });
  return failures == 0 ? 0 : 1;
}

// args: hosts election id session_ms. Leads, then waits to be killed.
CORRAL_RECIPE_WORKER(latch_holder) {
  Runtime rt;
  int rc = 1;
  rt.run([&] {
    try {
      auto c = connect_client(rt, args.at(0), std::chrono::milliseconds(std::stoi(args.at(3))));
      LeaderLatch latch(*c, args.at(1), args.at(2));
      if (!latch.campaign(30s)) return;
      std::printf("leading with token %lld\n", static_cast<long long>(latch.token()));
      std::fflush(stdout);
      boost::this_fiber::sleep_for(60s);  // bounded: the test kills it long before
      rc = 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "latch_holder: %s\n", e.what());
    }
  });
  return rc;
}

class LeaderElectionTest : public ClientTest {
 protected:
  std::unique_ptr<Client> connect_via(Runtime& rt, TcpProxy& proxy, bool renew = false) {
    auto o = options();
    o.connect_string = proxy.host_port();
    o.renew_expired_session = renew;
    return connect(rt, o);
  }

  static std::vector<std::string> ids(const std::vector<Participant>& ps) {
    std::vector<std::string> out;
    for (const auto& p : ps) out.push_back(p.id);
    return out;
  }
};
CORRAL_CLIENT_SUITE(LeaderElectionTest);

// What a participant's listeners heard, as words.
struct Heard {
  std::vector<std::string> words;
  std::vector<int64_t> tokens;
  recipes::LeadershipListener listener() {
    return [this](LeadershipChange c, int64_t token) {
      words.emplace_back(recipes::to_string(c));
      tokens.push_back(token);
    };
  }
  bool wait_for(std::string_view word, std::size_t count = 1) const {
    return fiber_wait_until(
        [&] { return static_cast<std::size_t>(std::count(words.begin(), words.end(), word)) >= count; });
  }
  std::string dump() const {
    std::string out;
    for (const auto& w : words) out += w + " ";
    return out;
  }
};

TEST_P(LeaderElectionTest, OneLeaderAtATimeAcrossProcessesWithRisingTokens) {
  with_client([&](Runtime&, Client& c) {
    c.create(at("log"));
    c.create(at("fence"), "0");
    TempDir dir("election-workers");
    constexpr int workers = 3, latches = 2, terms = 4;
    std::vector<std::unique_ptr<Process>> procs;
    for (int w = 0; w < workers; ++w) {
      procs.push_back(spawn_worker("elector",
                                   {server().host_port(), at("election"), at("log"), at("fence"),
                                    "w" + std::to_string(w), std::to_string(latches), std::to_string(terms)},
                                   dir.path() / ("w" + std::to_string(w) + ".log")));
    }
    for (int w = 0; w < workers; ++w) {
      auto& p = *procs[static_cast<std::size_t>(w)];
      ASSERT_TRUE(fiber_wait_until([&] { return !p.alive(); }, 60s)) << "worker " << w << " still running";
      std::ifstream in(dir.path() / ("w" + std::to_string(w) + ".log"));
      const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(describe_wait_status(*p.status()), "exited with 0") << out;
    }

    // The log, in zxid order: start/end pairs of one leader each, never two
    // starts in a row, each term's token above the one before.
    auto names = c.children(at("log")).names;
    std::sort(names.begin(), names.end());
    ASSERT_EQ(names.size(), static_cast<std::size_t>(2 * workers * latches * terms));
    int64_t last_token = 0;
    std::set<std::string> leaders;
    for (std::size_t i = 0; i < names.size(); i += 2) {
      std::istringstream start(c.get(at("log/" + names[i])).data), end(c.get(at("log/" + names[i + 1])).data);
      std::string start_word, start_id, end_word, end_id;
      int64_t start_token = 0, end_token = 0;
      start >> start_word >> start_token >> start_id;
      end >> end_word >> end_token >> end_id;
      ASSERT_EQ(start_word, "start") << names[i];
      ASSERT_EQ(end_word, "end") << names[i + 1] << ": two leaders at once";
      EXPECT_EQ(start_id, end_id);
      EXPECT_EQ(start_token, end_token);
      EXPECT_GT(start_token, last_token) << "fencing token went back";
      last_token = start_token;
      leaders.insert(start_id);
    }
    EXPECT_EQ(leaders.size(), static_cast<std::size_t>(workers * latches));
    EXPECT_EQ(c.get(at("fence")).data, std::to_string(last_token));
    std::error_code ec;
    const auto left = c.children(at("election"), {}, ec);  // the container may be gone already
    EXPECT_TRUE(ec == Error::noNode || (!ec && left.names.empty())) << "a participant left its node behind";
  });
}

TEST_P(LeaderElectionTest, KilledLeaderProcessIsReplacedWithinTheSessionTimeout) {
  with_client([&](Runtime&, Client& c) {
    TempDir dir("election-holder");
    constexpr auto session = 1000ms;
    LeaderObserver observer(c, at("election"));
    auto holder = spawn_worker("latch_holder", {server().host_port(), at("election"), "doomed", "1000"},
                               dir.path() / "holder.log");
    const auto first = observer.wait_change(std::nullopt, Clock::now() + default_timeout);
    ASSERT_TRUE(first.has_value()) << "the worker never led";
    EXPECT_EQ(first->id, "doomed");

    LeaderLatch heir(c, at("election"), "heir");
    heir.start();
    ASSERT_TRUE(fiber_wait_until([&] { return heir.participants().size() == 2; }));
    const auto killed = Clock::now();
    holder->kill();
    ASSERT_TRUE(heir.campaign(default_timeout));
    const auto failover = std::chrono::duration_cast<milliseconds>(Clock::now() - killed);
    std::printf("failover after kill -9: %lld ms (session timeout %lld ms)\n", static_cast<long long>(failover.count()),
                static_cast<long long>(session.count()));
    EXPECT_LT(failover, session + 3s);
    EXPECT_GT(heir.token(), first->token);
    const auto now = observer.wait_change(first, Clock::now() + default_timeout);
    ASSERT_TRUE(now.has_value());
    EXPECT_EQ(now->id, "heir");
    EXPECT_EQ(now->token, heir.token());
  });
}

TEST_P(LeaderElectionTest, ALeaderWhoseSessionExpiresIsToldAndReplaced) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto c1 = connect_via(rt, proxy);
    ASSERT_TRUE(c1);
    Heard heard;  // outlives the latch, which tells it of its resignation
    LeaderLatch one(*c1, at("election"), "one");
    one.on_change(heard.listener());
    ASSERT_TRUE(one.campaign(default_timeout));
    const int64_t first_token = one.token();
    LeaderLatch two(c, at("election"), "two");
    two.start();
    ASSERT_TRUE(fiber_wait_until([&] { return !two.our_node().empty(); }));

    proxy.set_refusing(true);
    proxy.drop_all();
    ASSERT_TRUE(heard.wait_for("suspended")) << heard.dump();
    EXPECT_FALSE(one.is_leader());
    EXPECT_EQ(one.token(), 0);
    expire_session(rt, *c1);
    ASSERT_TRUE(two.campaign(default_timeout));
    EXPECT_GT(two.token(), first_token);

    proxy.set_refusing(false);
    ASSERT_TRUE(heard.wait_for("expired")) << heard.dump();
    EXPECT_EQ(c1->state(), SessionState::expired);
    std::error_code ec;
    EXPECT_FALSE(one.campaign(Clock::now() + 10ms, ec));
    EXPECT_ZK(ec, Error::sessionExpired);

    // With a new session the latch takes part again, behind the new leader.
    c1->reconnect_new_session(default_timeout, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(fiber_wait_until([&] { return ids(two.participants()) == std::vector<std::string>{"two", "one"}; }));
    const int64_t second_token = two.token();
    two.resign();
    ASSERT_TRUE(one.campaign(default_timeout));
    EXPECT_GT(one.token(), second_token);
    EXPECT_EQ(heard.words, (std::vector<std::string>{"elected", "suspended", "expired", "elected"})) << heard.dump();
  });
}

TEST_P(LeaderElectionTest, TheElectionOutlivesARestartOfTheServer) {
  ServerOptions server_options;
  server_options.kind = kind();
  TestServer own(server_options);  // its own: killed and restarted on its port
  const milliseconds start_timeout = is_corral() ? default_timeout : 60s;
  own.start(start_timeout);
  run_fibers([&](Runtime& rt) {
    ClientOptions o;
    o.connect_string = own.host_port();
    o.session_timeout = 10s;
    auto c1 = connect(rt, o), c2 = connect(rt, o);
    ASSERT_TRUE(c1 && c2);
    Heard heard;
    LeaderLatch one(*c1, "/election", "one"), two(*c2, "/election", "two");
    one.on_change(heard.listener());
    ASSERT_TRUE(one.campaign(default_timeout));
    const int64_t token = one.token();
    two.start();
    ASSERT_TRUE(fiber_wait_until([&] { return !two.our_node().empty(); }));

    own.kill9();
    ASSERT_TRUE(heard.wait_for("suspended")) << heard.dump();
    EXPECT_FALSE(one.is_leader());
    own.start(start_timeout);
    // Same session, same node, still first: the same leadership, same token.
    ASSERT_TRUE(heard.wait_for("elected", 2)) << heard.dump();
    EXPECT_TRUE(one.is_leader());
    EXPECT_EQ(one.token(), token);
    EXPECT_FALSE(two.is_leader());
    one.resign();
    ASSERT_TRUE(two.campaign(default_timeout));
    EXPECT_GT(two.token(), token);
    EXPECT_EQ(heard.words, (std::vector<std::string>{"elected", "suspended", "elected", "resigned"}));
  });
}

TEST_P(LeaderElectionTest, ResignHandsOverInLineOrderAndEveryoneSeesTheLeader) {
  with_client([&](Runtime& rt, Client& c) {
    std::vector<Heard> heard(3);
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::unique_ptr<LeaderLatch>> latches;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(connect(rt));
      ASSERT_TRUE(clients.back());
      latches.push_back(std::make_unique<LeaderLatch>(*clients.back(), at("election"), std::string(1, char('a' + i))));
      latches.back()->on_change(heard[static_cast<std::size_t>(i)].listener());
      latches.back()->start();
      // In this order: each node made before the next latch starts.
      ASSERT_TRUE(fiber_wait_until([&] { return !latches.back()->our_node().empty(); }));
    }
    auto& a = *latches[0];
    auto& b = *latches[1];
    auto& d = *latches[2];
    ASSERT_TRUE(a.campaign(default_timeout));
    LeaderObserver observer(c, at("election"));
    ASSERT_TRUE(observer.wait_ready(Clock::now() + default_timeout));
    ASSERT_TRUE(observer.leader().has_value());
    EXPECT_EQ(observer.leader()->id, "a");
    EXPECT_EQ(observer.leader()->token, a.token());
    EXPECT_EQ(ids(a.participants()), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(b.leader_id(), "a");
    for (const auto& p : a.participants()) {
      // Curator's LeaderLatch names: "_c_<uuid>-latch-<seq>", the id as data.
      const std::string name = p.node.substr(p.node.rfind('/') + 1);
      EXPECT_TRUE(name.starts_with("_c_") && name.find("-latch-") == 39 && name.size() == 39 + 7 + 10) << name;
    }

    // A campaign that times out keeps its place in line.
    EXPECT_FALSE(b.campaign(100ms));
    EXPECT_EQ(a.participants().size(), 3u);

    std::optional<Participant> seen = observer.leader();
    int64_t token = a.token();
    LeaderLatch* previous = &a;
    for (LeaderLatch* next : {&b, &d}) {
      previous->resign();
      ASSERT_TRUE(next->campaign(default_timeout));
      EXPECT_GT(next->token(), token);
      token = next->token();
      seen = observer.wait_change(seen, Clock::now() + default_timeout);
      ASSERT_TRUE(seen.has_value());
      EXPECT_EQ(seen->id, next->id());
      EXPECT_EQ(seen->token, token);
      previous = next;
    }
    EXPECT_FALSE(a.is_leader());
    EXPECT_FALSE(b.is_leader());
    d.resign();
    seen = observer.wait_change(seen, Clock::now() + default_timeout);
    EXPECT_FALSE(seen.has_value()) << "no one is in line any more";
    // Each was elected once, told once that it stepped down; the waiters were never woken into leading early.
    for (auto& h : heard) EXPECT_EQ(h.words, (std::vector<std::string>{"elected", "resigned"})) << h.dump();
  });
}

TEST_P(LeaderElectionTest, ADeletedLeaderNodeDeposesTheLeader) {
  with_client([&](Runtime& rt, Client& c) {
    auto c1 = connect(rt), c2 = connect(rt);
    Heard heard;
    LeaderLatch one(*c1, at("election"), "one"), two(*c2, at("election"), "two");
    one.on_change(heard.listener());
    ASSERT_TRUE(one.campaign(default_timeout));
    c.create(at("data"));
    const auto guarded = one.guarded();
    c1->multi(one.guarded().set(at("data"), "written by the leader"));
    two.start();
    ASSERT_TRUE(fiber_wait_until([&] { return !two.our_node().empty(); }));

    c.remove(one.our_node());
    ASSERT_TRUE(heard.wait_for("deleted")) << heard.dump();
    ASSERT_TRUE(two.campaign(default_timeout));
    // The deposed leader's guarded writes are refused; it queues again, behind.
    std::error_code ec;
    c1->multi(Transaction(guarded).set(at("data"), "late write"), ec);
    EXPECT_ZK(ec, Error::noNode);
    EXPECT_EQ(c.get(at("data")).data, "written by the leader");
    ASSERT_TRUE(fiber_wait_until([&] { return ids(two.participants()) == std::vector<std::string>{"two", "one"}; }));
    EXPECT_FALSE(one.is_leader());
  });
}

// A waiter's node deleted by someone else: the lock engine tells it when it
// next looks (noNode, as Curator's does), and it queues again at the back.
TEST_P(LeaderElectionTest, AWaiterWhoseNodeIsDeletedQueuesAgainAtTheBack) {
  with_client([&](Runtime& rt, Client& c) {
    auto c1 = connect(rt), c2 = connect(rt), c3 = connect(rt);
    ASSERT_TRUE(c1 && c2 && c3);
    LeaderLatch one(*c1, at("election"), "one"), two(*c2, at("election"), "two"), three(*c3, at("election"), "three");
    ASSERT_TRUE(one.campaign(default_timeout));
    two.start();
    ASSERT_TRUE(fiber_wait_until([&] { return !two.our_node().empty(); }));
    three.start();
    ASSERT_TRUE(fiber_wait_until([&] { return ids(one.participants()).size() == 3; }));
    const std::string old_node = two.our_node();

    c.remove(old_node);
    one.resign();
    ASSERT_TRUE(three.campaign(default_timeout)) << "three waited behind a deleted node";
    ASSERT_TRUE(fiber_wait_until([&] {
      return ids(three.participants()) == std::vector<std::string>{"three", "two"};
    })) << "two did not queue again";
    EXPECT_NE(two.our_node(), old_node);
    EXPECT_FALSE(two.is_leader());
    three.resign();
    EXPECT_TRUE(two.campaign(default_timeout));
  });
}

// resign() while cut off and waiting in line: the wait ends at once; the node
// goes once the client is back (or with the session).
TEST_P(LeaderElectionTest, AResignWhileCutOffEndsTheCampaign) {
  with_client([&](Runtime& rt, Client&) {
    TcpProxy proxy(server().port());
    auto c1 = connect(rt), c2 = connect_via(rt, proxy);
    ASSERT_TRUE(c1 && c2);
    LeaderLatch one(*c1, at("election"), "one"), two(*c2, at("election"), "two");
    ASSERT_TRUE(one.campaign(default_timeout));
    std::error_code campaign_ec;
    boost::fibers::fiber campaigner([&] { two.campaign(Clock::now() + 60s, campaign_ec); });
    ASSERT_TRUE(fiber_wait_until([&] { return ids(one.participants()).size() == 2; }));
    ASSERT_TRUE(cut_off(proxy, *c2));

    JoiningFiber resigner([&] { two.resign(); });
    campaigner.join();
    EXPECT_EQ(campaign_ec, std::errc::operation_canceled);
    proxy.set_refusing(false);
    resigner.join();
    EXPECT_FALSE(two.started());
    ASSERT_TRUE(fiber_wait_until([&] { return ids(one.participants()) == std::vector<std::string>{"one"}; }))
        << "the resigned waiter's node is still there";
    EXPECT_TRUE(one.is_leader());
  });
}

TEST_P(LeaderElectionTest, SelectorsTakeTurnsWithAutoRequeue) {
  with_client([&](Runtime& rt, Client& c) {
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::unique_ptr<LeaderSelector>> selectors;
    int inside = 0, max_inside = 0;
    std::vector<std::pair<std::string, int64_t>> terms;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(connect(rt));
      ASSERT_TRUE(clients.back());
      Client& mine = *clients.back();
      const std::string id = "s" + std::to_string(i);
      selectors.push_back(std::make_unique<LeaderSelector>(mine, at("jobs"), id, [&, id](LeaderSelector::Term& term) {
        max_inside = std::max(max_inside, ++inside);
        terms.emplace_back(id, term.token());
        mine.sync();  // lead for a round trip
        --inside;
      }));
      selectors.back()->auto_requeue();
    }
    LeaderObserver observer(c, at("jobs"), recipes::selector_node_name);
    for (auto& s : selectors) s->start();
    ASSERT_TRUE(fiber_wait_until([&] { return terms.size() >= 12; }));
    const std::size_t all_in = terms.size();  // later terms are of selectors still open while others close
    for (auto& s : selectors) s->close();
    EXPECT_EQ(max_inside, 1);
    std::map<std::string, int> per_id;
    for (std::size_t i = 0; i < terms.size(); ++i) {
      if (i > 0) {
        EXPECT_GT(terms[i].second, terms[i - 1].second) << "term " << i;
      }
      if (i >= all_in) continue;
      ++per_id[terms[i].first];
      if (i > 0) {
        EXPECT_NE(terms[i].first, terms[i - 1].first) << "term " << i << ": requeued at the back, so another's turn";
      }
    }
    for (const auto& [id, n] : per_id) EXPECT_GE(n, 3) << id;
    std::error_code ec;
    const auto left = c.children(at("jobs"), {}, ec);
    EXPECT_TRUE(ec == Error::noNode || (!ec && left.names.empty()));
  });
}

TEST_P(LeaderElectionTest, ASelectorWithoutRequeueLeadsOnceUntilRequeued) {
  with_client([&](Runtime&, Client& c) {
    int led = 0;
    bool leader_inside = false;
    Heard heard;
    std::unique_ptr<LeaderSelector> selector;
    selector = std::make_unique<LeaderSelector>(c, at("jobs"), "solo", [&](LeaderSelector::Term& term) {
      ++led;
      leader_inside = selector->is_leader() && selector->token() == term.token() && !term.lost();
    });
    selector->on_change(heard.listener());
    EXPECT_FALSE(selector->requeue()) << "not started";
    selector->start();
    ASSERT_TRUE(fiber_wait_until([&] { return led == 1 && selector->participants().empty(); }));
    EXPECT_TRUE(leader_inside);
    EXPECT_FALSE(selector->is_leader());
    EXPECT_EQ(heard.words, (std::vector<std::string>{"elected", "resigned"}));
    ASSERT_TRUE(selector->requeue());
    ASSERT_TRUE(fiber_wait_until([&] { return led == 2; }));
    EXPECT_EQ(selector->terms(), 2u);
    EXPECT_TRUE(heard.wait_for("resigned", 2)) << heard.dump();
    EXPECT_GT(heard.tokens[2], heard.tokens[0]);
  });
}

TEST_P(LeaderElectionTest, ASelectorsFunctionIsToldOfASuspensionAndLeadsAgainAfter) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto c1 = connect_via(rt, proxy);
    ASSERT_TRUE(c1);
    int started = 0;
    std::vector<std::string> why;
    Heard heard;
    LeaderSelector selector(*c1, at("jobs"), "flaky", [&](LeaderSelector::Term& term) {
      ++started;
      EXPECT_TRUE(term.wait_lost_for(60s));
      why.emplace_back(recipes::to_string(*term.why()));
    });
    selector.on_change(heard.listener());
    selector.auto_requeue();
    selector.start();
    ASSERT_TRUE(heard.wait_for("elected")) << heard.dump();
    EXPECT_EQ(selector.leader_id(), "flaky");

    proxy.set_refusing(true);
    proxy.drop_all();
    ASSERT_TRUE(fiber_wait_until([&] { return why.size() == 1; }));
    EXPECT_EQ(why[0], "suspended");
    EXPECT_FALSE(selector.is_leader());
    proxy.set_refusing(false);
    // Reconnected: the old node is withdrawn, the selector queues anew and leads.
    ASSERT_TRUE(heard.wait_for("elected", 2)) << heard.dump();
    EXPECT_EQ(started, 2);
    EXPECT_GT(heard.tokens.back(), heard.tokens.front());
    EXPECT_EQ(ids(selector.participants()), std::vector<std::string>{"flaky"});
    selector.close();  // ends the running function (it waits for lost())
    EXPECT_EQ(why, (std::vector<std::string>{"suspended", "resigned"}));
    EXPECT_EQ(heard.words, (std::vector<std::string>{"elected", "suspended", "resigned", "elected", "resigned"}))
        << heard.dump();
    std::error_code ec;
    const auto left = c.children(at("jobs"), {}, ec);
    EXPECT_TRUE(ec == Error::noNode || (!ec && left.names.empty()));
  });
}

}  // namespace
}  // namespace corral::test
