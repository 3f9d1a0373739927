#include "corral/recipes/leader_election.h"

#include "recipes/throwing.h"

#include <algorithm>
#include <set>
#include <stop_token>

#include "corral/recipes/lock_internals.h"
#include "recipes/signal.h"

namespace corral::recipes {

namespace {

std::error_code canceled() { return std::make_error_code(std::errc::operation_canceled); }

// Copies first: a listener may remove itself (or another) while called.
template <class Map, class... Args>
void call_all(const Map& listeners, Args&&... args) {
  const auto copy = listeners;  // NOLINT(performance-unnecessary-copy-initialization): see above
  for (const auto& [id, l] : copy) l(args...);
}

}  // namespace

std::string_view to_string(LeadershipChange change) {
  switch (change) {
    case LeadershipChange::elected: return "elected";
    case LeadershipChange::suspended: return "suspended";
    case LeadershipChange::expired: return "expired";
    case LeadershipChange::deleted: return "deleted";
    case LeadershipChange::resigned: return "resigned";
  }
  return "?";
}

// ---- reading an election ---------------------------------------------------------------

std::vector<Participant> election_participants(Client& client, std::string_view path, std::string_view node_name,
                                               std::error_code& ec) {
  auto kids = client.children(path, {}, ec);
  if (ec == Error::noNode) {
    ec.clear();
    return {};
  }
  if (ec) return {};
  const auto sorted = sorted_by_sequence(std::move(kids.names), node_name);
  // One round trip for all of them: the reads are pipelined.
  std::vector<boost::fibers::future<Result<NodeData>>> reads;
  reads.reserve(sorted.size());
  for (const auto& name : sorted) reads.push_back(client.async_get(join(path, name)));
  std::vector<Participant> out;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    auto r = reads[i].get();
    if (r.error == Error::noNode) continue;  // left meanwhile
    if (r.error) {
      ec = r.error;
      return {};
    }
    out.push_back(Participant{std::move(r.value.data), join(path, sorted[i]), r.value.stat.czxid, out.empty()});
  }
  ec.clear();
  return out;
}

std::optional<Participant> election_leader(Client& client, std::string_view path, std::string_view node_name,
                                           std::error_code& ec) {
  auto kids = client.children(path, {}, ec);
  if (ec == Error::noNode) {
    ec.clear();
    return std::nullopt;
  }
  if (ec) return std::nullopt;
  for (const auto& name : sorted_by_sequence(std::move(kids.names), node_name)) {
    const std::string node = join(path, name);
    auto data = client.get(node, {}, ec);
    if (ec == Error::noNode) continue;  // it left meanwhile: the next one leads
    if (ec) return std::nullopt;
    return Participant{std::move(data.data), node, data.stat.czxid, true};
  }
  ec.clear();
  return std::nullopt;
}

// ---- the engine ------------------------------------------------------------------------

namespace detail {

// What a recipe's fiber shares with the watches it sets, which may fire after
// the recipe is gone: they touch only `wake`, `armed` and `on_deleted`, which
// the recipe clears when it goes.
struct ElectionWatches {
  // Everything the fiber waits for notifies this: watches, state changes, stop.
  Signal wake;
  // Nodes one of our watches is set on (not set twice; cleared when it fires).
  std::set<std::string> armed;
  // Called (on the event fiber) when a watched node of ours is deleted.
  std::function<void(const std::string& node)> on_deleted;

  // A watcher for `watched` that wakes the fiber (none if one is set already).
  static Watcher arm(const std::shared_ptr<ElectionWatches>& self, const std::string& watched) {
    if (!self->armed.insert(watched).second) return {};
    return [self, watched](const WatchedEvent& e) {
      self->armed.erase(watched);
      if (e.type == wire::EventType::nodeDeleted && self->on_deleted) self->on_deleted(watched);
      self->wake.notify();
    };
  }

  // Reads `node` with a watch that wakes the fiber (none if one is set
  // already). The client registers a watch only with a successful reply: a
  // read that failed (connectionLoss, noNode) set none, so `armed` must not
  // claim one, or every later read would skip the watch and the fiber would
  // sleep through the delete it waits for.
  static NodeData watched_get(const std::shared_ptr<ElectionWatches>& self, Client& client, const std::string& watched,
                              std::error_code& ec) {
    Watcher watcher = arm(self, watched);
    const bool armed_now = static_cast<bool>(watcher);
    auto data = client.get(watched, std::move(watcher), ec);
    if (ec && armed_now) self->armed.erase(watched);
    return data;
  }
};

// One participant's place in an election: a node in the lock engine's queue
// (LockInternals with Curator's standard driver, one lease), and once first,
// the watch on that node that tells of its deletion. Followed by one fiber
// (the recipe's).
struct Candidate {
  Candidate(Client& c, const std::string& path, std::string_view node_name, std::string participant_id)
      : client(c), queue(c, path, std::string(node_name)), id(std::move(participant_id)) {
    queue.on_queued([this](const std::string& our_path) {
      node = our_path;
      node_session = client.session_id();
    });
  }

  Client& client;
  LockInternals queue;
  const std::string id;
  std::shared_ptr<ElectionWatches> watches = std::make_shared<ElectionWatches>();
  std::stop_source stop;

  std::string node;          // our node, "" when none
  int64_t node_session = 0;  // the session that created it
  int64_t token = 0;         // its czxid, once we found it first
  bool first = false;        // the queue has said we hold (it stays so while the node lives)

  void forget() {
    node.clear();
    token = 0;
    first = false;
  }

  // Wakes the fiber whatever it waits for: a watch, the queue, a connection.
  void request_stop() {
    stop.request_stop();
    watches->wake.notify();
  }

  // Blocks until our node is first in line and verified ours (true; `token`
  // set), or: stop (operation_canceled), the session ended (its code; the
  // node is forgotten: it went with the session), another error. Waits out
  // suspensions and queues again when our node vanished. A node first in
  // line stays first (later nodes sort after it), so a leader back from a
  // suspension only checks that its node is still there and still ours.
  bool wait_to_lead(std::error_code& ec) {
    while (true) {
      if (stop.stop_requested()) {
        ec = canceled();
        return false;
      }
      const SessionState state = client.state();
      if (has_ended(state)) {
        forget();
        ec = end_error(state);
        return false;
      }
      if (!is_connected(state)) {
        watches->wake.wait_until(Clock::time_point::max());
        continue;
      }
      if (!node.empty() && node_session != client.session_id()) forget();  // a new session
      if (!first) {
        queue.acquire(Clock::time_point::max(), id, ec, stop.get_token());
        if (ec) {
          forget();
          // Deleted by someone else, or gone with a session the client has
          // already replaced: queue again. The session's end: the caller waits.
          const bool again = ec == Error::noNode || ec == Error::connectionLoss ||
                             (ec == Error::sessionExpired && is_connected(client.state()));
          if (again && !stop.stop_requested()) continue;
          if (stop.stop_requested()) ec = canceled();
          return false;
        }
        first = true;
      }
      // First. Read our node (and watch it, to hear of a delete while we
      // lead) for the token and to be sure it is this session's.
      const std::string ours = node;
      auto data = ElectionWatches::watched_get(watches, client, ours, ec);
      if (ec == Error::connectionLoss) continue;
      if (ec == Error::noNode || (!ec && data.stat.ephemeralOwner != client.session_id())) {
        forget();
        continue;
      }
      if (ec) return false;
      token = data.stat.czxid;
      return true;
    }
  }

  // Deletes our node. Retries through a suspension for up to the session
  // timeout; after that the node goes with the session. A node already gone
  // is not an error.
  void withdraw(std::error_code& ec) {
    ec.clear();
    if (!node.empty() && !has_ended(client.state())) queue.release(node, ec);
    forget();
  }
};

}  // namespace detail

// ---- what both styles share ------------------------------------------------------------

namespace detail {

ElectionView::ElectionView(Client& client, std::string path, std::string_view node_name)
    : client_(client), path_(std::move(path)), node_name_(node_name) {}

std::vector<Participant> ElectionView::participants(std::error_code& ec) {
  return election_participants(client_, path_, node_name_, ec);
}
std::vector<Participant> ElectionView::participants() {
  return or_throw("participants of", path_, [&](std::error_code& ec) { return participants(ec); });
}
std::optional<Participant> ElectionView::leader(std::error_code& ec) {
  return election_leader(client_, path_, node_name_, ec);
}
std::optional<Participant> ElectionView::leader() {
  return or_throw("leader of", path_, [&](std::error_code& ec) { return leader(ec); });
}
std::string ElectionView::leader_id() {
  const auto l = leader();
  return l ? l->id : std::string();
}

uint64_t ElectionView::on_change(LeadershipListener listener) {
  listeners_.emplace(++last_listener_, std::move(listener));
  return last_listener_;
}
void ElectionView::remove_listener(uint64_t id) { listeners_.erase(id); }
void ElectionView::notify(LeadershipChange change, int64_t token) { call_all(listeners_, change, token); }

}  // namespace detail

// ---- LeaderLatch -------------------------------------------------------------------------

LeaderLatch::LeaderLatch(Client& client, std::string path, std::string id)
    : ElectionView(client, std::move(path), latch_node_name),
      id_(std::move(id)),
      candidate_(std::make_unique<detail::Candidate>(client, path_, latch_node_name, id_)) {
  candidate_->watches->on_deleted = [this](const std::string& node) {
    if (node == leading_node_) lose(LeadershipChange::deleted);
  };
  state_listener_ = client_.add_state_listener([this](SessionState s) {
    if (s == SessionState::suspended) lose(LeadershipChange::suspended);
    if (has_ended(s)) {
      ++expiries_;
      lose(LeadershipChange::expired);
    }
    candidate_->watches->wake.notify();
    changed_.notify_all();
  });
}

LeaderLatch::~LeaderLatch() {
  std::error_code ignored;
  resign(ignored);
  if (fiber_.joinable()) fiber_.join();
  client_.remove_state_listener(state_listener_);
  candidate_->watches->on_deleted = nullptr;
}

void LeaderLatch::start() {
  if (started_) return;
  if (fiber_.joinable()) fiber_.join();  // a previous run, ended
  started_ = true;
  candidate_->stop = std::stop_source();
  fiber_ = boost::fibers::fiber([this] { run(); });
}

void LeaderLatch::run() {
  auto& c = *candidate_;
  while (!c.stop.stop_requested()) {
    std::error_code ec;
    if (!c.wait_to_lead(ec)) {
      if (ec == canceled()) break;
      // The session ended (the state listener told a leader): wait for a new
      // one. Another error (noAuth on the path, say): look again in a while.
      c.watches->wake.wait_until(has_ended(client_.state()) ? Clock::time_point::max()
                                                            : Clock::now() + std::chrono::seconds(1));
      continue;
    }
    if (c.node != leading_node_) lose(LeadershipChange::deleted);  // a new node already
    if (!leader_ && is_connected(client_.state())) become_leader(c.token, c.node);
    // Lead (or, not connected, wait) until something changes; then look again.
    c.watches->wake.wait_until(Clock::time_point::max());
  }
  c.withdraw(withdraw_error_);
}

void LeaderLatch::become_leader(int64_t token, const std::string& node) {
  leader_ = true;
  doubtful_ = false;
  token_ = token;
  leading_node_ = node;
  notify(LeadershipChange::elected, token);
  changed_.notify_all();
}

// A leader hears why it stopped leading; one only suspended (in doubt) hears
// later whether it lost for good (expired, deleted, resigned).
void LeaderLatch::lose(LeadershipChange why) {
  if (leader_) {
    leader_ = false;
    doubtful_ = why == LeadershipChange::suspended;
    notify(why, token_);
  } else if (doubtful_ && why != LeadershipChange::suspended) {
    doubtful_ = false;
    notify(why, token_);
  }
  changed_.notify_all();
}

bool LeaderLatch::campaign(Clock::time_point deadline, std::error_code& ec) {
  if (has_ended(client_.state())) {
    ec = end_error(client_.state());
    return false;
  }
  start();
  const uint64_t expiries = expiries_;
  std::unique_lock lock(mutex_);
  while (true) {
    if (is_leader()) {
      ec.clear();
      return true;
    }
    if (!started_) {
      ec = canceled();
      return false;
    }
    if (expiries_ != expiries) {
      ec = has_ended(client_.state()) ? end_error(client_.state()) : std::error_code(Error::sessionExpired);
      return false;
    }
    if (changed_.wait_until(lock, deadline) == boost::fibers::cv_status::timeout && !is_leader()) {
      ec = Error::operationTimeout;
      return false;
    }
  }
}

bool LeaderLatch::campaign(std::chrono::milliseconds timeout) {
  return or_throw_unless_timeout("campaign", path_,
                                 [&](std::error_code& ec) { return campaign(Clock::now() + timeout, ec); });
}

void LeaderLatch::resign(std::error_code& ec) {
  ec.clear();
  if (!started_) return;
  started_ = false;
  lose(LeadershipChange::resigned);
  leading_node_.clear();
  candidate_->request_stop();
  if (boost::this_fiber::get_id() == fiber_.get_id()) return;  // the fiber withdraws as it ends
  fiber_.join();
  ec = withdraw_error_;
}

void LeaderLatch::resign() {
  or_throw("resign", path_, [&](std::error_code& ec) { resign(ec); });
}

bool LeaderLatch::is_leader() const { return leader_ && is_connected(client_.state()); }
int64_t LeaderLatch::token() const { return is_leader() ? token_ : 0; }
std::string LeaderLatch::our_node() const { return candidate_->node; }

Transaction LeaderLatch::guarded() const {
  if (leading_node_.empty()) {
    throw std::system_error(std::make_error_code(std::errc::operation_not_permitted), "guarded: never led " + path_);
  }
  Transaction txn;
  txn.check(leading_node_, -1);
  return txn;
}

// ---- LeaderSelector ----------------------------------------------------------------------

bool LeaderSelector::Term::lost() const { return why_.has_value() || !is_connected(client_.state()); }

void LeaderSelector::Term::lose(LeadershipChange why) {
  std::unique_lock lock(mutex_);
  if (!why_) why_ = why;
  cv_.notify_all();
}

bool LeaderSelector::Term::wait_lost(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  cv_.wait_until(lock, deadline, [&] { return lost(); });
  return lost();
}

LeaderSelector::LeaderSelector(Client& client, std::string path, std::string id, Function lead)
    : ElectionView(client, std::move(path), selector_node_name),
      id_(std::move(id)),
      lead_(std::move(lead)),
      candidate_(std::make_unique<detail::Candidate>(client, path_, selector_node_name, id_)) {
  candidate_->watches->on_deleted = [this](const std::string& node) {
    if (term_ && node == term_->node()) lose(LeadershipChange::deleted);
  };
  state_listener_ = client_.add_state_listener([this](SessionState s) {
    if (s == SessionState::suspended) lose(LeadershipChange::suspended);
    if (has_ended(s)) lose(LeadershipChange::expired);
    candidate_->watches->wake.notify();
  });
}

LeaderSelector::~LeaderSelector() {
  std::error_code ignored;
  close(ignored);
  client_.remove_state_listener(state_listener_);
  candidate_->watches->on_deleted = nullptr;
}

void LeaderSelector::start() {
  if (started_) return;
  started_ = true;
  queued_ = true;
  candidate_->stop = std::stop_source();
  fiber_ = boost::fibers::fiber([this] { run(); });
}

bool LeaderSelector::requeue() {
  if (!started_ || queued_ || term_) return false;
  queued_ = true;
  candidate_->watches->wake.notify();
  return true;
}

void LeaderSelector::run() {
  auto& c = *candidate_;
  while (!c.stop.stop_requested()) {
    if (!queued_) {
      c.watches->wake.wait_until(Clock::time_point::max());
      continue;
    }
    std::error_code ec;
    if (!c.wait_to_lead(ec)) {
      if (ec == canceled()) break;
      c.watches->wake.wait_until(has_ended(client_.state()) ? Clock::time_point::max()
                                                            : Clock::now() + std::chrono::seconds(1));
      continue;
    }
    if (!is_connected(client_.state())) continue;
    term_.reset(new Term(client_, c.token, c.node));
    leader_ = true;
    ++terms_;
    notify(LeadershipChange::elected, c.token);
    try {
      lead_(*term_);
    } catch (...) {
      // Ends the term like a return (Curator ignores it too).
    }
    lose(LeadershipChange::resigned);
    doubtful_ = false;
    term_.reset();
    queued_ = auto_requeue_;
    // Step down: the next in line leads; a requeue makes a new node at the back.
    c.withdraw(ec);
  }
  c.withdraw(withdraw_error_);
}

// As LeaderLatch::lose, for the current term.
void LeaderSelector::lose(LeadershipChange why) {
  if (!term_) return;
  term_->lose(why);
  if (leader_) {
    leader_ = false;
    doubtful_ = why == LeadershipChange::suspended;
    notify(why, term_->token());
  } else if (doubtful_ && why != LeadershipChange::suspended) {
    doubtful_ = false;
    notify(why, term_->token());
  }
}

void LeaderSelector::interrupt_leadership() { lose(LeadershipChange::resigned); }

void LeaderSelector::close(std::error_code& ec) {
  ec.clear();
  if (!started_) return;
  started_ = false;
  queued_ = false;
  lose(LeadershipChange::resigned);
  candidate_->request_stop();
  if (boost::this_fiber::get_id() == fiber_.get_id()) return;  // from the function: the fiber ends after it
  fiber_.join();
  ec = withdraw_error_;
}

void LeaderSelector::close() {
  or_throw("close selector", path_, [&](std::error_code& ec) { close(ec); });
}

bool LeaderSelector::is_leader() const { return leader_ && term_ && !term_->lost(); }
int64_t LeaderSelector::token() const { return is_leader() ? term_->token() : 0; }

// ---- LeaderObserver ----------------------------------------------------------------------

LeaderObserver::LeaderObserver(Client& client, std::string path, std::string_view node_name)
    : client_(client),
      path_(std::move(path)),
      node_name_(node_name),
      watches_(std::make_shared<detail::ElectionWatches>()) {
  state_listener_ = client_.add_state_listener([this](SessionState) { watches_->wake.notify(); });
  fiber_ = boost::fibers::fiber([this] { run(); });
}

LeaderObserver::~LeaderObserver() {
  stop_ = true;
  watches_->wake.notify();
  fiber_.join();
  client_.remove_state_listener(state_listener_);
}

void LeaderObserver::run() {
  auto& s = *watches_;
  const auto wait = [&] { s.wake.wait_until(Clock::time_point::max()); };
  while (!stop_) {
    const SessionState state = client_.state();
    if (!is_connected(state)) {
      wait();
      continue;
    }
    // The leader is the first node in line; watch it (or, with no one in
    // line, the children; with no election path, the path).
    std::error_code ec;
    std::optional<Participant> now;
    bool watching = false;
    auto kids = client_.children(path_, {}, ec);
    if (ec == Error::noNode) {
      Watcher watcher = detail::ElectionWatches::arm(watches_, path_);
      const bool armed_now = static_cast<bool>(watcher);
      const auto there = client_.exists(path_, std::move(watcher), ec);
      if (ec && armed_now) s.armed.erase(path_);  // no reply, no watch (see watched_get)
      if (there && !ec) continue;                 // created meanwhile
      watching = !ec;
    } else if (!ec) {
      const auto sorted = sorted_by_sequence(std::move(kids.names), node_name_);
      if (sorted.empty()) {
        const std::string key = path_ + "/";  // armed-set key of the children watch
        if (s.armed.insert(key).second) {
          auto self = watches_;
          client_.children(
              path_,
              [self, key](const WatchedEvent&) {
                self->armed.erase(key);
                self->wake.notify();
              },
              ec);
          if (ec) s.armed.erase(key);
          if (!ec) continue;  // read again: someone may have joined before the watch was set
        }
        watching = !ec;
      } else {
        const std::string first = join(path_, sorted.front());
        auto data = detail::ElectionWatches::watched_get(watches_, client_, first, ec);
        if (ec == Error::noNode) continue;  // gone meanwhile: the next one leads
        if (!ec) {
          now = Participant{std::move(data.data), first, data.stat.czxid, true};
          watching = true;
        }
      }
    }
    if (!watching) {
      // Connection lost: wait for the state change. Another error: again in a while.
      s.wake.wait_until(ec == Error::connectionLoss ? Clock::time_point::max()
                                                    : Clock::now() + std::chrono::seconds(1));
      continue;
    }
    const bool differs = !ready_ || now.has_value() != leader_.has_value() ||
                         (now && (now->node != leader_->node || now->id != leader_->id));
    leader_ = std::move(now);
    ready_ = true;
    if (differs) {
      changed_.notify_all();
      call_all(listeners_, leader_);
    }
    wait();
  }
}

std::optional<Participant> LeaderObserver::wait_change(const std::optional<Participant>& from,
                                                       Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, deadline, [&] {
    return ready_ && (from.has_value() != leader_.has_value() || (from && from->node != leader_->node));
  });
  return leader_;
}

bool LeaderObserver::wait_ready(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return ready_; });
}

uint64_t LeaderObserver::on_change(Listener listener) {
  listeners_.emplace(++last_listener_, std::move(listener));
  return last_listener_;
}
void LeaderObserver::remove_listener(uint64_t id) { listeners_.erase(id); }

}  // namespace corral::recipes
