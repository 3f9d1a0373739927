#include "ensemble/core/quorum/quorum_peer.h"

namespace corral::ensemble::quorum {

namespace {
ElectionConfig election_config(const PeerConfig& c) {
  ElectionConfig e;
  e.me = c.me;
  e.voters = c.voters;
  e.observers = c.observers;
  return e;
}
}  // namespace

QuorumPeer::QuorumPeer(PeerConfig config, ServerCore& core, int64_t accepted_epoch, int64_t current_epoch)
    : config_(std::move(config)),
      core_(core),
      accepted_epoch_(accepted_epoch),
      current_epoch_(current_epoch),
      election_(election_config(config_)) {}

std::vector<PeerEffect> QuorumPeer::take_effects() { return std::exchange(effects_, {}); }

std::string QuorumPeer::mode() const {
  switch (state_) {
    case proto::LEADING: return "leader";
    case proto::FOLLOWING: return "follower";
    case proto::OBSERVING: return "observer";
    default: return "looking";
  }
}

std::vector<PeerId> QuorumPeer::synced_followers() const {
  if (!leader_) return {};
  std::vector<PeerId> out;
  for (PeerId p : leader_->synced_voters()) {
    if (p != config_.me) out.push_back(p);
  }
  return out;
}

void QuorumPeer::remember(const proto::Txn& txn) {
  recent_.push_back(txn);
  while (recent_.size() > config_.committed_window) recent_.pop_front();
  if (txn.zxid() > last_logged_) last_logged_ = txn.zxid();
}

void QuorumPeer::start(int64_t now_ms) {
  last_logged_ = std::max(last_logged_, core_.last_zxid());
  look(now_ms);
}

void QuorumPeer::look(int64_t now_ms) {
  leader_.reset();
  learner_.reset();
  proposed_.clear();
  state_ = proto::LOOKING;
  leader_id_ = 0;
  core_.set_role(Role::inactive);
  effects_.push_back(peer_effect::RoleChanged{proto::LOOKING, 0});
  election_.start(now_ms, last_logged_, current_epoch_);
  pump(now_ms);
}

void QuorumPeer::on_decision(const Decision& d, int64_t now_ms) {
  state_ = d.state;
  leader_id_ = d.vote.leader;
  effects_.push_back(peer_effect::RoleChanged{d.state, d.vote.leader});
  election_.set_settled(d.state, d.vote.leader, d.vote.zxid, d.vote.peer_epoch, d.election_epoch);
  if (d.state == proto::LEADING) {
    LeaderConfig lc;
    lc.me = config_.me;
    lc.voters = config_.voters;
    lc.observers = config_.observers;
    lc.timing = config_.timing;
    lc.committed_window = config_.committed_window;
    LeaderHistory h;
    h.accepted_epoch = accepted_epoch_;
    h.current_epoch = current_epoch_;
    h.last_applied_zxid = core_.last_zxid();
    h.applied_tail.assign(recent_.begin(), recent_.end());
    leader_.emplace(lc, std::move(h), now_ms);
  } else {
    LearnerConfig lc;
    lc.me = config_.me;
    lc.leader = d.vote.leader;
    lc.observer = d.state == proto::OBSERVING;
    lc.timing = config_.timing;
    LearnerHistory h{accepted_epoch_, current_epoch_, last_logged_, core_.last_zxid()};
    learner_.emplace(lc, h, now_ms);
  }
}

void QuorumPeer::handle(ZabEffect e, int64_t now_ms) {
  if (auto* a = std::get_if<effect::Apply>(&e)) {
    remember(a->txn);
    core_.committed(a->txn, now_ms);
    return;
  }
  if (auto* c = std::get_if<effect::Committed>(&e)) {
    for (auto it = proposed_.begin(); it != proposed_.end() && it->first <= c->zxid;) {
      remember(it->second);
      it = proposed_.erase(it);
    }
    core_.synced(c->zxid, now_ms);
    return;
  }
  if (auto* ap = std::get_if<effect::Append>(&e)) {
    if (ap->txn.zxid() > last_logged_) last_logged_ = ap->txn.zxid();
  } else if (auto* pa = std::get_if<effect::PersistAcceptedEpoch>(&e)) {
    accepted_epoch_ = pa->epoch;
  } else if (auto* pc = std::get_if<effect::PersistCurrentEpoch>(&e)) {
    current_epoch_ = pc->epoch;
  } else if (auto* t = std::get_if<effect::TruncateAndReload>(&e)) {
    last_logged_ = t->zxid;
    recent_.clear();
  } else if (auto* sc = std::get_if<effect::SnapshotChunk>(&e)) {
    if (sc->last) {
      last_logged_ = sc->zxid;
      recent_.clear();
    }
  } else if (std::holds_alternative<effect::Activate>(e)) {
    if (leader_) {
      core_.set_role(Role::leader, leader_->next_zxid());
      core_.take_over_sessions(now_ms);
    } else {
      core_.set_role(Role::learner);
    }
  } else if (auto* sd = std::get_if<effect::StepDown>(&e)) {
    effects_.push_back(std::move(e));
    // The replica may hold fewer txns than the log (proposals never
    // committed here): reload before voting, so the vote tells the truth.
    leader_.reset();
    learner_.reset();
    core_.set_role(Role::inactive);
    state_ = proto::LOOKING;
    if (core_.last_zxid() != last_logged_) {
      reload_pending_ = true;
      effects_.push_back(peer_effect::NeedReload{});
    } else {
      look(now_ms);
    }
    (void)sd;
    return;
  } else if (auto* tch = std::get_if<effect::Touch>(&e)) {
    core_.touch(tch->session, tch->timeout_ms, now_ms);
    return;
  } else if (auto* f = std::get_if<effect::Forwarded>(&e)) {
    core_.remote_request(f->from, f->request, now_ms);
    return;
  } else if (auto* r = std::get_if<effect::Refused>(&e)) {
    core_.refused(r->refusal, now_ms);
    return;
  } else if (auto* sa = std::get_if<effect::SyncAnswered>(&e)) {
    core_.sync_done(sa->done, now_ms);
    return;
  } else if (std::holds_alternative<effect::SyncAsked>(e) || std::holds_alternative<effect::RevalidateAsked>(e) ||
             std::holds_alternative<effect::Revalidated>(e)) {
    return;  // not used: the leader answers syncs itself; sessions are validated from the replicated table
  }
  effects_.push_back(std::move(e));
}

// Moves effects between the parts until nothing is left: the core's requests
// go to Zab, Zab's applies and answers go to the core.
void QuorumPeer::pump(int64_t now_ms) {
  for (int rounds = 0; rounds < 1000; ++rounds) {
    bool moved = false;
    for (auto& o : election_.take_outbox()) {
      effects_.push_back(peer_effect::Elect{o.to, std::move(o.notification)});
      moved = true;
    }
    if (auto d = election_.take_decision()) {
      on_decision(*d, now_ms);
      moved = true;
    }
    Effects ce = core_.take_effects();
    if (!ce.empty()) moved = true;
    for (auto& txn : ce.log) {
      if (leader_ && leader_->established()) {
        proposed_.emplace(txn.zxid(), txn);
        leader_->propose(std::move(txn));
      }
    }
    for (auto& [peer, refusal] : ce.refusals) {
      if (leader_) leader_->refuse(peer, std::move(refusal));
    }
    for (auto& f : ce.forward) {
      if (learner_) learner_->forward(std::move(f));
    }
    for (auto& s : ce.forward_syncs) {
      if (learner_) learner_->sync(std::move(s));
    }
    for (auto& t : ce.touches) {
      if (learner_) learner_->touch(t.session_id(), t.timeout_ms());
    }
    if (!ce.io.empty() || !ce.log_lines.empty()) {
      Effects rest;
      rest.io = std::move(ce.io);
      rest.log_lines = std::move(ce.log_lines);
      effects_.push_back(peer_effect::ClientIo{std::move(rest)});
    }
    std::vector<ZabEffect> zab;
    if (leader_) zab = leader_->take_effects();
    if (learner_) zab = learner_->take_effects();
    if (!zab.empty()) moved = true;
    for (auto& e : zab) {
      handle(std::move(e), now_ms);
      if (state_ == proto::LOOKING && !leader_ && !learner_) break;  // stepped down: the rest is moot
    }
    if (!moved) return;
  }
}

void QuorumPeer::election_message(PeerId from, const proto::Notification& n, int64_t now_ms) {
  election_.on_notification(from, n, now_ms);
  pump(now_ms);
}

void QuorumPeer::quorum_connected(PeerId peer, int64_t now_ms) {
  if (leader_) leader_->on_connected(peer, now_ms);
  if (learner_ && peer == learner_->leader()) learner_->on_connected(now_ms);
  pump(now_ms);
}

void QuorumPeer::quorum_message(PeerId from, const proto::LearnerMessage& m, int64_t now_ms) {
  if (leader_) leader_->on_message(from, m, now_ms);
  if (learner_ && from == learner_->leader()) learner_->on_message(m, now_ms);
  pump(now_ms);
}

void QuorumPeer::quorum_disconnected(PeerId peer, int64_t now_ms) {
  if (leader_) leader_->on_disconnected(peer, now_ms);
  if (learner_ && peer == learner_->leader()) learner_->on_disconnected();
  pump(now_ms);
}

void QuorumPeer::synced(int64_t zxid, int64_t now_ms) {
  if (leader_) leader_->on_synced(zxid, now_ms);
  if (learner_) learner_->on_synced(zxid, now_ms);
  pump(now_ms);
}

void QuorumPeer::snapshot_sent(PeerId peer, int64_t zxid, int64_t now_ms) {
  if (leader_) leader_->on_snapshot_sent(peer, zxid);
  pump(now_ms);
}

void QuorumPeer::reloaded(int64_t now_ms) {
  last_logged_ = core_.last_zxid();
  if (reload_pending_) {
    reload_pending_ = false;
    look(now_ms);
    return;
  }
  pump(now_ms);
}

void QuorumPeer::tick(int64_t now_ms) {
  election_.tick(now_ms);
  if (leader_) leader_->tick(now_ms);
  if (learner_) learner_->tick(now_ms);
  core_.tick(now_ms);
  pump(now_ms);
}

void QuorumPeer::route_core(int64_t now_ms) { pump(now_ms); }

}  // namespace corral::ensemble::quorum
