// The client's side of watches: which callbacks wait on which paths.
//
// The server keeps at most one watch per (session, path, kind); the client
// fans an event out to every callback registered for it, as ZooKeeper's
// ZKWatchManager does: NodeCreated and NodeDataChanged reach data and exist
// watchers; NodeDeleted reaches data, exist and child watchers;
// NodeChildrenChanged reaches child watchers. One-time watchers are removed
// when they fire; persistent ones stay, recursive ones also fire for
// descendants (except NodeChildrenChanged). Pure: no I/O, no fibers.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "corral/wire/protocol.h"
#include "corral/wire/records.h"

namespace corral {

struct WatchedEvent {
  wire::EventType type = wire::EventType::none;
  wire::KeeperState state = wire::KeeperState::syncConnected;
  std::string path;  // as the caller sees it (chroot removed); empty for state events
};

using Watcher = std::function<void(const WatchedEvent&)>;

enum class WatchKind { data, exist, child, persistent, recursive };

class WatchTable {
 public:
  void add(WatchKind kind, const std::string& path, Watcher watcher);

  // The callbacks `event` reaches, in registration order; one-time ones are removed.
  std::vector<Watcher> take(const WatchedEvent& event);

  // Everything registered, removed, for the final event of a closed or expired session.
  std::vector<Watcher> take_all();

  // Removes the callbacks of `type` on `path`; false if there were none.
  // (ZooKeeper's removeWatches/removeAllWatches with local=true.)
  bool remove(const std::string& path, wire::WatcherType type);
  bool contains(const std::string& path, wire::WatcherType type) const;

  // The paths to re-register after a reconnect (client paths; the caller applies the chroot).
  wire::SetWatches2 registration(int64_t relative_zxid) const;
  bool empty() const;

 private:
  using Table = std::map<std::string, std::vector<Watcher>, std::less<>>;
  Table& table(WatchKind kind);
  const Table& table(WatchKind kind) const;
  static void move_out(Table& t, const std::string& path, std::vector<Watcher>& out);
  static void copy_out(const Table& t, const std::string& path, std::vector<Watcher>& out);

  Table data_, exist_, child_, persistent_, recursive_;
};

}  // namespace corral
