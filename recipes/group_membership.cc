#include "corral/recipes/group_membership.h"

#include "recipes/throwing.h"

#include <set>
#include <vector>

#include "recipes/signal.h"

namespace corral::recipes {

namespace {

std::error_code not_permitted() { return std::make_error_code(std::errc::operation_not_permitted); }

bool valid_id(std::string_view id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string_view::npos &&
         id.find('\0') == std::string_view::npos;
}

}  // namespace

std::string_view to_string(GroupMembership::Change::Kind kind) {
  switch (kind) {
    case GroupMembership::Change::Kind::joined: return "joined";
    case GroupMembership::Change::Kind::left: return "left";
    case GroupMembership::Change::Kind::updated: return "updated";
  }
  return "?";
}

// Shared with the watches, which may fire after the group is gone.
struct GroupMembership::Shared {
  Signal wake;  // watches, state changes, join/leave, stop
  bool stop = false;
  bool children_armed = false;       // our children watch on the path is set
  bool path_armed = false;           // our exists watch on the (missing) path is set
  std::set<std::string> data_armed;  // members with our data watch set
  std::set<std::string> dirty;       // members whose data watch fired: read again

  static Watcher children_watch(const std::shared_ptr<Shared>& self) {
    return [self](const WatchedEvent&) {
      self->children_armed = false;
      self->wake.notify();
    };
  }
  static Watcher path_watch(const std::shared_ptr<Shared>& self) {
    return [self](const WatchedEvent&) {
      self->path_armed = false;
      self->wake.notify();
    };
  }
  static Watcher data_watch(const std::shared_ptr<Shared>& self, const std::string& id) {
    return [self, id](const WatchedEvent& e) {
      self->data_armed.erase(id);
      if (e.type == wire::EventType::nodeDataChanged) self->dirty.insert(id);
      self->wake.notify();
    };
  }
};

GroupMembership::GroupMembership(Client& client, std::string path)
    : client_(client), path_(std::move(path)), shared_(std::make_shared<Shared>()) {
  state_listener_ = client_.add_state_listener([this](SessionState) { shared_->wake.notify(); });
  fiber_ = boost::fibers::fiber([this] { run(); });
}

GroupMembership::~GroupMembership() {
  std::error_code ignored;
  leave(ignored);
  shared_->stop = true;
  shared_->wake.notify();
  fiber_.join();
  client_.remove_state_listener(state_listener_);
}

// ---- the group's fiber ---------------------------------------------------------------------

void GroupMembership::run() {
  auto& s = *shared_;
  while (!s.stop) {
    if (!is_connected(client_.state())) {
      s.wake.wait_until(Clock::time_point::max());
      continue;
    }
    std::error_code ec;
    look(ec);
    if (!ec) keep_our_node(ec);
    if (ec && ec != Error::connectionLoss) {
      // Not the connection (noAuth on the path, say): look again in a while.
      s.wake.wait_until(Clock::now() + std::chrono::seconds(1));
      continue;
    }
    if (ec) continue;  // the state change wakes the loop
    s.wake.wait_until(Clock::time_point::max());
  }
}

// Re-lists the members and reads those that are new or changed; reports the
// differences. Watches are set only where none of ours is.
void GroupMembership::look(std::error_code& ec) {
  auto& s = *shared_;
  const bool arm_children = !s.children_armed;
  auto kids = client_.children(path_, arm_children ? Shared::children_watch(shared_) : Watcher{}, ec);
  if (!ec && arm_children) s.children_armed = true;
  std::set<std::string> names;
  if (ec == Error::noNode) {
    // No group yet (or no more): watch for the path to appear.
    const bool arm_path = !s.path_armed;
    const auto there = client_.exists(path_, arm_path ? Shared::path_watch(shared_) : Watcher{}, ec);
    if (ec) return;
    if (arm_path) s.path_armed = true;
    if (there) {  // created meanwhile: list it
      s.wake.notify();
      return;
    }
  } else if (ec) {
    return;
  } else {
    names.insert(kids.names.begin(), kids.names.end());
  }

  for (auto it = seen_.begin(); it != seen_.end();) {
    if (names.count(it->first)) {
      ++it;
      continue;
    }
    Change gone{Change::Kind::left, it->first, std::move(it->second.data)};
    s.dirty.erase(it->first);
    members_.erase(it->first);
    it = seen_.erase(it);
    report(std::move(gone));
  }

  // Read the new and the changed (and, after an expiry, all: no watch is left).
  std::vector<std::string> to_read;
  for (const auto& name : names) {
    if (!seen_.count(name) || !s.data_armed.count(name) || s.dirty.count(name)) to_read.push_back(name);
  }
  std::vector<boost::fibers::future<Result<NodeData>>> reads;
  reads.reserve(to_read.size());
  for (const auto& name : to_read) {
    const bool arm = s.data_armed.insert(name).second;
    reads.push_back(client_.async_get(recipes::join(path_, name), arm ? Shared::data_watch(shared_, name) : Watcher{}));
    s.dirty.erase(name);
  }
  std::error_code first_error;
  for (std::size_t i = 0; i < to_read.size(); ++i) {
    const std::string& name = to_read[i];
    auto r = reads[i].get();
    if (r.error) {
      s.data_armed.erase(name);  // no watch was set
      if (r.error == Error::noNode) {
        s.wake.notify();  // left meanwhile: the children watch tells, but look again anyway
      } else {
        s.dirty.insert(name);
        if (!first_error) first_error = r.error;
      }
      continue;
    }
    Seen now{std::move(r.value.data), r.value.stat.czxid, r.value.stat.ephemeralOwner};
    auto it = seen_.find(name);
    if (it == seen_.end()) {
      members_[name] = now.data;
      seen_.emplace(name, now);
      report(Change{Change::Kind::joined, name, std::move(now.data)});
    } else if (it->second.czxid != now.czxid) {  // left and came back between two looks
      Change gone{Change::Kind::left, name, std::move(it->second.data)};
      it->second = now;
      members_[name] = now.data;
      report(std::move(gone));
      report(Change{Change::Kind::joined, name, std::move(now.data)});
    } else if (it->second.data != now.data) {
      it->second = now;
      members_[name] = now.data;
      report(Change{Change::Kind::updated, name, std::move(now.data)});
    }
  }
  ec = first_error;
  if (!ec && !synced_) {
    synced_ = true;
    changed_.notify_all();
  }
}

// Joined, but our node is not there (deleted, or gone with an old session):
// create it again. Someone else's node under our id: wait for it to go (the
// children watch tells).
void GroupMembership::keep_our_node(std::error_code& ec) {
  if (!joined_ || seen_.count(id_)) return;
  const std::string node = recipes::join(path_, id_);
  client_.create(node, data_, CreateOptions{.mode = CreateMode::ephemeral}, ec);
  if (ec == Error::noNode) {
    ensure_path(client_, path_, ec);
    if (!ec) client_.create(node, data_, CreateOptions{.mode = CreateMode::ephemeral}, ec);
  }
  if (ec == Error::nodeExists) ec.clear();  // ours (a lost reply) or another's: the next look tells
  if (!ec) shared_->wake.notify();          // look at what is there now
}

void GroupMembership::report(Change change) {
  for (const auto& [id, l] : std::map<uint64_t, Listener>(listeners_)) l(change);
  if (changes_.size() >= max_queued_changes) changes_.pop_front();
  changes_.push_back(std::move(change));
  changed_.notify_all();
}

// ---- calls -------------------------------------------------------------------------------------

void GroupMembership::join(std::string id, std::string data, Clock::time_point deadline, std::error_code& ec) {
  if (joined_) {
    ec = not_permitted();
    return;
  }
  if (!valid_id(id)) {
    ec = Error::badArguments;
    return;
  }
  const std::string node = recipes::join(path_, id);
  const CreateOptions ephemeral{.mode = CreateMode::ephemeral};
  while (true) {
    if (has_ended(client_.state())) {
      ec = end_error(client_.state());
      return;
    }
    if (!client_.wait_connected(deadline)) {
      ec = why_not_connected(client_);
      return;
    }
    client_.create(node, data, ephemeral, ec);
    if (ec == Error::noNode) {
      ensure_path(client_, path_, ec);
      if (ec == Error::connectionLoss) continue;
      if (ec) return;
      client_.create(node, data, ephemeral, ec);
    }
    if (ec == Error::connectionLoss || ec == Error::nodeExists) {
      // Ours, from a create whose reply was lost? Or another session's?
      auto signal = std::make_shared<Signal>();
      if (!client_.wait_connected(deadline)) continue;
      const auto there = client_.exists(node, ec == Error::nodeExists ? Signal::watcher(signal) : Watcher{}, ec);
      if (ec == Error::connectionLoss) continue;
      if (ec) return;
      if (!there) continue;  // gone meanwhile (or never made): create it
      if (there->ephemeralOwner != client_.session_id()) {
        // Another session's. Wait for it to go (its watch was set above).
        if (!signal->wait_until(deadline)) {
          ec = Error::nodeExists;
          return;
        }
        continue;
      }
      // Ours: the create went through. Make sure it has these data.
      const auto current = client_.get(node, {}, ec);
      if (!ec && current.data != data) client_.set(node, data, current.stat.version, ec);
      if (ec == Error::connectionLoss || ec == Error::noNode || ec == Error::badVersion) continue;
      if (ec) return;
    } else if (ec) {
      return;
    }
    joined_ = true;
    id_ = std::move(id);
    data_ = std::move(data);
    shared_->wake.notify();
    return;
  }
}

void GroupMembership::join(std::string id, std::string data, std::chrono::milliseconds timeout) {
  or_throw("join", recipes::join(path_, id),
           [&](std::error_code& ec) { join(id, std::move(data), Clock::now() + timeout, ec); });
}

void GroupMembership::leave(std::error_code& ec) {
  ec.clear();
  if (!joined_) return;
  joined_ = false;
  const std::string node = recipes::join(path_, id_);
  const auto deadline =
      Clock::now() + std::max<std::chrono::milliseconds>(client_.negotiated_timeout(), std::chrono::seconds(1));
  while (!has_ended(client_.state())) {
    // Only our own node: after a delete someone else may hold the id now.
    const auto there = client_.exists(node, {}, ec);
    if (!ec && there && there->ephemeralOwner == client_.session_id()) client_.remove(node, there->version, ec);
    if (ec != Error::connectionLoss) break;
    if (!client_.wait_connected(deadline)) break;
  }
  if (ec == Error::noNode || ec == Error::sessionExpired || ec == Error::badVersion) ec.clear();
  shared_->wake.notify();
}

void GroupMembership::leave() {
  or_throw("leave", recipes::join(path_, id_), [&](std::error_code& ec) { leave(ec); });
}

void GroupMembership::update(std::string data, std::error_code& ec) {
  ec.clear();
  if (!joined_) {
    ec = not_permitted();
    return;
  }
  data_ = std::move(data);
  const std::string node = recipes::join(path_, id_);
  // Set only our own node; not there now, it is re-created with these data.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto there = client_.exists(node, {}, ec);
    if (ec || !there || there->ephemeralOwner != client_.session_id()) return;
    client_.set(node, data_, there->version, ec);
    if (ec != Error::badVersion) break;  // badVersion: set meanwhile (a re-creation): again
  }
  if (ec == Error::noNode) ec.clear();
}

void GroupMembership::update(std::string data) {
  or_throw("update", recipes::join(path_, id_), [&](std::error_code& ec) { update(std::move(data), ec); });
}

// ---- the view ---------------------------------------------------------------------------------

bool GroupMembership::wait_synced(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return synced_; });
}

std::optional<GroupMembership::Change> GroupMembership::next_change(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_until(lock, deadline, [&] { return !changes_.empty(); })) return std::nullopt;
  Change c = std::move(changes_.front());
  changes_.pop_front();
  return c;
}

uint64_t GroupMembership::on_change(Listener listener) {
  listeners_.emplace(++last_listener_, std::move(listener));
  return last_listener_;
}
void GroupMembership::remove_listener(uint64_t id) { listeners_.erase(id); }

}  // namespace corral::recipes
