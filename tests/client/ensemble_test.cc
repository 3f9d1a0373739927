// corral::Client against a 3-node ensemble, corral's and Apache ZooKeeper
// 3.8's: when the server a client is connected to dies (a follower, or the
// leader), the client moves to another server of the ensemble and its session
// (id, ephemerals, watches) survives.
#include <gtest/gtest.h>

#include <functional>
#include <iostream>

#include "tests/client/client_fixture.h"
#include "tests/client/fiber_test_util.h"
#include "tests/support/test_ensemble.h"

namespace corral::test {
namespace {

class EnsembleTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  static void TearDownTestSuite() {
    for (auto& [kind, e] : ensembles_) delete e;
    ensembles_.clear();
    ensemble_ = nullptr;
  }
  void SetUp() override {
    // One ensemble per kind for the whole suite.
    auto& e = ensembles_[GetParam()];
    if (e == nullptr) {
      e = new TestEnsemble(3, GetParam());
      e->start(90s);
    }
    ensemble_ = e;
    // Every node up, whatever an earlier test killed.
    for (int i = 0; i < ensemble_->size(); ++i) {
      if (!ensemble_->alive(i)) ensemble_->restart(i, 60s);
    }
  }
  void TearDown() override {
    if (HasFailure() && ensemble_) std::cerr << ensemble_->logs_tail();
  }

  // Drops the client's connection until it lands on a node `wanted` accepts
  // (the client tries the servers in turn); that node, or -1.
  static int move_until(Client& c, EventLog& log, const std::function<bool(int)>& wanted) {
    for (int attempt = 0; attempt < 12; ++attempt) {
      int node = -1;
      if (!fiber_wait_until([&] { return (node = ensemble_->node_with_session(c.session_id())) >= 0; })) return -1;
      if (wanted(node)) return node;
      const auto reconnects = log.with_prefix("state reconnected").size();
      c.drop_connection();
      if (!fiber_wait_until([&] { return log.with_prefix("state reconnected").size() > reconnects; }, 30s)) return -1;
    }
    return -1;
  }

  // Kills the node the client is on (chosen by `wanted`) and checks that the
  // session moves on intact.
  void kill_home_and_move(const std::function<bool(int)>& wanted, const std::string& what) {
    run_fibers([&](Runtime& rt) {
      EventLog log;
      ClientOptions o;
      o.connect_string = ensemble_->connect_string();
      o.session_timeout = 20s;
      Client c(rt, o);
      c.add_state_listener(log.listener());
      c.connect(30s);
      const int64_t id = c.session_id();
      const std::string dir = "/" + what;
      c.create(dir, "");
      c.create(dir + "/eph", "", {.mode = CreateMode::ephemeral});
      c.get(dir, log.watcher("data"));
      c.add_watch(dir, wire::AddWatchMode::persistentRecursive, log.watcher("rec"));

      const int home = move_until(c, log, wanted);
      ASSERT_GE(home, 0) << "the client never landed on the " << what << ": " << log.dump();
      log.clear();
      ensemble_->kill9(home);
      ASSERT_TRUE(log.wait_for("state suspended")) << log.dump();
      // Moving waits for a new leader when the leader was killed.
      ASSERT_TRUE(log.wait_for("state reconnected", 40s)) << log.dump();
      EXPECT_EQ(log.with_prefix("state"), (std::vector<std::string>{"state suspended", "state reconnected"}));
      EXPECT_EQ(c.session_id(), id);
      int now = -1;
      EXPECT_TRUE(fiber_wait_until([&] { return (now = ensemble_->node_with_session(id)) >= 0; }));
      EXPECT_NE(now, home);

      EXPECT_TRUE(c.exists(dir + "/eph").has_value()) << "the session's ephemeral is gone";
      // The watches were re-registered on the new server.
      ClientOptions wo;
      wo.connect_string = ensemble_->connect_string();
      Client writer(rt, wo);
      writer.connect(30s);
      writer.set(dir, "x");
      writer.create(dir + "/kid", "");
      EXPECT_TRUE(log.wait_for("data NodeDataChanged " + dir)) << log.dump();
      EXPECT_TRUE(log.wait_for("rec NodeCreated " + dir + "/kid")) << log.dump();

      // The session stays usable, and still ends its ephemerals when closed.
      c.set(dir + "/eph", "still mine");
      c.close();
      writer.sync(dir);  // the writer's server may not have applied the close yet
      EXPECT_FALSE(writer.exists(dir + "/eph").has_value());
    });
  }

  static inline std::map<ServerKind, TestEnsemble*> ensembles_;
  static inline TestEnsemble* ensemble_ = nullptr;
};

TEST_P(EnsembleTest, TheClientMovesOnWhenItsFollowerDies) {
  kill_home_and_move([](int node) { return ensemble_->mode(node) == "follower"; }, "follower");
}

// extendedTypesEnabled=true in zoo.cfg (a system property by QuorumPeerConfig's
// rule) enables TTL nodes; without it ZooKeeper answers UNIMPLEMENTED.
TEST_P(EnsembleTest, ExtendedTypesAreEnabledThroughZooCfg) {
  run_fibers([&](Runtime& rt) {
    ClientOptions o;
    o.connect_string = ensemble_->connect_string();
    Client c(rt, o);
    c.connect(30s);
    std::error_code ec;
    const auto created = c.create("/ttl", "", {.mode = CreateMode::persistentWithTtl, .ttl_ms = 60000}, ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(created.path, "/ttl");
    c.create("/box", "", {.container = true}, ec);
    EXPECT_FALSE(ec) << ec.message();
  });
}

TEST_P(EnsembleTest, TheSessionSurvivesTheLeadersDeath) {
  kill_home_and_move([](int node) { return ensemble_->mode(node) == "leader"; }, "leader");
  // The two that are left elected one of themselves.
  EXPECT_TRUE(wait_until([] { return ensemble_->leader() >= 0; }, 30s)) << "no new leader";
}

CORRAL_CLIENT_SUITE(EnsembleTest);

}  // namespace
}  // namespace corral::test
