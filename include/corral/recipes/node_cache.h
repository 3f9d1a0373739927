// corral::recipes::NodeCache — a local copy of one znode's data and stat,
// kept current through a watch (Apache Curator's NodeCache, and CuratorCache
// with SINGLE_NODE_CACHE): the node may not exist yet, be created, change and
// be deleted; current() always returns the latest copy the cache has.
//
//   recipes::NodeCache cache(client, "/config/feature-flags");
//   cache.add_listener([](const std::optional<NodeData>& now) { ... });
//   cache.start();                          // returns once the first read is done
//   if (auto n = cache.current()) use(n->data);
//
// Znodes: none of its own; it reads `path`. One persistent watch on `path`
// (addWatch, ZooKeeper 3.6+; see PersistentWatcher): each NodeCreated,
// NodeDataChanged or NodeDeleted leads to one getData, and events that queue
// up while a read is in flight are served by one more read, so a burst of
// writes costs a few reads and the cache lands on the last state. Changes are
// told apart by the stat's mzxid (a delete and re-create with the same data
// is a change too). Listeners hear the new state (nullopt: no node) on the
// cache's own fiber, once per change the cache saw; intermediate states of a
// burst may be skipped, never reordered. The Stat's child fields (numChildren,
// cversion, pzxid) are as of the last data read: child changes do not cause a
// read.
//
// Faults: while the connection is suspended current() keeps the last copy
// (it may be stale) and no listener is called. After a reconnect the watch is
// back (the client re-registers it) but ZooKeeper does not replay what
// changed meanwhile, so the cache reads the node again and tells listeners if
// it differs. When the session expires the copy stays as it was until the
// client has a new session (ClientOptions::renew_expired_session or
// Client::reconnect_new_session); then the watch is added again and the node
// re-read. is_current() is false from a suspension until that re-read.
//
// Calls: start() blocks the calling fiber until the first read or the
// deadline (operationTimeout; the cache keeps trying in the background).
// Everything runs on the Client's runtime thread; close (or destroy) the cache
// before its Client, and not from inside one of its listeners.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <system_error>

#include "corral/recipes/persistent_watcher.h"
#include "corral/recipes/watched_cache.h"
#include "corral/recipes/znodes.h"

namespace corral::recipes {

class NodeCache : public WatchedCache<NodeCache, std::function<void(const std::optional<NodeData>& now)>> {
 public:
  using Listener = std::function<void(const std::optional<NodeData>& now)>;
  static constexpr std::string_view kind = "NodeCache";

  NodeCache(Client& client, std::string path);
  ~NodeCache();

  // start(), close(), initialized(), is_current(), reads() (getData calls
  // made so far), add_listener(), remove_listener(): see WatchedCache.

  // The latest copy: nullopt when the node does not exist (or before start()
  // has read it).
  std::optional<NodeData> current() const;
  // Blocks the fiber until `pred(current())` holds (true) or `deadline`.
  bool wait_until(const std::function<bool(const std::optional<NodeData>&)>& pred, Clock::time_point deadline);

  const std::string& path() const { return watcher_.path(); }

 private:
  friend class WatchedCache<NodeCache, Listener>;
  void handle(const std::vector<WatchNotice>& batch);
  void refresh();
  void set(std::optional<NodeData> now);

  std::optional<NodeData> data_;
};

}  // namespace corral::recipes
