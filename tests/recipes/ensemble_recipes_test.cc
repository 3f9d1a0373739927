// The recipes on a 3-server ensemble (corral's, and Apache ZooKeeper 3.8's as
// the reference): participants connected to different servers, so every
// handoff crosses the leader and reaches them through their own follower;
// and the election surviving kill -9 of the ensemble's leader server.
#include <boost/fiber/fiber.hpp>
#include <mutex>
#include <set>

#include "corral/recipes/double_barrier.h"
#include "corral/recipes/leader_election.h"
#include "corral/recipes/lock.h"
#include "corral/recipes/queue.h"
#include "tests/client/client_fixture.h"
#include "tests/support/test_ensemble.h"

namespace corral::test {
namespace {

class RecipesOnEnsembleTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  static void TearDownTestSuite() {
    for (auto& [kind, e] : ensembles_) delete e;
    ensembles_.clear();
  }
  void SetUp() override {
    auto& e = ensembles_[GetParam()];
    if (e == nullptr) {
      e = new TestEnsemble(3, GetParam());
      e->start(90s);
    }
    for (int i = 0; i < 3; ++i) {
      if (!e->alive(i)) e->restart(i, 60s);
    }
    ensemble_ = e;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    base_ = "/" + std::string(info->name()).substr(0, std::string(info->name()).find('/'));
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << ensemble_->logs_tail();
  }
  std::unique_ptr<Client> client_on(Runtime& rt, const std::string& hosts) {
    ClientOptions o;
    o.connect_string = hosts;
    o.session_timeout = 6s;
    auto c = std::make_unique<Client>(rt, o);
    c->connect(30s);
    return c;
  }
  std::string at(const std::string& rel) const { return base_ + "/" + rel; }

  static inline std::map<ServerKind, TestEnsemble*> ensembles_;
  TestEnsemble* ensemble_ = nullptr;
  std::string base_;
};

// Three clients, one per server, take one lock 20 times each and increment a
// counter inside it without a version check: no increment is lost.
TEST_P(RecipesOnEnsembleTest, LockExcludesClientsOnDifferentServers) {
  run_fibers([&](Runtime& rt) {
    auto setup = client_on(rt, ensemble_->host_port(0));
    setup->create(base_, "");
    setup->create(at("counter"), "0");
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < 3; ++i) {
      fibers.emplace_back([&, i] {
        auto c = client_on(rt, ensemble_->host_port(i));
        recipes::Lock lock(*c, at("lock"));
        for (int round = 0; round < 20; ++round) {
          std::scoped_lock hold(lock);
          c->sync(at("counter"));  // our server may lag the previous holder's write
          const int v = std::stoi(c->get(at("counter")).data);
          c->set(at("counter"), std::to_string(v + 1));
        }
      });
    }
    for (auto& f : fibers) f.join();
    setup->sync(at("counter"));
    EXPECT_EQ(setup->get(at("counter")).data, "60");
  });
}

// Three participants, one per server, meet at a double barrier for 10 rounds:
// when enter() returns, every participant's mark for the round is visible.
TEST_P(RecipesOnEnsembleTest, DoubleBarrierRoundsWithParticipantsOnDifferentServers) {
  run_fibers([&](Runtime& rt) {
    auto setup = client_on(rt, ensemble_->host_port(0));
    setup->create(base_, "");
    for (int r = 0; r < 10; ++r) setup->create(at("round-" + std::to_string(r)), "");
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < 3; ++i) {
      fibers.emplace_back([&, i] {
        auto c = client_on(rt, ensemble_->host_port(i));
        recipes::DoubleBarrier barrier(*c, at("barrier"), 3);
        for (int r = 0; r < 10; ++r) {
          const std::string round = at("round-" + std::to_string(r));
          c->create(round + "/p" + std::to_string(i), "");
          ASSERT_TRUE(barrier.enter_for(30s)) << "round " << r;
          c->sync(round);
          EXPECT_EQ(c->children(round).names.size(), 3u) << "participant " << i << " entered round " << r << " early";
          ASSERT_TRUE(barrier.leave_for(30s)) << "round " << r;
        }
      });
    }
    for (auto& f : fibers) f.join();
  });
}

// A producer on one server, three consumers on the three servers: every item
// is taken exactly once.
TEST_P(RecipesOnEnsembleTest, QueueItemsAreTakenExactlyOnceByConsumersOnDifferentServers) {
  run_fibers([&](Runtime& rt) {
    auto setup = client_on(rt, ensemble_->host_port(0));
    setup->create(base_, "");
    constexpr int items = 300;
    std::vector<std::string> put;
    for (int n = 0; n < items; ++n) put.push_back("item-" + std::to_string(n));
    recipes::Queue producer(*setup, at("queue"));
    producer.put_all(put);
    std::multiset<std::string> taken;
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < 3; ++i) {
      fibers.emplace_back([&, i] {
        auto c = client_on(rt, ensemble_->host_port(i));
        recipes::Queue q(*c, at("queue"));
        while (auto item = q.take(2s)) taken.insert(*item);
      });
    }
    for (auto& f : fibers) f.join();
    EXPECT_EQ(taken.size(), static_cast<std::size_t>(items));
    EXPECT_EQ(std::set<std::string>(taken.begin(), taken.end()), std::set<std::string>(put.begin(), put.end()));
  });
}

// Three latches whose clients know every server; kill -9 of the ensemble's
// leader server: the clients move, and there is a leader again — the same
// participant with the same token if its session survived (it does, within
// the session timeout), never two at once.
TEST_P(RecipesOnEnsembleTest, TheElectionSurvivesKillingTheEnsemblesLeader) {
  run_fibers([&](Runtime& rt) {
    auto setup = client_on(rt, ensemble_->connect_string());
    setup->create(base_, "");
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::unique_ptr<recipes::LeaderLatch>> latches;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(client_on(rt, ensemble_->connect_string()));
      latches.push_back(
          std::make_unique<recipes::LeaderLatch>(*clients.back(), at("election"), "p" + std::to_string(i)));
      latches.back()->start();
    }
    const auto leaders = [&] {
      int n = 0;
      for (auto& l : latches) n += l->is_leader();
      return n;
    };
    ASSERT_TRUE(fiber_wait_until([&] { return leaders() == 1; }, 30s));
    int64_t token = 0;
    for (auto& l : latches) token = std::max(token, l->token());
    const int server = ensemble_->leader();
    ASSERT_GE(server, 0);
    ensemble_->kill9(server);
    bool two = false;
    ASSERT_TRUE(fiber_wait_until(
        [&] {
          two = two || leaders() > 1;
          return leaders() == 1;
        },
        60s))
        << "no leader after the ensemble's leader died";
    EXPECT_FALSE(two) << "two leaders at once";
    int64_t now = 0;
    for (auto& l : latches) now = std::max(now, l->token());
    EXPECT_GE(now, token);
    for (auto& l : latches) l->resign();
  });
}

CORRAL_CLIENT_SUITE(RecipesOnEnsembleTest);

}  // namespace
}  // namespace corral::test
