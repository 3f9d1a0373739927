#include "ensemble/core/server_core.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "corral/wire/frame.h"
#include "ensemble/core/hex.h"
#include "ensemble/core/reads.h"

namespace corral::ensemble {

namespace {

template <class T>
std::string framed(const T& rec) {
  std::string out(4, '\0');
  wire::JuteWriter w(out);
  wire::encode(w, rec);
  w.patch_i32(0, static_cast<int32_t>(out.size() - 4));
  return out;
}

// Rewrites the zxid of a framed reply ([length][xid][zxid][err]...).
void stamp_zxid(std::string& frame, int64_t zxid) {
  if (frame.size() < 16) return;
  for (std::size_t k = 0; k < 8; ++k) frame[8 + k] = static_cast<char>(static_cast<uint64_t>(zxid) >> (56 - 8 * k));
}

proto::SessionTouch touch_of(int64_t session, int32_t timeout_ms) {
  proto::SessionTouch t;
  t.set_session_id(session);
  t.set_timeout_ms(timeout_ms);
  return t;
}

void record_latency(int64_t& min, int64_t& max, int64_t& total, uint64_t& samples, int64_t latency) {
  if (samples == 0 || latency < min) min = latency;
  max = std::max(max, latency);
  total += latency;
  ++samples;
}

bool is_write_op(wire::OpCode op) {
  switch (op) {
    case wire::OpCode::create:
    case wire::OpCode::create2:
    case wire::OpCode::createContainer:
    case wire::OpCode::createTTL:
    case wire::OpCode::remove:
    case wire::OpCode::setData:
    case wire::OpCode::setACL:
    case wire::OpCode::check:
    case wire::OpCode::multi: return true;
    default: return false;
  }
}

// The name ZooKeeper's `cons` shows for an op.
const char* op_name(wire::OpCode op) {
  switch (op) {
    case wire::OpCode::create:
    case wire::OpCode::create2:
    case wire::OpCode::createContainer:
    case wire::OpCode::createTTL: return "CREA";
    case wire::OpCode::remove: return "DELE";
    case wire::OpCode::setData: return "SETD";
    case wire::OpCode::setACL: return "SETA";
    case wire::OpCode::check: return "CHEC";
    case wire::OpCode::multi: return "MULT";
    case wire::OpCode::multiRead: return "MLTR";
    case wire::OpCode::exists: return "EXIS";
    case wire::OpCode::getData: return "GETD";
    case wire::OpCode::getChildren:
    case wire::OpCode::getChildren2: return "GETC";
    case wire::OpCode::getACL: return "GETA";
    case wire::OpCode::getAllChildrenNumber: return "GETACN";
    case wire::OpCode::getEphemerals: return "GETE";
    case wire::OpCode::sync: return "SYNC";
    case wire::OpCode::ping: return "PING";
    case wire::OpCode::setWatches: return "SETW";
    case wire::OpCode::setWatches2: return "STW2";
    case wire::OpCode::checkWatches: return "CHKW";
    case wire::OpCode::removeWatches: return "REMW";
    case wire::OpCode::addWatch: return "ADDW";
    case wire::OpCode::whoAmI: return "HOMI";
    case wire::OpCode::closeSession: return "CLOS";
    default: return "NA";
  }
}

}  // namespace

ServerCore::ServerCore(CoreConfig config)
    : config_(std::move(config)), prep_(tree_), random_(config_.random_seed), server_ids_{{"super", ""}} {}

// ---- recovery ---------------------------------------------------------------

void ServerCore::restore_session(int64_t id, int32_t timeout_ms, const std::string& password) {
  sessions_[id] = Session{timeout_ms, password, 0, 0, false, {}};
}

void ServerCore::replay(const proto::Txn& txn) {
  std::vector<OpResult> results;
  std::vector<WatchTrigger> triggers;
  tree_.apply(txn, results, triggers);
  for (const auto& op : txn.ops()) {
    if (op.has_create_session()) {
      const auto& cs = op.create_session();
      restore_session(cs.session_id(), cs.timeout_ms(), cs.password());
    } else if (op.has_close_session()) {
      sessions_.erase(op.close_session().session_id());
    }
  }
}

void ServerCore::discard_restored_state() {
  tree_.reset();
  sessions_.clear();
}

void ServerCore::start(int64_t now_ms) {
  if (tree_.last_zxid() < 0 || tree_.last_zxid() == INT64_MAX) {
    throw std::runtime_error("recovered zxid " + std::to_string(tree_.last_zxid()) + " leaves no room for new txns");
  }
  next_zxid_ = tree_.last_zxid() + 1;
  // As ZooKeeper: the server id in the top byte, then the start time, so ids
  // stay unique across restarts; never below an id already handed out.
  const auto base = static_cast<int64_t>((static_cast<uint64_t>(now_ms) << 24) >> 8);
  next_session_ = (static_cast<int64_t>(config_.server_id) << 56) | base;
  for (auto& [id, s] : sessions_) {
    if ((id >> 56) == config_.server_id) next_session_ = std::max(next_session_, id + 1);
    s.deadline_ms = now_ms + s.timeout_ms;
  }
  next_container_check_ms_ = now_ms + config_.container_check_interval_ms;
}

// ---- helpers ------------------------------------------------------------------

int64_t ServerCore::new_session_id() { return next_session_++; }

std::string ServerCore::new_password() {
  std::string pw(16, '\0');
  for (std::size_t i = 0; i < pw.size(); i += 8) {
    const uint64_t r = random_();
    for (std::size_t k = 0; k < 8; ++k) pw[i + k] = static_cast<char>(r >> (8 * k));
  }
  return pw;
}

int32_t ServerCore::negotiate_timeout(int32_t requested) const {
  return std::clamp(requested, config_.min_session_timeout_ms, config_.max_session_timeout_ms);
}

PrepContext ServerCore::prep_context(int64_t session, int32_t cxid, int64_t now, const AuthIds* ids) {
  return PrepContext{session, cxid, next_zxid_, now, ids, config_.extended_types};
}

std::string ServerCore::reply_frame(int32_t xid, Error err, std::string_view body) const {
  std::string out(4, '\0');
  wire::JuteWriter w(out);
  wire::encode(w, wire::ReplyHeader{xid, tree_.last_zxid(), static_cast<int32_t>(err)});
  w.raw(body);
  w.patch_i32(0, static_cast<int32_t>(out.size() - 4));
  return out;
}

void ServerCore::send(ConnId conn, std::string bytes) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  ++it->second.stats.sent;
  ++stats_.packets_sent;
  effects_.io.push_back(Effect{Effect::Kind::send, conn, std::move(bytes)});
}

Effects ServerCore::take_effects() { return std::exchange(effects_, Effects{}); }

// ---- connections ----------------------------------------------------------------

void ServerCore::connection_opened(ConnId conn, std::string remote_ip, int64_t now_ms) {
  Connection c;
  c.remote_ip = remote_ip;
  c.ids.push_back(wire::Id{"ip", remote_ip});
  c.stats.id = conn;
  c.stats.remote = std::move(remote_ip);
  c.stats.established_ms = now_ms;
  connections_.emplace(conn, std::move(c));
}

void ServerCore::close_connection(ConnId conn) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  const int64_t session = it->second.session;
  if (auto s = sessions_.find(session); s != sessions_.end() && s->second.conn == conn) {
    s->second.conn = 0;
    watches_.remove_watcher(session);
  }
  connections_.erase(it);
  effects_.io.push_back(Effect{Effect::Kind::close, conn, {}});
}

void ServerCore::connection_closed(ConnId conn, int64_t) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  const int64_t session = it->second.session;
  if (auto s = sessions_.find(session); s != sessions_.end() && s->second.conn == conn) {
    s->second.conn = 0;
    watches_.remove_watcher(session);
  }
  connections_.erase(it);
}

void ServerCore::frame(ConnId conn, std::string_view frame, int64_t now_ms) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  ++c.stats.received;
  ++stats_.packets_received;
  if (!c.handshaken) {
    handshake(conn, c, frame, now_ms);
  } else {
    request(conn, c, frame, now_ms);
  }
}

void ServerCore::handshake(ConnId conn, Connection& c, std::string_view frame, int64_t now) {
  wire::ConnectRequest req;
  if (!wire::decode_from(frame, req)) {
    effects_.log_lines.push_back("closing connection from " + c.remote_ip + ": malformed connect request");
    close_connection(conn);
    return;
  }
  if (req.lastZxidSeen > tree_.last_zxid()) {
    effects_.log_lines.push_back("refusing session " + hex(req.sessionId) + " from " + c.remote_ip +
                                 ": client has seen zxid " + hex(req.lastZxidSeen) + ", our last zxid is " +
                                 hex(tree_.last_zxid()) + "; client must try another server");
    close_connection(conn);
    return;
  }
  if (role_ == Role::inactive) {
    effects_.log_lines.push_back("closing connection from " + c.remote_ip + ": this server is not serving (no quorum)");
    close_connection(conn);
    return;
  }
  const int32_t timeout = negotiate_timeout(req.timeOut);
  c.handshaken = true;  // further frames are requests; the shell holds them until resume_reading
  if (req.sessionId == 0) {
    const int64_t id = new_session_id();
    const std::string password = new_password();
    if (role_ == Role::learner) {
      // The leader logs the new session; we answer the client when it commits.
      proto::CreateSession cs;
      cs.set_session_id(id);
      cs.set_timeout_ms(timeout);
      cs.set_password(password);
      proto::ForwardedRequest f;
      f.set_session_id(id);
      f.set_type(static_cast<int32_t>(wire::OpCode::createSession));
      f.set_payload(cs.SerializeAsString());
      effects_.forward.push_back(std::move(f));
      pending_handshakes_[id] = conn;
      return;
    }
    submit(prep_.create_session(prep_context(0, 0, now, &c.ids), id, timeout, password), 0, conn, timeout);
    ++next_zxid_;
    return;
  }
  auto s = sessions_.find(req.sessionId);
  if (s == sessions_.end() || s->second.closing || s->second.password != req.passwd) {
    effects_.log_lines.push_back("invalid or expired session " + hex(req.sessionId) + " from " + c.remote_ip);
    send(conn, framed(wire::ConnectResponse{0, 0, 0, std::string(16, '\0'), false}));
    close_connection(conn);
    return;
  }
  Session& session = s->second;
  if (session.conn != 0 && session.conn != conn) close_connection(session.conn);
  session.conn = conn;
  // As ZooKeeperServer.processConnectRequest/reopenSession: the timeout is
  // negotiated again on every connect; the reply and later touches use it.
  session.timeout_ms = timeout;
  session.deadline_ms = now + session.timeout_ms;
  c.session = req.sessionId;
  c.stats.session = req.sessionId;
  c.stats.timeout_ms = session.timeout_ms;
  if (role_ == Role::learner) effects_.touches.push_back(touch_of(req.sessionId, session.timeout_ms));
  send(conn, framed(wire::ConnectResponse{0, session.timeout_ms, req.sessionId, session.password, false}));
  effects_.io.push_back(Effect{Effect::Kind::resume_reading, conn, {}});
}

void ServerCore::auth(ConnId conn, Connection& c, int32_t xid, std::string_view payload) {
  wire::AuthPacket packet;
  const bool ok = wire::decode_from(payload, packet) && (packet.scheme == "digest" || packet.scheme == "ip");
  if (!ok) {
    effects_.log_lines.push_back("authentication failed for " + c.remote_ip + " (scheme '" + packet.scheme + "')");
    send(conn, reply_frame(xid, Error::authFailed, {}));
    close_connection(conn);
    return;
  }
  if (packet.scheme == "digest") {
    const std::string digest = digest_of(packet.auth);
    // A connection's ids are a set upstream (ServerCnxn.authInfo): adding one twice changes nothing.
    const auto add = [&](wire::Id id) {
      if (std::find(c.ids.begin(), c.ids.end(), id) == c.ids.end()) c.ids.push_back(std::move(id));
    };
    if (!config_.super_digest.empty() && digest == config_.super_digest) add(wire::Id{"super", ""});
    add(wire::Id{"digest", digest});
  }
  send(conn, reply_frame(xid, Error::ok, {}));
}

void ServerCore::request(ConnId conn, Connection& c, std::string_view frame, int64_t now) {
  wire::JuteReader r(frame);
  wire::RequestHeader h;
  wire::decode(r, h);
  if (!r.ok()) {
    effects_.log_lines.push_back("closing connection from " + c.remote_ip + ": malformed request header");
    close_connection(conn);
    return;
  }
  const std::string_view payload = frame.substr(r.position());
  auto sit = sessions_.find(c.session);
  if (sit == sessions_.end()) {
    close_connection(conn);
    return;
  }
  Session& s = sit->second;
  s.deadline_ms = now + s.timeout_ms;
  if (role_ == Role::learner) effects_.touches.push_back(touch_of(c.session, s.timeout_ms));
  const auto op = static_cast<wire::OpCode>(h.type);
  c.stats.last_cxid = h.xid;
  c.stats.last_op = op_name(op);

  if (op == wire::OpCode::auth) {
    auth(conn, c, h.xid, payload);
    return;
  }
  Queued q{conn, h.xid, op, now};
  if (s.closing) {
    q.ready = true;
    q.reply = reply_frame(h.xid, Error::sessionExpired, {});
  } else if (op == wire::OpCode::closeSession) {
    s.closing = true;
    q.close_after = true;
    if (role_ == Role::learner) {
      q.remote = true;
      forward(c, h.xid, op, payload);
    } else {
      q.zxid = next_zxid_;
      submit(prep_.close_session(prep_context(c.session, h.xid, now, &c.ids), c.session), c.session);
      ++next_zxid_;
    }
  } else if (op == wire::OpCode::sync && role_ == Role::learner) {
    // Answered (as a read) once everything the leader committed before it is applied here.
    q.payload.assign(payload);
    q.remote = true;
    proto::SyncRequest sr;
    sr.set_session_id(c.session);
    sr.set_cxid(h.xid);
    effects_.forward_syncs.push_back(std::move(sr));
  } else if (is_write_op(op)) {
    write_request(conn, c, s, h, payload, now);
    return;
  } else if (is_read_op(op)) {
    q.payload.assign(payload);
  } else if (op == wire::OpCode::reconfig) {
    // A standalone server, like ZooKeeper without reconfigEnabled, refuses
    // reconfig and keeps the connection.
    q.ready = true;
    q.reply = reply_frame(h.xid, Error::reconfigDisabled, {});
  } else {
    effects_.log_lines.push_back("unknown opcode " + std::to_string(h.type) + " from " + c.remote_ip +
                                 "; closing the connection");
    q.ready = true;
    q.reply = reply_frame(h.xid, Error::unimplemented, {});
    q.close_after = true;
  }
  s.queue.push_back(std::move(q));
  drain(c.session, now);
}

PrepResult ServerCore::prep_write(wire::OpCode op, std::string_view payload, const PrepContext& ctx,
                                  std::vector<wire::OpCode>* multi_types) {
  PrepResult result = Error::marshallingError;
  switch (op) {
    case wire::OpCode::create:
    case wire::OpCode::create2:
    case wire::OpCode::createContainer: {
      wire::CreateRequest req;
      if (wire::decode_from(payload, req)) {
        result = prep_.create(ctx, op, wire::CreateTTLRequest{req.path, req.data, req.acl, req.flags, -1});
      }
      break;
    }
    case wire::OpCode::createTTL: {
      wire::CreateTTLRequest req;
      if (wire::decode_from(payload, req)) result = prep_.create(ctx, op, req);
      break;
    }
    case wire::OpCode::remove: {
      wire::DeleteRequest req;
      if (wire::decode_from(payload, req)) result = prep_.remove(ctx, req);
      break;
    }
    case wire::OpCode::setData: {
      wire::SetDataRequest req;
      if (wire::decode_from(payload, req)) result = prep_.set_data(ctx, req);
      break;
    }
    case wire::OpCode::setACL: {
      wire::SetACLRequest req;
      if (wire::decode_from(payload, req)) result = prep_.set_acl(ctx, req);
      break;
    }
    case wire::OpCode::check: {
      wire::CheckVersionRequest req;
      if (wire::decode_from(payload, req)) result = prep_.check(ctx, req);
      break;
    }
    case wire::OpCode::multi: {
      wire::MultiRequest req;
      // Like ZooKeeper's MultiOperationRecord, a multi holds only writes; a
      // read among them makes the whole request unreadable (MARSHALLINGERROR).
      const auto is_read = [](const wire::MultiOp& o) {
        return o.type == wire::OpCode::getData || o.type == wire::OpCode::getChildren;
      };
      if (wire::decode_from(payload, req) && std::none_of(req.ops.begin(), req.ops.end(), is_read)) {
        if (multi_types) {
          for (const auto& o : req.ops) multi_types->push_back(o.type);
        }
        result = prep_.multi(ctx, req);
      }
      break;
    }
    default: break;
  }
  return result;
}

std::string ServerCore::failure_reply(int32_t xid, const PrepResult& result) const {
  if (auto* failure = std::get_if<MultiFailure>(&result)) {
    wire::MultiResponse out;
    for (const Error e : failure->codes)
      out.results.push_back({wire::OpCode::error, static_cast<int32_t>(e), {}, {}, {}, {}});
    return reply_frame(xid, Error::ok, wire::encode_to_string(out));
  }
  return reply_frame(xid, std::get<Error>(result), {});
}

void ServerCore::forward(const Connection& c, int32_t xid, wire::OpCode op, std::string_view payload) {
  proto::ForwardedRequest f;
  f.set_session_id(c.session);
  f.set_cxid(xid);
  f.set_type(static_cast<int32_t>(op));
  f.set_payload(std::string(payload));
  for (const auto& id : c.ids) {
    auto* a = f.add_auth();
    a->set_scheme(id.scheme);
    a->set_id(id.id);
  }
  effects_.forward.push_back(std::move(f));
}

void ServerCore::write_request(ConnId conn, Connection& c, Session& s, const wire::RequestHeader& h,
                               std::string_view payload, int64_t now) {
  const auto op = static_cast<wire::OpCode>(h.type);
  Queued q{conn, h.xid, op, now};
  if (role_ == Role::learner) {
    if (op == wire::OpCode::multi) {
      wire::MultiRequest req;
      if (wire::decode_from(payload, req)) {
        for (const auto& o : req.ops) q.multi_types.push_back(o.type);
      }
    }
    q.remote = true;
    s.queue.push_back(std::move(q));
    forward(c, h.xid, op, payload);
    return;
  }
  PrepResult result = prep_write(op, payload, prep_context(c.session, h.xid, now, &c.ids), &q.multi_types);
  if (auto* txn = std::get_if<proto::Txn>(&result)) {
    q.zxid = next_zxid_++;
    s.queue.push_back(std::move(q));
    submit(std::move(*txn), c.session);
    return;
  }
  q.ready = true;
  q.reply = failure_reply(h.xid, result);
  s.queue.push_back(std::move(q));
  drain(c.session, now);
}

void ServerCore::submit(proto::Txn txn, int64_t session, ConnId handshake_conn, int32_t handshake_timeout) {
  effects_.log.push_back(txn);
  inflight_.push_back(InFlight{std::move(txn), session, handshake_conn, handshake_timeout});
}

// ---- commit path ------------------------------------------------------------------

void ServerCore::synced(int64_t zxid, int64_t now_ms) {
  while (!inflight_.empty() && inflight_.front().txn.zxid() <= zxid) {
    const InFlight f = std::move(inflight_.front());
    inflight_.pop_front();
    apply(f, now_ms);
  }
}

void ServerCore::apply(const InFlight& f, int64_t now) { apply_txn(f.txn, f.session, f.handshake_conn, now); }

void ServerCore::apply_txn(const proto::Txn& txn, int64_t session, ConnId handshake_conn, int64_t now) {
  std::vector<OpResult> results;
  std::vector<WatchTrigger> triggers;
  tree_.apply(txn, results, triggers);
  prep_.applied(txn.zxid());
  ++applied_count_;

  std::vector<Notification> notes;
  for (const auto& t : triggers) watches_.fire(t, notes);
  notify(notes);

  for (const auto& op : txn.ops()) {
    if (op.has_create_session()) {
      const auto& cs = op.create_session();
      Session s{cs.timeout_ms(), cs.password(), now + cs.timeout_ms(), 0, false, {}};
      if (auto pending = pending_handshakes_.find(cs.session_id()); pending != pending_handshakes_.end()) {
        handshake_conn = pending->second;
        pending_handshakes_.erase(pending);
      }
      auto c = connections_.find(handshake_conn);
      if (c != connections_.end()) {
        s.conn = handshake_conn;
        c->second.session = cs.session_id();
        c->second.stats.session = cs.session_id();
        c->second.stats.timeout_ms = cs.timeout_ms();
      }
      sessions_[cs.session_id()] = std::move(s);
      if (c != connections_.end()) {
        effects_.log_lines.push_back("established session " + hex(cs.session_id()) + " with negotiated timeout " +
                                     std::to_string(cs.timeout_ms()) + " ms");
        send(handshake_conn, framed(wire::ConnectResponse{0, cs.timeout_ms(), cs.session_id(), cs.password(), false}));
        effects_.io.push_back(Effect{Effect::Kind::resume_reading, handshake_conn, {}});
      }
    }
  }

  if (auto s = sessions_.find(session); s != sessions_.end()) {
    finish_write(s->second, txn, results);
    drain(session, now);
  }
  for (const auto& op : txn.ops()) {
    if (op.has_close_session()) forget_session(op.close_session().session_id());
  }
}

// ---- ensemble ------------------------------------------------------------------------

void ServerCore::set_role(Role role, int64_t next_zxid) {
  if (role != role_) {
    std::vector<ConnId> all;
    for (const auto& [id, c] : connections_) all.push_back(id);
    for (ConnId id : all) close_connection(id);
    // With the connections goes everything done for them in the old role,
    // as when a ZooKeeper server restarts on a change of state: requests
    // forwarded to a leader that may be gone (no answer would ever come, and
    // the session's FIFO would wait behind them for good, also after the
    // client reconnects), txns prepped but not committed (the new leader
    // decides them; replay applies what was logged) and the prep state built
    // on those. Their clients saw the connection drop: CONNECTIONLOSS, retry.
    pending_handshakes_.clear();
    inflight_.clear();
    prep_.reset();
    for (auto& [id, s] : sessions_) {
      s.queue.clear();
      s.closing = false;  // a close that commits ends the session; one that does not never happened
    }
  }
  role_ = role;
  if (role == Role::leader) next_zxid_ = next_zxid;
}

void ServerCore::take_over_sessions(int64_t now_ms) {
  for (auto& [id, s] : sessions_) {
    s.deadline_ms = now_ms + s.timeout_ms;
    if ((id >> 56) == config_.server_id) next_session_ = std::max(next_session_, id + 1);
  }
}

void ServerCore::committed(const proto::Txn& txn, int64_t now_ms) {
  // A learner's request completes by the commit of its txn: find it by cxid.
  if (auto s = sessions_.find(txn.session_id()); s != sessions_.end() && txn.session_id() != 0) {
    for (auto& q : s->second.queue) {
      if (q.remote && q.zxid == 0 && q.xid == txn.cxid() && q.op != wire::OpCode::sync) {
        q.zxid = txn.zxid();
        q.remote = false;
        break;
      }
    }
  }
  apply_txn(txn, txn.session_id(), 0, now_ms);
}

void ServerCore::refused(const proto::Refusal& refusal, int64_t now_ms) {
  auto s = sessions_.find(refusal.session_id());
  if (s == sessions_.end()) return;
  for (auto& q : s->second.queue) {
    if (!q.remote || q.xid != refusal.cxid()) continue;
    q.remote = false;
    q.ready = true;
    if (refusal.multi_codes_size() > 0) {
      MultiFailure failure;
      for (int32_t code : refusal.multi_codes()) failure.codes.push_back(static_cast<Error>(code));
      q.reply = failure_reply(q.xid, failure);
    } else {
      q.reply = failure_reply(q.xid, static_cast<Error>(refusal.err()));
    }
    break;
  }
  drain(refusal.session_id(), now_ms);
}

void ServerCore::sync_done(const proto::SyncDone& done, int64_t now_ms) {
  auto s = sessions_.find(done.session_id());
  if (s == sessions_.end()) return;
  for (auto& q : s->second.queue) {
    if (q.remote && q.op == wire::OpCode::sync && q.xid == done.cxid()) {
      q.remote = false;  // answered as a read when its turn comes
      break;
    }
  }
  drain(done.session_id(), now_ms);
}

void ServerCore::remote_request(uint32_t from, const proto::ForwardedRequest& request, int64_t now_ms) {
  const auto op = static_cast<wire::OpCode>(request.type());
  AuthIds ids;
  for (const auto& a : request.auth()) ids.push_back(wire::Id{a.scheme(), a.id()});
  const PrepContext ctx = prep_context(request.session_id(), request.cxid(), now_ms, &ids);
  PrepResult result = Error::marshallingError;
  if (op == wire::OpCode::createSession) {
    proto::CreateSession cs;
    if (cs.ParseFromString(request.payload())) {
      result = prep_.create_session(ctx, cs.session_id(), cs.timeout_ms(), cs.password());
    }
  } else if (op == wire::OpCode::closeSession) {
    auto s = sessions_.find(request.session_id());
    if (s == sessions_.end() || s->second.closing) {
      result = Error::sessionExpired;
    } else {
      s->second.closing = true;
      result = prep_.close_session(ctx, request.session_id());
    }
  } else if (!sessions_.count(request.session_id()) || sessions_.at(request.session_id()).closing) {
    result = Error::sessionExpired;
  } else {
    result = prep_write(op, request.payload(), ctx, nullptr);
  }
  if (auto* txn = std::get_if<proto::Txn>(&result)) {
    ++next_zxid_;
    submit(std::move(*txn), 0);  // the learner that holds the session answers at commit
    return;
  }
  proto::Refusal r;
  r.set_session_id(request.session_id());
  r.set_cxid(request.cxid());
  if (auto* failure = std::get_if<MultiFailure>(&result)) {
    r.set_err(0);
    for (const Error e : failure->codes) r.add_multi_codes(static_cast<int32_t>(e));
  } else {
    r.set_err(static_cast<int32_t>(std::get<Error>(result)));
  }
  effects_.refusals.emplace_back(from, std::move(r));
}

void ServerCore::touch(int64_t session, int32_t timeout_ms, int64_t now_ms) {
  if (auto s = sessions_.find(session); s != sessions_.end()) s->second.deadline_ms = now_ms + timeout_ms;
}

void ServerCore::finish_write(Session& s, const proto::Txn& txn, const std::vector<OpResult>& results) {
  auto q = std::find_if(s.queue.begin(), s.queue.end(), [&](const Queued& e) { return e.zxid == txn.zxid(); });
  if (q == s.queue.end()) return;
  std::string body;
  wire::JuteWriter w(body);
  const OpResult none;
  const OpResult& first = results.empty() ? none : results.front();
  Error err = first.err;
  switch (q->op) {
    case wire::OpCode::create: w.bytes(first.path); break;
    case wire::OpCode::create2:
    case wire::OpCode::createContainer:
    case wire::OpCode::createTTL:
      w.bytes(first.path);
      wire::encode(w, first.stat);
      break;
    case wire::OpCode::setData:
    case wire::OpCode::setACL: wire::encode(w, first.stat); break;
    case wire::OpCode::check: {
      const NodeId id = tree_.lookup(first.path);
      wire::encode(w, id == no_node ? wire::Stat{} : tree_.stat(id));
      break;
    }
    case wire::OpCode::multi: {
      wire::MultiResponse out;
      for (std::size_t i = 0; i < results.size() && i < q->multi_types.size(); ++i) {
        wire::MultiResult r;
        const wire::OpCode t = q->multi_types[i];
        if (results[i].err != Error::ok) {
          r.type = wire::OpCode::error;
          r.err = static_cast<int32_t>(results[i].err);
        } else if (t == wire::OpCode::create) {
          r.type = t;
          r.path = results[i].path;
        } else if (t == wire::OpCode::create2 || t == wire::OpCode::createTTL || t == wire::OpCode::createContainer) {
          r.type = wire::OpCode::create2;
          r.path = results[i].path;
          r.stat = results[i].stat;
        } else {
          r.type = t;
          r.stat = results[i].stat;
        }
        out.results.push_back(std::move(r));
      }
      wire::encode(w, out);
      err = Error::ok;
      break;
    }
    default:  // delete, closeSession: no body
      break;
  }
  if (err != Error::ok) body.clear();
  q->reply = reply_frame(q->xid, err, body);
  q->ready = true;
  if (auto c = connections_.find(q->conn); c != connections_.end()) c->second.stats.last_zxid = txn.zxid();
}

void ServerCore::drain(int64_t session, int64_t now) {
  auto sit = sessions_.find(session);
  if (sit == sessions_.end()) return;
  Session& s = sit->second;
  while (!s.queue.empty()) {
    Queued& q = s.queue.front();
    if (q.zxid != 0 && !q.ready) break;  // its txn is not durable yet
    if (q.remote) break;                 // the leader has not answered it yet
    if (!q.ready) {
      auto c = connections_.find(q.conn);
      if (c != connections_.end()) {
        ReadContext ctx{tree_, watches_, session, c->second.ids};
        ReadReply reply = answer_read(ctx, q.op, q.payload);
        notify(reply.notifications);
        // As ZooKeeper: a ping is answered with the ping xid, every other
        // request (SetWatches included) with its own. The Java client sends
        // SetWatches with an ordinary xid and drops a connection whose reply
        // carries another.
        const int32_t xid = q.op == wire::OpCode::ping ? wire::xid::ping : q.xid;
        q.reply = reply_frame(xid, reply.err, reply.body);
      }
    }
    auto c = connections_.find(q.conn);
    if (c != connections_.end()) {
      ConnectionStats& cs = c->second.stats;
      const int64_t latency = now - q.received_ms;
      record_latency(cs.min_latency_ms, cs.max_latency_ms, cs.total_latency_ms, cs.latency_samples, latency);
      record_latency(stats_.min_latency_ms, stats_.max_latency_ms, stats_.total_latency_ms, stats_.latency_samples,
                     latency);
      cs.last_response_ms = now;
      if (cs.last_zxid < tree_.last_zxid()) cs.last_zxid = tree_.last_zxid();
      // As FinalRequestProcessor: the header carries the tree's zxid when the
      // reply goes out. A reply made earlier (a refused write that waited
      // behind undurable ones) must not carry a zxid older than the replies
      // sent before it, or the client's lastZxid would go backwards.
      stamp_zxid(q.reply, tree_.last_zxid());
      send(q.conn, std::move(q.reply));
      if (q.close_after) close_connection(q.conn);
    }
    s.queue.pop_front();
  }
}

void ServerCore::notify(const std::vector<Notification>& notes) {
  for (const auto& n : notes) {
    auto s = sessions_.find(n.watcher);
    if (s == sessions_.end() || s->second.conn == 0) continue;
    std::string out(4, '\0');
    wire::JuteWriter w(out);
    wire::encode(w, wire::ReplyHeader{wire::xid::notification, -1, 0});
    wire::encode(w, wire::WatcherEvent{static_cast<int32_t>(n.type),
                                       static_cast<int32_t>(wire::KeeperState::syncConnected), n.path});
    w.patch_i32(0, static_cast<int32_t>(out.size() - 4));
    send(s->second.conn, std::move(out));
  }
}

void ServerCore::forget_session(int64_t id) {
  auto s = sessions_.find(id);
  if (s == sessions_.end()) return;
  if (s->second.conn != 0) close_connection(s->second.conn);
  watches_.remove_watcher(id);
  sessions_.erase(s);
}

// ---- time ---------------------------------------------------------------------------

void ServerCore::tick(int64_t now_ms) {
  // Only a standalone server or the leader decides that a session expired
  // or a container is empty; learners apply what the leader commits.
  if (role_ != Role::standalone && role_ != Role::leader) return;
  expire_sessions(now_ms);
  if (now_ms >= next_container_check_ms_) {
    clean_containers(now_ms);
    next_container_check_ms_ = now_ms + config_.container_check_interval_ms;
  }
}

void ServerCore::expire_sessions(int64_t now) {
  for (auto& [id, s] : sessions_) {
    if (s.closing || s.deadline_ms > now) continue;
    effects_.log_lines.push_back("expiring session " + hex(id) + ", timeout of " + std::to_string(s.timeout_ms) +
                                 " ms exceeded");
    s.closing = true;
    submit(prep_.close_session(prep_context(0, 0, now, &server_ids_), id), 0);
    ++next_zxid_;
  }
}

void ServerCore::clean_containers(int64_t now) {
  const auto budget = static_cast<std::size_t>(
      std::max<int64_t>(1, int64_t{config_.container_max_per_minute} * config_.container_check_interval_ms / 60000));
  std::vector<NodeId> candidates;
  for (NodeId id : tree_.containers()) {
    if (tree_.num_children(id) == 0 && tree_.cversion(id) > 0) candidates.push_back(id);
  }
  for (NodeId id : tree_.ttl_nodes()) {
    const int64_t ttl = wire::ttl_of_owner(tree_.ephemeral_owner(id));
    if (tree_.num_children(id) == 0 && ttl != 0 && now - tree_.stat(id).mtime > ttl) candidates.push_back(id);
  }
  std::size_t issued = 0;
  for (NodeId id : candidates) {
    if (issued >= budget) break;
    const std::string path = tree_.path_of(id);
    PrepResult r = prep_.remove_container(prep_context(0, 0, now, &server_ids_), path);
    if (auto* txn = std::get_if<proto::Txn>(&r)) {
      submit(std::move(*txn), 0);
      ++next_zxid_;
      ++issued;
    }
  }
}

// ---- observation ------------------------------------------------------------------------

std::vector<ConnectionStats> ServerCore::connection_stats() const {
  std::vector<ConnectionStats> out;
  for (const auto& [id, c] : connections_) {
    ConnectionStats s = c.stats;
    if (auto it = sessions_.find(c.session); it != sessions_.end()) s.queued = it->second.queue.size();
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

void ServerCore::reset_stats() {
  stats_ = ServerStats{};
  for (auto& [id, c] : connections_) {
    auto& s = c.stats;
    s.received = s.sent = 0;
    s.min_latency_ms = s.max_latency_ms = s.total_latency_ms = 0;
    s.latency_samples = 0;
  }
}

}  // namespace corral::ensemble
