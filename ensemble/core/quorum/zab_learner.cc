#include "ensemble/core/quorum/zab_learner.h"

#include <algorithm>

namespace corral::ensemble::quorum {

ZabLearner::ZabLearner(LearnerConfig config, LearnerHistory history, int64_t now_ms)
    : config_(config),
      history_(history),
      last_heard_ms_(now_ms),
      connect_attempt_ms_(now_ms),
      last_logged_(history.last_logged_zxid),
      last_applied_(history.last_applied_zxid),
      last_synced_(history.last_logged_zxid) {
  effects_.push_back(effect::Connect{config_.leader});
}

std::vector<ZabEffect> ZabLearner::take_effects() { return std::exchange(effects_, {}); }

void ZabLearner::send(proto::LearnerMessage m) { effects_.push_back(effect::Send{config_.leader, std::move(m)}); }

void ZabLearner::fail(std::string reason) {
  if (stage_ == Stage::failed) return;
  stage_ = Stage::failed;
  effects_.push_back(effect::Note{"following " + std::to_string(config_.leader) + " ends: " + reason});
  effects_.push_back(effect::StepDown{std::move(reason)});
}

void ZabLearner::on_connected(int64_t) {
  // last_heard_ms_ stays: initLimit counts from the start of the role, however
  // often we had to connect again.
  proto::LearnerMessage m;
  auto* info = m.mutable_follower_info();
  info->set_server_id(config_.me);
  info->set_accepted_epoch(history_.accepted_epoch);
  info->set_last_zxid(last_logged_);
  info->set_observer(config_.observer);
  send(std::move(m));
  stage_ = Stage::waiting_epoch;
}

void ZabLearner::log(const proto::Txn& txn) {
  if (txn.zxid() <= last_logged_) return;  // already in our log (sent again in a DIFF)
  effects_.push_back(effect::Append{txn});
  last_logged_ = txn.zxid();
  uncommitted_.push_back(txn);
  if (!config_.observer) unacked_.push_back(txn.zxid());
}

void ZabLearner::apply_commit(int64_t zxid) {
  if (zxid <= last_applied_) return;
  while (!uncommitted_.empty() && uncommitted_.front().zxid() < zxid) {
    // Only possible if a proposal was skipped: the leader never does that.
    fail("commit " + std::to_string(zxid) + " skips proposal " + std::to_string(uncommitted_.front().zxid()));
    return;
  }
  if (uncommitted_.empty() || uncommitted_.front().zxid() != zxid) {
    fail("commit " + std::to_string(zxid) + " for a proposal we never got");
    return;
  }
  effects_.push_back(effect::Apply{std::move(uncommitted_.front())});
  uncommitted_.pop_front();
  last_applied_ = zxid;
}

void ZabLearner::send_acks() {
  while (!unacked_.empty() && unacked_.front() <= last_synced_) {
    proto::LearnerMessage m;
    m.mutable_ack()->set_zxid(unacked_.front());
    send(std::move(m));
    unacked_.pop_front();
  }
  if (new_leader_zxid_ >= 0 && last_logged_ <= last_synced_) {
    proto::LearnerMessage m;
    m.mutable_ack()->set_zxid(new_leader_zxid_);
    send(std::move(m));
    new_leader_zxid_ = -1;
  }
}

void ZabLearner::on_synced(int64_t zxid, int64_t) {
  if (zxid > last_synced_) last_synced_ = zxid;
  if (stage_ != Stage::failed) send_acks();
}

void ZabLearner::on_message(const proto::LearnerMessage& m, int64_t now_ms) {
  if (stage_ == Stage::failed) return;
  last_heard_ms_ = now_ms;
  switch (m.kind_case()) {
    case proto::LearnerMessage::kLeaderInfo: {
      const int64_t epoch = m.leader_info().new_epoch();
      if (epoch < history_.accepted_epoch) {
        fail("leader's epoch " + std::to_string(epoch) + " is older than our accepted epoch " +
             std::to_string(history_.accepted_epoch));
        return;
      }
      if (epoch > history_.accepted_epoch) {
        history_.accepted_epoch = epoch;
        effects_.push_back(effect::PersistAcceptedEpoch{epoch});
      }
      proto::LearnerMessage reply;
      reply.mutable_ack_epoch()->set_current_epoch(history_.current_epoch);
      reply.mutable_ack_epoch()->set_last_zxid(last_logged_);
      send(std::move(reply));
      stage_ = Stage::syncing;
      break;
    }
    case proto::LearnerMessage::kDiff: break;  // the missing txns follow as proposals and commits
    case proto::LearnerMessage::kTrunc: {
      const int64_t zxid = m.trunc().zxid();
      effects_.push_back(effect::TruncateAndReload{zxid});
      uncommitted_.clear();
      unacked_.clear();
      last_logged_ = last_applied_ = zxid;
      if (last_synced_ > zxid) last_synced_ = zxid;
      break;
    }
    case proto::LearnerMessage::kSnap: {
      const auto& chunk = m.snap();
      effects_.push_back(effect::SnapshotChunk{chunk.zxid(), chunk.data(), chunk.last()});
      if (chunk.last()) {
        uncommitted_.clear();
        unacked_.clear();
        last_logged_ = last_applied_ = last_synced_ = chunk.zxid();
      }
      break;
    }
    case proto::LearnerMessage::kProposal: log(m.proposal().txn()); break;
    case proto::LearnerMessage::kCommit: apply_commit(m.commit().zxid()); break;
    case proto::LearnerMessage::kInform: {
      const proto::Txn& txn = m.inform().txn();
      log(txn);
      apply_commit(txn.zxid());
      break;
    }
    case proto::LearnerMessage::kNewLeader: {
      const int64_t zxid = m.new_leader().zxid();
      history_.current_epoch = epoch_of(zxid);
      effects_.push_back(effect::PersistCurrentEpoch{history_.current_epoch});
      new_leader_zxid_ = zxid;
      stage_ = Stage::waiting_uptodate;
      send_acks();
      break;
    }
    case proto::LearnerMessage::kUpToDate:
      stage_ = Stage::active;
      effects_.push_back(effect::Note{"following " + std::to_string(config_.leader) + ", up to date at zxid " +
                                      std::to_string(last_applied_)});
      effects_.push_back(effect::Activate{});
      break;
    case proto::LearnerMessage::kPing: {
      proto::LearnerMessage reply;
      auto* ping = reply.mutable_ping();
      for (auto& t : touches_) *ping->add_touches() = std::move(t);
      touches_.clear();
      send(std::move(reply));
      break;
    }
    case proto::LearnerMessage::kRefusal: effects_.push_back(effect::Refused{m.refusal()}); break;
    case proto::LearnerMessage::kSyncDone: effects_.push_back(effect::SyncAnswered{m.sync_done()}); break;
    case proto::LearnerMessage::kRevalidateReply: effects_.push_back(effect::Revalidated{m.revalidate_reply()}); break;
    default: break;
  }
}

void ZabLearner::on_disconnected() {
  // Before the leader answered, it may not lead yet (it closes what reaches
  // it early): connect again at the next tick, within initLimit.
  if (stage_ == Stage::connecting || stage_ == Stage::waiting_epoch) {
    stage_ = Stage::connecting;
    return;
  }
  fail("lost the connection to the leader");
}

void ZabLearner::tick(int64_t now_ms) {
  if (stage_ == Stage::failed) return;
  // Until the leader answers (it may still be finishing its own election),
  // connect again, as ZooKeeper's Learner.connectToLeader retries: every
  // 100 ms at most, not every tick (a 2 s tickTime made failovers slow).
  if ((stage_ == Stage::connecting || stage_ == Stage::waiting_epoch) &&
      now_ms - connect_attempt_ms_ >= std::min<int64_t>(config_.timing.tick_ms, 100)) {
    connect_attempt_ms_ = now_ms;
    stage_ = Stage::connecting;
    effects_.push_back(effect::Connect{config_.leader});
  }
  const int64_t limit = (stage_ == Stage::active ? config_.timing.sync_limit : config_.timing.init_limit);
  if (now_ms - last_heard_ms_ > limit * int64_t{config_.timing.tick_ms}) fail("the leader is silent");
}

void ZabLearner::touch(int64_t session, int32_t timeout_ms) {
  proto::SessionTouch t;
  t.set_session_id(session);
  t.set_timeout_ms(timeout_ms);
  touches_.push_back(std::move(t));
}

void ZabLearner::forward(proto::ForwardedRequest request) {
  proto::LearnerMessage m;
  *m.mutable_request() = std::move(request);
  send(std::move(m));
}

void ZabLearner::sync(proto::SyncRequest request) {
  proto::LearnerMessage m;
  *m.mutable_sync() = std::move(request);
  send(std::move(m));
}

void ZabLearner::revalidate(proto::Revalidate request) {
  proto::LearnerMessage m;
  *m.mutable_revalidate() = std::move(request);
  send(std::move(m));
}

}  // namespace corral::ensemble::quorum
