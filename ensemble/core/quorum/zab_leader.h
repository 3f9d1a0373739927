// The leader's side of Zab, pure (see zab.h for the effect contract).
//
// Phases, as ZooKeeper's Leader and LearnerHandler:
//  1. Discovery: learners connect and send FollowerInfo. Once a quorum of
//     voters (the leader included) reported, the new epoch is one more than
//     the largest accepted epoch; it is persisted and sent as LeaderInfo.
//     Learners answer AckEpoch; a learner whose history is newer than the
//     leader's makes the leader step down (it was wrongly elected).
//  2. Synchronization: each learner that acked the epoch gets DIFF (the txns
//     it misses), TRUNC (cut its uncommitted tail, then DIFF) or SNAP (the
//     shell streams a snapshot; the txns after it follow), then NEWLEADER.
//     The leader's own history becomes committed. When a quorum of voters has
//     acked NEWLEADER, the leader is established: UPTODATE to them, Activate.
//  3. Broadcast: propose() logs a txn and sends PROPOSAL to the voters; a
//     proposal commits, in zxid order, once a quorum (the leader's own vote
//     counts after its fsync) acked it: COMMIT to voters, INFORM to observers,
//     Committed for the replica.
// Liveness: pings every half tick; a learner silent for syncLimit ticks is
// dropped. Once established, the leader steps down the moment the voters
// still connected (itself included) are not a quorum (so within syncLimit
// ticks of followers going silent), and when fewer than a quorum stay synced
// for syncLimit ticks; before that, without a quorum synced within initLimit.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <unordered_map>

#include "ensemble/core/quorum/zab.h"

namespace corral::ensemble::quorum {

struct LeaderConfig {
  PeerId me = 0;
  std::vector<PeerId> voters;  // includes me
  std::vector<PeerId> observers;
  ZabTiming timing;
  std::size_t committed_window = 500;  // committed txns kept for DIFF
};

// What the leader brings from its previous life.
struct LeaderHistory {
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  int64_t last_applied_zxid = 0;
  std::vector<proto::Txn> applied_tail;      // the most recent applied txns, oldest first
  std::vector<proto::Txn> logged_unapplied;  // logged after last_applied_zxid, oldest first
};

class ZabLeader {
 public:
  ZabLeader(LeaderConfig config, LeaderHistory history, int64_t now_ms);

  // ---- inputs ----------------------------------------------------------
  void on_connected(PeerId peer, int64_t now_ms);
  void on_message(PeerId peer, const proto::LearnerMessage& message, int64_t now_ms);
  void on_disconnected(PeerId peer, int64_t now_ms);
  // The local log is durable up to `zxid`.
  void on_synced(int64_t zxid, int64_t now_ms);
  // The shell finished streaming the snapshot at `zxid` to `peer`.
  void on_snapshot_sent(PeerId peer, int64_t zxid);
  void tick(int64_t now_ms);
  // A txn prepped by the replica (its zxid from next_zxid()).
  void propose(proto::Txn txn);
  // The replica refused a learner's forwarded request.
  void refuse(PeerId learner, proto::Refusal refusal);

  std::vector<ZabEffect> take_effects();

  // ---- state ---------------------------------------------------------------
  bool established() const { return established_; }
  int64_t epoch() const { return epoch_; }
  // The zxid the next proposal gets; valid once established.
  int64_t next_zxid() const { return make_zxid(epoch_, next_counter_); }
  int64_t last_committed() const { return last_committed_; }
  // Voters (leader included) that are synced and heard from recently.
  std::vector<PeerId> synced_voters() const;
  std::size_t learner_count() const { return learners_.size(); }
  std::size_t outstanding_proposals() const { return outstanding_.size(); }

 private:
  // connected: waiting for FollowerInfo; epoch_sent: LeaderInfo sent;
  // epoch_acked: AckEpoch received; snapshot: a snapshot is being streamed;
  // syncing: NEWLEADER sent, gets broadcasts; synced: UPTODATE sent.
  enum class Stage { connected, epoch_sent, epoch_acked, snapshot, syncing, synced };
  struct Learner {
    Stage stage = Stage::connected;
    bool observer = false;
    bool voter = false;
    int64_t accepted_epoch = 0;
    int64_t last_zxid = 0;
    int64_t last_heard_ms = 0;
    bool acked_new_leader = false;
  };
  struct Outstanding {
    proto::Txn txn;
    std::set<PeerId> acks;
  };

  bool is_voter(PeerId p) const;
  bool quorum(std::size_t votes) const { return votes * 2 > voters_.size(); }
  void send(PeerId to, proto::LearnerMessage m);
  void note(std::string line);
  void step_down(std::string reason);
  void maybe_set_epoch();
  void send_leader_info(PeerId peer);
  void maybe_start_sync();
  void sync_learner(PeerId peer);
  void queue_history_after(PeerId peer, int64_t from_zxid);
  void finish_sync(PeerId peer);
  void maybe_establish();
  void ack(PeerId from, int64_t zxid);
  void try_commit();
  void remember_committed(const proto::Txn& txn);

  LeaderConfig config_;
  std::set<PeerId> voters_;
  LeaderHistory history_;
  std::map<PeerId, Learner> learners_;
  std::vector<ZabEffect> effects_;

  int64_t started_ms_;
  int64_t epoch_ = 0;  // the new epoch, once decided
  bool epoch_decided_ = false;
  bool syncing_started_ = false;
  bool own_new_leader_ack_ = false;  // the leader's own NEWLEADER vote (its log durable)
  bool established_ = false;
  bool stepped_down_ = false;  // inputs are ignored from then on
  int64_t next_counter_ = 1;
  int64_t last_committed_ = 0;
  int64_t last_synced_ = 0;  // local log durable up to here
  int64_t quorum_lost_since_ms_ = -1;
  int64_t last_ping_ms_ = 0;

  std::deque<proto::Txn> committed_;  // the committed window, oldest first
  int64_t pinned_from_ = -1;          // keep committed txns after this (a snapshot in transfer)
  std::map<int64_t, Outstanding> outstanding_;
  struct PendingSync {
    PeerId peer;
    proto::SyncRequest request;
    int64_t target;  // answered once this zxid is committed
  };
  std::vector<PendingSync> pending_syncs_;
  void answer_syncs();
};

}  // namespace corral::ensemble::quorum
