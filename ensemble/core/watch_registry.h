// Who watches what: ZooKeeper's two watch tables (data and child), with its
// three modes (one-time standard, persistent, persistent-recursive) and its
// firing rules (WatchManager.java):
//  * a change fires the watchers at its path; a standard watch is then gone,
//    persistent ones stay;
//  * persistent-recursive watches live only in the data table and also fire
//    for changes anywhere below their path (never for NodeChildrenChanged);
//  * a watcher gets at most one event per trigger, and NodeDeleted reaches a
//    watcher with both a data and a child watch on the path only once.
// Watchers are sessions; a session's watches go when its connection does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "corral/wire/protocol.h"
#include "ensemble/core/data_tree.h"

namespace corral::ensemble {

using WatcherId = int64_t;

enum class WatchTable { data, child };

namespace watch_mode {
inline constexpr uint8_t standard = 1;
inline constexpr uint8_t persistent = 2;
inline constexpr uint8_t recursive = 4;
}  // namespace watch_mode

struct Notification {
  WatcherId watcher;
  wire::EventType type;
  std::string path;
};

class WatchRegistry {
 public:
  void add(WatchTable table, std::string_view path, WatcherId w, uint8_t mode);
  // addWatch: persistent goes in both tables, recursive in the data table only.
  void add_persistent(std::string_view path, WatcherId w, wire::AddWatchMode mode);

  // Appends the notifications `trigger` causes, consuming one-time watches.
  void fire(const WatchTrigger& trigger, std::vector<Notification>& out);

  // checkWatches / removeWatches semantics for a WatcherType. Children and
  // Data mean "any watch in that table" as in ZooKeeper 3.8; Persistent and
  // PersistentRecursive (types 4 and 5, from ZooKeeper 3.9) pick one mode.
  bool contains(std::string_view path, WatcherId w, wire::WatcherType type) const;
  bool remove(std::string_view path, WatcherId w, wire::WatcherType type);
  void remove_watcher(WatcherId w);

  // For the four-letter words.
  std::size_t watch_count() const;         // (watcher, path, table) entries
  std::size_t watched_path_count() const;  // distinct paths with any watcher
  std::size_t watcher_count() const;       // distinct watchers
  // path -> watchers and watcher -> paths, both tables merged, sorted.
  std::vector<std::pair<std::string, std::vector<WatcherId>>> by_path() const;
  std::vector<std::pair<WatcherId, std::vector<std::string>>> by_watcher() const;

 private:
  struct Table {
    std::unordered_map<std::string, std::unordered_map<WatcherId, uint8_t>> by_path;
    std::unordered_map<WatcherId, std::unordered_set<std::string>> by_watcher;
    std::size_t recursive = 0;

    void add(std::string_view path, WatcherId w, uint8_t mode);
    uint8_t modes(std::string_view path, WatcherId w) const;
    // Clears `mode` bits (all bits when mode == 0); true if any bit was set.
    bool remove(std::string_view path, WatcherId w, uint8_t mode);
    void fire(std::string_view path, std::unordered_set<WatcherId>& fired);
  };

  void emit(const std::unordered_set<WatcherId>& watchers, const std::unordered_set<WatcherId>* skip,
            const WatchTrigger& trigger, std::vector<Notification>& out) const;

  Table data_;
  Table child_;
};

}  // namespace corral::ensemble
