#include "corral/recipes/shared_counter.h"

#include "recipes/throwing.h"

#include <vector>

namespace corral::recipes {

struct SharedCounter::State : std::enable_shared_from_this<State> {
  Client* client = nullptr;
  std::string path;
  int32_t seed = 0;
  bool started = false;
  bool closed = false;          // the SharedCounter is destroyed
  VersionedCount current;       // advanced by every read and write
  int64_t notified_mzxid = -1;  // the last change listeners heard of
  bool watch_armed = false;
  std::map<uint64_t, Listener> listeners;
  uint64_t last_listener_id = 0;
  uint64_t state_listener = 0;

  void advance(const Stat& stat, int32_t value) {
    if (stat.mzxid <= current.mzxid) return;
    current = VersionedCount{stat.version, value, stat.mzxid};
  }

  // Reads the node and leaves a data watch on it; tells the listeners if the
  // value moved since they last heard. On the event fiber, or from start().
  void read_and_watch(std::error_code& ec) {
    std::weak_ptr<State> weak = weak_from_this();
    const auto node = client->get(
        path,
        [weak](const WatchedEvent& e) {
          const auto self = weak.lock();
          if (!self) return;
          self->watch_armed = false;
          if (self->closed) return;                     // the counter is gone
          if (e.type == wire::EventType::none) return;  // expired: re-armed with the next session
          std::error_code ignored;
          self->read_and_watch(ignored);
        },
        ec);
    if (ec) return;
    watch_armed = true;
    const int32_t value = decode(node.data, ec);
    if (ec) return;
    advance(node.stat, value);
    if (node.stat.mzxid > notified_mzxid) {
      const bool first = notified_mzxid < 0;
      notified_mzxid = node.stat.mzxid;
      if (first) return;                // start() reads the starting value; that is no change
      const auto snapshot = listeners;  // a listener may remove itself
      for (const auto& [id, l] : snapshot) l(value);
    }
  }

  void on_state(SessionState s) {
    if (!started) return;
    // A new session (after expiry) has no watch of ours; a resumed one keeps
    // it, unless re-arming failed while the connection was down.
    if (s == SessionState::connected || (s == SessionState::reconnected && !watch_armed)) {
      std::error_code ignored;
      read_and_watch(ignored);
    }
  }
};

SharedCounter::SharedCounter(Client& client, std::string path, int32_t seed) : state_(std::make_shared<State>()) {
  state_->client = &client;
  state_->path = std::move(path);
  state_->seed = seed;
  std::weak_ptr<State> weak = state_;
  state_->state_listener = client.add_state_listener([weak](SessionState s) {
    if (const auto self = weak.lock()) self->on_state(s);
  });
}

SharedCounter::~SharedCounter() {
  state_->client->remove_state_listener(state_->state_listener);
  // A watch callback may be in the middle of a read (on the event fiber,
  // holding the state): it must neither call listeners nor watch again.
  state_->closed = true;
  state_->listeners.clear();
}

const std::string& SharedCounter::path() const { return state_->path; }

std::string SharedCounter::encode(int32_t value) {
  const auto u = static_cast<uint32_t>(value);
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((u >> (24 - 8 * i)) & 0xff);
  return out;
}

int32_t SharedCounter::decode(std::string_view bytes, std::error_code& ec) {
  if (bytes.size() != 4) {
    ec = std::make_error_code(std::errc::bad_message);
    return 0;
  }
  ec.clear();
  uint32_t u = 0;
  for (const char c : bytes) u = (u << 8) | static_cast<uint8_t>(c);
  return static_cast<int32_t>(u);
}

void SharedCounter::start(std::error_code& ec) {
  ec.clear();
  if (state_->started) return;
  Client& client = *state_->client;
  const std::string& path = state_->path;
  client.create(path, encode(state_->seed), {}, ec);
  // No parent: make it (containers) and try again; more than once, as
  // protected_create does (a container parent may go between the two).
  for (int again = 0; ec == Error::noNode && again < 5; ++again) {
    const auto slash = path.rfind('/');
    if (slash > 0) ensure_path(client, path.substr(0, slash), ec);
    if (ec) return;
    client.create(path, encode(state_->seed), {}, ec);
  }
  if (ec && ec != Error::nodeExists) return;
  state_->read_and_watch(ec);
  if (!ec) state_->started = true;
}

void SharedCounter::start() {
  or_throw("start counter", state_->path, [&](std::error_code& ec) { start(ec); });
}

int32_t SharedCounter::count() const { return state_->current.value; }

VersionedCount SharedCounter::versioned() const { return state_->current; }

VersionedCount SharedCounter::read(std::error_code& ec) {
  const auto node = state_->client->get(state_->path, {}, ec);
  if (ec) return {};
  const int32_t value = decode(node.data, ec);
  if (ec) return {};
  state_->advance(node.stat, value);
  return VersionedCount{node.stat.version, value, node.stat.mzxid};
}

VersionedCount SharedCounter::read() {
  return or_throw("read counter", state_->path, [&](std::error_code& ec) { return read(ec); });
}

void SharedCounter::set(int32_t value, std::error_code& ec) {
  const Stat stat = state_->client->set(state_->path, encode(value), -1, ec);
  if (!ec) state_->advance(stat, value);
}

void SharedCounter::set(int32_t value) {
  or_throw("set counter", state_->path, [&](std::error_code& ec) { set(value, ec); });
}

bool SharedCounter::try_set(const VersionedCount& previous, int32_t value, std::error_code& ec) {
  if (previous.version < 0) {
    ec = Error::badArguments;  // never read: there is no version to check
    return false;
  }
  const Stat stat = state_->client->set(state_->path, encode(value), previous.version, ec);
  if (ec == Error::badVersion) {
    read(ec);  // somebody else was first: bring the cache up to them
    return false;
  }
  if (ec) return false;
  state_->advance(stat, value);
  return true;
}

bool SharedCounter::try_set(const VersionedCount& previous, int32_t value) {
  return or_throw("set counter", state_->path, [&](std::error_code& ec) { return try_set(previous, value, ec); });
}

int32_t SharedCounter::add(int32_t delta, std::error_code& ec) {
  while (true) {
    const VersionedCount now = read(ec);
    if (ec) return 0;
    // Wraps around like Java's int.
    const auto next = static_cast<int32_t>(static_cast<uint32_t>(now.value) + static_cast<uint32_t>(delta));
    const Stat stat = state_->client->set(state_->path, encode(next), now.version, ec);
    if (ec == Error::badVersion) continue;  // another writer came first: read again
    if (ec) return 0;
    state_->advance(stat, next);
    return next;
  }
}

int32_t SharedCounter::add(int32_t delta) {
  return or_throw("add to counter", state_->path, [&](std::error_code& ec) { return add(delta, ec); });
}

uint64_t SharedCounter::add_listener(Listener listener) {
  const uint64_t id = ++state_->last_listener_id;
  state_->listeners.emplace(id, std::move(listener));
  return id;
}

void SharedCounter::remove_listener(uint64_t id) { state_->listeners.erase(id); }

}  // namespace corral::recipes
