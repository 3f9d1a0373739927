// Fast leader election (ZooKeeper's FastLeaderElection), as a pure state
// machine: notifications, "start looking" and the time go in; notifications to
// send and, once, a decision come out. No threads, no clock, no sockets: the
// shell delivers what arrives on the election port, calls tick() when
// next_deadline_ms() is due, and sends whatever take_outbox() returns.
//
// The protocol, in ZooKeeper's terms (FastLeaderElection.lookForLeader):
//  * A vote names a leader and the history it would lead with: (peer epoch,
//    last zxid). Votes are totally ordered by peer epoch, then zxid, then
//    server id (outranks()). Each server starts a round ("election epoch",
//    the logical clock) proposing itself and tells every voter.
//  * A LOOKING notification from a newer round moves us to that round: the
//    round's table is cleared and we propose the better of its vote and our
//    own. One from our round replaces our proposal if it outranks it. One from
//    an older round is ignored; its sender, if LOOKING, is answered with our
//    vote so it catches up (FastLeaderElection.Messenger.WorkerReceiver).
//  * Once a quorum of voters in our round's table proposes what we propose,
//    we wait finalize_wait_ms for a notification that outranks it; if none
//    comes, the proposal is elected (LEADING if it names us).
//  * FOLLOWING/LEADING notifications come from servers that already decided.
//    They are kept in the round table (same round) and, from any round, in an
//    "out of election" table; when a quorum in either table follows the same
//    leader (same id and peer epoch) and that leader itself says LEADING
//    (checkLeader), we join it at once: how a server that (re)starts learns
//    the leader of a running ensemble.
//  * Only voters count: notifications from observers are never tallied (a
//    voter answers a LOOKING observer with its current vote), and a vote for a
//    server that is not a voter is ignored.
//  * Observers run the same rounds as listeners: they propose nobody, adopt
//    the best vote they hear from voters, and end OBSERVING the leader a
//    quorum of voters agrees on. Notifications go to voters only, so an
//    observer hears the ensemble in the answers to its own notifications.
//  * Without news for the notification timeout we send our vote again; the
//    timeout starts at min_notification_interval_ms and doubles up to
//    max_notification_interval_ms.
//  * Once decided (or told with set_settled()), the module answers every
//    LOOKING peer with the settled vote and its state, until start() again.
//
// Deliberate differences from ZooKeeper 3.8, each harmless to what a peer can
// observe: the finalize wait is one deadline from the moment the quorum formed
// (ZooKeeper restarts its 200 ms poll after each irrelevant notification, so a
// steady trickle could postpone the decision); a LOOKING server answers
// non-voters with its current proposal (ZooKeeper sends the QuorumPeer's vote
// from before the round); a voter answers a non-voter only when it is LOOKING,
// and an observer never answers a LOOKING voter's old-round notification
// (voters do not count observers, and ZooKeeper's unconditional answers can
// bounce between an observer and a voter). Dynamic reconfiguration (the
// QuorumVerifier carried in notifications) and the oracle of two-server
// ensembles are not implemented.
//
// What an election does not promise: two servers that decide in the same round
// agree only if every vote that outranks a quorum's proposal reaches them within
// the finalize wait. A late better vote (a slow link, a lost message, a server
// that starts late) can make some servers decide X and the rest, in the same
// round, Y. ZooKeeper lives with this: Zab's discovery needs a quorum of
// followers, so at most one of X and Y establishes and the others look again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "quorum.pb.h"

namespace corral::ensemble::quorum {

using PeerId = uint32_t;  // also declared by zab.h; the same type

// "`leader` should lead; its history ends at `zxid`, in epoch `peer_epoch`."
struct Vote {
  PeerId leader = 0;
  int64_t zxid = 0;
  int64_t peer_epoch = 0;
  friend bool operator==(const Vote&, const Vote&) = default;
};

// The election's total order (FastLeaderElection.totalOrderPredicate): `a`
// outranks `b` if its peer epoch is newer, or the same with a higher zxid, or
// both the same with a higher server id.
bool outranks(const Vote& a, const Vote& b);

// A vote as a server states it: with its round and its role.
struct Ballot {
  Vote vote;
  int64_t election_epoch = 0;
  proto::PeerState state = proto::LOOKING;
};

// The zxid of a server whose database is not loaded: ZooKeeper's -1. Such a
// server ignores LOOKING notifications, and a vote with this zxid is ignored.
inline constexpr int64_t kUnknownZxid = -1;

struct ElectionConfig {
  PeerId me = 0;
  std::vector<PeerId> voters;                  // the voting members (participants), `me` among them unless it observes
  std::vector<PeerId> observers;               // `me` among them when it observes
  int64_t finalize_wait_ms = 200;              // ZooKeeper's finalizeWait
  int64_t min_notification_interval_ms = 200;  // zookeeper.fastleader.minNotificationInterval
  int64_t max_notification_interval_ms = 60000;  // zookeeper.fastleader.maxNotificationInterval
};

// A notification to send: to one peer, or (no `to`) to every voter but me.
struct Outgoing {
  std::optional<PeerId> to;
  proto::Notification notification;
};

struct Decision {
  Vote vote;                                // the leader, and the history it was elected with
  int64_t election_epoch = 0;               // the round it was decided in
  proto::PeerState state = proto::LOOKING;  // LEADING (vote.leader is me), FOLLOWING or OBSERVING
  // Learned from servers already FOLLOWING/LEADING (a quorum of them plus the
  // leader's own LEADING), rather than elected by our round's quorum and the
  // finalize wait.
  bool joined = false;
};

class FastLeaderElection {
 public:
  // Throws std::invalid_argument unless `me` is exactly one of a voter or an
  // observer, there is a voter, no id is listed twice, and the intervals are
  // positive (finalize wait: not negative).
  explicit FastLeaderElection(ElectionConfig config);

  // ---- inputs ------------------------------------------------------------
  // Begin a round (QuorumPeer going LOOKING): logical clock + 1, propose
  // myself with my history (observers propose nobody), tell every voter.
  // Forgets the previous round's tables and decision.
  void start(int64_t now_ms, int64_t last_logged_zxid, int64_t current_epoch);
  // A notification that arrived from `from` (the peer the connection belongs
  // to; the message's own `sender` field is not trusted). Ignored before the
  // first start() and from servers that are not members.
  void on_notification(PeerId from, const proto::Notification& n, int64_t now_ms);
  // Resend after the notification timeout; decide once the finalize wait is
  // over. Every input also does what is due by its `now_ms`.
  void tick(int64_t now_ms);
  // The server's role and vote changed outside the election (ZooKeeper's
  // QuorumPeer.setCurrentVote / updateElectionVote, e.g. Zab set a new peer
  // epoch): answer LOOKING peers with this from now on. `state` is FOLLOWING,
  // LEADING or OBSERVING; ends a round in progress without a decision.
  void set_settled(proto::PeerState state, PeerId leader, int64_t zxid, int64_t peer_epoch, int64_t election_epoch);

  // ---- outputs -----------------------------------------------------------
  std::vector<Outgoing> take_outbox();
  // The decision of the round, once (later calls return nothing until the
  // next round decides).
  std::optional<Decision> take_decision();

  // ---- observation ---------------------------------------------------------
  // LOOKING from start() until a decision or set_settled(); before the first
  // start() as well.
  proto::PeerState state() const;
  bool looking() const { return phase_ == Phase::looking; }
  int64_t logical_clock() const { return logical_clock_; }
  // What we propose while LOOKING (observers: nothing until they hear a voter).
  std::optional<Vote> proposal() const { return looking() ? proposal_ : std::nullopt; }
  // What we answer LOOKING peers with, once settled (decided or set_settled()).
  std::optional<Ballot> settled() const;
  // When tick() next has something to do (nothing while settled or idle).
  std::optional<int64_t> next_deadline_ms() const;
  // The current notification timeout (doubles on each resend).
  int64_t notification_timeout_ms() const { return notification_timeout_ms_; }
  bool finalizing() const { return finalize_at_ms_.has_value(); }

 private:
  enum class Phase { idle, looking, settled };
  using Table = std::map<PeerId, Ballot>;

  bool is_voter(PeerId id) const { return voters_.contains(id); }
  bool is_member(PeerId id) const { return voters_.contains(id) || observers_.contains(id); }
  bool i_vote() const { return is_voter(config_.me); }
  bool better_than_proposal(const Vote& v) const;

  void advance(int64_t now_ms);
  void look(PeerId from, const proto::Notification& n, int64_t now_ms);
  void on_looking(PeerId from, const proto::Notification& n, int64_t now_ms);
  void on_decided_peer(PeerId from, const proto::Notification& n);
  void adopt(const Vote& v);
  void record_own_vote();
  void maybe_finalize(int64_t now_ms);
  bool has_quorum(const Table& table, const Ballot& target) const;
  bool leader_confirmed(const Table& table, PeerId leader, int64_t election_epoch) const;
  void decide(const Vote& v, int64_t election_epoch, bool joined);

  proto::Notification notification(const Vote& v, int64_t election_epoch, proto::PeerState state) const;
  proto::Notification current_vote_notification() const;
  void broadcast();
  void send(PeerId to, proto::Notification n);

  ElectionConfig config_;
  std::set<PeerId> voters_;
  std::set<PeerId> observers_;

  Phase phase_ = Phase::idle;
  int64_t logical_clock_ = 0;
  std::vector<Outgoing> outbox_;
  std::optional<Decision> decision_;

  // Looking.
  std::optional<Vote> own_vote_;  // what start() proposed (voters only)
  std::optional<Vote> proposal_;
  int64_t last_logged_zxid_ = 0;
  Table round_;            // this round's votes (ZooKeeper's recvset)
  Table out_of_election_;  // FOLLOWING/LEADING servers, any round (outofelection)
  int64_t notification_timeout_ms_ = 0;
  int64_t resend_at_ms_ = 0;
  std::optional<int64_t> finalize_at_ms_;

  // Settled.
  Ballot settled_;
};

}  // namespace corral::ensemble::quorum
