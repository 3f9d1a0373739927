// Zab, ZooKeeper's atomic broadcast, as pure state machines: ZabLeader and
// ZabLearner (follower or observer). Messages, the time, and "the local log is
// durable up to zxid Z" go in; an ordered list of ZabEffect comes out.
//
// The order of effects is the contract with the shell: it carries them out one
// after the other, and the "persist" effects (epochs, truncation) complete
// before any later send. Appends go to the group-commit log and complete
// asynchronously: the shell reports them with on_synced(), and only then does
// a learner acknowledge (no ACK before fsync) or the leader count its own vote.
//
// zxid = epoch (high 32 bits) | counter (low 32 bits). A new leader's first
// txn is (epoch << 32) | 1; (epoch << 32) itself names NEWLEADER.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "quorum.pb.h"
#include "txn.pb.h"

namespace corral::ensemble::quorum {

using PeerId = uint32_t;

inline int64_t epoch_of(int64_t zxid) { return zxid >> 32; }
inline int64_t make_zxid(int64_t epoch, int64_t counter) { return (epoch << 32) | counter; }

namespace effect {
struct Send {
  PeerId to;
  proto::LearnerMessage message;
};
// Append to the local txn log (durable later: on_synced).
struct Append {
  proto::Txn txn;
};
// Apply a committed txn to the replica (tree, sessions, replies).
struct Apply {
  proto::Txn txn;
};
// Leader: every proposal up to `zxid` is committed (the replica applies what it proposed).
struct Committed {
  int64_t zxid;
};
struct PersistAcceptedEpoch {
  int64_t epoch;
};
struct PersistCurrentEpoch {
  int64_t epoch;
};
// Learner: drop every logged txn after `zxid`, delete newer snapshots, reload
// the replica from disk, then report on_reloaded().
struct TruncateAndReload {
  int64_t zxid;
};
// Learner: a chunk of the leader's snapshot; on the last one install it
// (replace log and replica), then report on_reloaded().
struct SnapshotChunk {
  int64_t zxid;
  std::string data;
  bool last;
};
// Leader: stream a snapshot of the replica (as it is now, at `zxid`, the last
// committed) to `peer` as SnapChunk messages, then report on_snapshot_sent().
struct StreamSnapshot {
  PeerId peer;
  int64_t zxid;
};
// Serving clients may start (leader established / learner up to date).
struct Activate {};
// Give up this role: back to leader election, with the reason for the log.
struct StepDown {
  std::string reason;
};
// Connect to / drop a peer's quorum channel. Connect replaces a channel that
// is already there (the learner tries again while the leader is not ready).
struct Connect {
  PeerId peer;
};
struct Disconnect {
  PeerId peer;
};
// Learner: a client session was used here (reported to the leader with pings);
// leader: a learner reported it.
struct Touch {
  int64_t session;
  int32_t timeout_ms;
};
// Leader: a learner forwarded a client request / asks to sync / revalidates.
struct Forwarded {
  PeerId from;
  proto::ForwardedRequest request;
};
struct SyncAsked {
  PeerId from;
  proto::SyncRequest request;
};
struct RevalidateAsked {
  PeerId from;
  proto::Revalidate request;
};
// Learner: the leader's answers to this learner's forwarded requests.
struct Refused {
  proto::Refusal refusal;
};
struct SyncAnswered {
  proto::SyncDone done;
};
struct Revalidated {
  proto::RevalidateReply reply;
};
// For the log.
struct Note {
  std::string line;
};
}  // namespace effect

using ZabEffect =
    std::variant<effect::Send, effect::Append, effect::Apply, effect::Committed, effect::PersistAcceptedEpoch,
                 effect::PersistCurrentEpoch, effect::TruncateAndReload, effect::SnapshotChunk, effect::StreamSnapshot,
                 effect::Activate, effect::StepDown, effect::Connect, effect::Disconnect, effect::Touch,
                 effect::Forwarded, effect::SyncAsked, effect::RevalidateAsked, effect::Refused, effect::SyncAnswered,
                 effect::Revalidated, effect::Note>;

struct ZabTiming {
  int32_t tick_ms = 2000;
  int32_t init_limit = 10;  // ticks to connect and sync
  int32_t sync_limit = 5;   // ticks a peer may stay silent
};

}  // namespace corral::ensemble::quorum
