// corral::recipes::DoubleBarrier — the ZooKeeper paper's double barrier
// (Apache Curator's DistributedDoubleBarrier, same znodes), built for BSP
// supersteps: many rounds on one object.
//
//   recipes::DoubleBarrier barrier(client, "/jobs/pagerank/barrier", 8);
//   for (int step = 0; step < steps; ++step) {
//     barrier.enter();            // returns when 8 participants have entered
//     compute(step);
//     barrier.leave();            // returns when every participant has left
//   }
//
// Znodes (Curator's layout):
//   <path>/<uuid>   one ephemeral node per participant inside the barrier
//                   (the uuid is fixed per object, as in Curator; data: the round)
//   <path>/ready    persistent; exists once a round's threshold was reached.
//                   Ours carries the round's state: "round <r> entered" (round
//                   r reached its threshold) or "round <r> left" (every
//                   participant of round r has left). Data we cannot parse
//                   (Curator writes the client's address) means "entered".
// <path> and its ancestors are created as containers.
//
// Enter (round r): create our node; the participant that sees `threshold`
// members marks ready "round r entered" and everybody waiting is woken by
// their watch on ready (one event per participant per round, no herd of
// child events). More than `threshold` may enter: it is a threshold, not a
// limit; a participant arriving when round r is already entered passes at
// once and takes part in its leave (as in Curator).
//
// Leave (round r), the paper's lowest/highest protocol on the members sorted
// by name (Curator's order): the lowest member waits for the highest to go;
// every other member deletes its node and waits for the lowest to go; the
// last member deletes its node and marks ready "round r left" in one
// transaction. leave() returns once ready says round r has left, so a
// participant can enter round r+1 at once: a slower participant still in
// leave(r) sees "round r left" before it could mistake a round-r+1 node for
// a round-r member, and enter(r+1) waits while ready still says "round r
// entered". A member's name is the same in every round, so a leaver waiting
// on a node also watches ready: the node may be gone and back for round r+1
// (its owner then waits for us in enter), and "round r left" ends our wait.
// The state only moves forward (version-checked writes), so late or repeated
// writes cannot undo a round. Each object counts its rounds; a
// new object (or one whose wait failed) joins the round ready reports.
//
// Curator: one round with Curator's DistributedDoubleBarrier processes works
// (same names, same sort, same ready node). Curator deletes ready after every
// leave, which makes its own reuse of one path racy (a late delete can remove
// the next round's ready, and a slow leaver can wait on next-round nodes);
// our rounds keep ready and move its state instead, so mixing the two for
// more than one round is not supported. A missing ready node during leave
// means the round is over (Curator's last leaver removed it).
//
// Faults:
//   * Connection suspended: waits keep waiting (watches are re-armed after
//     the reconnect) or time out; on_lost() listeners hear `suspended` at
//     once while this participant is inside the barrier.
//   * Session expired: our node is gone, so we no longer count (the paper's
//     "a participant that dies"): others' enter() does not count us and their
//     leave() stops waiting for us. Our enter()/leave() fail with
//     sessionExpired and on_lost() hears `expired`; after the client has a
//     new session the object can enter again (the round it joins is read
//     from ready).
//   * A participant whose process dies is gone when its session expires:
//     leave() waits at most that long for it; before the threshold it simply
//     stops counting.
//   * Lost create reply: our node's name is our uuid, so a retry that finds
//     it (nodeExists, our session as owner) knows it is ours.
//   * Timeouts: a timed-out enter() or leave() removes our node and returns
//     false (operationTimeout in the error_code form); others may have counted
//     us meanwhile. The next enter() starts after the round we gave up has
//     been left by everybody.
//
// One participant per object: call enter()/leave() from one fiber at a time.
// The destructor removes our node, and the ready node when no participant is
// left and the last round is over (so the container path can go away).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "corral/recipes/znodes.h"

namespace corral::recipes {

class DoubleBarrier {
 public:
  DoubleBarrier(Client& client, std::string path, int threshold);
  ~DoubleBarrier();
  DoubleBarrier(const DoubleBarrier&) = delete;
  DoubleBarrier& operator=(const DoubleBarrier&) = delete;

  // Blocks the fiber until `threshold` participants have entered this round
  // (true) or `deadline` passes (false, ec = operationTimeout).
  bool enter(Clock::time_point deadline, std::error_code& ec);
  // Throws std::system_error; the _for form returns false on timeout.
  void enter();
  bool enter_for(std::chrono::milliseconds timeout);

  // Blocks the fiber until every participant of this round has left (true)
  // or `deadline` passes (false, ec = operationTimeout). Without a preceding
  // enter(): operation_not_permitted.
  bool leave(Clock::time_point deadline, std::error_code& ec);
  void leave();
  bool leave_for(std::chrono::milliseconds timeout);

  // The round the next enter() joins, or the one we are in.
  int64_t round() const { return round_; }
  // Between a successful enter() and the end of leave().
  bool inside() const { return inside_; }
  // The participants' node names, sorted (Curator's order).
  std::vector<std::string> members(std::error_code& ec);
  const std::string& path() const { return path_; }
  const std::string& our_name() const { return name_; }

  // Called (on the client's event fiber) with `suspended` or `expired` when
  // the connection drops or the session ends while we are inside.
  void on_lost(std::function<void(SessionState)> listener);

  // The ready node's state, as written by enter/leave. Public for tests.
  struct State {
    enum Kind { absent, foreign, entered, left } kind = absent;
    int64_t round = 0;
    int32_t version = -1;
  };
  static std::string encode(State::Kind kind, int64_t round);
  static State decode(std::string_view data, int32_t version);

 private:
  struct View {
    std::vector<std::string> members;  // sorted
    State state;
  };
  enum class Order { members_first, state_first };
  // The members and ready's state, read in one round trip in `order`; a
  // watcher is left on ready (data, or exists when it is absent).
  View read(Order order, std::error_code& ec, const Watcher& watcher = {});
  // Moves ready forward to (kind, round) unless it is already there or past.
  void advance(const State& seen, State::Kind kind, int64_t round, std::error_code& ec);
  void create_our_node(Clock::time_point deadline, std::error_code& ec);
  void remove_our_node(std::error_code& ec);
  bool fail(std::error_code& ec, std::error_code why);

  Client& client_;
  std::string path_;
  std::string ready_;
  std::string name_;
  std::string our_path_;
  int threshold_;
  int64_t round_ = 0;
  bool inside_ = false;
  bool node_exists_ = false;
  std::vector<std::function<void(SessionState)>> lost_listeners_;
  uint64_t state_listener_ = 0;
};

}  // namespace corral::recipes
