// Whole ensembles in one process: QuorumPeer + ServerCore per server, with a
// simulated network (election and quorum channels), simulated logs that
// become durable when the simulation says so, simulated restarts, and raw
// clients talking ZooKeeper's protocol to any server. Time is simulated.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>

#include "corral/wire/records.h"
#include "ensemble/core/quorum/quorum_peer.h"

namespace corral::ensemble::quorum {
namespace {

namespace w = corral::wire;

struct Server {
  PeerId id = 0;
  bool alive = true;
  std::vector<proto::Txn> log;
  std::size_t durable = 0;
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  std::unique_ptr<ServerCore> core;
  std::unique_ptr<QuorumPeer> peer;
  bool active = false;
  bool paused = false;
  std::vector<std::string> lines;
};

class Ensemble {
 public:
  explicit Ensemble(int n, uint64_t seed = 1) : rng_(seed) {
    for (int i = 1; i <= n; ++i) voters_.push_back(static_cast<PeerId>(i));
    for (PeerId id : voters_) {
      servers_[id].id = id;
      boot(id);
    }
  }

  void boot(PeerId id) {
    Server& s = servers_[id];
    s.alive = true;
    s.paused = false;
    s.active = false;
    s.log.resize(s.durable);  // what was not fsynced is lost in a crash
    CoreConfig cc;
    cc.server_id = static_cast<int32_t>(id);
    cc.tick_ms = 100;
    cc.min_session_timeout_ms = 200;
    cc.max_session_timeout_ms = 60000;
    cc.random_seed = id;
    s.core = std::make_unique<ServerCore>(cc);
    for (const auto& t : s.log) s.core->replay(t);
    s.core->start(now_);
    PeerConfig pc;
    pc.me = id;
    pc.voters = voters_;
    pc.timing.tick_ms = 100;
    pc.timing.init_limit = 10;
    pc.timing.sync_limit = 5;
    s.peer = std::make_unique<QuorumPeer>(pc, *s.core, s.accepted_epoch, s.current_epoch);
    for (const auto& t : s.log) s.peer->recovered(t);
    s.peer->start(now_);
    drain(id);
  }

  // Alive but silent (SIGSTOP): no ticks, no fsyncs, messages to it wait.
  void pause(PeerId id) { servers_[id].paused = true; }
  int64_t now() const { return now_; }

  void crash(PeerId id) {
    Server& s = servers_[id];
    s.alive = false;
    s.peer.reset();
    s.core.reset();
    for (auto it = channels_.begin(); it != channels_.end();) {
      if (it->first == id || it->second == id) {
        const PeerId other = it->first == id ? it->second : it->first;
        it = channels_.erase(it);
        if (servers_[other].alive) {
          servers_[other].peer->quorum_disconnected(id, now_);
          drain(other);
        }
      } else {
        ++it;
      }
    }
    std::erase_if(inflight_, [&](const Msg& m) { return m.to == id || m.from == id; });
    for (auto& [conn, c] : clients_) {
      if (c.server == id) c.closed = true;
    }
  }

  // Runs the simulation for `ms` milliseconds of simulated time.
  void run(int64_t ms) {
    const int64_t end = now_ + ms;
    while (now_ < end) {
      now_ += 10;
      deliver();
      fsync_some();
      for (auto& [id, s] : servers_) {
        if (!s.alive || s.paused) continue;
        s.peer->tick(now_);
        drain(id);
      }
    }
  }

  // Runs until `pred` holds or `ms` pass; true if it held.
  template <class Pred>
  bool run_until(Pred pred, int64_t ms) {
    const int64_t end = now_ + ms;
    while (now_ < end) {
      if (pred()) return true;
      run(10);
    }
    return pred();
  }

  std::optional<PeerId> leader() {
    for (auto& [id, s] : servers_) {
      if (s.alive && s.peer->state() == proto::LEADING && s.active) return id;
    }
    return std::nullopt;
  }
  bool all_active() {
    for (auto& [id, s] : servers_) {
      if (s.alive && !s.active) return false;
    }
    return true;
  }
  Server& server(PeerId id) { return servers_[id]; }

  // What each server is doing, for a failed test.
  std::string dump() {
    std::string out;
    for (auto& [id, s] : servers_) {
      out += "server " + std::to_string(id) + (s.alive ? "" : " (dead)");
      if (s.alive)
        out += " mode=" + s.peer->mode() + " leader=" + std::to_string(s.peer->leader()) + (s.active ? " active" : "");
      out += " log=" + std::to_string(s.log.size()) + "\n";
      for (const auto& l : s.lines) out += "    " + l + "\n";
    }
    return out;
  }

  // ---- raw clients -----------------------------------------------------------
  ConnId connect(PeerId server_id) {
    return open(server_id, w::ConnectRequest{0, 0, 30000, 0, std::string(16, '\0'), false, true});
  }

  // A new connection to `server_id` that resumes the session of `old`.
  ConnId resume(ConnId old, PeerId server_id) {
    const Client& o = clients_[old];
    return open(server_id, w::ConnectRequest{0, 0, 30000, o.session, o.password, false, true}, o.session);
  }

  template <class Record>
  int32_t request(ConnId conn, w::OpCode op, const Record& rec) {
    Client& c = clients_[conn];
    const int32_t xid = ++c.xid;
    std::string f;
    w::JuteWriter wr(f);
    w::encode(wr, w::RequestHeader{xid, static_cast<int32_t>(op)});
    w::encode(wr, rec);
    Server& s = servers_[c.server];
    s.core->frame(conn, f, now_);
    s.peer->route_core(now_);
    drain(c.server);
    return xid;
  }

  // The reply to `xid`, once it came (its error code and body).
  std::optional<std::pair<Error, std::string>> reply(ConnId conn, int32_t xid) {
    auto& r = clients_[conn].replies;
    auto it = r.find(xid);
    if (it == r.end()) return std::nullopt;
    return it->second;
  }
  bool connected(ConnId conn) { return clients_[conn].handshaken && !clients_[conn].closed; }
  bool closed(ConnId conn) { return clients_[conn].closed; }
  int64_t session(ConnId conn) { return clients_[conn].session; }

 private:
  ConnId open(PeerId server_id, const w::ConnectRequest& request, int64_t session = 0) {
    const ConnId conn = next_conn_++;
    clients_[conn] = Client{server_id};
    clients_[conn].session = session;
    Server& s = servers_[server_id];
    s.core->connection_opened(conn, "10.0.0." + std::to_string(conn), now_);
    std::string f;
    w::JuteWriter wr(f);
    w::encode(wr, request);
    s.core->frame(conn, f, now_);
    s.peer->route_core(now_);
    drain(server_id);
    return conn;
  }

  struct Msg {
    PeerId from;
    PeerId to;
    bool election;
    proto::Notification vote;
    proto::LearnerMessage message;
  };
  struct Client {
    PeerId server = 0;
    int32_t xid = 0;
    int64_t session = 0;
    std::string password{};
    bool handshaken = false;
    bool closed = false;
    std::map<int32_t, std::pair<Error, std::string>> replies{};
  };

  void deliver() {
    std::vector<Msg> batch;
    batch.swap(inflight_);
    for (auto& m : batch) {
      Server& to = servers_[m.to];
      if (!to.alive) continue;
      if (to.paused) {
        inflight_.push_back(std::move(m));
        continue;
      }
      if (m.election) {
        to.peer->election_message(m.from, m.vote, now_);
      } else {
        if (!channels_.count({std::min(m.from, m.to), std::max(m.from, m.to)})) continue;
        to.peer->quorum_message(m.from, m.message, now_);
      }
      drain(m.to);
    }
  }

  void fsync_some() {
    for (auto& [id, s] : servers_) {
      if (!s.alive || s.paused || s.durable == s.log.size()) continue;
      s.durable = s.log.size();
      s.peer->synced(s.log.back().zxid(), now_);
      drain(id);
    }
  }

  void reload(Server& s) {
    s.core->discard_restored_state();
    for (const auto& t : s.log) s.core->replay(t);
  }

  void client_io(PeerId server_id, const Effects& e) {
    for (const auto& io : e.io) {
      auto it = clients_.find(io.conn);
      if (it == clients_.end()) continue;
      Client& c = it->second;
      if (io.kind == Effect::Kind::close) {
        c.closed = true;
        continue;
      }
      if (io.kind != Effect::Kind::send) continue;
      std::string_view frame(io.bytes);
      frame.remove_prefix(4);
      if (!c.handshaken) {
        w::ConnectResponse resp;
        if (w::decode_from(frame, resp) && resp.sessionId != 0) {
          c.session = resp.sessionId;
          c.password = resp.passwd;
          c.handshaken = true;
        }
        continue;
      }
      w::JuteReader r(frame);
      w::ReplyHeader h;
      w::decode(r, h);
      if (h.xid > 0) c.replies[h.xid] = {static_cast<Error>(h.err), std::string(frame.substr(r.position()))};
    }
    for (const auto& l : e.log_lines) servers_[server_id].lines.push_back(l);
  }

  void drain(PeerId id) {
    Server& s = servers_[id];
    if (!s.alive) return;
    for (auto effects = s.peer->take_effects(); !effects.empty();
         effects = s.alive ? s.peer->take_effects() : std::vector<PeerEffect>{}) {
      for (auto& pe : effects) {
        if (!s.alive) return;
        if (auto* el = std::get_if<peer_effect::Elect>(&pe)) {
          for (PeerId to : voters_) {
            if (to == id || (el->to && *el->to != to)) continue;
            inflight_.push_back(Msg{id, to, true, el->notification, {}});
          }
        } else if (std::holds_alternative<peer_effect::NeedReload>(pe)) {
          reload(s);
          s.peer->reloaded(now_);
        } else if (auto* rc = std::get_if<peer_effect::RoleChanged>(&pe)) {
          s.active = false;
          (void)rc;
        } else if (auto* ci = std::get_if<peer_effect::ClientIo>(&pe)) {
          client_io(id, ci->effects);
        } else if (auto* z = std::get_if<ZabEffect>(&pe)) {
          zab(id, s, std::move(*z));
        }
      }
    }
  }

  void zab(PeerId id, Server& s, ZabEffect e) {
    if (auto* send = std::get_if<effect::Send>(&e)) {
      inflight_.push_back(Msg{id, send->to, false, {}, std::move(send->message)});
    } else if (auto* a = std::get_if<effect::Append>(&e)) {
      s.log.push_back(std::move(a->txn));
    } else if (auto* pa = std::get_if<effect::PersistAcceptedEpoch>(&e)) {
      s.accepted_epoch = pa->epoch;
    } else if (auto* pc = std::get_if<effect::PersistCurrentEpoch>(&e)) {
      s.current_epoch = pc->epoch;
    } else if (auto* t = std::get_if<effect::TruncateAndReload>(&e)) {
      std::erase_if(s.log, [&](const proto::Txn& x) { return x.zxid() > t->zxid; });
      s.durable = std::min(s.durable, s.log.size());
      reload(s);
      s.peer->reloaded(now_);
    } else if (auto* ss = std::get_if<effect::StreamSnapshot>(&e)) {
      // The "snapshot": the leader's log up to the zxid.
      snapshots_[ss->peer].clear();
      for (const auto& logged : s.log) {
        if (logged.zxid() <= ss->zxid) snapshots_[ss->peer].push_back(logged);
      }
      proto::LearnerMessage m;
      m.mutable_snap()->set_zxid(ss->zxid);
      m.mutable_snap()->set_last(true);
      inflight_.push_back(Msg{id, ss->peer, false, {}, std::move(m)});
      s.peer->snapshot_sent(ss->peer, ss->zxid, now_);
    } else if (auto* sc = std::get_if<effect::SnapshotChunk>(&e)) {
      if (sc->last) {
        s.log = snapshots_[id];
        s.durable = s.log.size();
        reload(s);
        s.peer->reloaded(now_);
      }
    } else if (std::holds_alternative<effect::Activate>(e)) {
      s.active = true;
    } else if (auto* c = std::get_if<effect::Connect>(&e)) {
      if (channels_.erase({std::min(id, c->peer), std::max(id, c->peer)}) > 0 && servers_[c->peer].alive) {
        servers_[c->peer].peer->quorum_disconnected(id, now_);
        drain(c->peer);
      }
      if (servers_[c->peer].alive) {
        channels_.insert({std::min(id, c->peer), std::max(id, c->peer)});
        servers_[c->peer].peer->quorum_connected(id, now_);
        drain(c->peer);
        s.peer->quorum_connected(c->peer, now_);
      }
    } else if (auto* d = std::get_if<effect::Disconnect>(&e)) {
      channels_.erase({std::min(id, d->peer), std::max(id, d->peer)});
      if (servers_[d->peer].alive) {
        servers_[d->peer].peer->quorum_disconnected(id, now_);
        drain(d->peer);
      }
    } else if (auto* n = std::get_if<effect::Note>(&e)) {
      s.lines.push_back(n->line);
    } else if (auto* sd = std::get_if<effect::StepDown>(&e)) {
      s.lines.push_back("step down: " + sd->reason);
      // Its quorum channels go with the role.
      for (auto it = channels_.begin(); it != channels_.end();) {
        if (it->first == id || it->second == id) {
          const PeerId other = it->first == id ? it->second : it->first;
          it = channels_.erase(it);
          if (servers_[other].alive) {
            servers_[other].peer->quorum_disconnected(id, now_);
            drain(other);
          }
        } else {
          ++it;
        }
      }
    }
  }

  std::mt19937_64 rng_;
  std::vector<PeerId> voters_;
  std::map<PeerId, Server> servers_;
  std::vector<Msg> inflight_;
  std::set<std::pair<PeerId, PeerId>> channels_;
  std::map<PeerId, std::vector<proto::Txn>> snapshots_;
  std::map<ConnId, Client> clients_;
  ConnId next_conn_ = 1;
  int64_t now_ = 1'700'000'000'000;
};

w::CreateRequest create_req(std::string path, std::string data = {}) {
  return w::CreateRequest{std::move(path), std::move(data), {{w::perms::all, {"world", "anyone"}}}, 0};
}

TEST(EnsembleSim, ThreeServersElectAndServe) {
  Ensemble e(3);
  ASSERT_TRUE(e.run_until([&] { return e.leader() && e.all_active(); }, 10'000)) << e.dump();
  const PeerId leader = *e.leader();
  const PeerId follower = leader == 1 ? 2 : 1;
  const ConnId c = e.connect(follower);
  ASSERT_TRUE(e.run_until([&] { return e.connected(c); }, 2'000));
  const int32_t x = e.request(c, w::OpCode::create, create_req("/a", "hello"));
  ASSERT_TRUE(e.run_until([&] { return e.reply(c, x).has_value(); }, 2'000));
  EXPECT_EQ(e.reply(c, x)->first, Error::ok);
  ASSERT_TRUE(e.run_until(
      [&] {
        for (PeerId p : {1u, 2u, 3u}) {
          if (e.server(p).core->tree().lookup("/a") == no_node) return false;
        }
        return true;
      },
      2'000));
  // A refused write comes back as an error to the follower's client.
  const int32_t y = e.request(c, w::OpCode::create, create_req("/a"));
  ASSERT_TRUE(e.run_until([&] { return e.reply(c, y).has_value(); }, 2'000));
  EXPECT_EQ(e.reply(c, y)->first, Error::nodeExists);
}

TEST(EnsembleSim, LeaderCrashElectsANewLeaderThatKeepsEveryCommittedWrite) {
  Ensemble e(3);
  ASSERT_TRUE(e.run_until([&] { return e.leader() && e.all_active(); }, 10'000)) << e.dump();
  const PeerId old_leader = *e.leader();
  const PeerId f = old_leader == 1 ? 2 : 1;
  const ConnId c = e.connect(f);
  ASSERT_TRUE(e.run_until([&] { return e.connected(c); }, 2'000));
  std::vector<int32_t> xids;
  for (int i = 0; i < 20; ++i) xids.push_back(e.request(c, w::OpCode::create, create_req("/n" + std::to_string(i))));
  ASSERT_TRUE(e.run_until([&] { return e.reply(c, xids.back()).has_value(); }, 5'000));
  e.crash(old_leader);
  ASSERT_TRUE(e.run_until([&] { return e.leader().has_value() && *e.leader() != old_leader; }, 20'000));
  for (PeerId p : {1u, 2u, 3u}) {
    if (p == old_leader) continue;
    for (int i = 0; i < 20; ++i)
      EXPECT_NE(e.server(p).core->tree().lookup("/n" + std::to_string(i)), no_node) << p << " " << i;
  }
  // The old leader comes back and catches up as a follower.
  e.boot(old_leader);
  ASSERT_TRUE(e.run_until([&] { return e.all_active(); }, 20'000));
  const ConnId c2 = e.connect(*e.leader());
  ASSERT_TRUE(e.run_until([&] { return e.connected(c2); }, 2'000));
  const int32_t z = e.request(c2, w::OpCode::create, create_req("/after"));
  ASSERT_TRUE(e.run_until([&] { return e.reply(c2, z).has_value(); }, 5'000));
  ASSERT_TRUE(e.run_until([&] { return e.server(old_leader).core->tree().lookup("/after") != no_node; }, 5'000));
  for (int i = 0; i < 20; ++i) EXPECT_NE(e.server(old_leader).core->tree().lookup("/n" + std::to_string(i)), no_node);
}

TEST(EnsembleSim, FiveServersSurviveTwoCrashes) {
  Ensemble e(5);
  ASSERT_TRUE(e.run_until([&] { return e.leader() && e.all_active(); }, 10'000)) << e.dump();
  const PeerId l = *e.leader();
  e.crash(l);
  e.crash(l == 1 ? 2 : 1);
  ASSERT_TRUE(e.run_until([&] { return e.leader().has_value(); }, 30'000));
  const ConnId c = e.connect(*e.leader());
  ASSERT_TRUE(e.run_until([&] { return e.connected(c); }, 2'000));
  const int32_t x = e.request(c, w::OpCode::create, create_req("/x"));
  ASSERT_TRUE(e.run_until([&] { return e.reply(c, x).has_value(); }, 5'000));
  EXPECT_EQ(e.reply(c, x)->first, Error::ok);
}

// A request a follower forwarded is lost with the leader (kill -9 before it
// answered). The client reconnects its session to the same follower, which
// has meanwhile followed (or become) the new leader: it is served at once,
// its pings and requests no longer queued behind the lost one.
TEST(EnsembleSim, ASessionPinnedToAFollowerIsServedAfterTheLeaderDies) {
  for (const std::size_t pinned : {0u, 1u}) {  // one of the two followers leads next: each case is run
    Ensemble e(3);
    ASSERT_TRUE(e.run_until([&] { return e.leader() && e.all_active(); }, 10'000)) << e.dump();
    const PeerId old_leader = *e.leader();
    std::vector<PeerId> followers;
    for (PeerId p : {1u, 2u, 3u}) {
      if (p != old_leader) followers.push_back(p);
    }
    const PeerId f = followers[pinned];
    const ConnId c = e.connect(f);
    ASSERT_TRUE(e.run_until([&] { return e.connected(c); }, 2'000));
    const int32_t lost = e.request(c, w::OpCode::create, create_req("/lost?"));
    e.crash(old_leader);  // the forwarded create dies with it, unanswered
    EXPECT_FALSE(e.reply(c, lost).has_value());
    ASSERT_TRUE(e.run_until([&] { return e.leader().has_value() && e.all_active(); }, 20'000)) << e.dump();
    EXPECT_TRUE(e.closed(c)) << "the follower kept the connection across the change of leader";
    const ConnId again = e.resume(c, f);
    ASSERT_TRUE(e.run_until([&] { return e.connected(again); }, 2'000)) << e.dump();
    EXPECT_EQ(e.session(again), e.session(c));
    const int32_t x = e.request(again, w::OpCode::create, create_req("/after-failover"));
    ASSERT_TRUE(e.run_until([&] { return e.reply(again, x).has_value(); }, 5'000))
        << "the session's request was never answered\n"
        << e.dump();
    EXPECT_EQ(e.reply(again, x)->first, Error::ok);
  }
}

// A leader whose followers' connections close stops leading at once (it
// cannot commit anything); one whose followers go silent stops within
// syncLimit ticks. Either way its clients are let go to look elsewhere.
TEST(EnsembleSim, ALeaderThatLosesItsQuorumStepsDownPromptly) {
  Ensemble e(3);
  ASSERT_TRUE(e.run_until([&] { return e.leader() && e.all_active(); }, 10'000)) << e.dump();
  const PeerId l = *e.leader();
  const int64_t before = e.now();
  for (PeerId p : {1u, 2u, 3u}) {
    if (p != l) e.crash(p);
  }
  ASSERT_TRUE(e.run_until([&] { return e.server(l).peer->state() != proto::LEADING; }, 20'000)) << e.dump();
  EXPECT_LE(e.now() - before, 100) << "a leader with no follower connected kept leading\n" << e.dump();
}

TEST(EnsembleSim, ALeaderWhoseFollowersGoSilentStepsDownWithinSyncLimit) {
  Ensemble e(3);
  ASSERT_TRUE(e.run_until([&] { return e.leader() && e.all_active(); }, 10'000)) << e.dump();
  const PeerId l = *e.leader();
  const int64_t before = e.now();
  for (PeerId p : {1u, 2u, 3u}) {
    if (p != l) e.pause(p);
  }
  ASSERT_TRUE(e.run_until([&] { return e.server(l).peer->state() != proto::LEADING; }, 20'000)) << e.dump();
  // syncLimit = 5 ticks of 100 ms, plus the tick that notices.
  EXPECT_LE(e.now() - before, 5 * 100 + 100) << e.dump();
}

}  // namespace
}  // namespace corral::ensemble::quorum
