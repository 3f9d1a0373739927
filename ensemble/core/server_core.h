// The standalone server as a pure state machine.
//
// Inputs: connection events and frames from the network shell, "the log is
// durable up to zxid Z" from the storage shell, and the time. Outputs: an
// ordered list of effects the shells carry out (append these txns to the log,
// send these bytes to that connection, close it). The core never touches a
// socket, a file, a thread or the clock, so the whole request path runs in
// unit tests with no I/O at all.
//
// Request flow (docs/ARCHITECTURE.md §4): a write is prepped into a txn (or refused)
// immediately, appended to the log, and applied to the tree only once the log
// says it is durable; its reply follows. A read is answered from the tree once
// every earlier request of its session has been answered, so each session sees
// its own writes in order (per-session FIFO). Watch events produced by an apply
// are emitted before any reply that reflects the change.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "corral/wire/protocol.h"
#include "corral/wire/records.h"
#include "ensemble/core/acl.h"
#include "ensemble/core/data_tree.h"
#include "ensemble/core/prep.h"
#include "ensemble/core/watch_registry.h"
#include "quorum.pb.h"
#include "txn.pb.h"

namespace corral::ensemble {

using ConnId = uint64_t;

struct CoreConfig {
  int32_t tick_ms = 3000;
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 60000;
  bool extended_types = true;
  int64_t container_check_interval_ms = 60000;
  int32_t container_max_per_minute = 10000;
  std::string super_digest;  // "super:<base64 sha1>", empty for none
  int32_t server_id = 0;     // the top byte of every session id this server makes
  uint64_t random_seed = 0;  // session passwords
};

// One thing for a shell to do. Effects on one connection keep their order.
struct Effect {
  enum class Kind {
    send,            // write `bytes` (already framed) to `conn`
    close,           // close `conn` once what was sent before is written
    resume_reading,  // `conn`'s handshake is done: hand it the frames it sent meanwhile
  };
  Kind kind;
  ConnId conn = 0;
  std::string bytes;
};

struct Effects {
  // Standalone: append in order, report durability with synced(). Leader:
  // propose in order; report commits with synced().
  std::vector<proto::Txn> log;
  std::vector<Effect> io;
  std::vector<std::string> log_lines;  // one line each, for the server log
  // Learner: requests for the leader, and the sessions used here (for pings).
  std::vector<proto::ForwardedRequest> forward;
  std::vector<proto::SyncRequest> forward_syncs;
  std::vector<proto::SessionTouch> touches;
  // Leader: a learner's forwarded request was refused at prep.
  std::vector<std::pair<uint32_t, proto::Refusal>> refusals;
  bool empty() const {
    return log.empty() && io.empty() && log_lines.empty() && forward.empty() && forward_syncs.empty() &&
           touches.empty() && refusals.empty();
  }
};

// What this server does in its ensemble. A standalone server and a leader
// prep writes themselves; a learner forwards them to the leader and applies
// what the leader commits; an inactive server (looking for a leader) serves
// no clients.
enum class Role { standalone, leader, learner, inactive };

// Counters for the four-letter words, kept by the core.
struct ConnectionStats {
  ConnId id = 0;
  std::string remote;
  int64_t session = 0;
  int32_t timeout_ms = 0;
  uint64_t received = 0;
  uint64_t sent = 0;
  uint64_t queued = 0;  // requests not yet answered
  int64_t last_zxid = 0;
  int64_t last_cxid = 0;
  std::string last_op = "NA";
  int64_t established_ms = 0;
  int64_t last_response_ms = 0;
  int64_t min_latency_ms = 0;
  int64_t max_latency_ms = 0;
  int64_t total_latency_ms = 0;
  uint64_t latency_samples = 0;
};

struct ServerStats {
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  int64_t min_latency_ms = 0;
  int64_t max_latency_ms = 0;
  int64_t total_latency_ms = 0;
  uint64_t latency_samples = 0;
  uint64_t outstanding = 0;
};

class ServerCore {
 public:
  explicit ServerCore(CoreConfig config);

  // ---- recovery (before serving) -------------------------------------
  DataTree& tree() { return tree_; }
  void restore_session(int64_t id, int32_t timeout_ms, const std::string& password);
  // Drops everything restored so far (a snapshot that failed half-way).
  void discard_restored_state();
  // Re-applies a logged txn (after a snapshot); produces no effects.
  void replay(const proto::Txn& txn);
  // Recovery is over: sessions restart their timeout from `now`. Throws
  // std::runtime_error when the recovered zxid leaves no room for another txn.
  void start(int64_t now_ms);

  // ---- inputs ----------------------------------------------------------
  void connection_opened(ConnId conn, std::string remote_ip, int64_t now_ms);
  void frame(ConnId conn, std::string_view frame, int64_t now_ms);
  void connection_closed(ConnId conn, int64_t now_ms);
  // Every txn with zxid <= `zxid` is durable in the log.
  void synced(int64_t zxid, int64_t now_ms);
  void tick(int64_t now_ms);

  // ---- ensemble inputs -------------------------------------------------------
  // Changes role; every client connection is closed (clients reconnect, as
  // with ZooKeeper when a server changes state) and every request not yet
  // answered is dropped with it (forwarded, prepped or queued), so a session
  // that reconnects is served at once. A leader numbers its txns from
  // `next_zxid` on.
  void set_role(Role role, int64_t next_zxid = 0);
  // A new leader gives every session a whole timeout from now: it cannot know
  // when the previous leader last heard from each (ZooKeeper's leader does
  // the same when it takes over the session tracker).
  void take_over_sessions(int64_t now_ms);
  Role role() const { return role_; }
  // Learner: the leader committed `txn`.
  void committed(const proto::Txn& txn, int64_t now_ms);
  // Learner: the leader refused a request this server forwarded.
  void refused(const proto::Refusal& refusal, int64_t now_ms);
  // Learner: everything committed before a forwarded sync is applied here.
  void sync_done(const proto::SyncDone& done, int64_t now_ms);
  // Leader: a learner forwarded a client's request.
  void remote_request(uint32_t from, const proto::ForwardedRequest& request, int64_t now_ms);
  // Leader: a learner saw the session alive.
  void touch(int64_t session, int32_t timeout_ms, int64_t now_ms);

  Effects take_effects();

  // ---- observation -------------------------------------------------------
  const DataTree& tree() const { return tree_; }
  const WatchRegistry& watches() const { return watches_; }
  int64_t last_zxid() const { return tree_.last_zxid(); }
  std::size_t session_count() const { return sessions_.size(); }
  std::size_t outstanding_txns() const { return inflight_.size(); }
  std::vector<ConnectionStats> connection_stats() const;
  const ServerStats& stats() const { return stats_; }
  void reset_stats();
  // Sessions for a snapshot: (id, timeout, password).
  template <class F>
  void for_each_session(F&& f) const {
    for (const auto& [id, s] : sessions_) f(id, s.timeout_ms, s.password);
  }
  // txns applied since start, for the snapCount policy of the shell.
  uint64_t applied_count() const { return applied_count_; }

 private:
  // A request waiting for its turn in its session's FIFO.
  struct Queued {
    ConnId conn;
    int32_t xid;
    wire::OpCode op;
    int64_t received_ms;
    int64_t zxid = 0;                         // the txn it waits for (writes); 0 otherwise
    bool ready = false;                       // reply below is final
    std::string reply{};                      // framed reply, when ready
    std::string payload{};                    // request record, for reads answered at their turn
    std::vector<wire::OpCode> multi_types{};  // a multi's op types shape its reply
    bool close_after = false;
    bool remote = false;  // forwarded to the leader; its commit or refusal completes it
  };
  struct Session {
    int32_t timeout_ms = 0;
    std::string password;
    int64_t deadline_ms = 0;
    ConnId conn = 0;
    bool closing = false;
    std::deque<Queued> queue;
  };
  struct Connection {
    std::string remote_ip;
    int64_t session = 0;
    bool handshaken = false;
    bool closed = false;
    AuthIds ids;
    ConnectionStats stats;
  };
  // A txn submitted to the log, waiting to be durable.
  struct InFlight {
    proto::Txn txn;
    int64_t session;            // whose queue holds the reply (0: none)
    ConnId handshake_conn = 0;  // a createSession's connection
    int32_t handshake_timeout = 0;
  };

  void handshake(ConnId conn, Connection& c, std::string_view frame, int64_t now);
  PrepResult prep_write(wire::OpCode op, std::string_view payload, const PrepContext& ctx,
                        std::vector<wire::OpCode>* multi_types);
  std::string failure_reply(int32_t xid, const PrepResult& result) const;
  void forward(const Connection& c, int32_t xid, wire::OpCode op, std::string_view payload);
  void apply_txn(const proto::Txn& txn, int64_t session, ConnId handshake_conn, int64_t now);
  void request(ConnId conn, Connection& c, std::string_view frame, int64_t now);
  void auth(ConnId conn, Connection& c, int32_t xid, std::string_view payload);
  void write_request(ConnId conn, Connection& c, Session& s, const wire::RequestHeader& h, std::string_view payload,
                     int64_t now);
  void submit(proto::Txn txn, int64_t session, ConnId handshake_conn = 0, int32_t handshake_timeout = 0);
  void apply(const InFlight& f, int64_t now);
  void finish_write(Session& s, const proto::Txn& txn, const std::vector<OpResult>& results);
  void drain(int64_t session, int64_t now);
  void notify(const std::vector<Notification>& notes);
  void expire_sessions(int64_t now);
  void clean_containers(int64_t now);
  void close_connection(ConnId conn);
  void forget_session(int64_t id);

  std::string reply_frame(int32_t xid, Error err, std::string_view body) const;
  void send(ConnId conn, std::string bytes);
  PrepContext prep_context(int64_t session, int32_t cxid, int64_t now, const AuthIds* ids);
  int64_t new_session_id();
  std::string new_password();
  int32_t negotiate_timeout(int32_t requested) const;

  CoreConfig config_;
  Role role_ = Role::standalone;
  // Learner: new sessions whose createSession went to the leader.
  std::map<int64_t, ConnId> pending_handshakes_;
  DataTree tree_;
  WatchRegistry watches_;
  Preparer prep_;
  std::map<int64_t, Session> sessions_;
  std::unordered_map<ConnId, Connection> connections_;
  std::deque<InFlight> inflight_;
  int64_t next_zxid_ = 1;
  int64_t next_session_ = 0;
  int64_t next_container_check_ms_ = 0;
  uint64_t applied_count_ = 0;
  std::mt19937_64 random_;
  AuthIds server_ids_;  // the server's own requests (container cleanup) pass every ACL
  ServerStats stats_;
  Effects effects_;
};

}  // namespace corral::ensemble
