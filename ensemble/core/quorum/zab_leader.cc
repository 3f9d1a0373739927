#include "ensemble/core/quorum/zab_leader.h"

#include "ensemble/core/hex.h"

#include <algorithm>
#include <limits>

namespace corral::ensemble::quorum {

namespace {

proto::LearnerMessage proposal_message(const proto::Txn& txn) {
  proto::LearnerMessage m;
  *m.mutable_proposal()->mutable_txn() = txn;
  return m;
}

proto::LearnerMessage commit_message(int64_t zxid) {
  proto::LearnerMessage m;
  m.mutable_commit()->set_zxid(zxid);
  return m;
}

}  // namespace

ZabLeader::ZabLeader(LeaderConfig config, LeaderHistory history, int64_t now_ms)
    : config_(std::move(config)),
      voters_(config_.voters.begin(), config_.voters.end()),
      history_(std::move(history)),
      started_ms_(now_ms),
      last_committed_(history_.last_applied_zxid),
      last_synced_(history_.logged_unapplied.empty() ? history_.last_applied_zxid
                                                     : history_.logged_unapplied.back().zxid()),
      last_ping_ms_(now_ms) {
  const std::size_t skip = history_.applied_tail.size() > config_.committed_window
                               ? history_.applied_tail.size() - config_.committed_window
                               : 0;
  for (std::size_t i = skip; i < history_.applied_tail.size(); ++i)
    committed_.push_back(std::move(history_.applied_tail[i]));
  history_.applied_tail.clear();
  maybe_set_epoch();  // a one-voter ensemble needs nobody else
}

bool ZabLeader::is_voter(PeerId p) const { return voters_.count(p) > 0; }

void ZabLeader::send(PeerId to, proto::LearnerMessage m) { effects_.push_back(effect::Send{to, std::move(m)}); }

void ZabLeader::note(std::string line) { effects_.push_back(effect::Note{std::move(line)}); }

void ZabLeader::step_down(std::string reason) {
  if (stepped_down_) return;
  stepped_down_ = true;
  note("leader steps down: " + reason);
  effects_.push_back(effect::StepDown{std::move(reason)});
}

std::vector<ZabEffect> ZabLeader::take_effects() { return std::exchange(effects_, {}); }

// ---- discovery -------------------------------------------------------------------

void ZabLeader::maybe_set_epoch() {
  if (epoch_decided_) return;
  std::size_t reported = 1;  // the leader itself
  int64_t max_accepted = history_.accepted_epoch;
  for (const auto& [peer, l] : learners_) {
    if (!l.voter || l.accepted_epoch < 0) continue;
    ++reported;
    max_accepted = std::max(max_accepted, l.accepted_epoch);
  }
  if (!quorum(reported)) return;
  epoch_ = max_accepted + 1;
  epoch_decided_ = true;
  next_counter_ = 1;
  effects_.push_back(effect::PersistAcceptedEpoch{epoch_});
  note("new epoch " + std::to_string(epoch_));
  for (auto& [peer, l] : learners_) {
    if (l.accepted_epoch >= 0 && l.stage == Stage::connected) send_leader_info(peer);
  }
  maybe_start_sync();  // the leader's own epoch acknowledgement may be the last one needed
}

void ZabLeader::send_leader_info(PeerId peer) {
  proto::LearnerMessage m;
  m.mutable_leader_info()->set_new_epoch(epoch_);
  learners_[peer].stage = Stage::epoch_sent;
  send(peer, std::move(m));
}

void ZabLeader::maybe_start_sync() {
  if (!epoch_decided_ || syncing_started_) return;
  std::size_t acked = 1;  // the leader
  for (const auto& [peer, l] : learners_) {
    if (l.voter && l.stage == Stage::epoch_acked) ++acked;
  }
  if (!quorum(acked)) return;
  syncing_started_ = true;
  // The leader's whole logged history is now the committed history.
  for (auto& txn : history_.logged_unapplied) {
    last_committed_ = txn.zxid();
    effects_.push_back(effect::Apply{txn});
    remember_committed(txn);
  }
  history_.logged_unapplied.clear();
  effects_.push_back(effect::PersistCurrentEpoch{epoch_});
  own_new_leader_ack_ = true;
  for (auto& [peer, l] : learners_) {
    if (l.stage == Stage::epoch_acked) sync_learner(peer);
  }
  maybe_establish();
}

// ---- synchronization ---------------------------------------------------------------

void ZabLeader::remember_committed(const proto::Txn& txn) {
  committed_.push_back(txn);
  while (committed_.size() > config_.committed_window &&
         (pinned_from_ < 0 || committed_.front().zxid() <= pinned_from_)) {
    committed_.pop_front();
  }
}

void ZabLeader::queue_history_after(PeerId peer, int64_t from_zxid) {
  const bool observer = learners_[peer].observer;
  for (const auto& txn : committed_) {
    if (txn.zxid() <= from_zxid) continue;
    send(peer, proposal_message(txn));
    send(peer, commit_message(txn.zxid()));
  }
  // Proposals in flight: voters will ack them; observers get them as INFORM at commit.
  if (!observer) {
    for (const auto& [zxid, o] : outstanding_) {
      if (zxid > from_zxid) send(peer, proposal_message(o.txn));
    }
  }
}

void ZabLeader::finish_sync(PeerId peer) {
  proto::LearnerMessage m;
  m.mutable_new_leader()->set_zxid(make_zxid(epoch_, 0));
  send(peer, std::move(m));
  learners_[peer].stage = Stage::syncing;  // receives broadcasts from here on
}

void ZabLeader::sync_learner(PeerId peer) {
  Learner& l = learners_[peer];
  const int64_t peer_last = l.last_zxid;
  const int64_t leader_last = last_committed_;
  const bool new_epoch_marker = (peer_last & 0xffffffffLL) == 0;
  proto::LearnerMessage m;
  if (peer_last == leader_last) {
    note("learner " + std::to_string(peer) + " is up to date at " + hex(peer_last) + " (empty DIFF)");
    m.mutable_diff()->set_last_zxid(leader_last);
    send(peer, std::move(m));
    queue_history_after(peer, peer_last);
    finish_sync(peer);
    return;
  }
  if (peer_last > leader_last && !new_epoch_marker) {
    note("learner " + std::to_string(peer) + " at " + hex(peer_last) + " is truncated to " + hex(leader_last) +
         " (TRUNC)");
    m.mutable_trunc()->set_zxid(leader_last);
    send(peer, std::move(m));
    queue_history_after(peer, leader_last);
    finish_sync(peer);
    return;
  }
  const bool in_window = !committed_.empty() && committed_.front().zxid() <= peer_last && peer_last <= leader_last;
  if (in_window) {
    const auto exact =
        std::find_if(committed_.begin(), committed_.end(), [&](const proto::Txn& t) { return t.zxid() == peer_last; });
    if (exact != committed_.end()) {
      note("learner " + std::to_string(peer) + " at " + hex(peer_last) + " gets a DIFF to " + hex(leader_last));
      m.mutable_diff()->set_last_zxid(leader_last);
      send(peer, std::move(m));
      queue_history_after(peer, peer_last);
    } else {
      // The learner's last txn is not in our history: a branch of an old
      // epoch that never committed. Cut it back to the last txn we share.
      int64_t prev = committed_.front().zxid();
      for (const auto& t : committed_) {
        if (t.zxid() < peer_last) prev = t.zxid();
      }
      note("learner " + std::to_string(peer) + " at " + hex(peer_last) + " is truncated to " + hex(prev) + " (TRUNC)");
      m.mutable_trunc()->set_zxid(prev);
      send(peer, std::move(m));
      queue_history_after(peer, prev);
    }
    finish_sync(peer);
    return;
  }
  // Too far behind for the window: a snapshot, then what follows it.
  l.stage = Stage::snapshot;
  pinned_from_ = pinned_from_ < 0 ? last_committed_ : std::min(pinned_from_, last_committed_);
  note("learner " + std::to_string(peer) + " at " + hex(peer_last) + " gets a snapshot at " + hex(last_committed_) +
       " (SNAP)");
  effects_.push_back(effect::StreamSnapshot{peer, last_committed_});
}

void ZabLeader::on_snapshot_sent(PeerId peer, int64_t zxid) {
  auto it = learners_.find(peer);
  if (it == learners_.end() || it->second.stage != Stage::snapshot) return;
  queue_history_after(peer, zxid);
  finish_sync(peer);
  const bool other_transfers = std::any_of(learners_.begin(), learners_.end(),
                                           [](const auto& kv) { return kv.second.stage == Stage::snapshot; });
  if (!other_transfers) pinned_from_ = -1;
}

void ZabLeader::maybe_establish() {
  if (established_ || stepped_down_ || !syncing_started_ || !own_new_leader_ack_) return;
  std::size_t acked = 1;
  for (const auto& [peer, l] : learners_) {
    if (l.voter && l.acked_new_leader) ++acked;
  }
  if (!quorum(acked)) return;
  established_ = true;
  note("leading epoch " + std::to_string(epoch_) + " with " + std::to_string(acked) + " of " +
       std::to_string(voters_.size()) + " voters synced");
  for (auto& [peer, l] : learners_) {
    if (l.acked_new_leader && l.stage == Stage::syncing) {
      proto::LearnerMessage m;
      m.mutable_up_to_date();
      send(peer, std::move(m));
      l.stage = Stage::synced;
    }
  }
  effects_.push_back(effect::Activate{});
}

// ---- broadcast ---------------------------------------------------------------------

void ZabLeader::propose(proto::Txn txn) {
  if (stepped_down_) return;
  const int64_t zxid = txn.zxid();
  next_counter_ = (zxid & 0xffffffffLL) + 1;
  effects_.push_back(effect::Append{txn});
  for (const auto& [peer, l] : learners_) {
    if (!l.observer && (l.stage == Stage::syncing || l.stage == Stage::synced)) send(peer, proposal_message(txn));
  }
  outstanding_.emplace(zxid, Outstanding{std::move(txn), {}});
}

void ZabLeader::refuse(PeerId learner, proto::Refusal refusal) {
  proto::LearnerMessage m;
  *m.mutable_refusal() = std::move(refusal);
  send(learner, std::move(m));
}

void ZabLeader::on_synced(int64_t zxid, int64_t) {
  if (stepped_down_) return;
  last_synced_ = std::max(last_synced_, zxid);
  try_commit();
}

void ZabLeader::ack(PeerId from, int64_t zxid) {
  if (epoch_decided_ && zxid == make_zxid(epoch_, 0)) {  // NEWLEADER (observers too; only voters count)
    auto it = learners_.find(from);
    if (it == learners_.end()) return;
    it->second.acked_new_leader = true;
    if (established_ && it->second.stage == Stage::syncing) {
      proto::LearnerMessage m;
      m.mutable_up_to_date();
      send(from, std::move(m));
      it->second.stage = Stage::synced;
    }
    maybe_establish();
    return;
  }
  if (!is_voter(from)) return;
  auto it = outstanding_.find(zxid);
  if (it == outstanding_.end()) return;  // already committed: a late ack
  it->second.acks.insert(from);
  try_commit();
}

void ZabLeader::try_commit() {
  while (!outstanding_.empty()) {
    auto it = outstanding_.begin();
    const int64_t zxid = it->first;
    const std::size_t votes = it->second.acks.size() + (last_synced_ >= zxid ? 1 : 0);
    if (!quorum(votes)) break;
    for (const auto& [peer, l] : learners_) {
      if (l.stage != Stage::syncing && l.stage != Stage::synced) continue;
      if (l.observer) {
        proto::LearnerMessage m;
        *m.mutable_inform()->mutable_txn() = it->second.txn;
        send(peer, std::move(m));
      } else {
        send(peer, commit_message(zxid));
      }
    }
    last_committed_ = zxid;
    remember_committed(it->second.txn);
    outstanding_.erase(it);
    effects_.push_back(effect::Committed{zxid});
  }
  answer_syncs();
}

void ZabLeader::answer_syncs() {
  std::vector<PendingSync> waiting;
  for (auto& p : pending_syncs_) {
    if (p.target > last_committed_) {
      waiting.push_back(std::move(p));
      continue;
    }
    proto::LearnerMessage reply;
    auto* d = reply.mutable_sync_done();
    d->set_session_id(p.request.session_id());
    d->set_cxid(p.request.cxid());
    d->set_zxid(last_committed_);
    send(p.peer, std::move(reply));
  }
  pending_syncs_ = std::move(waiting);
}

// ---- messages and liveness -----------------------------------------------------------

void ZabLeader::on_connected(PeerId peer, int64_t now_ms) {
  Learner l;
  l.voter = is_voter(peer);
  l.accepted_epoch = -1;
  l.last_heard_ms = now_ms;
  learners_[peer] = l;
}

void ZabLeader::on_disconnected(PeerId peer, int64_t) {
  if (learners_.erase(peer) > 0) note("learner " + std::to_string(peer) + " disconnected");
  const bool other_transfers = std::any_of(learners_.begin(), learners_.end(),
                                           [](const auto& kv) { return kv.second.stage == Stage::snapshot; });
  if (!other_transfers) pinned_from_ = -1;
  // As ZooKeeper's leader, whose quorum check counts only live learners: with
  // too few voters connected nothing can commit, so stop leading now and let
  // the clients look elsewhere (a silent learner gets here once dropped).
  if (established_ && !stepped_down_) {
    const auto connected =
        std::count_if(learners_.begin(), learners_.end(), [](const auto& kv) { return kv.second.voter; });
    if (!quorum(1 + static_cast<std::size_t>(connected))) step_down("too few voters connected for a quorum");
  }
}

void ZabLeader::on_message(PeerId peer, const proto::LearnerMessage& m, int64_t now_ms) {
  if (stepped_down_) return;
  auto it = learners_.find(peer);
  if (it == learners_.end()) return;
  Learner& l = it->second;
  l.last_heard_ms = now_ms;
  switch (m.kind_case()) {
    case proto::LearnerMessage::kFollowerInfo: {
      const auto& info = m.follower_info();
      l.accepted_epoch = info.accepted_epoch();
      l.last_zxid = info.last_zxid();
      l.observer = info.observer();
      if (l.observer) l.voter = false;
      if (epoch_decided_) {
        send_leader_info(peer);
      } else {
        maybe_set_epoch();
      }
      break;
    }
    case proto::LearnerMessage::kAckEpoch: {
      const auto& a = m.ack_epoch();
      const int64_t my_last = last_synced_ > last_committed_ ? last_synced_ : last_committed_;
      // Only while establishing, as ZooKeeper's waitForEpochAck: once a
      // quorum follows, a learner that joins reports the epoch it learnt
      // from us (newer than the history we started from) and is synced.
      if (!established_ && (a.current_epoch() > history_.current_epoch ||
                            (a.current_epoch() == history_.current_epoch && a.last_zxid() > my_last))) {
        step_down("learner " + std::to_string(peer) + " has a newer history (epoch " +
                  std::to_string(a.current_epoch()) + ", zxid " + std::to_string(a.last_zxid()) + ")");
        return;
      }
      l.last_zxid = a.last_zxid();
      l.stage = Stage::epoch_acked;
      if (syncing_started_) {
        sync_learner(peer);
      } else {
        maybe_start_sync();
      }
      break;
    }
    case proto::LearnerMessage::kAck: ack(peer, m.ack().zxid()); break;
    case proto::LearnerMessage::kPing:
      for (const auto& t : m.ping().touches()) effects_.push_back(effect::Touch{t.session_id(), t.timeout_ms()});
      break;
    case proto::LearnerMessage::kRequest: effects_.push_back(effect::Forwarded{peer, m.request()}); break;
    case proto::LearnerMessage::kSync: {
      const int64_t target = outstanding_.empty() ? last_committed_ : outstanding_.rbegin()->first;
      pending_syncs_.push_back(PendingSync{peer, m.sync(), target});
      answer_syncs();
      break;
    }
    case proto::LearnerMessage::kRevalidate: effects_.push_back(effect::RevalidateAsked{peer, m.revalidate()}); break;
    default: break;
  }
}

std::vector<PeerId> ZabLeader::synced_voters() const {
  std::vector<PeerId> out{config_.me};
  for (const auto& [peer, l] : learners_) {
    if (l.voter && l.stage == Stage::synced) out.push_back(peer);
  }
  return out;
}

void ZabLeader::tick(int64_t now_ms) {
  if (stepped_down_) return;
  const int64_t tick = config_.timing.tick_ms;
  if (!established_ && now_ms - started_ms_ > int64_t{config_.timing.init_limit} * tick) {
    step_down("no quorum synced within initLimit");
    return;
  }
  if (now_ms - last_ping_ms_ >= tick / 2) {
    last_ping_ms_ = now_ms;
    for (const auto& [peer, l] : learners_) {
      proto::LearnerMessage m;
      m.mutable_ping();
      send(peer, std::move(m));
    }
  }
  std::vector<PeerId> silent;
  for (const auto& [peer, l] : learners_) {
    const int64_t limit = (l.stage == Stage::synced ? config_.timing.sync_limit : config_.timing.init_limit) * tick;
    if (now_ms - l.last_heard_ms > limit) silent.push_back(peer);
  }
  for (PeerId p : silent) {
    note("learner " + std::to_string(p) + " silent too long; dropping it");
    effects_.push_back(effect::Disconnect{p});
    on_disconnected(p, now_ms);
  }
  if (!established_) return;
  if (quorum(synced_voters().size())) {
    quorum_lost_since_ms_ = -1;
  } else if (quorum_lost_since_ms_ < 0) {
    quorum_lost_since_ms_ = now_ms;
  } else if (now_ms - quorum_lost_since_ms_ > int64_t{config_.timing.sync_limit} * tick) {
    step_down("lost the quorum of synced voters");
  }
}

}  // namespace corral::ensemble::quorum
