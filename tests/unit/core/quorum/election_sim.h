// A deterministic simulation of fast leader election: N FastLeaderElection
// modules, one per server, wired by a simulated network under a simulated
// clock, all driven by one seeded random source. Nothing here reads a clock or
// sleeps; a seed names one run exactly (the random ranges are our own, not
// <random>'s distributions, so a seed means the same run with any standard
// library).
//
// Fault model (the network between election ports):
//  * every message gets its own delay in [min_delay_ms, max_delay_ms], so
//    messages overtake each other (reordering);
//  * a message is lost with probability `loss` and delivered twice (each copy
//    with its own delay) with probability `duplicate`;
//  * partitions: each server is on a side; a message is dropped if its sender
//    and receiver are on different sides when it arrives;
//  * crashes: a crashed server receives nothing; messages sent to it before
//    the crash are dropped (its connections died with it); it recovers with a
//    fresh election module (logical clock 0) and what it had on disk.
//
// Zab is not simulated. A small stand-in (enable_zab) gives elections the
// consequences Zab would: a leader that has a quorum of voters FOLLOWING it
// (and reachable) "establishes": the new epoch is one more than the largest
// current epoch among them, they adopt the leader's history, and their
// election modules learn the new peer epoch (set_settled, as ZooKeeper's
// updateElectionVote). A leader without such a quorum, or a learner whose
// leader is unreachable or not LEADING, goes back to looking after
// `give_up_ms` (Zab's initLimit/syncLimit). With `writes`, an established
// leader appends txns that reachable synced learners usually, not always,
// copy, so histories differ when servers crash.
//
// Invariants checked at every decision and send (violations() lists breaks):
//  * validity: a server elects V in round r only if a quorum of voters (it
//    may be one of them) sent it V as a LOOKING vote of round r since it
//    started looking; it joins leader L only if a quorum of voters told it
//    they follow/lead L (same peer epoch) and L itself said LEADING (unless L
//    is itself, in its current round);
//  * a voter never proposes a vote that its own history outranks, and every
//    elected vote is a history its leader really had: so the leader's
//    (epoch, zxid) is the largest among the quorum that elected it;
//  * roles: LEADING iff the leader is the decider; observers end OBSERVING
//    and are never anyone's leader; nobody elects a non-voter.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "ensemble/core/quorum/fast_leader_election.h"

namespace corral::ensemble::quorum::sim {

// zxid = epoch (high 32 bits) | counter.
inline int64_t epoch_of(int64_t zxid) { return zxid >> 32; }
inline int64_t make_zxid(int64_t epoch, int64_t counter) { return (epoch << 32) | counter; }

// splitmix64: tiny, fast, and the same sequence everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [lo, hi] (inclusive); the modulo bias is irrelevant here.
  int64_t between(int64_t lo, int64_t hi);
  bool chance(double p);
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(between(0, static_cast<int64_t>(v.size()) - 1))];
  }

 private:
  uint64_t state_;
};

struct NetworkFaults {
  int64_t min_delay_ms = 1;
  int64_t max_delay_ms = 50;
  double loss = 0;
  double duplicate = 0;
};

struct ServerSpec {
  PeerId id = 0;
  bool observer = false;
  int64_t last_zxid = 0;
  int64_t current_epoch = 0;
};

struct ZabStandIn {
  int64_t period_ms = 100;
  int64_t give_up_ms = 1000;
  bool writes = false;
};

struct DecisionRecord {
  PeerId server;
  int64_t at_ms;
  Decision decision;
};

class Cluster {
 public:
  // With `keep_trace`, every event is described in trace() (slower; for a
  // failing seed's rerun).
  Cluster(uint64_t seed, std::vector<ServerSpec> servers, NetworkFaults faults, bool keep_trace = false);

  Rng& rng() { return rng_; }
  int64_t now() const { return now_; }
  const std::vector<PeerId>& ids() const { return ids_; }
  const std::vector<PeerId>& voters() const { return voter_ids_; }
  const std::vector<PeerId>& observers() const { return observer_ids_; }
  bool is_observer(PeerId id) const { return node(id).spec.observer; }
  std::size_t quorum() const { return voter_ids_.size() / 2 + 1; }

  // ---- scripted actions (at the current simulated time) ------------------
  void start(PeerId id);  // the server begins a round with its history
  void crash(PeerId id);
  void recover(PeerId id);  // fresh module, same disk; it does not look until start()
  // Each inner list is one side; servers in no list are on side 0 together.
  void partition(const std::vector<std::vector<PeerId>>& sides);
  void heal();
  void set_faults(NetworkFaults faults) { faults_ = faults; }
  void enable_zab(ZabStandIn zab);

  // ---- running -------------------------------------------------------------
  void run_until(int64_t t_ms);
  // Runs until `done()` holds (checked after every event) or `deadline_ms`;
  // returns whether it holds.
  bool run_until(const std::function<bool()>& done, int64_t deadline_ms);

  // ---- observation -----------------------------------------------------------
  bool up(PeerId id) const { return node(id).up; }
  bool connected(PeerId a, PeerId b) const;
  const FastLeaderElection& election(PeerId id) const { return *node(id).fle; }
  proto::PeerState state(PeerId id) const { return node(id).fle->state(); }
  std::optional<PeerId> leader_of(PeerId id) const;  // when settled
  int64_t last_zxid(PeerId id) const { return node(id).spec.last_zxid; }
  int64_t current_epoch(PeerId id) const { return node(id).spec.current_epoch; }
  int starts(PeerId id) const { return node(id).starts; }
  bool established(PeerId id) const { return node(id).established; }
  // One leader, established (with the Zab stand-in), every other server that
  // is up following or observing it, synced.
  std::optional<PeerId> converged() const;
  const std::vector<DecisionRecord>& decisions() const { return decisions_; }
  const std::vector<std::string>& violations() const { return violations_; }
  const std::vector<std::string>& trace() const { return trace_; }
  uint64_t messages_sent() const { return messages_sent_; }

 private:
  struct Heard {
    PeerId from;
    proto::Notification n;
  };
  struct Node {
    ServerSpec spec;
    std::unique_ptr<FastLeaderElection> fle;
    bool up = true;
    int incarnation = 0;
    int side = 0;
    int starts = 0;
    std::optional<int64_t> timer_at;
    std::optional<Vote> own_vote;  // the history it looks with (voters)
    std::vector<Heard> heard;      // since its last start()
    // Zab stand-in.
    bool established = false;  // leader
    bool synced = false;       // learner
    std::optional<int64_t> trouble_since;
  };
  struct Event {
    int64_t at;
    uint64_t seq;
    enum class Kind { deliver, timer, zab } kind;
    PeerId from = 0;
    PeerId to = 0;
    int incarnation = 0;
    proto::Notification n{};
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  Node& node(PeerId id);
  const Node& node(PeerId id) const;
  ElectionConfig config_for(PeerId id) const;
  void push(Event e);
  void step(const Event& e);
  void after(Node& n);  // drain outbox, record decision, re-arm the timer
  void send(PeerId from, PeerId to, const proto::Notification& n);
  void check_sent(const Node& n, const proto::Notification& m);
  void check_decision(const Node& n, const Decision& d);
  void zab_tick();
  void establish(Node& leader, const std::vector<PeerId>& supporters);
  void sync_learner(Node& learner, const Node& leader);
  void look_again(Node& n, const std::string& why);
  void violation(std::string what);
  void trace(std::string line);

  Rng rng_;
  NetworkFaults faults_;
  bool keep_trace_;
  std::vector<PeerId> ids_, voter_ids_, observer_ids_;
  std::map<PeerId, Node> nodes_;
  std::map<PeerId, std::vector<Vote>> histories_;  // every own vote each server looked with
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
  int64_t now_ = 0;
  std::optional<ZabStandIn> zab_;
  std::vector<DecisionRecord> decisions_;
  std::vector<std::string> violations_;
  std::vector<std::string> trace_;
  uint64_t messages_sent_ = 0;
};

std::string describe(const Vote& v);
std::string describe(const proto::Notification& n);

}  // namespace corral::ensemble::quorum::sim
