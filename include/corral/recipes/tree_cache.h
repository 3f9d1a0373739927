// corral::recipes::TreeCache — a local copy of a whole subtree (the root
// node and everything below it, down to max_depth), kept current through one
// persistent recursive watch (Apache Curator's TreeCache events, CuratorCache's
// single addWatch instead of a watch per node).
//
//   recipes::TreeCache cache(client, "/services", {.max_depth = 2});
//   cache.add_listener([](const recipes::TreeEvent& e) { ... });
//   cache.start();                                  // returns once initialized
//   for (const auto& [name, node] : cache.current_children("/services")) ...
//
// Znodes: none of its own. Depth: the root is depth 0, its children 1; with
// max_depth d the cache holds the nodes of depth <= d (Curator's maxDepth).
//
// How it stays current. start() adds the recursive watch, then walks the
// tree (getData and getChildren of a whole level at a time, pipelined) and
// reports nodeAdded for each node, parents before children, then initialized.
// Afterwards each event leads to one read: NodeCreated and NodeDataChanged
// to a getData of that node (events that queued up together are read in one
// pipelined burst), NodeDeleted removes the node (and anything still cached
// below it) at once. A recursive watch reports no NodeChildrenChanged, so new
// nodes are learned from their own NodeCreated and the data is what getData
// returns after the event (a node already changed again is reported once, with
// its latest data). Events below max_depth still reach the client (the server
// has no depth limit) and are dropped here.
//
// Order of the events a listener hears: nodeAdded of a node only when its
// parent is cached (so parents before children), nodeRemoved of a node only
// after its cached descendants (children before parents), nodeUpdated when the
// node's mzxid changed; for one path, in the order of the changes. Every event
// describes a state the node really had, possibly skipping intermediate ones.
// The Stat's child fields (numChildren, cversion, pzxid) are as of the node's
// last data read; current_children() is the cache's own list.
//
// Faults: connectionSuspended when the connection drops (the copy stays and
// may go stale); after a reconnect the watch is back (the client re-registers
// it) but ZooKeeper does not replay what changed meanwhile, so the cache walks
// the tree again and reports the difference (nodeRemoved, nodeAdded,
// nodeUpdated) followed by connectionReconnected. connectionLost when the
// session ends: the copy stays as it was until the client has a new session
// (ClientOptions::renew_expired_session or Client::reconnect_new_session);
// then the watch is added again, the tree walked and compared, and
// connectionReconnected reported. is_current() is false from a suspension
// until that walk is done.
//
// Calls: start() blocks the calling fiber until initialized or the deadline
// (operationTimeout; the cache keeps trying). Listeners run on the cache's
// own fiber. Everything runs on the Client's runtime thread; close (or
// destroy) the cache before its Client, and not from inside its listeners.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "corral/recipes/persistent_watcher.h"
#include "corral/recipes/watched_cache.h"
#include "corral/recipes/znodes.h"

namespace corral::recipes {

struct TreeCacheOptions {
  int max_depth = std::numeric_limits<int>::max();
  // false: keep only each node's Stat (the data reads still happen).
  bool cache_data = true;
};

// Curator's TreeCacheEvent.Type.
enum class TreeEventType {
  nodeAdded,
  nodeUpdated,
  nodeRemoved,
  initialized,
  connectionSuspended,
  connectionReconnected,
  connectionLost,
};
std::string_view to_string(TreeEventType type);

struct TreeEvent {
  TreeEventType type = TreeEventType::initialized;
  std::string path;  // node events only
  NodeData node;     // added/updated: the new copy; removed: the last one
};

class TreeCache : public WatchedCache<TreeCache, std::function<void(const TreeEvent&)>> {
 public:
  using Listener = std::function<void(const TreeEvent&)>;
  static constexpr std::string_view kind = "TreeCache";

  TreeCache(Client& client, std::string root, TreeCacheOptions options = {});
  ~TreeCache();

  // start() (blocks until the first walk is done), close(), initialized(),
  // is_current() (walked since the last reconnect or new session), reads()
  // (getData + getChildren calls made so far), add_listener(),
  // remove_listener(): see WatchedCache.

  // The cached copy of `path` (nullopt: not in the cache).
  std::optional<NodeData> current(std::string_view path) const;
  // The cached children of `path`, by name.
  std::map<std::string, NodeData> current_children(std::string_view path) const;
  // Every cached path, parents before children (children by name).
  std::vector<std::string> paths() const;
  std::size_t size() const { return nodes_.size(); }
  // Blocks the fiber until `pred()` holds (checked after each change) or `deadline`.
  bool wait_until(const std::function<bool()>& pred, Clock::time_point deadline);

  const std::string& root() const { return watcher_.path(); }

 private:
  friend class WatchedCache<TreeCache, Listener>;
  struct Entry {
    NodeData node;
    std::set<std::string> children;
  };
  using Nodes = std::map<std::string, Entry, std::less<>>;

  void handle(const std::vector<WatchNotice>& batch);
  void apply_events(const std::vector<WatchedEvent>& events);
  // Walks the tree and reports how it differs from the cache; false when
  // the connection dropped meanwhile (a reset follows).
  bool resync();
  int depth(std::string_view path) const;
  bool in_scope(std::string_view path) const;
  void add_or_update(const std::string& path, NodeData node);
  void remove_subtree(const std::string& path);
  void emit(const TreeEvent& event);
  void changed();
  void fail(std::error_code ec);

  TreeCacheOptions options_;
  Nodes nodes_;
};

}  // namespace corral::recipes
