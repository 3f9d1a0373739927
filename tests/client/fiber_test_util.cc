#include "tests/client/fiber_test_util.h"

#include <algorithm>

namespace corral::test {

std::unique_ptr<Client> connect_client(Runtime& runtime, const std::string& hosts, milliseconds session_timeout) {
  ClientOptions o;
  o.connect_string = hosts;
  o.session_timeout = session_timeout;
  auto c = std::make_unique<Client>(runtime, o);
  c->connect(std::chrono::seconds(30));
  return c;
}

std::string_view event_name(wire::EventType type) {
  using wire::EventType;
  switch (type) {
    case EventType::none: return "None";
    case EventType::nodeCreated: return "NodeCreated";
    case EventType::nodeDeleted: return "NodeDeleted";
    case EventType::nodeDataChanged: return "NodeDataChanged";
    case EventType::nodeChildrenChanged: return "NodeChildrenChanged";
    case EventType::dataWatchRemoved: return "DataWatchRemoved";
    case EventType::childWatchRemoved: return "ChildWatchRemoved";
    case EventType::persistentWatchRemoved: return "PersistentWatchRemoved";
  }
  return "EventType?";
}

std::string_view keeper_state_name(wire::KeeperState state) {
  using wire::KeeperState;
  switch (state) {
    case KeeperState::disconnected: return "Disconnected";
    case KeeperState::syncConnected: return "SyncConnected";
    case KeeperState::authFailed: return "AuthFailed";
    case KeeperState::connectedReadOnly: return "ConnectedReadOnly";
    case KeeperState::saslAuthenticated: return "SaslAuthenticated";
    case KeeperState::closed: return "Closed";
    case KeeperState::expired: return "Expired";
  }
  return "KeeperState?";
}

Watcher EventLog::watcher(std::string tag) {
  return [this, tag = std::move(tag)](const WatchedEvent& e) {
    if (e.type == wire::EventType::none) {
      record(tag + " None " + std::string(keeper_state_name(e.state)));
    } else {
      record(tag + " " + std::string(event_name(e.type)) + " " + e.path);
    }
  };
}

Client::StateListener EventLog::listener() {
  return [this](SessionState s) { record("state " + std::string(to_string(s))); };
}

void EventLog::record(std::string entry) {
  entries_.push_back(std::move(entry));
  fibers_.push_back(boost::this_fiber::get_id());
}

std::vector<std::string> EventLog::with_prefix(std::string_view prefix) const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (std::string_view(e).starts_with(prefix)) out.push_back(e);
  }
  return out;
}

bool EventLog::contains(std::string_view entry) const {
  return std::find(entries_.begin(), entries_.end(), entry) != entries_.end();
}

bool EventLog::wait_for_size(std::size_t n, milliseconds timeout) const {
  return fiber_wait_until([&] { return entries_.size() >= n; }, timeout);
}

bool EventLog::wait_for(std::string_view entry, milliseconds timeout) const {
  return fiber_wait_until([&] { return contains(entry); }, timeout);
}

std::string EventLog::dump() const {
  std::string out = "[";
  for (const auto& e : entries_) out += "\n  " + e;
  return out + "\n]";
}

bool cut_off(TcpProxy& proxy, const Client& client) {
  proxy.set_refusing(true);
  proxy.drop_all();
  return fiber_wait_until([&] { return client.state() == SessionState::suspended; });
}

}  // namespace corral::test
