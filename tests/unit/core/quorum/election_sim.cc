#include "election_sim.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace corral::ensemble::quorum::sim {

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int64_t Rng::between(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
}

bool Rng::chance(double p) {
  if (p <= 0) return false;
  return static_cast<double>(next() >> 11) * 0x1.0p-53 < p;
}

std::string describe(const Vote& v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "(%u e%lld 0x%llx)", v.leader, static_cast<long long>(v.peer_epoch),
                static_cast<unsigned long long>(v.zxid));
  return buf;
}

std::string describe(const proto::Notification& n) {
  return proto::PeerState_Name(n.state()) + " r" + std::to_string(n.election_epoch()) + " " +
         describe(Vote{n.leader(), n.zxid(), n.peer_epoch()});
}

namespace {

bool is_decided_state(proto::PeerState s) { return s == proto::FOLLOWING || s == proto::LEADING; }

}  // namespace

Cluster::Cluster(uint64_t seed, std::vector<ServerSpec> servers, NetworkFaults faults, bool keep_trace)
    : rng_(seed), faults_(faults), keep_trace_(keep_trace) {
  std::sort(servers.begin(), servers.end(), [](const ServerSpec& a, const ServerSpec& b) { return a.id < b.id; });
  for (const ServerSpec& s : servers) {
    ids_.push_back(s.id);
    (s.observer ? observer_ids_ : voter_ids_).push_back(s.id);
  }
  for (const ServerSpec& s : servers) {
    Node n;
    n.spec = s;
    n.fle = std::make_unique<FastLeaderElection>(config_for(s.id));
    nodes_.emplace(s.id, std::move(n));
  }
}

Cluster::Node& Cluster::node(PeerId id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) throw std::logic_error("sim: no server " + std::to_string(id));
  return it->second;
}

const Cluster::Node& Cluster::node(PeerId id) const { return const_cast<Cluster*>(this)->node(id); }

ElectionConfig Cluster::config_for(PeerId id) const {
  ElectionConfig c;
  c.me = id;
  c.voters = voter_ids_;
  c.observers = observer_ids_;
  return c;
}

// ---- scripted actions ---------------------------------------------------

void Cluster::start(PeerId id) {
  Node& n = node(id);
  if (!n.up) throw std::logic_error("sim: start on a crashed server");
  ++n.starts;
  n.heard.clear();
  n.established = false;
  n.synced = false;
  n.trouble_since.reset();
  n.own_vote.reset();
  if (!n.spec.observer) {
    n.own_vote = Vote{id, n.spec.last_zxid, n.spec.current_epoch};
    histories_[id].push_back(*n.own_vote);
  }
  n.fle->start(now_, n.spec.last_zxid, n.spec.current_epoch);
  if (keep_trace_)
    trace(std::to_string(id) + " starts round " + std::to_string(n.fle->logical_clock()) +
          (n.own_vote ? " with " + describe(*n.own_vote) : std::string(" (observer)")));
  after(n);
}

void Cluster::crash(PeerId id) {
  Node& n = node(id);
  if (!n.up) return;
  n.up = false;
  ++n.incarnation;
  n.timer_at.reset();
  n.established = false;
  n.synced = false;
  n.trouble_since.reset();
  if (keep_trace_) trace(std::to_string(id) + " crashes");
}

void Cluster::recover(PeerId id) {
  Node& n = node(id);
  if (n.up) return;
  n.up = true;
  n.fle = std::make_unique<FastLeaderElection>(config_for(id));
  n.heard.clear();
  if (keep_trace_) trace(std::to_string(id) + " recovers");
}

void Cluster::partition(const std::vector<std::vector<PeerId>>& sides) {
  for (auto& [id, n] : nodes_) n.side = 0;
  std::string line = "partition:";
  for (std::size_t i = 0; i < sides.size(); ++i) {
    line += " {";
    for (PeerId id : sides[i]) {
      node(id).side = static_cast<int>(i) + 1;
      line += " " + std::to_string(id);
    }
    line += " }";
  }
  if (keep_trace_) trace(line);
}

void Cluster::heal() {
  for (auto& [id, n] : nodes_) n.side = 0;
  if (keep_trace_) trace("heal");
}

void Cluster::enable_zab(ZabStandIn zab) {
  const bool first = !zab_;
  zab_ = zab;
  if (first) push(Event{now_ + zab.period_ms, 0, Event::Kind::zab});
}

bool Cluster::connected(PeerId a, PeerId b) const {
  const Node& x = node(a);
  const Node& y = node(b);
  return x.up && y.up && x.side == y.side;
}

std::optional<PeerId> Cluster::leader_of(PeerId id) const {
  const auto b = node(id).fle->settled();
  if (!b) return std::nullopt;
  return b->vote.leader;
}

std::optional<PeerId> Cluster::converged() const {
  std::optional<PeerId> leader;
  for (const auto& [id, n] : nodes_) {
    if (!n.up || n.fle->state() != proto::LEADING) continue;
    if (leader) return std::nullopt;
    leader = id;
  }
  if (!leader || (zab_ && !node(*leader).established)) return std::nullopt;
  for (const auto& [id, n] : nodes_) {
    if (!n.up || id == *leader) continue;
    const proto::PeerState want = n.spec.observer ? proto::OBSERVING : proto::FOLLOWING;
    if (n.fle->state() != want || leader_of(id) != leader) return std::nullopt;
    if (zab_ && !n.synced) return std::nullopt;
  }
  return leader;
}

// ---- running --------------------------------------------------------------

void Cluster::push(Event e) {
  e.seq = seq_++;
  events_.push(std::move(e));
}

void Cluster::run_until(int64_t t_ms) {
  run_until([] { return false; }, t_ms);
}

bool Cluster::run_until(const std::function<bool()>& done, int64_t deadline_ms) {
  if (done()) return true;
  while (!events_.empty() && events_.top().at <= deadline_ms) {
    Event e = events_.top();
    events_.pop();
    now_ = std::max(now_, e.at);
    step(e);
    if (done()) return true;
  }
  now_ = std::max(now_, deadline_ms);
  return done();
}

void Cluster::step(const Event& e) {
  switch (e.kind) {
    case Event::Kind::deliver: {
      Node& to = node(e.to);
      if (!to.up || to.incarnation != e.incarnation || !connected(e.from, e.to)) {
        if (keep_trace_) trace(std::to_string(e.from) + "->" + std::to_string(e.to) + " dropped " + describe(e.n));
        return;
      }
      if (keep_trace_) trace(std::to_string(e.from) + "->" + std::to_string(e.to) + " " + describe(e.n));
      to.heard.push_back(Heard{e.from, e.n});
      to.fle->on_notification(e.from, e.n, now_);
      after(to);
      return;
    }
    case Event::Kind::timer: {
      Node& n = node(e.to);
      if (!n.up || n.incarnation != e.incarnation || n.timer_at != e.at) return;
      n.timer_at.reset();
      n.fle->tick(now_);
      after(n);
      return;
    }
    case Event::Kind::zab:
      zab_tick();
      push(Event{now_ + zab_->period_ms, 0, Event::Kind::zab});
      return;
  }
}

void Cluster::after(Node& n) {
  const PeerId me = n.spec.id;
  for (Outgoing& o : n.fle->take_outbox()) {
    check_sent(n, o.notification);
    if (o.to) {
      send(me, *o.to, o.notification);
      continue;
    }
    // A broadcast is also our own vote in our round (ZooKeeper sends it to itself).
    if (!n.spec.observer && o.notification.state() == proto::LOOKING) n.heard.push_back(Heard{me, o.notification});
    for (PeerId v : voter_ids_)
      if (v != me) send(me, v, o.notification);
  }
  if (auto d = n.fle->take_decision()) {
    if (keep_trace_)
      trace(std::to_string(me) + " decides " + proto::PeerState_Name(d->state) + " " + describe(d->vote) +
            " in round " + std::to_string(d->election_epoch) + (d->joined ? " (joined)" : " (elected)"));
    decisions_.push_back(DecisionRecord{me, now_, *d});
    check_decision(n, *d);
  }
  const auto deadline = n.fle->next_deadline_ms();
  if (!deadline) {
    n.timer_at.reset();
  } else if (deadline != n.timer_at) {
    n.timer_at = deadline;
    Event e{*deadline, 0, Event::Kind::timer};
    e.to = me;
    e.incarnation = n.incarnation;
    push(std::move(e));
  }
}

void Cluster::send(PeerId from, PeerId to, const proto::Notification& m) {
  ++messages_sent_;
  const Node& target = node(to);
  if (!target.up || rng_.chance(faults_.loss)) {
    if (keep_trace_) trace(std::to_string(from) + "->" + std::to_string(to) + " lost " + describe(m));
    return;
  }
  const int copies = rng_.chance(faults_.duplicate) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    Event e{now_ + rng_.between(faults_.min_delay_ms, faults_.max_delay_ms), 0, Event::Kind::deliver};
    e.from = from;
    e.to = to;
    e.incarnation = target.incarnation;
    e.n = m;
    push(std::move(e));
  }
}

// ---- invariants -------------------------------------------------------------

void Cluster::violation(std::string what) {
  violations_.push_back("t=" + std::to_string(now_) + "ms: " + what);
  if (keep_trace_) trace("VIOLATION " + violations_.back());
}

void Cluster::trace(std::string line) { trace_.push_back("t=" + std::to_string(now_) + " " + line); }

void Cluster::check_sent(const Node& n, const proto::Notification& m) {
  if (n.spec.observer || m.state() != proto::LOOKING) return;
  const Vote v{m.leader(), m.zxid(), m.peer_epoch()};
  const PeerId me = n.spec.id;
  if (n.own_vote && outranks(*n.own_vote, v))
    violation(std::to_string(me) + " proposes " + describe(v) + ", worse than its own " + describe(*n.own_vote));
  if (std::find(voter_ids_.begin(), voter_ids_.end(), v.leader) == voter_ids_.end())
    violation(std::to_string(me) + " proposes non-voter " + std::to_string(v.leader));
}

void Cluster::check_decision(const Node& n, const Decision& d) {
  const PeerId me = n.spec.id;
  const std::string who =
      std::to_string(me) + " deciding " + describe(d.vote) + " r" + std::to_string(d.election_epoch);
  const bool leader_votes = std::find(voter_ids_.begin(), voter_ids_.end(), d.vote.leader) != voter_ids_.end();
  if (!leader_votes) violation(who + ": the leader is not a voter");
  const proto::PeerState want = d.vote.leader == me ? proto::LEADING
                                : n.spec.observer   ? proto::OBSERVING
                                                    : proto::FOLLOWING;
  if (d.state != want) violation(who + ": state " + proto::PeerState_Name(d.state));

  std::set<PeerId> support;
  bool leader_said_leading = false;
  for (const Heard& h : n.heard) {
    if (std::find(voter_ids_.begin(), voter_ids_.end(), h.from) == voter_ids_.end()) continue;
    const Vote v{h.n.leader(), h.n.zxid(), h.n.peer_epoch()};
    // The election's vote equality: the whole vote in the same round, or,
    // between servers that both decided, the leader and its peer epoch.
    const bool round_match = (h.n.state() == proto::LOOKING || is_decided_state(h.n.state())) &&
                             h.n.election_epoch() == d.election_epoch && v == d.vote;
    const bool settled_match =
        is_decided_state(h.n.state()) && v.leader == d.vote.leader && v.peer_epoch == d.vote.peer_epoch;
    if (round_match || (d.joined && settled_match)) support.insert(h.from);
    // checkLeader asks only that the leader's latest word was LEADING (its
    // answer may predate Zab's new epoch).
    if (h.from == d.vote.leader && h.n.state() == proto::LEADING) leader_said_leading = true;
  }
  if (support.size() < quorum())
    violation(who + ": only " + std::to_string(support.size()) + " voters support it (quorum " +
              std::to_string(quorum()) + ")");
  if (!d.joined) {
    const auto& h = histories_[d.vote.leader];
    if (std::find(h.begin(), h.end(), d.vote) == h.end())
      violation(who + ": elected a history server " + std::to_string(d.vote.leader) + " never had");
  } else if (d.vote.leader != me && !leader_said_leading) {
    violation(who + ": joined without the leader saying LEADING");
  }
}

// ---- the Zab stand-in -------------------------------------------------------

void Cluster::look_again(Node& n, const std::string& why) {
  if (keep_trace_) trace(std::to_string(n.spec.id) + " looks again: " + why);
  start(n.spec.id);
}

void Cluster::sync_learner(Node& learner, const Node& leader) {
  learner.spec.current_epoch = leader.spec.current_epoch;
  learner.spec.last_zxid = leader.spec.last_zxid;
  learner.synced = true;
  const Ballot b = *learner.fle->settled();
  learner.fle->set_settled(b.state, b.vote.leader, b.vote.zxid, leader.spec.current_epoch, b.election_epoch);
}

void Cluster::establish(Node& leader, const std::vector<PeerId>& supporters) {
  int64_t epoch = 0;
  for (PeerId s : supporters) epoch = std::max(epoch, node(s).spec.current_epoch);
  leader.spec.current_epoch = epoch + 1;
  leader.established = true;
  const Ballot b = *leader.fle->settled();
  leader.fle->set_settled(proto::LEADING, b.vote.leader, b.vote.zxid, leader.spec.current_epoch, b.election_epoch);
  if (keep_trace_)
    trace(std::to_string(leader.spec.id) + " establishes epoch " + std::to_string(leader.spec.current_epoch));
}

void Cluster::zab_tick() {
  const ZabStandIn& zab = *zab_;
  auto trouble = [&](Node& n, const char* why) {
    if (!n.trouble_since) n.trouble_since = now_;
    if (now_ - *n.trouble_since >= zab.give_up_ms) look_again(n, why);
  };
  for (PeerId id : ids_) {
    Node& n = node(id);
    if (!n.up || n.fle->state() == proto::LOOKING) {
      n.trouble_since.reset();
      continue;
    }
    if (n.fle->state() == proto::LEADING) {
      std::vector<PeerId> supporters{id};
      for (PeerId v : voter_ids_)
        if (v != id && connected(id, v) && node(v).fle->state() == proto::FOLLOWING && leader_of(v) == id)
          supporters.push_back(v);
      if (supporters.size() < quorum()) {
        trouble(n, "the leader has no quorum");
        continue;
      }
      n.trouble_since.reset();
      if (!n.established) establish(n, supporters);
      if (zab.writes && rng_.chance(0.3)) {
        const int64_t z = n.spec.last_zxid;
        n.spec.last_zxid = epoch_of(z) < n.spec.current_epoch ? make_zxid(n.spec.current_epoch, 1) : z + 1;
      }
      for (PeerId l : ids_) {
        if (l == id || !connected(id, l) || leader_of(l) != id || node(l).fle->state() == proto::LEADING) continue;
        Node& learner = node(l);
        if (!learner.synced || (zab.writes && rng_.chance(0.8))) sync_learner(learner, n);
      }
      continue;
    }
    const PeerId leader = *leader_of(id);
    const bool ok = connected(id, leader) && node(leader).fle->state() == proto::LEADING && leader_of(leader) == leader;
    if (ok)
      n.trouble_since.reset();
    else
      trouble(n, "its leader is gone");
  }
}

}  // namespace corral::ensemble::quorum::sim
