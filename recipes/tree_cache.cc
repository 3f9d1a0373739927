#include "corral/recipes/tree_cache.h"

#include <algorithm>
#include <mutex>

namespace corral::recipes {

namespace {

std::string parent_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? std::string("/") : std::string(path.substr(0, slash));
}

std::string_view name_of(std::string_view path) { return path.substr(path.rfind('/') + 1); }

// A session that is away: what is being done now is done again after the reset.
bool connection_gone(std::error_code ec) {
  return ec == Error::connectionLoss || ec == Error::sessionExpired || ec == Error::authFailed;
}

// How many reads a walk keeps in flight at most.
constexpr std::size_t walk_window = 256;

}  // namespace

std::string_view to_string(TreeEventType type) {
  switch (type) {
    case TreeEventType::nodeAdded: return "nodeAdded";
    case TreeEventType::nodeUpdated: return "nodeUpdated";
    case TreeEventType::nodeRemoved: return "nodeRemoved";
    case TreeEventType::initialized: return "initialized";
    case TreeEventType::connectionSuspended: return "connectionSuspended";
    case TreeEventType::connectionReconnected: return "connectionReconnected";
    case TreeEventType::connectionLost: return "connectionLost";
  }
  return "?";
}

TreeCache::TreeCache(Client& client, std::string root, TreeCacheOptions options)
    : WatchedCache(client, std::move(root), true), options_(options) {}

TreeCache::~TreeCache() { close(); }

std::optional<NodeData> TreeCache::current(std::string_view path) const {
  const auto it = nodes_.find(path);
  if (it == nodes_.end()) return std::nullopt;
  return it->second.node;
}

std::map<std::string, NodeData> TreeCache::current_children(std::string_view path) const {
  std::map<std::string, NodeData> out;
  const auto it = nodes_.find(path);
  if (it == nodes_.end()) return out;
  for (const auto& name : it->second.children) {
    const auto child = nodes_.find(join(path, name));
    if (child != nodes_.end()) out.emplace(name, child->second.node);
  }
  return out;
}

std::vector<std::string> TreeCache::paths() const {
  std::vector<std::string> out;
  if (!nodes_.contains(root())) return out;
  std::vector<std::string> stack{root()};
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    const auto& kids = nodes_.find(p)->second.children;
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.push_back(join(p, *it));
    out.push_back(std::move(p));
  }
  return out;
}

bool TreeCache::wait_until(const std::function<bool()>& pred, Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, pred);
}

int TreeCache::depth(std::string_view path) const {
  if (path == root()) return 0;
  const std::string_view below = root() == "/" ? path : path.substr(root().size());
  return static_cast<int>(std::count(below.begin(), below.end(), '/'));
}

bool TreeCache::in_scope(std::string_view path) const {
  const std::string& r = root();
  if (path != r) {
    const bool below = r == "/" ? path.size() > 1 && path.front() == '/'
                                : path.size() > r.size() && path.starts_with(r) && path[r.size()] == '/';
    if (!below) return false;
  }
  return depth(path) <= options_.max_depth;
}

void TreeCache::handle(const std::vector<WatchNotice>& batch) {
  std::vector<WatchedEvent> events;
  for (const WatchNotice& n : batch) {
    switch (n.kind) {
      case WatchNotice::Kind::event:
        if (n.event.type != wire::EventType::nodeChildrenChanged && in_scope(n.event.path)) {
          events.push_back(n.event);
        }
        break;
      case WatchNotice::Kind::reset:
        events.clear();  // the walk reads all of it afresh
        if (resync()) {
          current_ = true;
          changed();
          if (!initialized_) {
            initialized_ = true;
            changed();
            emit({TreeEventType::initialized, {}, {}});
          } else {
            emit({TreeEventType::connectionReconnected, {}, {}});
          }
        }
        break;
      case WatchNotice::Kind::suspended:
      case WatchNotice::Kind::lost:
        // Reads now would fail; the walk after the next connect catches up.
        events.clear();
        current_ = false;
        changed();
        emit({n.kind == WatchNotice::Kind::suspended ? TreeEventType::connectionSuspended
                                                     : TreeEventType::connectionLost,
              {},
              {}});
        break;
      case WatchNotice::Kind::failed: fail(n.error); break;
    }
  }
  if (!events.empty()) apply_events(events);
}

void TreeCache::apply_events(const std::vector<WatchedEvent>& events) {
  // Every read is sent before the first is awaited: one round trip for the burst.
  std::vector<std::optional<boost::fibers::future<Result<NodeData>>>> reads(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto type = events[i].type;
    if (type == wire::EventType::nodeCreated || type == wire::EventType::nodeDataChanged) {
      reads[i] = client_.async_get(events[i].path);
      ++reads_;
    }
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    const WatchedEvent& e = events[i];
    if (e.type == wire::EventType::nodeDeleted) {
      remove_subtree(e.path);
      continue;
    }
    if (!reads[i]) continue;
    Result<NodeData> r = reads[i]->get();
    // noNode: deleted again since; its NodeDeleted follows. A session that is
    // away: the walk after the reset catches up. Others (noAuth): not cached.
    if (!r.error) add_or_update(e.path, std::move(r.value));
  }
}

bool TreeCache::resync() {
  Nodes fresh;
  std::vector<std::string> level{root()};
  for (int d = 0; !level.empty(); ++d) {
    const bool list_children = d < options_.max_depth;
    std::vector<std::string> next;
    for (std::size_t from = 0; from < level.size(); from += walk_window) {
      const std::size_t to = std::min(level.size(), from + walk_window);
      std::vector<boost::fibers::future<Result<NodeData>>> data;
      std::vector<boost::fibers::future<Result<Children>>> kids;
      for (std::size_t i = from; i < to; ++i) {
        data.push_back(client_.async_get(level[i]));
        ++reads_;
        if (list_children) {
          kids.push_back(client_.async_children(level[i]));
          ++reads_;
        }
      }
      for (std::size_t i = from; i < to; ++i) {
        const std::string& p = level[i];
        Result<NodeData> got = data[i - from].get();
        Result<Children> listed;
        if (list_children) listed = kids[i - from].get();
        if (connection_gone(got.error) || connection_gone(listed.error)) return false;
        if (got.error) continue;  // deleted meanwhile (its NodeDeleted follows), or not ours to read
        if (!options_.cache_data) got.value.data.clear();
        if (p != root()) fresh.find(parent_of(p))->second.children.insert(std::string(name_of(p)));
        fresh.emplace(p, Entry{std::move(got.value), {}});
        if (listed.error) continue;
        std::sort(listed.value.names.begin(), listed.value.names.end());
        for (const auto& name : listed.value.names) next.push_back(join(p, name));
      }
    }
    level = std::move(next);
  }

  // What went away, children before parents.
  const auto before = paths();
  for (auto it = before.rbegin(); it != before.rend(); ++it) {
    if (!fresh.contains(*it)) remove_subtree(*it);
  }
  // What is new or changed, parents before children.
  std::vector<std::string> stack;
  if (fresh.contains(root())) stack.push_back(root());
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    const Entry& e = fresh.find(p)->second;
    for (auto it = e.children.rbegin(); it != e.children.rend(); ++it) stack.push_back(join(p, *it));
    add_or_update(p, e.node);
  }
  return true;
}

void TreeCache::add_or_update(const std::string& path, NodeData node) {
  if (!options_.cache_data) node.data.clear();
  if (const auto it = nodes_.find(path); it != nodes_.end()) {
    if (it->second.node.stat.mzxid == node.stat.mzxid) {
      it->second.node.stat = node.stat;  // same data; newer child fields
      return;
    }
    it->second.node = node;
    changed();
    emit({TreeEventType::nodeUpdated, path, std::move(node)});
    return;
  }
  if (path != root()) {
    // Only below a cached parent: the parent's own NodeCreated is still to
    // come otherwise, and this node's after it.
    const auto parent = nodes_.find(parent_of(path));
    if (parent == nodes_.end()) return;
    parent->second.children.insert(std::string(name_of(path)));
  }
  nodes_.emplace(path, Entry{node, {}});
  changed();
  emit({TreeEventType::nodeAdded, path, std::move(node)});
}

void TreeCache::remove_subtree(const std::string& path) {
  if (!nodes_.contains(path)) return;
  // Pre-order reversed: every node after its descendants.
  std::vector<std::string> order;
  std::vector<std::string> stack{path};
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    for (const auto& name : nodes_.find(p)->second.children) stack.push_back(join(p, name));
    order.push_back(std::move(p));
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto gone = nodes_.extract(*it);
    if (*it != root()) {
      if (const auto parent = nodes_.find(parent_of(*it)); parent != nodes_.end()) {
        parent->second.children.erase(std::string(name_of(*it)));
      }
    }
    changed();
    emit({TreeEventType::nodeRemoved, *it, std::move(gone.mapped().node)});
  }
}

void TreeCache::emit(const TreeEvent& event) {
  std::vector<Listener> listeners;
  for (const auto& [id, l] : listeners_) listeners.push_back(l);
  for (const auto& l : listeners) l(event);
}

void TreeCache::changed() {
  std::unique_lock lock(mutex_);
  changed_.notify_all();
}

void TreeCache::fail(std::error_code ec) {
  {
    std::unique_lock lock(mutex_);
    failure_ = ec;
  }
  changed();
}

}  // namespace corral::recipes
