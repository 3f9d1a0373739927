// corral::recipes::PersistentWatcher — a persistent (optionally recursive)
// watch kept in place across reconnects and new sessions (Apache Curator's
// PersistentWatcher), with a fiber of its own that hands what the watch and
// the client report to a handler, in the order the client delivered them.
// NodeCache, TreeCache and Configuration are built on it.
//
//   recipes::PersistentWatcher w(client, "/services", /*recursive=*/true);
//   w.start([&](const std::vector<recipes::WatchNotice>& batch) { ... });
//
// The handler runs on the watcher's fiber, not on the client's event fiber:
// it may call the client (block) without holding up other recipes' watches
// and state listeners. It is handed everything that queued up while it was
// busy as one batch, so it can coalesce (one read for many events). What a
// batch holds (WatchNotice::Kind):
//   event      a watch event: NodeCreated, NodeDeleted, NodeDataChanged on the
//              path (recursive: on it or below it; ZooKeeper reports no
//              NodeChildrenChanged to a recursive watch); a non-recursive
//              watch also hears NodeChildrenChanged of the path.
//   reset      the watch is in place (again): once the client is connected
//              after start(), after each reconnect, and after a new session
//              replaced an expired one. A persistent watch re-armed after a
//              reconnect reports nothing of what changed while it was away
//              (ZooKeeper's setWatches replays only one-time watches), so a
//              handler that caches must re-read here. `state` says
//              connected (first session or a new one) or reconnected.
//   suspended  the connection dropped; the session may still be alive.
//   lost       the session ended (`state`: expired, closed or authFailed);
//              the watch is gone until a new session brings a reset.
//   failed     addWatch was refused (`error`: noAuth, unimplemented on a
//              server older than ZooKeeper 3.6, ...); no retry.
//
// Several PersistentWatchers of one path and mode on one Client share one
// watch (the client's WatchTable can only drop a path's watches of a kind
// together); the last to close removes it from the server where the server
// can (corral-server; ZooKeeper 3.8 knows no removeWatches of the persistent
// kinds, so there the client forgets it and the server's copy ends with the
// connection). Everything runs on the Client's runtime thread; a
// PersistentWatcher must be closed (or destroyed) before its Client, and not
// from inside its own handler.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/mutex.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "corral/client.h"

namespace corral::recipes {

struct WatchNotice {
  enum class Kind { event, reset, suspended, lost, failed };
  Kind kind = Kind::event;
  WatchedEvent event;                            // event
  SessionState state = SessionState::connected;  // reset, suspended, lost
  std::error_code error;                         // failed
};

class PersistentWatcher {
 public:
  using Handler = std::function<void(const std::vector<WatchNotice>& batch)>;

  PersistentWatcher(Client& client, std::string path, bool recursive);
  ~PersistentWatcher();
  PersistentWatcher(const PersistentWatcher&) = delete;
  PersistentWatcher& operator=(const PersistentWatcher&) = delete;

  // Starts the fiber; the watch is added as soon as the client is connected
  // (at once if it is). Once only.
  void start(Handler handler);
  // Stops hearing events, removes the watch if no other watcher shares it,
  // and waits for the handler to return. Idempotent.
  void close();

  Client& client() { return client_; }
  const std::string& path() const { return path_; }
  bool recursive() const { return recursive_; }

  struct Hub;  // the watch shared by the watchers of one path on one client

 private:
  struct Item {
    bool is_state = false;
    SessionState state = SessionState::connecting;
    WatchedEvent event;
  };
  friend struct Hub;
  void push(Item item);
  void run();

  Client& client_;
  std::string path_;
  bool recursive_;
  Handler handler_;
  std::shared_ptr<Hub> hub_;
  uint64_t listener_ = 0;
  bool started_ = false;

  std::deque<Item> queue_;
  bool stopping_ = false;
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable cv_;
  boost::fibers::fiber fiber_;
};

}  // namespace corral::recipes
