// Zab's leader and learners wired together by a simulated network (FIFO
// channels that can be cut) and simulated logs (appends become durable when
// the test says so). No sockets, no clock: the test drives time.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <variant>

#include "ensemble/core/quorum/zab_leader.h"
#include "ensemble/core/quorum/zab_learner.h"

namespace corral::ensemble::quorum {
namespace {

proto::Txn txn(int64_t zxid) {
  proto::Txn t;
  t.set_zxid(zxid);
  t.set_session_id(1);
  return t;
}

// One server's storage and replica as the shell would keep them.
struct Node {
  std::vector<int64_t> log;      // appended zxids
  std::size_t durable = 0;       // how many of them are fsynced
  std::vector<int64_t> applied;  // applied to the replica, in order
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  bool active = false;
  std::optional<std::string> stepped_down;
  std::vector<PeerId> snapshot_requests;
  int64_t last_logged() const { return log.empty() ? 0 : log.back(); }
};

class Cluster {
 public:
  static constexpr PeerId L = 1;

  explicit Cluster(std::vector<PeerId> voters, std::vector<PeerId> observers = {}) : voters_(voters) {
    for (PeerId p : voters) nodes_[p];
    for (PeerId p : observers) {
      nodes_[p];
      observers_.push_back(p);
    }
  }

  Node& node(PeerId p) { return nodes_[p]; }

  // Start the leader (server L) and learners; histories come from the nodes.
  void start(std::size_t window = 500) {
    LeaderConfig lc;
    lc.me = L;
    lc.voters = voters_;
    lc.observers = observers_;
    lc.committed_window = window;
    LeaderHistory lh;
    lh.accepted_epoch = nodes_[L].accepted_epoch;
    lh.current_epoch = nodes_[L].current_epoch;
    lh.last_applied_zxid = nodes_[L].applied.empty() ? 0 : nodes_[L].applied.back();
    for (int64_t z : nodes_[L].applied) lh.applied_tail.push_back(txn(z));
    for (int64_t z : nodes_[L].log) {
      if (z > lh.last_applied_zxid) lh.logged_unapplied.push_back(txn(z));
    }
    leader_.emplace(lc, lh, now_);
    drain_leader();
    for (auto& [p, n] : nodes_) {
      if (p != L) start_learner(p);
    }
  }

  void start_learner(PeerId p) {
    Node& n = nodes_[p];
    LearnerConfig c;
    c.me = p;
    c.leader = L;
    c.observer = std::find(observers_.begin(), observers_.end(), p) != observers_.end();
    LearnerHistory h{n.accepted_epoch, n.current_epoch, n.last_logged(), n.last_logged()};
    n.applied = n.log;  // a server (re)starting replays its whole log
    learners_.erase(p);
    learners_.emplace(p, ZabLearner(c, h, now_));
    drain_learner(p);
  }

  void cut(PeerId p) {
    learners_.erase(p);
    connected_.erase(p);
    to_leader_.erase(p);
    to_learner_.erase(p);
    leader_->on_disconnected(p, now_);
    drain_leader();
  }

  // Delivers messages and fsyncs until nothing moves.
  void settle() {
    for (int round = 0; round < 10000; ++round) {
      bool moved = false;
      for (auto& [p, q] : to_leader_) {
        while (!q.empty()) {
          auto m = std::move(q.front());
          q.pop_front();
          leader_->on_message(p, m, now_);
          moved = true;
        }
      }
      drain_leader();
      for (auto& [p, q] : to_learner_) {
        while (!q.empty() && learners_.count(p)) {
          auto m = std::move(q.front());
          q.pop_front();
          learners_.at(p).on_message(m, now_);
          moved = true;
          drain_learner(p);
        }
      }
      moved = fsync_all() || moved;
      if (!moved) return;
    }
    FAIL() << "the cluster never settled";
  }

  void propose(int n) {
    for (int i = 0; i < n; ++i) {
      leader_->propose(txn(leader_->next_zxid()));
      drain_leader();
    }
  }

  void advance(int64_t ms) {
    now_ += ms;
    leader_->tick(now_);
    drain_leader();
    for (auto& [p, l] : learners_) {
      l.tick(now_);
      drain_learner(p);
    }
  }

  ZabLeader& leader() { return *leader_; }
  ZabLearner& learner(PeerId p) { return learners_.at(p); }

 private:
  bool fsync_all() {
    bool moved = false;
    for (auto& [p, n] : nodes_) {
      if (n.durable == n.log.size()) continue;
      n.durable = n.log.size();
      moved = true;
      if (p == L) {
        leader_->on_synced(n.log.back(), now_);
        drain_leader();
      } else if (learners_.count(p)) {
        learners_.at(p).on_synced(n.log.back(), now_);
        drain_learner(p);
      }
    }
    return moved;
  }

  void common(PeerId p, Node& n, const ZabEffect& e) {
    if (auto* a = std::get_if<effect::Append>(&e)) {
      n.log.push_back(a->txn.zxid());
    } else if (auto* ap = std::get_if<effect::Apply>(&e)) {
      n.applied.push_back(ap->txn.zxid());
    } else if (auto* pa = std::get_if<effect::PersistAcceptedEpoch>(&e)) {
      n.accepted_epoch = pa->epoch;
    } else if (auto* pc = std::get_if<effect::PersistCurrentEpoch>(&e)) {
      n.current_epoch = pc->epoch;
    } else if (std::holds_alternative<effect::Activate>(e)) {
      n.active = true;
    } else if (auto* s = std::get_if<effect::StepDown>(&e)) {
      n.stepped_down = s->reason;
    } else if (auto* t = std::get_if<effect::TruncateAndReload>(&e)) {
      std::erase_if(n.log, [&](int64_t z) { return z > t->zxid; });
      n.durable = std::min(n.durable, n.log.size());
      n.applied = n.log;
    }
    (void)p;
  }

  void drain_leader() {
    Node& n = nodes_[L];
    for (auto effects = leader_->take_effects(); !effects.empty(); effects = leader_->take_effects())
      for (auto& e : effects) {
        common(L, n, e);
        if (auto* s = std::get_if<effect::Send>(&e)) {
          to_learner_[s->to].push_back(std::move(s->message));
        } else if (auto* c = std::get_if<effect::Committed>(&e)) {
          for (int64_t z : n.log) {
            if (z > (n.applied.empty() ? 0 : n.applied.back()) && z <= c->zxid) n.applied.push_back(z);
          }
        } else if (auto* ss = std::get_if<effect::StreamSnapshot>(&e)) {
          n.snapshot_requests.push_back(ss->peer);
          proto::LearnerMessage m;
          m.mutable_snap()->set_zxid(ss->zxid);
          m.mutable_snap()->set_last(true);
          to_learner_[ss->peer].push_back(m);
          snapshot_applied_[ss->peer] = n.applied;
          leader_->on_snapshot_sent(ss->peer, ss->zxid);
        }
      }
  }

  void drain_learner(PeerId p) {
    Node& n = nodes_[p];
    // Handling an effect (Connect) can make more: loop until none are left.
    for (auto effects = learners_.at(p).take_effects(); !effects.empty();
         effects = learners_.count(p) ? learners_.at(p).take_effects() : std::vector<ZabEffect>{})
      for (auto& e : effects) {
        common(p, n, e);
        if (auto* s = std::get_if<effect::Send>(&e)) {
          to_leader_[p].push_back(std::move(s->message));
        } else if (std::holds_alternative<effect::Connect>(e)) {
          connected_.insert(p);
          leader_->on_connected(p, now_);
          learners_.at(p).on_connected(now_);
          drain_leader();
        } else if (auto* c = std::get_if<effect::SnapshotChunk>(&e)) {
          if (c->last) {
            n.log = snapshot_applied_[p];  // the snapshot replaces log and replica
            n.durable = n.log.size();
            n.applied = n.log;
          }
        }
      }
  }

  std::vector<PeerId> voters_;
  std::vector<PeerId> observers_;
  std::map<PeerId, Node> nodes_;
  std::optional<ZabLeader> leader_;
  std::map<PeerId, ZabLearner> learners_;
  std::set<PeerId> connected_;
  std::map<PeerId, std::deque<proto::LearnerMessage>> to_leader_;
  std::map<PeerId, std::deque<proto::LearnerMessage>> to_learner_;
  std::map<PeerId, std::vector<int64_t>> snapshot_applied_;
  int64_t now_ = 1'000'000;
};

std::vector<int64_t> zxids(int64_t epoch, int from, int to) {
  std::vector<int64_t> out;
  for (int i = from; i <= to; ++i) out.push_back(make_zxid(epoch, i));
  return out;
}

TEST(Zab, FreshEnsembleEstablishesAndCommitsEverywhere) {
  Cluster c({1, 2, 3});
  c.start();
  c.settle();
  ASSERT_TRUE(c.leader().established());
  EXPECT_EQ(c.leader().epoch(), 1);
  for (PeerId p : {1u, 2u, 3u}) {
    EXPECT_TRUE(c.node(p).active) << p;
    EXPECT_EQ(c.node(p).accepted_epoch, 1) << p;
    EXPECT_EQ(c.node(p).current_epoch, 1) << p;
  }
  c.propose(50);
  c.settle();
  for (PeerId p : {1u, 2u, 3u}) EXPECT_EQ(c.node(p).applied, zxids(1, 1, 50)) << p;
  EXPECT_EQ(c.leader().last_committed(), make_zxid(1, 50));
}

TEST(Zab, CommitsNeedAQuorumOfDurableAcks) {
  Cluster c({1, 2, 3});
  c.start();
  c.settle();
  c.cut(2);
  c.cut(3);
  c.propose(1);
  c.settle();
  EXPECT_EQ(c.leader().last_committed(), 0);  // only the leader's own vote
  EXPECT_TRUE(c.node(1).applied.empty());
  // Without a quorum for syncLimit ticks the leader gives up.
  c.advance(ZabTiming{}.tick_ms * (ZabTiming{}.sync_limit + 2));
  c.advance(ZabTiming{}.tick_ms * (ZabTiming{}.sync_limit + 2));
  EXPECT_TRUE(c.node(1).stepped_down.has_value());
}

TEST(Zab, OneLearnerDownDoesNotStopCommits) {
  Cluster c({1, 2, 3});
  c.start();
  c.settle();
  c.cut(3);
  c.propose(10);
  c.settle();
  EXPECT_EQ(c.node(1).applied, zxids(1, 1, 10));
  EXPECT_EQ(c.node(2).applied, zxids(1, 1, 10));
  EXPECT_TRUE(c.node(3).applied.empty());
}

TEST(Zab, LaggingLearnerCatchesUpByDiff) {
  Cluster c({1, 2, 3});
  c.node(1).log = c.node(1).applied = zxids(1, 1, 40);
  c.node(2).log = c.node(2).applied = zxids(1, 1, 40);
  c.node(3).log = c.node(3).applied = zxids(1, 1, 10);
  for (PeerId p : {1u, 2u, 3u}) c.node(p).accepted_epoch = c.node(p).current_epoch = 1;
  c.start();
  c.settle();
  ASSERT_TRUE(c.leader().established());
  EXPECT_EQ(c.leader().epoch(), 2);
  EXPECT_EQ(c.node(3).applied, zxids(1, 1, 40));
  EXPECT_TRUE(c.node(1).snapshot_requests.empty());
  c.propose(2);
  c.settle();
  auto expected = zxids(1, 1, 40);
  expected.push_back(make_zxid(2, 1));
  expected.push_back(make_zxid(2, 2));
  EXPECT_EQ(c.node(3).applied, expected);
}

TEST(Zab, LearnerWithAnUncommittedTailIsTruncated) {
  Cluster c({1, 2, 3});
  c.node(1).log = c.node(1).applied = zxids(1, 1, 20);
  c.node(2).log = c.node(2).applied = zxids(1, 1, 20);
  // Server 3 logged proposals of epoch 1 that never reached a quorum.
  c.node(3).log = zxids(1, 1, 25);
  for (PeerId p : {1u, 2u, 3u}) c.node(p).accepted_epoch = c.node(p).current_epoch = 1;
  c.node(3).current_epoch = 0;  // it never acked the NEWLEADER of epoch 1... (history still older)
  c.start();
  c.settle();
  ASSERT_TRUE(c.leader().established());
  EXPECT_EQ(c.node(3).log, zxids(1, 1, 20));
  EXPECT_EQ(c.node(3).applied, zxids(1, 1, 20));
}

TEST(Zab, LearnerBeyondTheWindowGetsASnapshot) {
  Cluster c({1, 2, 3});
  c.node(1).log = c.node(1).applied = zxids(1, 1, 100);
  c.node(2).log = c.node(2).applied = zxids(1, 1, 100);
  c.node(3).log = c.node(3).applied = zxids(1, 1, 5);
  for (PeerId p : {1u, 2u, 3u}) c.node(p).accepted_epoch = c.node(p).current_epoch = 1;
  c.start(/*window=*/20);
  c.settle();
  ASSERT_TRUE(c.leader().established());
  ASSERT_EQ(c.node(1).snapshot_requests, std::vector<PeerId>{3});
  EXPECT_EQ(c.node(3).applied, zxids(1, 1, 100));
  c.propose(3);
  c.settle();
  EXPECT_EQ(c.node(3).applied.back(), make_zxid(2, 3));
}

TEST(Zab, NewLeaderCommitsItsWholeLoggedHistory) {
  Cluster c({1, 2, 3});
  // The new leader logged 1..30 but applied only 1..20 (commits were lost with the old leader).
  c.node(1).log = zxids(1, 1, 30);
  c.node(1).applied = zxids(1, 1, 20);
  c.node(2).log = c.node(2).applied = zxids(1, 1, 20);
  for (PeerId p : {1u, 2u, 3u}) c.node(p).accepted_epoch = c.node(p).current_epoch = 1;
  c.start();
  c.settle();
  ASSERT_TRUE(c.leader().established());
  for (PeerId p : {1u, 2u, 3u}) EXPECT_EQ(c.node(p).applied, zxids(1, 1, 30)) << p;
}

TEST(Zab, LeaderWithAnOlderHistoryStepsDown) {
  Cluster c({1, 2, 3});
  c.node(1).log = c.node(1).applied = zxids(1, 1, 5);
  c.node(2).log = c.node(2).applied = zxids(1, 1, 9);
  for (PeerId p : {1u, 2u, 3u}) c.node(p).accepted_epoch = c.node(p).current_epoch = 1;
  c.start();
  c.settle();
  EXPECT_TRUE(c.node(1).stepped_down.has_value());
  EXPECT_FALSE(c.leader().established());
}

TEST(Zab, ObserversApplyCommitsButNeverVote) {
  Cluster c({1, 2, 3}, {4});
  c.start();
  c.settle();
  EXPECT_TRUE(c.node(4).active);
  c.cut(2);
  c.cut(3);
  c.propose(1);
  c.settle();
  EXPECT_EQ(c.leader().last_committed(), 0);  // an observer's log does not count
  EXPECT_TRUE(c.node(4).applied.empty());
}

TEST(Zab, ObserverGetsCommittedTxns) {
  Cluster c({1, 2, 3}, {4});
  c.start();
  c.settle();
  c.propose(5);
  c.settle();
  EXPECT_EQ(c.node(4).applied, zxids(1, 1, 5));
}

TEST(Zab, LearnerSilentLeaderEndsTheRole) {
  Cluster c({1, 2, 3});
  c.start();
  c.settle();
  // Nothing from the leader (its pings are never delivered: no settle) past syncLimit.
  for (int i = 0; i < 10; ++i) c.advance(ZabTiming{}.tick_ms);
  EXPECT_TRUE(c.node(2).stepped_down.has_value());
}

}  // namespace
}  // namespace corral::ensemble::quorum
