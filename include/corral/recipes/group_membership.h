// corral::recipes::GroupMembership — who is in a group, kept current through
// watches, and this process's own membership (Apache Curator's GroupMember).
//
//   recipes::GroupMembership group(client, "/services/billing/members");
//   group.join("host-17", "10.0.0.17:8080");            // blocks this fiber only
//   group.on_change([](const GroupMembership::Change& c) { ... });
//   for (const auto& [id, data] : group.members()) ...  // the current view
//   while (auto c = group.next_change(deadline)) ...    // or as a stream
//   group.update("10.0.0.17:8081");
//   group.leave();                                      // also done by the destructor
//
// Znodes (Curator's GroupMember, so C++ and Java members share a group): each
// member is an ephemeral "<path>/<member id>" whose data is the member's
// data; the path is created as container nodes. Ids are plain node names (no
// '/'). A fixed name is its own protection: a create whose reply was lost is
// recognised by the node's ephemeralOwner being our session.
//
// The view: one children watch on the path and one data watch per member. A
// change wakes the group's fiber, which re-lists the children and reads only
// members that are new or whose data watch fired (the reads pipelined), so a
// change costs one list and one read per changed member. Changes are reported
// as `joined`, `left` and `updated`; a member deleted and re-created between
// two looks (its czxid changed) is reported as left then joined. The first
// look reports every member present as joined.
//
// Own membership: join() creates the node; from then on the group's fiber
// keeps it there (Curator's PersistentNode): it is re-created, with the
// latest data, when someone deletes it and when the client has a new session
// after an expiry. While another session holds the id (the previous run of a
// restarted process whose session has not timed out yet), join() waits for it
// to go, up to its deadline.
//
// Faults: while the connection is suspended the view keeps the last state
// seen (synced() stays true: it may be stale) and calls wait; after a
// reconnect with the same session the watches are re-armed by the client, so
// changes made meanwhile are reported, and the group looks again at once.
// When the session expires our node is gone (others see us leave); the view is
// read again in full with the next session (differences reported), and a
// joined member rejoins.
//
// Threads and fibers: create and use on the client's runtime thread; the group
// runs one fiber of its own. Listeners run on that fiber, in order, and must
// not block nor destroy the group. Destroy the group before its client.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/mutex.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "corral/recipes/znodes.h"

namespace corral::recipes {

class GroupMembership {
 public:
  struct Change {
    enum class Kind { joined, left, updated };
    Kind kind = Kind::joined;
    std::string id;
    std::string data;  // the member's data (for `left`: its last known data)
  };
  using Members = std::map<std::string, std::string>;  // id -> data
  using Listener = std::function<void(const Change&)>;
  // next_change() keeps at most this many changes not yet taken (the oldest go).
  static constexpr std::size_t max_queued_changes = 10000;

  // Starts following the group at `path` (it may not exist yet). Does not join.
  GroupMembership(Client& client, std::string path);
  // Leaves (errors ignored) and stops following.
  ~GroupMembership();
  GroupMembership(const GroupMembership&) = delete;
  GroupMembership& operator=(const GroupMembership&) = delete;

  // Joins as `id` with `data`: returns once our node exists. Errors:
  // operationTimeout (`deadline` passed while disconnected), nodeExists
  // (another session held the id until `deadline`), sessionExpired /
  // authFailed / connectionLoss (closed client), badArguments (an id that is
  // not a node name), operation_not_permitted (already joined: leave first),
  // and the server's codes (noAuth, ...).
  void join(std::string id, std::string data, Clock::time_point deadline, std::error_code& ec);
  void join(std::string id, std::string data = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Deletes our node and stops keeping it. Retries through a suspension for
  // up to the session timeout (after that the node goes with the session).
  // Not an error when not joined.
  void leave(std::error_code& ec);
  void leave();
  // Sets our data (kept for re-creations too). Not joined: operation_not_permitted.
  void update(std::string data, std::error_code& ec);
  void update(std::string data);

  bool joined() const { return joined_; }
  const std::string& id() const { return id_; }
  const std::string& path() const { return path_; }

  // The group as last seen.
  const Members& members() const { return members_; }
  // The view has been read at least once.
  bool synced() const { return synced_; }
  bool wait_synced(Clock::time_point deadline);
  // The next change not taken yet, waiting until `deadline` for one.
  std::optional<Change> next_change(Clock::time_point deadline);
  std::optional<Change> next_change(std::chrono::milliseconds timeout) { return next_change(Clock::now() + timeout); }

  uint64_t on_change(Listener listener);
  void remove_listener(uint64_t id);

  struct Shared;  // what the fiber and the watches share (group_membership.cc)

 private:
  struct Seen {
    std::string data;
    int64_t czxid = 0;
    int64_t owner = 0;
  };

  void run();
  void look(std::error_code& ec);
  void keep_our_node(std::error_code& ec);
  void report(Change change);

  Client& client_;
  std::string path_;
  std::shared_ptr<Shared> shared_;
  boost::fibers::fiber fiber_;

  bool joined_ = false;
  std::string id_;
  std::string data_;

  bool synced_ = false;
  Members members_;
  std::map<std::string, Seen> seen_;
  std::deque<Change> changes_;
  std::map<uint64_t, Listener> listeners_;
  uint64_t last_listener_ = 0;
  uint64_t state_listener_ = 0;
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable changed_;
};

std::string_view to_string(GroupMembership::Change::Kind kind);

}  // namespace corral::recipes
