// Peer messages into the pure quorum state machines: whatever another server
// (or something pretending to be one) sends on the election or quorum port,
// in whatever order, must not crash a server, throw, or trip a sanitizer.
//
// Input: a script of records [peer byte][op byte][len byte][len bytes]. The
// first byte picks the machine under test: a ZabLeader of voters {1,2,3}
// (we are 1), a ZabLearner following 2, or a FastLeaderElection of {1,2,3}.
// Ops: a message from `peer` (the bytes parsed as a LearnerMessage or a
// Notification; unparsable bytes are skipped, as the shell drops them),
// connect, disconnect, the clock moving by `len` * 7 ms, the log durable up
// to the last proposal, a snapshot sent, a proposal of a small txn.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "ensemble/core/quorum/fast_leader_election.h"
#include "ensemble/core/quorum/zab_leader.h"
#include "ensemble/core/quorum/zab_learner.h"
#include "quorum.pb.h"

using namespace corral::ensemble::quorum;

namespace {

struct Reader {
  const uint8_t* p;
  std::size_t n;
  bool take(std::size_t k, const uint8_t*& out) {
    if (n < k) return false;
    out = p;
    p += k;
    n -= k;
    return true;
  }
  std::optional<uint8_t> byte() {
    const uint8_t* b = nullptr;
    if (!take(1, b)) return std::nullopt;
    return *b;
  }
};

ZabTiming timing() {
  ZabTiming t;
  t.tick_ms = 100;
  t.init_limit = 10;
  t.sync_limit = 5;
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  Reader in{data, size};
  const auto which = in.byte();
  if (!which) return 0;
  int64_t now = 1'000'000;
  int64_t last_proposed = 0;

  std::optional<ZabLeader> leader;
  std::optional<ZabLearner> learner;
  std::optional<FastLeaderElection> election;
  switch (*which % 3) {
    case 0: {
      LeaderConfig c;
      c.me = 1;
      c.voters = {1, 2, 3};
      c.timing = timing();
      c.committed_window = 8;
      LeaderHistory h;
      h.accepted_epoch = 1;
      h.current_epoch = 1;
      leader.emplace(c, h, now);
      break;
    }
    case 1: {
      LearnerConfig c;
      c.me = 1;
      c.leader = 2;
      c.timing = timing();
      learner.emplace(c, LearnerHistory{1, 1, 0, 0}, now);
      break;
    }
    default: {
      ElectionConfig c;
      c.me = 1;
      c.voters = {1, 2, 3};
      election.emplace(c);
      election->start(now, 0, 0);
      break;
    }
  }

  for (;;) {
    const auto peer = in.byte();
    const auto op = in.byte();
    const auto len = in.byte();
    if (!peer || !op || !len) break;
    const uint8_t* bytes = nullptr;
    if (!in.take(*len, bytes)) break;
    const PeerId from = 1 + *peer % 4;  // 4 is no member: messages from strangers too
    switch (*op % 7) {
      case 0:
        if (election) {
          corral::proto::Notification n;
          if (n.ParseFromArray(bytes, *len)) election->on_notification(from, n, now);
        } else {
          corral::proto::LearnerMessage m;
          if (!m.ParseFromArray(bytes, *len)) break;
          if (leader) leader->on_message(from, m, now);
          if (learner) learner->on_message(m, now);
        }
        break;
      case 1:
        if (leader) leader->on_connected(from, now);
        if (learner) learner->on_connected(now);
        break;
      case 2:
        if (leader) leader->on_disconnected(from, now);
        if (learner) learner->on_disconnected();
        break;
      case 3:
        now += int64_t{*len} * 7;
        if (leader) leader->tick(now);
        if (learner) learner->tick(now);
        if (election) election->tick(now);
        break;
      case 4:
        if (leader) leader->on_synced(last_proposed, now);
        if (learner) learner->on_synced(last_proposed, now);
        break;
      case 5:
        if (leader) leader->on_snapshot_sent(from, leader->last_committed());
        break;
      default:
        if (leader && leader->established()) {
          corral::proto::Txn txn;
          txn.set_zxid(leader->next_zxid());
          txn.set_session_id(1);
          last_proposed = txn.zxid();
          leader->propose(std::move(txn));
        }
        break;
    }
    if (leader) (void)leader->take_effects();
    if (learner) (void)learner->take_effects();
    if (election) {
      (void)election->take_outbox();
      (void)election->take_decision();
    }
  }
  return 0;
}
