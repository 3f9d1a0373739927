#include "corral/watch_table.h"

namespace corral {

WatchTable::Table& WatchTable::table(WatchKind kind) {
  switch (kind) {
    case WatchKind::data: return data_;
    case WatchKind::exist: return exist_;
    case WatchKind::child: return child_;
    case WatchKind::persistent: return persistent_;
    case WatchKind::recursive: return recursive_;
  }
  return data_;
}

const WatchTable::Table& WatchTable::table(WatchKind kind) const { return const_cast<WatchTable*>(this)->table(kind); }

void WatchTable::add(WatchKind kind, const std::string& path, Watcher watcher) {
  table(kind)[path].push_back(std::move(watcher));
}

void WatchTable::move_out(Table& t, const std::string& path, std::vector<Watcher>& out) {
  auto it = t.find(path);
  if (it == t.end()) return;
  for (auto& w : it->second) out.push_back(std::move(w));
  t.erase(it);
}

void WatchTable::copy_out(const Table& t, const std::string& path, std::vector<Watcher>& out) {
  auto it = t.find(path);
  if (it == t.end()) return;
  out.insert(out.end(), it->second.begin(), it->second.end());
}

std::vector<Watcher> WatchTable::take(const WatchedEvent& e) {
  std::vector<Watcher> out;
  using wire::EventType;
  switch (e.type) {
    case EventType::nodeCreated:
    case EventType::nodeDataChanged:
      move_out(data_, e.path, out);
      move_out(exist_, e.path, out);
      break;
    case EventType::nodeDeleted:
      move_out(data_, e.path, out);
      move_out(exist_, e.path, out);
      move_out(child_, e.path, out);
      break;
    case EventType::nodeChildrenChanged: move_out(child_, e.path, out); break;
    default: return out;
  }
  copy_out(persistent_, e.path, out);
  if (e.type != EventType::nodeChildrenChanged) {
    std::string p = e.path;
    while (true) {
      copy_out(recursive_, p, out);
      if (p == "/") break;
      const auto slash = p.rfind('/');
      p = slash == 0 ? "/" : p.substr(0, slash);
    }
  }
  return out;
}

std::vector<Watcher> WatchTable::take_all() {
  std::vector<Watcher> out;
  for (Table* t : {&data_, &exist_, &child_, &persistent_, &recursive_}) {
    for (auto& [path, ws] : *t) {
      for (auto& w : ws) out.push_back(std::move(w));
    }
    t->clear();
  }
  return out;
}

bool WatchTable::remove(const std::string& path, wire::WatcherType type) {
  const auto erase = [&](Table& t) { return t.erase(path) > 0; };
  switch (type) {
    case wire::WatcherType::children: return erase(child_);
    case wire::WatcherType::data: {
      const bool d = erase(data_);
      const bool e = erase(exist_);
      return d || e;
    }
    case wire::WatcherType::persistent: return erase(persistent_);
    case wire::WatcherType::persistentRecursive: return erase(recursive_);
    case wire::WatcherType::any: {
      bool any = false;
      for (Table* t : {&data_, &exist_, &child_, &persistent_, &recursive_}) any = erase(*t) || any;
      return any;
    }
  }
  return false;
}

bool WatchTable::contains(const std::string& path, wire::WatcherType type) const {
  const auto has = [&](const Table& t) { return t.count(path) > 0; };
  switch (type) {
    case wire::WatcherType::children: return has(child_);
    case wire::WatcherType::data: return has(data_) || has(exist_);
    case wire::WatcherType::persistent: return has(persistent_);
    case wire::WatcherType::persistentRecursive: return has(recursive_);
    case wire::WatcherType::any: return has(data_) || has(exist_) || has(child_) || has(persistent_) || has(recursive_);
  }
  return false;
}

wire::SetWatches2 WatchTable::registration(int64_t relative_zxid) const {
  wire::SetWatches2 out;
  out.relativeZxid = relative_zxid;
  for (const auto& [p, ws] : data_) out.dataWatches.push_back(p);
  for (const auto& [p, ws] : exist_) out.existWatches.push_back(p);
  for (const auto& [p, ws] : child_) out.childWatches.push_back(p);
  for (const auto& [p, ws] : persistent_) out.persistentWatches.push_back(p);
  for (const auto& [p, ws] : recursive_) out.persistentRecursiveWatches.push_back(p);
  return out;
}

bool WatchTable::empty() const {
  return data_.empty() && exist_.empty() && child_.empty() && persistent_.empty() && recursive_.empty();
}

}  // namespace corral
