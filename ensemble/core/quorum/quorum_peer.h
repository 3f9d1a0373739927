// One server of a replicated ensemble, pure: leader election, then Zab as
// leader or learner, driving the ServerCore that serves clients.
//
//   LOOKING ──(election decides)──► LEADING | FOLLOWING | OBSERVING
//      ▲                                         │
//      └──────────(StepDown: lost quorum, silent leader, ...)┘
//
// The shell feeds it election and quorum messages, "the log is durable up to
// Z", the time, and client traffic (straight to core()); after each input it
// takes the effects and carries them out in order (see zab.h). The peer routes
// the core's own effects: a leader's prepped txns become proposals, a
// learner's requests go to the leader, commits come back as applies.
//
// Before LOOKING the replica must hold exactly what is logged (the shell
// reloads from disk after a step-down when it applied less than it logged,
// which the peer asks for with NeedReload), so the vote's zxid and the
// replica agree.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "ensemble/core/quorum/fast_leader_election.h"
#include "ensemble/core/quorum/zab_leader.h"
#include "ensemble/core/quorum/zab_learner.h"
#include "ensemble/core/server_core.h"

namespace corral::ensemble::quorum {

struct PeerConfig {
  PeerId me = 0;
  std::vector<PeerId> voters;
  std::vector<PeerId> observers;
  ZabTiming timing;
  std::size_t committed_window = 500;
};

// What the shell must do beyond the Zab effects.
namespace peer_effect {
struct Elect {  // send a vote: to one peer, or to all when `to` is empty
  std::optional<PeerId> to;
  proto::Notification notification;
};
struct NeedReload {};  // reload the replica from disk (snapshot + whole log), then call reloaded()
struct RoleChanged {
  proto::PeerState state;
  PeerId leader;
};
struct ClientIo {  // what the core sends to its clients, and its log lines
  Effects effects;
};
}  // namespace peer_effect

using PeerEffect = std::variant<ZabEffect, peer_effect::Elect, peer_effect::NeedReload, peer_effect::RoleChanged,
                                peer_effect::ClientIo>;

class QuorumPeer {
 public:
  QuorumPeer(PeerConfig config, ServerCore& core, int64_t accepted_epoch, int64_t current_epoch);

  // The replica is loaded (everything logged is applied): start looking.
  void start(int64_t now_ms);

  // ---- inputs ----------------------------------------------------------------
  void election_message(PeerId from, const proto::Notification& n, int64_t now_ms);
  // Quorum channel: for a leader, a learner connected; for a learner, we reached the leader.
  void quorum_connected(PeerId peer, int64_t now_ms);
  void quorum_message(PeerId from, const proto::LearnerMessage& m, int64_t now_ms);
  void quorum_disconnected(PeerId peer, int64_t now_ms);
  void synced(int64_t zxid, int64_t now_ms);
  void snapshot_sent(PeerId peer, int64_t zxid, int64_t now_ms);
  // After NeedReload (and after TruncateAndReload / a snapshot install).
  void reloaded(int64_t now_ms);
  void tick(int64_t now_ms);
  // After client input went to core(): route what the core wants to do.
  void route_core(int64_t now_ms);

  std::vector<PeerEffect> take_effects();

  // ---- state -------------------------------------------------------------------
  ServerCore& core() { return core_; }
  proto::PeerState state() const { return state_; }
  PeerId leader() const { return leader_id_; }
  std::string mode() const;  // "leader", "follower", "observer", "looking" (for srvr/mntr)
  int64_t accepted_epoch() const { return accepted_epoch_; }
  int64_t current_epoch() const { return current_epoch_; }
  std::vector<PeerId> synced_followers() const;
  // Recovery: the txns replayed from the log, oldest first (kept for DIFFs).
  // Txns already remembered (a reload replays the whole log again) are skipped.
  void recovered(const proto::Txn& txn) {
    if (recent_.empty() || txn.zxid() > recent_.back().zxid()) remember(txn);
  }

 private:
  void look(int64_t now_ms);
  void on_decision(const Decision& d, int64_t now_ms);
  void pump(int64_t now_ms);
  void handle(ZabEffect e, int64_t now_ms);
  void remember(const proto::Txn& txn);

  PeerConfig config_;
  ServerCore& core_;
  int64_t accepted_epoch_;
  int64_t current_epoch_;
  FastLeaderElection election_;
  std::optional<ZabLeader> leader_;
  std::optional<ZabLearner> learner_;
  proto::PeerState state_ = proto::LOOKING;
  PeerId leader_id_ = 0;
  int64_t last_logged_ = 0;
  bool reload_pending_ = false;
  std::deque<proto::Txn> recent_;           // last applied txns, for a new leader's DIFFs
  std::map<int64_t, proto::Txn> proposed_;  // leader: proposed, not yet committed
  std::vector<PeerEffect> effects_;
};

}  // namespace corral::ensemble::quorum
