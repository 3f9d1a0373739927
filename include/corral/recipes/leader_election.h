// corral::recipes — leader election in the two styles users know, with a
// fencing token and observers.
//
//   LeaderLatch   campaign(), hold until resign() (Curator's LeaderLatch)
//   LeaderSelector run a function while leader, then step down and, if asked,
//                  queue again (Curator's LeaderSelector, autoRequeue)
//   LeaderObserver follow who leads without taking part
//
//   recipes::LeaderLatch latch(client, "/services/billing/leader", "host-17");
//   latch.on_change([&](LeadershipChange c, int64_t token) { ... });
//   if (latch.campaign(std::chrono::seconds(30))) {      // blocks this fiber only
//     write_fenced(latch.token(), ...);                   // refused downstream once deposed
//   }
//   latch.resign();                                        // the next in line leads
//
// Znodes (Curator's, so C++ and Java processes share one election): each
// participant is a protected ephemeral-sequential child of the election path
// whose data is the participant's id —
//   latch:    "<path>/_c_<uuid>-latch-<seq>"   (LeaderLatch)
//   selector: "<path>/_c_<uuid>-lock-<seq>"    (LeaderSelector = InterProcessMutex)
// The path is created as container nodes (it goes away when empty). Children
// are ordered by the digits after "latch-"/"lock-" (Curator's sorter); the
// first leads. Both styles queue in the lock engine (LockInternals, with
// Curator's standard driver and one lease): each waiter watches only the node
// just ahead of it (a getData watch, as Curator does, so no watch is left on a
// node already gone), so a leader stepping down wakes one participant, not all
// of them. The leader watches its own node, so a delete by someone else
// deposes it at once.
//
// Fencing token: the czxid of the leader's node. Successive leaders hold
// successive nodes of one queue, and a node is created after every node ahead
// of it, so each new leader's token is larger than every earlier leader's —
// also across a removed and re-created election path. The sequence number
// would not do: it restarts at 0 when the (container) parent is deleted and
// created again, while zxids never go back. Attach the token to writes so a
// store can refuse those of a deposed leader; within ZooKeeper, guarded() puts
// a check of the leader's node in front of a transaction. A leader suspended
// and re-confirmed with the same node (no one else led meanwhile) keeps its
// token.
//
// Faults (both styles):
//   * Suspended (the connection dropped): a leader is told `suspended` the
//     moment the client reports it, and is_leader() is false from the moment
//     the client's state changed: it must stop acting as leader (Curator's
//     default error policy). Its node stays; when the connection comes back
//     with the same session it checks the queue again and, still first, is
//     told `elected` again with the same token. Waiters keep waiting.
//   * Session expired (or the client closed): a leader is told `expired`; its
//     node is gone. A started latch or queued selector takes part again, with
//     a new node at the back, as soon as the client has a new session
//     (reconnect_new_session() or ClientOptions::renew_expired_session).
//   * Lost create reply: the node is looked for by its protected id before
//     trying again, so no orphan blocks the election.
//   * Our node deleted by someone else: a leader is told `deleted`; the
//     participant queues again with a new node.
//
// Threads and fibers: create and use these on the client's runtime thread.
// Each latch, selector and observer runs one fiber of its own (started by
// campaign()/start()/the constructor) that follows the queue. Listeners run on
// the client's event fiber when the change comes from the connection or a watch
// (suspended, expired, deleted) and on the recipe's own fiber (elected) or the
// calling fiber (resigned) otherwise, always in the order of the changes. They
// must not block, nor resign, close or destroy the recipe that calls them.
// Destroy a recipe before its client.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/mutex.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "corral/recipes/znodes.h"

namespace corral::recipes {

// The node names of Curator's two election recipes.
inline constexpr std::string_view latch_node_name = "latch-";
inline constexpr std::string_view selector_node_name = "lock-";

// One participant of an election, as read from its node.
struct Participant {
  std::string id;       // the participant's id (its node's data)
  std::string node;     // its node's full path
  int64_t token = 0;    // its node's czxid: the fencing token it leads with
  bool leader = false;  // first in line
};

// Everyone in the election at `path` whose nodes are named `node_name`, in
// line order (the leader first), read from the server now. An election whose
// path does not exist has no participants.
std::vector<Participant> election_participants(Client& client, std::string_view path, std::string_view node_name,
                                               std::error_code& ec);
// The leader, or nullopt when there is none.
std::optional<Participant> election_leader(Client& client, std::string_view path, std::string_view node_name,
                                           std::error_code& ec);

// What a participant's listeners hear.
enum class LeadershipChange {
  elected,    // it leads; the token is its fencing token
  suspended,  // the connection dropped: it can no longer be sure it leads
  expired,    // the session ended (expired, closed, auth failed): it does not lead
  deleted,    // someone else deleted its node: it does not lead
  resigned,   // it stepped down (resign(), close(), the selector's function returned)
};
std::string_view to_string(LeadershipChange change);
using LeadershipListener = std::function<void(LeadershipChange change, int64_t token)>;

namespace detail {
struct Candidate;        // a place in the lock engine's queue (leader_election.cc)
struct ElectionWatches;  // what a recipe's fiber shares with its watches

// What both styles offer besides leading: the election read from the server
// now, and the listeners of this participant's leadership.
class ElectionView {
 public:
  // Read from the server now (see election_participants).
  std::vector<Participant> participants(std::error_code& ec);
  std::vector<Participant> participants();
  std::optional<Participant> leader(std::error_code& ec);
  std::optional<Participant> leader();
  // The current leader's id ("" when there is none).
  std::string leader_id();
  const std::string& path() const { return path_; }

  // Listeners of this participant's leadership; the id removes one again.
  uint64_t on_change(LeadershipListener listener);
  void remove_listener(uint64_t id);

 protected:
  ElectionView(Client& client, std::string path, std::string_view node_name);
  ~ElectionView() = default;
  ElectionView(const ElectionView&) = delete;
  ElectionView& operator=(const ElectionView&) = delete;
  void notify(LeadershipChange change, int64_t token);

  Client& client_;
  const std::string path_;

 private:
  std::string_view node_name_;
  std::map<uint64_t, LeadershipListener> listeners_;
  uint64_t last_listener_ = 0;
};
}  // namespace detail

// A participant that, once started, stays in the election and leads whenever
// its turn comes, until resign() (Curator's LeaderLatch).
class LeaderLatch : public detail::ElectionView {
 public:
  LeaderLatch(Client& client, std::string path, std::string id = {});
  // Resigns (errors ignored).
  ~LeaderLatch();
  LeaderLatch(const LeaderLatch&) = delete;
  LeaderLatch& operator=(const LeaderLatch&) = delete;

  // Takes part in the election without waiting (its fiber creates the node
  // and follows the queue). Again after resign(): a new node, at the back.
  void start();
  // start(), then blocks the calling fiber until this participant leads
  // (true), or: `deadline` passes (operationTimeout; it stays in line), the
  // session expires meanwhile or has expired (sessionExpired; it takes part
  // again with the next session), the client is closed (connectionLoss) or
  // resign() is called (operation_canceled).
  bool campaign(Clock::time_point deadline, std::error_code& ec);
  // Throws std::system_error for everything but the timeout (false).
  bool campaign(std::chrono::milliseconds timeout);
  // Steps down and leaves the election: listeners hear `resigned` if it led,
  // then its node is deleted so the next in line leads. Waits for the latch's
  // fiber to end; a node that cannot be deleted (the client stays away for
  // the session timeout) goes with the session. Not an error when not started.
  void resign(std::error_code& ec);
  void resign();
  void close() { resign(); }

  bool started() const { return started_; }
  // Leads now: elected, not deposed since, and the client connected.
  bool is_leader() const;
  // The fencing token while is_leader(), else 0.
  int64_t token() const;
  const std::string& id() const { return id_; }
  // Our node's full path ("" when it has none right now).
  std::string our_node() const;
  // A transaction that applies only while the node we last led with exists
  // (a check of it comes first): writes a deposed leader can no longer make.
  // Add ops, then client.multi(it); noNode means deposed. Throws
  // operation_not_permitted when this latch has not led since it started.
  Transaction guarded() const;

 private:
  void run();
  void become_leader(int64_t token, const std::string& node);
  void lose(LeadershipChange why);

  std::string id_;
  std::unique_ptr<detail::Candidate> candidate_;
  boost::fibers::fiber fiber_;
  bool started_ = false;
  bool leader_ = false;
  bool doubtful_ = false;  // lost by a suspension: the final word is still to come
  int64_t token_ = 0;
  std::string leading_node_;
  uint64_t expiries_ = 0;  // session ends seen: campaign() stops waiting on one
  std::error_code withdraw_error_;
  uint64_t state_listener_ = 0;
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable changed_;
};

// The one-word name the issue uses for the campaign/resign style.
using LeaderElection = LeaderLatch;

// A participant that runs a function each time it leads and steps down when
// the function returns (Curator's LeaderSelector). With auto_requeue it then
// queues again at the back, so participants take turns.
//
//   LeaderSelector selector(client, "/jobs/compactor", "host-17",
//                           [&](LeaderSelector::Term& term) {
//                             while (!term.lost()) compact_one(term.token());
//                           });
//   selector.auto_requeue();
//   selector.start();
//
// The function runs on the selector's fiber. It must return promptly once
// term.lost() turns true — the connection was suspended, the session ended,
// its node was deleted, or close()/interrupt_leadership() was called — as
// Curator's listener must when it sees SUSPENDED or LOST (no fiber can be
// interrupted from outside). An exception from the function ends the term
// like a return. A queued selector stays queued across sessions: after an
// expiry it rejoins with the next session.
class LeaderSelector : public detail::ElectionView {
 public:
  // One leadership: handed to the function while it runs.
  class Term {
   public:
    int64_t token() const { return token_; }
    const std::string& node() const { return node_; }
    // True once this leadership can no longer be trusted (see above); true
    // from the moment the client is no longer connected.
    bool lost() const;
    // Why, once lost().
    std::optional<LeadershipChange> why() const { return why_; }
    // Blocks the fiber until lost() (true) or `deadline` (false).
    bool wait_lost(Clock::time_point deadline);
    bool wait_lost_for(std::chrono::milliseconds timeout) { return wait_lost(Clock::now() + timeout); }

   private:
    friend class LeaderSelector;
    Term(Client& client, int64_t token, std::string node) : client_(client), token_(token), node_(std::move(node)) {}
    void lose(LeadershipChange why);

    Client& client_;
    int64_t token_;
    std::string node_;
    std::optional<LeadershipChange> why_;
    boost::fibers::mutex mutex_;
    boost::fibers::condition_variable cv_;
  };
  using Function = std::function<void(Term& term)>;

  LeaderSelector(Client& client, std::string path, std::string id, Function lead);
  // close() (errors ignored).
  ~LeaderSelector();
  LeaderSelector(const LeaderSelector&) = delete;
  LeaderSelector& operator=(const LeaderSelector&) = delete;

  // Queue again whenever the function has returned (Curator's autoRequeue).
  void auto_requeue(bool on = true) { auto_requeue_ = on; }
  // Starts the selector's fiber and queues once.
  void start();
  // Queues again after the function returned; false if already queued or
  // leading, or not started.
  bool requeue();
  // Ends the current term (Term::lost() turns true, why() `resigned`); with
  // auto_requeue the selector queues again.
  void interrupt_leadership();
  // Leaves: a place in the queue is given up; a running function is told
  // (lost()) and waited for; our node is deleted. Not an error when not started.
  void close(std::error_code& ec);
  void close();

  bool is_leader() const;
  int64_t token() const;
  const std::string& id() const { return id_; }
  // Times the function has been called.
  uint64_t terms() const { return terms_; }

 private:
  void run();
  void lose(LeadershipChange why);

  std::string id_;
  Function lead_;
  std::unique_ptr<detail::Candidate> candidate_;
  boost::fibers::fiber fiber_;
  bool started_ = false;
  bool queued_ = false;
  bool auto_requeue_ = false;
  bool leader_ = false;
  bool doubtful_ = false;
  uint64_t terms_ = 0;
  std::shared_ptr<Term> term_;
  std::error_code withdraw_error_;
  uint64_t state_listener_ = 0;
};

// Follows who leads the election at `path` (nodes named `node_name`) without
// taking part: keeps the current leader and calls listeners when it changes
// (another node leads, or none does). Herd-free too: it watches the leader's
// node only (the path's children only while no one is in line), so a join
// behind the leader does not wake it. While the client is suspended leader()
// keeps the last leader seen; after a reconnect or a new session it reads
// again. Listeners run on the observer's fiber.
class LeaderObserver {
 public:
  using Listener = std::function<void(const std::optional<Participant>& leader)>;

  LeaderObserver(Client& client, std::string path, std::string_view node_name = latch_node_name);
  ~LeaderObserver();
  LeaderObserver(const LeaderObserver&) = delete;
  LeaderObserver& operator=(const LeaderObserver&) = delete;

  // The leader as last read (nullopt: none, or not read yet).
  const std::optional<Participant>& leader() const { return leader_; }
  // Blocks the fiber until the leader read differs from `from` (another node,
  // or none), or `deadline`; returns the leader then.
  std::optional<Participant> wait_change(const std::optional<Participant>& from, Clock::time_point deadline);
  // Blocks until the first read (true) or `deadline`.
  bool wait_ready(Clock::time_point deadline);

  uint64_t on_change(Listener listener);
  void remove_listener(uint64_t id);

 private:
  void run();

  Client& client_;
  std::string path_;
  std::string node_name_;
  std::shared_ptr<detail::ElectionWatches> watches_;
  boost::fibers::fiber fiber_;
  bool stop_ = false;
  bool ready_ = false;
  std::optional<Participant> leader_;
  std::map<uint64_t, Listener> listeners_;
  uint64_t last_listener_ = 0;
  uint64_t state_listener_ = 0;
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable changed_;
};

}  // namespace corral::recipes
