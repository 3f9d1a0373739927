#include "ensemble/core/quorum/fast_leader_election.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

namespace corral::ensemble::quorum {

bool outranks(const Vote& a, const Vote& b) {
  return std::tie(a.peer_epoch, a.zxid, a.leader) > std::tie(b.peer_epoch, b.zxid, b.leader);
}

namespace {

// ZooKeeper's Vote.equals without the message-format version: votes of
// servers out of election (neither LOOKING) match on leader and peer epoch
// alone, since their zxid and round may lag the leader's (ZOOKEEPER-1732,
// ZOOKEEPER-1805); otherwise the whole vote and the round must match.
bool same_vote(const Ballot& a, const Ballot& b) {
  if (a.state == proto::LOOKING || b.state == proto::LOOKING)
    return a.vote == b.vote && a.election_epoch == b.election_epoch;
  return a.vote.leader == b.vote.leader && a.vote.peer_epoch == b.vote.peer_epoch;
}

Vote vote_of(const proto::Notification& n) { return Vote{n.leader(), n.zxid(), n.peer_epoch()}; }

}  // namespace

FastLeaderElection::FastLeaderElection(ElectionConfig config) : config_(std::move(config)) {
  for (PeerId id : config_.voters)
    if (!voters_.insert(id).second)
      throw std::invalid_argument("election: voter " + std::to_string(id) + " listed twice");
  for (PeerId id : config_.observers)
    if (voters_.contains(id) || !observers_.insert(id).second)
      throw std::invalid_argument("election: observer " + std::to_string(id) + " listed twice");
  if (voters_.empty()) throw std::invalid_argument("election: no voters");
  if (!is_member(config_.me))
    throw std::invalid_argument("election: server " + std::to_string(config_.me) +
                                " is neither a voter nor an observer");
  if (config_.finalize_wait_ms < 0 || config_.min_notification_interval_ms <= 0 ||
      config_.max_notification_interval_ms < config_.min_notification_interval_ms)
    throw std::invalid_argument("election: bad finalize wait or notification intervals");
  notification_timeout_ms_ = config_.min_notification_interval_ms;
}

// ---- inputs -------------------------------------------------------------

void FastLeaderElection::start(int64_t now_ms, int64_t last_logged_zxid, int64_t current_epoch) {
  phase_ = Phase::looking;
  ++logical_clock_;
  decision_.reset();
  round_.clear();
  out_of_election_.clear();
  finalize_at_ms_.reset();
  last_logged_zxid_ = last_logged_zxid;
  own_vote_ = i_vote() ? std::optional<Vote>(Vote{config_.me, last_logged_zxid, current_epoch}) : std::nullopt;
  proposal_ = own_vote_;
  notification_timeout_ms_ = config_.min_notification_interval_ms;
  resend_at_ms_ = now_ms + notification_timeout_ms_;
  broadcast();
  record_own_vote();
  maybe_finalize(now_ms);
  advance(now_ms);
}

void FastLeaderElection::on_notification(PeerId from, const proto::Notification& n, int64_t now_ms) {
  advance(now_ms);
  if (phase_ == Phase::idle || from == config_.me || !is_member(from)) return;
  if (!proto::PeerState_IsValid(n.state())) return;  // a state this version does not know

  if (!is_voter(from)) {
    // A non-voter (observer) is answered at once and never tallied.
    if (i_vote() && n.state() == proto::LOOKING) send(from, current_vote_notification());
    return;
  }
  if (phase_ == Phase::settled) {
    if (n.state() == proto::LOOKING) send(from, current_vote_notification());
    return;
  }
  // Looking. A LOOKING voter behind our round is told where we are.
  if (i_vote() && n.state() == proto::LOOKING && n.election_epoch() < logical_clock_)
    send(from, current_vote_notification());
  look(from, n, now_ms);
  advance(now_ms);
}

void FastLeaderElection::tick(int64_t now_ms) { advance(now_ms); }

void FastLeaderElection::set_settled(proto::PeerState state, PeerId leader, int64_t zxid, int64_t peer_epoch,
                                     int64_t election_epoch) {
  if (state != proto::FOLLOWING && state != proto::LEADING && state != proto::OBSERVING)
    throw std::invalid_argument("election: set_settled needs FOLLOWING, LEADING or OBSERVING");
  phase_ = Phase::settled;
  settled_ = Ballot{Vote{leader, zxid, peer_epoch}, election_epoch, state};
  round_.clear();
  out_of_election_.clear();
  finalize_at_ms_.reset();
}

// ---- outputs ------------------------------------------------------------

std::vector<Outgoing> FastLeaderElection::take_outbox() { return std::exchange(outbox_, {}); }

std::optional<Decision> FastLeaderElection::take_decision() { return std::exchange(decision_, std::nullopt); }

proto::PeerState FastLeaderElection::state() const {
  return phase_ == Phase::settled ? settled_.state : proto::LOOKING;
}

std::optional<Ballot> FastLeaderElection::settled() const {
  if (phase_ != Phase::settled) return std::nullopt;
  return settled_;
}

std::optional<int64_t> FastLeaderElection::next_deadline_ms() const {
  if (phase_ != Phase::looking) return std::nullopt;
  return finalize_at_ms_ ? *finalize_at_ms_ : resend_at_ms_;
}

// ---- the round ----------------------------------------------------------

void FastLeaderElection::advance(int64_t now_ms) {
  if (phase_ != Phase::looking) return;
  if (finalize_at_ms_) {
    // Nothing that outranks the proposal came during the wait (such a
    // notification ends the wait, and nothing else changes the round table
    // meanwhile), so the quorum still stands.
    if (now_ms >= *finalize_at_ms_) decide(*proposal_, logical_clock_, false);
    return;
  }
  if (now_ms >= resend_at_ms_) {
    broadcast();
    notification_timeout_ms_ = std::min(notification_timeout_ms_ * 2, config_.max_notification_interval_ms);
    resend_at_ms_ = now_ms + notification_timeout_ms_;
  }
}

bool FastLeaderElection::better_than_proposal(const Vote& v) const {
  if (!is_voter(v.leader)) return false;  // totalOrderPredicate: a non-voter has no weight
  return !proposal_ || outranks(v, *proposal_);
}

// A voter's notification while we look (the body of lookForLeader's loop).
void FastLeaderElection::look(PeerId from, const proto::Notification& n, int64_t now_ms) {
  resend_at_ms_ = now_ms + notification_timeout_ms_;  // news: the timeout starts over
  if (finalize_at_ms_) {
    // During the finalize wait only a vote that outranks ours matters: it
    // ends the wait and is handled as usual. Anything else is dropped.
    if (!better_than_proposal(vote_of(n))) return;
    finalize_at_ms_.reset();
  }
  if (!is_voter(n.leader())) return;  // a vote for a non-voter
  switch (n.state()) {
    case proto::LOOKING: on_looking(from, n, now_ms); break;
    case proto::FOLLOWING:
    case proto::LEADING: on_decided_peer(from, n); break;
    default:  // OBSERVING: voters do not observe; nothing to learn
      break;
  }
}

void FastLeaderElection::on_looking(PeerId from, const proto::Notification& n, int64_t now_ms) {
  if (i_vote() && last_logged_zxid_ == kUnknownZxid) return;
  if (n.zxid() == kUnknownZxid) return;
  const Vote v = vote_of(n);
  if (n.election_epoch() > logical_clock_) {
    // A newer round: join it with the better of its vote and our own.
    logical_clock_ = n.election_epoch();
    round_.clear();
    adopt(own_vote_ && !outranks(v, *own_vote_) ? *own_vote_ : v);
  } else if (n.election_epoch() < logical_clock_) {
    return;
  } else if (better_than_proposal(v)) {
    adopt(v);
  }
  round_[from] = Ballot{v, n.election_epoch(), proto::LOOKING};
  maybe_finalize(now_ms);
}

// ZooKeeper's receivedFollowingNotification / receivedLeadingNotification.
void FastLeaderElection::on_decided_peer(PeerId from, const proto::Notification& n) {
  const Ballot b{vote_of(n), n.election_epoch(), n.state()};
  if (n.election_epoch() == logical_clock_) {
    round_[from] = b;
    if (has_quorum(round_, b) && leader_confirmed(round_, b.vote.leader, b.election_epoch)) {
      decide(b.vote, b.election_epoch, true);
      return;
    }
  }
  out_of_election_[from] = b;
  if (has_quorum(out_of_election_, b) && leader_confirmed(out_of_election_, b.vote.leader, b.election_epoch)) {
    logical_clock_ = b.election_epoch;
    decide(b.vote, b.election_epoch, true);
  }
}

void FastLeaderElection::adopt(const Vote& v) {
  proposal_ = v;
  broadcast();
  record_own_vote();
}

// Our own notification counts in our round as anyone's does (ZooKeeper sends
// it to itself; here it is recorded directly).
void FastLeaderElection::record_own_vote() {
  if (!i_vote() || !proposal_ || last_logged_zxid_ == kUnknownZxid || proposal_->zxid == kUnknownZxid) return;
  round_[config_.me] = Ballot{*proposal_, logical_clock_, proto::LOOKING};
}

void FastLeaderElection::maybe_finalize(int64_t now_ms) {
  if (finalize_at_ms_ || !proposal_) return;
  if (has_quorum(round_, Ballot{*proposal_, logical_clock_, proto::LOOKING}))
    finalize_at_ms_ = now_ms + config_.finalize_wait_ms;
}

// QuorumMaj over the voters: more than half of them (SyncedLearnerTracker
// counts only voting members).
bool FastLeaderElection::has_quorum(const Table& table, const Ballot& target) const {
  std::size_t acks = 0;
  for (const auto& [id, ballot] : table)
    if (is_voter(id) && same_vote(ballot, target)) ++acks;
  return acks * 2 > voters_.size();
}

// checkLeader: following someone else needs that server's own word that it
// leads (else we might keep electing a crashed leader); leading ourselves
// needs the decision to be of our current round.
bool FastLeaderElection::leader_confirmed(const Table& table, PeerId leader, int64_t election_epoch) const {
  if (leader == config_.me) return logical_clock_ == election_epoch;
  const auto it = table.find(leader);
  return it != table.end() && it->second.state == proto::LEADING;
}

void FastLeaderElection::decide(const Vote& v, int64_t election_epoch, bool joined) {
  const proto::PeerState state = v.leader == config_.me ? proto::LEADING
                                 : i_vote()             ? proto::FOLLOWING
                                                        : proto::OBSERVING;
  phase_ = Phase::settled;
  settled_ = Ballot{v, election_epoch, state};
  decision_ = Decision{v, election_epoch, state, joined};
  round_.clear();
  out_of_election_.clear();
  finalize_at_ms_.reset();
}

// ---- messages -------------------------------------------------------------

proto::Notification FastLeaderElection::notification(const Vote& v, int64_t election_epoch,
                                                     proto::PeerState state) const {
  proto::Notification n;
  n.set_sender(config_.me);
  n.set_leader(v.leader);
  n.set_zxid(v.zxid);
  n.set_peer_epoch(v.peer_epoch);
  n.set_election_epoch(election_epoch);
  n.set_state(state);
  return n;
}

// While looking, our proposal in our round; an observer that has heard no
// voter yet proposes nobody (leader 0, unknown zxid and epoch), which voters
// never tally. Once settled, the settled vote and our role.
proto::Notification FastLeaderElection::current_vote_notification() const {
  if (phase_ == Phase::settled) return notification(settled_.vote, settled_.election_epoch, settled_.state);
  const Vote v = proposal_.value_or(Vote{0, kUnknownZxid, kUnknownZxid});
  return notification(v, logical_clock_, proto::LOOKING);
}

void FastLeaderElection::broadcast() { outbox_.push_back(Outgoing{std::nullopt, current_vote_notification()}); }

void FastLeaderElection::send(PeerId to, proto::Notification n) { outbox_.push_back(Outgoing{to, std::move(n)}); }

}  // namespace corral::ensemble::quorum
