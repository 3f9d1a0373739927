// The learner's side of Zab (a follower, or an observer that never votes),
// pure (see zab.h for the effect contract). As ZooKeeper's Learner/Follower:
//  1. connect to the leader and send FollowerInfo (accepted epoch, last zxid);
//  2. on LeaderInfo persist the new accepted epoch (never go back), answer
//     AckEpoch with the current epoch and history;
//  3. synchronize: DIFF (txns follow), TRUNC (cut the log, reload, txns
//     follow) or a snapshot in chunks; proposals are logged and commits
//     applied in order; on NEWLEADER persist the current epoch and ACK once
//     the log is durable; on UPTODATE start serving (Activate);
//  4. broadcast: log each PROPOSAL and ACK it after fsync; apply each COMMIT
//     (observers: apply each INFORM); answer pings with the sessions touched.
// A leader silent for syncLimit ticks (initLimit before UPTODATE) ends the
// role: StepDown, back to election.
#pragma once

#include <deque>

#include "ensemble/core/quorum/zab.h"

namespace corral::ensemble::quorum {

struct LearnerConfig {
  PeerId me = 0;
  PeerId leader = 0;
  bool observer = false;
  ZabTiming timing;
};

struct LearnerHistory {
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  int64_t last_logged_zxid = 0;
  int64_t last_applied_zxid = 0;
};

class ZabLearner {
 public:
  ZabLearner(LearnerConfig config, LearnerHistory history, int64_t now_ms);

  // ---- inputs ----------------------------------------------------------
  void on_connected(int64_t now_ms);
  void on_message(const proto::LearnerMessage& message, int64_t now_ms);
  void on_synced(int64_t zxid, int64_t now_ms);
  // The connection to the leader is gone: the role ends.
  void on_disconnected();
  void tick(int64_t now_ms);
  // A client session was used here: reported with the next ping.
  void touch(int64_t session, int32_t timeout_ms);
  // Requests for the leader (only while active).
  void forward(proto::ForwardedRequest request);
  void sync(proto::SyncRequest request);
  void revalidate(proto::Revalidate request);

  std::vector<ZabEffect> take_effects();

  bool active() const { return stage_ == Stage::active; }
  PeerId leader() const { return config_.leader; }
  int64_t last_applied() const { return last_applied_; }
  int64_t last_logged() const { return last_logged_; }

 private:
  enum class Stage { connecting, waiting_epoch, syncing, waiting_uptodate, active, failed };

  void send(proto::LearnerMessage m);
  void fail(std::string reason);
  void log(const proto::Txn& txn);
  void apply_commit(int64_t zxid);
  void send_acks();

  LearnerConfig config_;
  LearnerHistory history_;
  Stage stage_ = Stage::connecting;
  std::vector<ZabEffect> effects_;
  int64_t last_heard_ms_;
  int64_t connect_attempt_ms_;  // the leader may not be leading yet: try again each tick
  int64_t last_logged_;
  int64_t last_applied_;
  int64_t last_synced_;
  std::deque<proto::Txn> uncommitted_;  // logged proposals waiting for their COMMIT
  std::deque<int64_t> unacked_;         // logged proposals not acknowledged yet
  int64_t new_leader_zxid_ = -1;        // NEWLEADER to acknowledge once the log is durable
  std::vector<proto::SessionTouch> touches_;
};

}  // namespace corral::ensemble::quorum
