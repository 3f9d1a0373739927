#include "ensemble/core/watch_registry.h"

#include <algorithm>
#include <map>
#include <set>

#include "ensemble/core/path.h"

namespace corral::ensemble {

void WatchRegistry::Table::add(std::string_view path, WatcherId w, uint8_t mode) {
  auto& modes_here = by_path[std::string(path)][w];
  if ((mode & watch_mode::recursive) && !(modes_here & watch_mode::recursive)) ++recursive;
  modes_here |= mode;
  by_watcher[w].emplace(path);
}

uint8_t WatchRegistry::Table::modes(std::string_view path, WatcherId w) const {
  auto it = by_path.find(std::string(path));
  if (it == by_path.end()) return 0;
  auto jt = it->second.find(w);
  return jt == it->second.end() ? 0 : jt->second;
}

bool WatchRegistry::Table::remove(std::string_view path, WatcherId w, uint8_t mode) {
  auto it = by_path.find(std::string(path));
  if (it == by_path.end()) return false;
  auto jt = it->second.find(w);
  if (jt == it->second.end()) return false;
  const uint8_t clear = mode == 0 ? uint8_t{0xff} : mode;
  const uint8_t before = jt->second;
  if ((before & clear) == 0) return false;
  if ((before & watch_mode::recursive) && (clear & watch_mode::recursive)) --recursive;
  jt->second = static_cast<uint8_t>(before & ~clear);
  if (jt->second == 0) {
    it->second.erase(jt);
    if (it->second.empty()) by_path.erase(it);
    auto wt = by_watcher.find(w);
    wt->second.erase(std::string(path));
    if (wt->second.empty()) by_watcher.erase(wt);
  }
  return true;
}

void WatchRegistry::Table::fire(std::string_view path, std::unordered_set<WatcherId>& fired) {
  // The exact path: everyone fires; one-time watches are consumed.
  if (auto it = by_path.find(std::string(path)); it != by_path.end()) {
    std::vector<WatcherId> spent;
    for (auto& [w, modes] : it->second) {
      fired.insert(w);
      if (modes & watch_mode::standard) {
        modes = static_cast<uint8_t>(modes & ~watch_mode::standard);
        if (modes == 0) spent.push_back(w);
      }
    }
    for (WatcherId w : spent) {
      it->second.erase(w);
      auto wt = by_watcher.find(w);
      wt->second.erase(std::string(path));
      if (wt->second.empty()) by_watcher.erase(wt);
    }
    if (it->second.empty()) by_path.erase(it);
  }
  // Ancestors: only recursive watches, which are never consumed.
  if (recursive == 0 || path.size() <= 1) return;
  std::string_view p = path;
  do {
    p = parent_path(p);
    if (auto it = by_path.find(std::string(p)); it != by_path.end()) {
      for (const auto& [w, modes] : it->second) {
        if (modes & watch_mode::recursive) fired.insert(w);
      }
    }
  } while (p.size() > 1);
}

void WatchRegistry::add(WatchTable table, std::string_view path, WatcherId w, uint8_t mode) {
  (table == WatchTable::data ? data_ : child_).add(path, w, mode);
}

void WatchRegistry::add_persistent(std::string_view path, WatcherId w, wire::AddWatchMode mode) {
  if (mode == wire::AddWatchMode::persistentRecursive) {
    data_.add(path, w, watch_mode::recursive);
  } else {
    data_.add(path, w, watch_mode::persistent);
    child_.add(path, w, watch_mode::persistent);
  }
}

void WatchRegistry::emit(const std::unordered_set<WatcherId>& watchers, const std::unordered_set<WatcherId>* skip,
                         const WatchTrigger& trigger, std::vector<Notification>& out) const {
  // Sorted so that every replica and every run emits in the same order.
  std::vector<WatcherId> sorted(watchers.begin(), watchers.end());
  std::sort(sorted.begin(), sorted.end());
  for (WatcherId w : sorted) {
    if (skip && skip->count(w)) continue;
    out.push_back({w, trigger.type, trigger.path});
  }
}

void WatchRegistry::fire(const WatchTrigger& trigger, std::vector<Notification>& out) {
  std::unordered_set<WatcherId> fired;
  switch (trigger.type) {
    case wire::EventType::nodeCreated:
    case wire::EventType::nodeDataChanged:
      data_.fire(trigger.path, fired);
      emit(fired, nullptr, trigger, out);
      break;
    case wire::EventType::nodeChildrenChanged:
      child_.fire(trigger.path, fired);
      emit(fired, nullptr, trigger, out);
      break;
    case wire::EventType::nodeDeleted: {
      data_.fire(trigger.path, fired);
      emit(fired, nullptr, trigger, out);
      std::unordered_set<WatcherId> child_fired;
      child_.fire(trigger.path, child_fired);
      emit(child_fired, &fired, trigger, out);
      break;
    }
    default: break;
  }
}

bool WatchRegistry::contains(std::string_view path, WatcherId w, wire::WatcherType type) const {
  switch (type) {
    // As ZooKeeper 3.8: Children and Data look at every mode in their table.
    case wire::WatcherType::children: return child_.modes(path, w) != 0;
    case wire::WatcherType::data: return data_.modes(path, w) != 0;
    case wire::WatcherType::persistent: return data_.modes(path, w) & watch_mode::persistent;
    case wire::WatcherType::persistentRecursive: return data_.modes(path, w) & watch_mode::recursive;
    case wire::WatcherType::any: return child_.modes(path, w) != 0 || data_.modes(path, w) != 0;
  }
  return false;
}

bool WatchRegistry::remove(std::string_view path, WatcherId w, wire::WatcherType type) {
  switch (type) {
    // As ZooKeeper 3.8: Children and Data remove every mode in their table.
    case wire::WatcherType::children: return child_.remove(path, w, 0);
    case wire::WatcherType::data: return data_.remove(path, w, 0);
    case wire::WatcherType::persistent: {
      const bool c = child_.remove(path, w, watch_mode::persistent);
      const bool d = data_.remove(path, w, watch_mode::persistent);
      return c || d;
    }
    case wire::WatcherType::persistentRecursive: return data_.remove(path, w, watch_mode::recursive);
    case wire::WatcherType::any: {
      const bool c = child_.remove(path, w, 0);
      const bool d = data_.remove(path, w, 0);
      return c || d;
    }
  }
  return false;
}

void WatchRegistry::remove_watcher(WatcherId w) {
  for (Table* t : {&data_, &child_}) {
    auto it = t->by_watcher.find(w);
    if (it == t->by_watcher.end()) continue;
    const std::vector<std::string> paths(it->second.begin(), it->second.end());
    for (const auto& p : paths) t->remove(p, w, 0);
  }
}

std::size_t WatchRegistry::watch_count() const {
  std::size_t n = 0;
  for (const Table* t : {&data_, &child_}) {
    for (const auto& [w, paths] : t->by_watcher) n += paths.size();
  }
  return n;
}

std::size_t WatchRegistry::watched_path_count() const {
  std::set<std::string_view> paths;
  for (const Table* t : {&data_, &child_}) {
    for (const auto& [p, ws] : t->by_path) paths.insert(p);
  }
  return paths.size();
}

std::size_t WatchRegistry::watcher_count() const {
  std::set<WatcherId> ws;
  for (const Table* t : {&data_, &child_}) {
    for (const auto& [w, paths] : t->by_watcher) ws.insert(w);
  }
  return ws.size();
}

std::vector<std::pair<std::string, std::vector<WatcherId>>> WatchRegistry::by_path() const {
  std::map<std::string, std::set<WatcherId>> merged;
  for (const Table* t : {&data_, &child_}) {
    for (const auto& [p, ws] : t->by_path) {
      for (const auto& [w, m] : ws) merged[p].insert(w);
    }
  }
  std::vector<std::pair<std::string, std::vector<WatcherId>>> out;
  out.reserve(merged.size());
  for (auto& [p, ws] : merged) out.emplace_back(p, std::vector<WatcherId>(ws.begin(), ws.end()));
  return out;
}

std::vector<std::pair<WatcherId, std::vector<std::string>>> WatchRegistry::by_watcher() const {
  std::map<WatcherId, std::set<std::string>> merged;
  for (const Table* t : {&data_, &child_}) {
    for (const auto& [w, ps] : t->by_watcher) merged[w].insert(ps.begin(), ps.end());
  }
  std::vector<std::pair<WatcherId, std::vector<std::string>>> out;
  out.reserve(merged.size());
  for (auto& [w, ps] : merged) out.emplace_back(w, std::vector<std::string>(ps.begin(), ps.end()));
  return out;
}

}  // namespace corral::ensemble
