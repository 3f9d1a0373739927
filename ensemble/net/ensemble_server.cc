#include "ensemble/net/ensemble_server.h"

#include <signal.h>

#include <algorithm>
#include <chrono>

#include "ensemble/net/core_config.h"
#include "ensemble/net/process_view.h"
#include "ensemble/net/server_log.h"
#include "ensemble/net/shutdown_signal.h"
#include "ensemble/net/wall_clock.h"

namespace corral::ensemble {

namespace {

constexpr std::size_t snapshot_chunk_bytes = 1u << 20;

asio::ip::tcp::endpoint resolve(asio::io_context& io, const Endpoint& e) {
  asio::ip::tcp::resolver resolver(io);
  const auto results = resolver.resolve(e.host, std::to_string(e.port));
  if (results.empty()) throw std::runtime_error("cannot resolve " + e.to_string());
  return results.begin()->endpoint();
}

void bind(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& at) {
  acceptor.open(at.protocol());
  acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor.bind(at);
  acceptor.listen(asio::socket_base::max_listen_connections);
}

std::string state_name(proto::PeerState s) {
  switch (s) {
    case proto::LEADING: return "LEADING";
    case proto::FOLLOWING: return "FOLLOWING";
    case proto::OBSERVING: return "OBSERVING";
    default: return "LOOKING";
  }
}

quorum::PeerConfig peer_config(const ServerConfig& c) {
  quorum::PeerConfig p;
  p.me = c.my_id;
  p.voters = c.voting_members();
  p.observers = c.observers();
  p.timing.tick_ms = c.tick_time_ms;
  p.timing.init_limit = c.init_limit;
  p.timing.sync_limit = c.sync_limit;
  return p;
}

}  // namespace

EnsembleServer::EnsembleServer(ServerConfig config)
    : config_(std::move(config)),
      core_(core_config_of(config_)),
      store_(
          io_, config_,
          DataStore::Hooks{[this](int64_t zxid) { on_synced(zxid); }, {}, [](const std::string& l) { log_line(l); }}),
      front_(io_, config_, core_,
             ClientFrontEnd::Hooks{[this] { after_input(); },
                                   [this](std::string_view word) { return on_four_letter_word(word); }}),
      election_acceptor_(io_),
      quorum_acceptor_(io_),
      signals_(io_, SIGINT, SIGTERM),
      tick_timer_(io_) {
  for (const Peer& p : config_.peers) {
    election_endpoints_[p.id] = resolve(io_, p.election);
    quorum_endpoints_[p.id] = resolve(io_, p.quorum);
  }
}

void EnsembleServer::recover() {
  core_.set_role(Role::inactive);
  peer_.emplace(peer_config(config_), core_, store_.read_epoch("acceptedEpoch"), store_.read_epoch("currentEpoch"));
  store_.load(core_, [this](const proto::Txn& txn) { peer_->recovered(txn); });
  core_.start(wall_ms());
  const int64_t current = peer_->current_epoch();
  if (quorum::epoch_of(core_.last_zxid()) > current) {
    // A log from an epoch we never recorded as current: ZooKeeper refuses to
    // start; we do too, since voting with it could lose committed txns.
    throw std::runtime_error("the log reaches epoch " + std::to_string(quorum::epoch_of(core_.last_zxid())) +
                             " but currentEpoch is " + std::to_string(current));
  }
}

void EnsembleServer::listen() {
  front_.listen("ensemble server " + std::to_string(config_.my_id));
  bind(election_acceptor_, election_endpoints_.at(config_.my_id));
  bind(quorum_acceptor_, quorum_endpoints_.at(config_.my_id));
}

// ---- driving the peer ----------------------------------------------------------------

void EnsembleServer::drive() {
  if (driving_) return;  // the outer loop picks up what this call would have done
  driving_ = true;
  for (auto effects = peer_->take_effects(); !effects.empty(); effects = peer_->take_effects()) {
    for (auto& pe : effects) {
      if (auto* z = std::get_if<quorum::ZabEffect>(&pe)) {
        carry_out(*z);
      } else if (auto* vote = std::get_if<quorum::peer_effect::Elect>(&pe)) {
        send_vote(vote->to, vote->notification);
      } else if (std::holds_alternative<quorum::peer_effect::NeedReload>(pe)) {
        reload();
        peer_->reloaded(wall_ms());
      } else if (auto* rc = std::get_if<quorum::peer_effect::RoleChanged>(&pe)) {
        serving_ = false;
        log_line(state_name(rc->state) +
                 (rc->state == proto::LOOKING ? std::string() : " (leader " + std::to_string(rc->leader) + ")"));
        if (rc->state == proto::LOOKING) drop_all_quorum();
      } else if (auto* io = std::get_if<quorum::peer_effect::ClientIo>(&pe)) {
        front_.apply(io->effects);
      }
    }
  }
  driving_ = false;
  // In an ensemble txns complete on commit (a quorum's acks), not on our own
  // fsync: clients stopped by globalOutstandingLimit resume here.
  front_.resume_throttled();
}

void EnsembleServer::carry_out(quorum::ZabEffect& e) {
  namespace fx = quorum::effect;
  const int64_t now = wall_ms();
  if (auto* send = std::get_if<fx::Send>(&e)) {
    if (auto it = quorum_.find(send->to); it != quorum_.end()) it->second->send(send->message.SerializeAsString());
  } else if (auto* append = std::get_if<fx::Append>(&e)) {
    store_.append(std::move(append->txn));
  } else if (auto* ae = std::get_if<fx::PersistAcceptedEpoch>(&e)) {
    store_.write_epoch("acceptedEpoch", ae->epoch);
  } else if (auto* ce = std::get_if<fx::PersistCurrentEpoch>(&e)) {
    store_.write_epoch("currentEpoch", ce->epoch);
  } else if (auto* t = std::get_if<fx::TruncateAndReload>(&e)) {
    log_line("truncating the log after zxid " + std::to_string(t->zxid));
    store_.truncate_and_reload(core_, t->zxid);
    peer_->reloaded(now);
  } else if (auto* chunk = std::get_if<fx::SnapshotChunk>(&e)) {
    snapshot_in_ += chunk->data;
    if (chunk->last) {
      log_line("installing the leader's snapshot at zxid " + std::to_string(chunk->zxid) + " (" +
               std::to_string(snapshot_in_.size()) + " bytes)");
      store_.install_snapshot(core_, chunk->zxid, std::exchange(snapshot_in_, {}));
      peer_->reloaded(now);
    }
  } else if (auto* stream = std::get_if<fx::StreamSnapshot>(&e)) {
    stream_snapshot(stream->peer);
  } else if (std::holds_alternative<fx::Activate>(e)) {
    serving_ = true;
    front_.resume_throttled();
    log_line("serving clients as " + peer_->mode());
  } else if (auto* sd = std::get_if<fx::StepDown>(&e)) {
    serving_ = false;
    log_line("stepping down: " + sd->reason);
    drop_all_quorum();
  } else if (auto* c = std::get_if<fx::Connect>(&e)) {
    connect_quorum(c->peer);
  } else if (auto* d = std::get_if<fx::Disconnect>(&e)) {
    drop_quorum(d->peer);
  } else if (auto* note = std::get_if<fx::Note>(&e)) {
    log_line(note->line);
  }
}

// ---- election port --------------------------------------------------------------------

void EnsembleServer::send_vote(std::optional<PeerId> to, const proto::Notification& n) {
  proto::ElectionMessage m;
  *m.mutable_notification() = n;
  const std::string bytes = m.SerializeAsString();
  for (const auto& [id, endpoint] : election_endpoints_) {
    if (id == config_.my_id || (to && *to != id)) continue;
    auto& link = votes_out_[id];
    if (!link || !link->is_open()) {
      // Votes to a server that is down are lost; the election sends again
      // on its timeouts, and each send tries to connect again.
      PeerLink::Handler h;
      h.on_frame = [](std::string_view) {};  // nothing comes back on our own link
      link = PeerLink::connect(io_, endpoint, std::move(h));
      proto::ElectionMessage hello;
      hello.mutable_hello()->set_server_id(config_.my_id);
      hello.mutable_hello()->set_protocol_version(1);
      link->send(hello.SerializeAsString());
    }
    link->send(bytes);
  }
}

void EnsembleServer::accept_election() {
  election_acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (stopping_) return;
    if (!ec) on_election_link(std::make_shared<PeerLink>(std::move(socket)));
    accept_election();
  });
}

void EnsembleServer::on_election_link(const std::shared_ptr<PeerLink>& link) {
  auto from = std::make_shared<PeerId>(0);
  PeerLink::Handler h;
  std::weak_ptr<PeerLink> weak = link;
  h.on_frame = [this, from, weak](std::string_view frame) {
    proto::ElectionMessage m;
    const auto l = weak.lock();
    if (!m.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
      log_line("election: a malformed message; closing that connection");
      if (l) l->close();
      return;
    }
    if (m.has_hello()) {
      if (!election_endpoints_.contains(m.hello().server_id()) || m.hello().server_id() == config_.my_id) {
        log_line("election: a connection from unknown server " + std::to_string(m.hello().server_id()) + "; closed");
        if (l) l->close();
        return;
      }
      *from = m.hello().server_id();
      return;
    }
    if (!m.has_notification() || *from == 0) return;
    peer_->election_message(*from, m.notification(), wall_ms());
    drive();
  };
  link->set_handler(std::move(h));
  link->start();
  std::erase_if(votes_in_, [](const std::weak_ptr<PeerLink>& w) { return w.expired(); });
  votes_in_.push_back(link);
}

// ---- quorum port ---------------------------------------------------------------------------

void EnsembleServer::accept_quorum() {
  quorum_acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (stopping_) return;
    if (!ec) {
      auto link = std::make_shared<PeerLink>(std::move(socket));
      std::erase_if(accepted_quorum_, [](const std::weak_ptr<PeerLink>& w) { return w.expired(); });
      accepted_quorum_.push_back(link);
      on_quorum_link(link);
    }
    accept_quorum();
  });
}

// A learner reached us: it says who it is first.
void EnsembleServer::on_quorum_link(const std::shared_ptr<PeerLink>& link) {
  auto from = std::make_shared<PeerId>(0);
  std::weak_ptr<PeerLink> weak = link;
  PeerLink::Handler h;
  h.on_frame = [this, from, weak](std::string_view frame) {
    const auto l = weak.lock();
    if (!l) return;
    proto::LearnerMessage m;
    if (!m.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
      log_line("quorum: a malformed message from server " + std::to_string(*from) + "; closing that connection");
      if (*from != 0 && quorum_[*from] == l) {
        quorum_.erase(*from);
        peer_->quorum_disconnected(*from, wall_ms());
      }
      l->close();
      drive();
      return;
    }
    if (*from == 0) {
      const PeerId id = m.has_hello() ? m.hello().server_id() : 0;
      if (!quorum_endpoints_.contains(id) || id == config_.my_id || peer_->state() != proto::LEADING) {
        l->close();  // not a server of ours, or we do not lead (it will find the leader)
        return;
      }
      *from = id;
      if (auto old = quorum_.find(id); old != quorum_.end()) {
        old->second->close();
        quorum_.erase(old);
        peer_->quorum_disconnected(id, wall_ms());
      }
      quorum_[id] = l;
      peer_->quorum_connected(id, wall_ms());
      drive();
      return;
    }
    peer_->quorum_message(*from, m, wall_ms());
    drive();
  };
  h.on_closed = [this, from, weak] {
    const auto l = weak.lock();
    if (*from == 0) return;
    if (auto it = quorum_.find(*from); it != quorum_.end() && it->second == l) {
      quorum_.erase(it);
      peer_->quorum_disconnected(*from, wall_ms());
      drive();
    }
  };
  link->set_handler(std::move(h));
  link->start();
}

// A learner reaches its leader.
void EnsembleServer::connect_quorum(PeerId leader) {
  drop_quorum(leader);
  auto holder = std::make_shared<std::weak_ptr<PeerLink>>();
  PeerLink::Handler h;
  h.on_connected = [this, leader, holder] {
    const auto l = holder->lock();
    if (!l || quorum_[leader] != l) return;
    proto::LearnerMessage hello;
    hello.mutable_hello()->set_server_id(config_.my_id);
    hello.mutable_hello()->set_protocol_version(1);
    l->send(hello.SerializeAsString());
    peer_->quorum_connected(leader, wall_ms());
    drive();
  };
  h.on_frame = [this, leader, holder](std::string_view frame) {
    const auto l = holder->lock();
    if (!l || quorum_[leader] != l) return;
    proto::LearnerMessage m;
    if (!m.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
      log_line("quorum: a malformed message from the leader; closing that connection");
      l->close();
      quorum_.erase(leader);
      peer_->quorum_disconnected(leader, wall_ms());
      drive();
      return;
    }
    peer_->quorum_message(leader, m, wall_ms());
    drive();
  };
  h.on_closed = [this, leader, holder] {
    const auto l = holder->lock();
    if (auto it = quorum_.find(leader); it != quorum_.end() && it->second == l) {
      quorum_.erase(it);
      peer_->quorum_disconnected(leader, wall_ms());
      drive();
    }
  };
  auto link = PeerLink::connect(io_, quorum_endpoints_.at(leader), std::move(h));
  *holder = link;
  quorum_[leader] = link;
}

void EnsembleServer::drop_quorum(PeerId peer) {
  if (auto it = quorum_.find(peer); it != quorum_.end()) {
    it->second->close();
    quorum_.erase(it);
  }
}

void EnsembleServer::drop_all_quorum() {
  for (auto& [id, link] : quorum_) link->close();
  quorum_.clear();
}

// A learner too far behind gets the replica as a snapshot file, in chunks.
void EnsembleServer::stream_snapshot(PeerId peer) {
  const auto it = quorum_.find(peer);
  const int64_t zxid = core_.last_zxid();
  std::string bytes;
  try {
    bytes = store_.snapshot_file(core_);
  } catch (const std::exception& e) {
    log_line("cannot snapshot for server " + std::to_string(peer) + ": " + e.what());
    if (it != quorum_.end()) it->second->close();
    quorum_.erase(peer);
    peer_->quorum_disconnected(peer, wall_ms());
    return;
  }
  if (it != quorum_.end()) {
    std::size_t at = 0;
    do {
      const std::size_t n = std::min(snapshot_chunk_bytes, bytes.size() - at);
      proto::LearnerMessage m;
      auto* chunk = m.mutable_snap();
      chunk->set_zxid(zxid);
      chunk->set_data(bytes.substr(at, n));
      at += n;
      chunk->set_last(at == bytes.size());
      it->second->send(m.SerializeAsString());
    } while (at < bytes.size());
  }
  peer_->snapshot_sent(peer, zxid, wall_ms());
}

void EnsembleServer::reload() {
  store_.load(core_, [this](const proto::Txn& txn) { peer_->recovered(txn); });
}

// ---- storage and clients ----------------------------------------------------------------------

void EnsembleServer::on_synced(int64_t zxid) {
  peer_->synced(zxid, wall_ms());
  drive();
  store_.maybe_snapshot(core_);
}

void EnsembleServer::after_input() {
  peer_->route_core(wall_ms());
  drive();
}

std::string EnsembleServer::on_four_letter_word(std::string_view word) {
  ServerView view{config_, core_};
  fill_process_view(view, store_, front_);
  view.mode = peer_->mode();
  view.serving = serving_;
  if (peer_->state() == proto::LEADING) {
    ServerView::LeaderView lv;
    lv.learners = quorum_.size();
    const auto synced = peer_->synced_followers();
    const auto observers = config_.observers();
    for (PeerId p : synced) {
      if (std::find(observers.begin(), observers.end(), p) != observers.end()) {
        ++lv.synced_observers;
      } else {
        ++lv.synced_followers;
      }
    }
    view.leader = lv;
  }
  return four_letter_reply(word, view);
}

void EnsembleServer::schedule_tick() {
  // Election timeouts start at a fraction of a second: tick often. The
  // peer's own limits are counted in tickTime units.
  tick_timer_.expires_after(std::chrono::milliseconds(std::clamp(config_.tick_time_ms / 4, 10, 50)));
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    peer_->tick(wall_ms());
    drive();
    schedule_tick();
  });
}

void EnsembleServer::run() {
  on_shutdown_signal(signals_, [this] {
    stopping_ = true;
    tick_timer_.cancel();
    boost::system::error_code ignored;
    election_acceptor_.close(ignored);
    quorum_acceptor_.close(ignored);
    for (auto& [id, link] : votes_out_) link->close();
    for (auto* links : {&votes_in_, &accepted_quorum_}) {
      for (auto& weak : *links) {
        if (auto link = weak.lock()) link->close();
      }
    }
    drop_all_quorum();
    front_.close_all();
    store_.stop();
  });
  front_.start_accepting();
  accept_election();
  accept_quorum();
  peer_->start(wall_ms());
  drive();
  schedule_tick();
  store_.start_purge_timer();
  io_.run();
}

}  // namespace corral::ensemble
