#include "corral/recipes/double_barrier.h"

#include "recipes/throwing.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "recipes/signal.h"

namespace corral::recipes {
namespace {

constexpr std::string_view ready_name = "ready";

// The states in the order they happen: round r entered, round r left, r+1 ...
int64_t rank(DoubleBarrier::State::Kind kind, int64_t round) {
  return 2 * round + (kind == DoubleBarrier::State::left ? 2 : 1);
}

bool is_at_least(const DoubleBarrier::State& s, DoubleBarrier::State::Kind kind, int64_t round) {
  if (s.kind != DoubleBarrier::State::entered && s.kind != DoubleBarrier::State::left) return false;
  return rank(s.kind, s.round) >= rank(kind, round);
}

}  // namespace

std::string DoubleBarrier::encode(State::Kind kind, int64_t round) {
  return "round " + std::to_string(round) + (kind == State::left ? " left" : " entered");
}

DoubleBarrier::State DoubleBarrier::decode(std::string_view data, int32_t version) {
  State s;
  s.kind = State::foreign;
  s.version = version;
  constexpr std::string_view prefix = "round ";
  if (!data.starts_with(prefix)) return s;
  data.remove_prefix(prefix.size());
  int64_t round = 0;
  const auto [end, err] = std::from_chars(data.data(), data.data() + data.size(), round);
  if (err != std::errc() || round < 0) return s;
  const std::string_view rest(end, static_cast<std::size_t>(data.data() + data.size() - end));
  if (rest == " entered") {
    s.kind = State::entered;
  } else if (rest == " left") {
    s.kind = State::left;
  } else {
    return s;
  }
  s.round = round;
  return s;
}

DoubleBarrier::DoubleBarrier(Client& client, std::string path, int threshold)
    : client_(client),
      path_(std::move(path)),
      ready_(join(path_, ready_name)),
      name_(new_protected_id()),
      our_path_(join(path_, name_)),
      threshold_(threshold) {
  if (threshold < 1) throw std::invalid_argument("DoubleBarrier: the threshold must be at least 1");
  state_listener_ = client.add_state_listener([this](SessionState s) {
    if (!inside_) return;
    if (s == SessionState::suspended || s == SessionState::expired) {
      for (const auto& l : lost_listeners_) l(s);
    }
  });
}

DoubleBarrier::~DoubleBarrier() {
  client_.remove_state_listener(state_listener_);
  std::error_code ec;
  if (node_exists_) remove_our_node(ec);
  // The last one out takes ready with it (version-checked: only if nobody
  // moved the state since we looked), so the container path can go.
  if (client_.state() != SessionState::connected && client_.state() != SessionState::reconnected) return;
  const View v = read(Order::state_first, ec);
  if (!ec && v.members.empty() && v.state.kind != State::absent) client_.remove(ready_, v.state.version, ec);
}

void DoubleBarrier::on_lost(std::function<void(SessionState)> listener) {
  lost_listeners_.push_back(std::move(listener));
}

bool DoubleBarrier::fail(std::error_code& ec, std::error_code why) {
  ec = why;
  return false;
}

std::vector<std::string> DoubleBarrier::members(std::error_code& ec) {
  auto kids = client_.children(path_, {}, ec);
  if (ec == Error::noNode) {
    ec.clear();
    return {};
  }
  std::erase(kids.names, std::string(ready_name));
  std::sort(kids.names.begin(), kids.names.end());
  return std::move(kids.names);
}

DoubleBarrier::View DoubleBarrier::read(Order order, std::error_code& ec, const Watcher& watcher) {
  // Both requests go out together and are answered in order. Members first:
  // the state we then read is at least as new as the list (leave: a round
  // marked left explains any node of the next round). State first: the
  // list is at least as new as the state (an empty list means that round
  // is over; a threshold counted against it can be written version-checked).
  while (true) {
    View v;
    ec.clear();
    boost::fibers::future<Result<Children>> kids;
    boost::fibers::future<Result<NodeData>> ready;
    if (order == Order::members_first) {
      kids = client_.async_children(path_);
      ready = client_.async_get(ready_, watcher);
    } else {
      ready = client_.async_get(ready_, watcher);
      kids = client_.async_children(path_);
    }
    auto k = kids.get();
    auto r = ready.get();
    if (k.error && k.error != Error::noNode) {
      ec = k.error;
      return v;
    }
    if (r.error && r.error != Error::noNode) {
      ec = r.error;
      return v;
    }
    v.members = std::move(k.value.names);
    std::erase(v.members, std::string(ready_name));
    std::sort(v.members.begin(), v.members.end());
    if (!r.error) {
      v.state = decode(r.value.data, r.value.stat.version);
      return v;
    }
    if (!watcher) return v;
    // No ready node: watch for its creation instead (and look again if it
    // appeared meanwhile).
    const auto there = client_.exists(ready_, watcher, ec);
    if (ec || !there) return v;
  }
}

void DoubleBarrier::advance(const State& seen, State::Kind kind, int64_t round, std::error_code& ec) {
  ec.clear();
  if (is_at_least(seen, kind, round)) return;
  const std::string target = encode(kind, round);
  if (seen.kind == State::absent) {
    client_.create(ready_, target, {}, ec);
    if (ec == Error::noNode) {
      ensure_path(client_, path_, ec);
      if (!ec) client_.create(ready_, target, {}, ec);
    }
  } else {
    client_.set(ready_, target, seen.version, ec);
  }
  // Somebody else moved it first: the caller reads again.
  if (ec == Error::nodeExists || ec == Error::badVersion || ec == Error::noNode) ec.clear();
}

void DoubleBarrier::create_our_node(Clock::time_point deadline, std::error_code& ec) {
  CreateOptions ephemeral;
  ephemeral.mode = CreateMode::ephemeral;
  while (true) {
    client_.create(our_path_, std::to_string(round_), ephemeral, ec);
    if (!ec) {
      node_exists_ = true;
      return;
    }
    if (ec == Error::noNode) {
      ensure_path(client_, path_, ec);
      if (!ec || retry_after_connection_loss(client_, ec, deadline)) continue;
      return;
    }
    if (ec == Error::nodeExists) {
      // Our uuid is ours alone: an earlier try whose reply was lost made it.
      const auto stat = client_.exists(our_path_, {}, ec);
      if (retry_after_connection_loss(client_, ec, deadline)) continue;
      if (ec) return;
      if (!stat) continue;
      if (stat->ephemeralOwner != client_.session_id()) {
        ec = Error::nodeExists;
        return;
      }
      node_exists_ = true;
      return;
    }
    if (!retry_after_connection_loss(client_, ec, deadline)) return;
  }
}

void DoubleBarrier::remove_our_node(std::error_code& ec) {
  const auto deadline = Clock::now() + client_.negotiated_timeout();
  while (true) {
    client_.remove(our_path_, -1, ec);
    if (ec != Error::connectionLoss) break;
    if (!client_.wait_connected(deadline)) break;
  }
  if (ec == Error::noNode) ec.clear();
  if (!ec || client_.state() == SessionState::expired) node_exists_ = false;
}

bool DoubleBarrier::enter(Clock::time_point deadline, std::error_code& ec) {
  ec.clear();
  if (inside_) return true;

  // Which round do we join? Wait while the one before is still being left.
  while (true) {
    auto signal = std::make_shared<Signal>();
    View v = read(Order::state_first, ec, Signal::watcher(signal));
    if (ec) {
      if (retry_after_connection_loss(client_, ec, deadline)) continue;
      return false;
    }
    const State& s = v.state;
    std::erase(v.members, name_);
    if (v.members.empty() && (s.kind == State::entered || s.kind == State::foreign)) {
      // Nobody is inside: that round is over, whatever ready still says.
      if (s.kind == State::entered) {
        advance(s, State::left, s.round, ec);
      } else {
        client_.remove(ready_, s.version, ec);
        if (ec == Error::noNode || ec == Error::badVersion) ec.clear();
      }
      if (ec && !retry_after_connection_loss(client_, ec, deadline)) return false;
      continue;
    }
    if (s.kind == State::left && s.round >= round_) round_ = s.round + 1;
    if (s.kind == State::entered && s.round >= round_) round_ = s.round;  // a round in progress: join it
    if (s.kind == State::entered && s.round < round_) {
      if (!signal->wait_until(deadline)) return fail(ec, Error::operationTimeout);
      continue;
    }
    break;
  }

  create_our_node(deadline, ec);
  if (ec) return false;

  while (true) {
    auto signal = std::make_shared<Signal>();
    const View v = read(Order::state_first, ec, Signal::watcher(signal));
    if (ec) {
      if (retry_after_connection_loss(client_, ec, deadline)) continue;
      break;
    }
    const State& s = v.state;
    if (s.kind == State::left && s.round >= round_) {
      // We came too late for this round (it is over): join the next.
      std::error_code ignored;
      remove_our_node(ignored);
      round_ = s.round + 1;
      create_our_node(deadline, ec);
      if (ec) return false;
      continue;
    }
    if (s.kind == State::foreign || is_at_least(s, State::entered, round_)) {
      if (s.kind == State::entered) round_ = s.round;
      inside_ = true;
      return true;
    }
    const auto& m = v.members;
    if (std::find(m.begin(), m.end(), name_) == m.end()) {
      ec = Error::sessionExpired;  // our ephemeral went with the session
      node_exists_ = false;
      break;
    }
    if (static_cast<int64_t>(m.size()) >= threshold_) {
      advance(s, State::entered, round_, ec);
      if (ec && !retry_after_connection_loss(client_, ec, deadline)) break;
      continue;
    }
    if (!signal->wait_until(deadline)) {
      ec = Error::operationTimeout;
      break;
    }
  }
  // Failed: take our node away so that nobody counts or waits for it.
  std::error_code ignored;
  if (node_exists_) remove_our_node(ignored);
  return false;
}

bool DoubleBarrier::leave(Clock::time_point deadline, std::error_code& ec) {
  ec.clear();
  if (!inside_) return fail(ec, std::make_error_code(std::errc::operation_not_permitted));
  const int64_t r = round_;
  bool done = false;
  while (true) {
    const View v = read(Order::members_first, ec);
    if (ec) {
      if (retry_after_connection_loss(client_, ec, deadline)) continue;
      break;
    }
    const State& s = v.state;
    if (s.kind == State::absent || is_at_least(s, State::left, r) || is_at_least(s, State::entered, r + 1)) {
      done = true;
      break;
    }
    const auto& m = v.members;
    const bool ours = std::find(m.begin(), m.end(), name_) != m.end();
    if (node_exists_ && !ours) {
      ec = Error::sessionExpired;  // our ephemeral went with the session
      node_exists_ = false;
      break;
    }
    if (m.empty()) {
      advance(s, State::left, r, ec);
      if (ec && !retry_after_connection_loss(client_, ec, deadline)) break;
      continue;
    }
    if (m.size() == 1 && ours) {
      // The last one out: leave and mark the round left in one step.
      Transaction t;
      t.set(ready_, encode(State::left, r), s.version);
      t.remove(our_path_, -1);
      client_.multi(t, ec);
      if (!ec) {
        node_exists_ = false;
        done = true;
        break;
      }
      if (ec == Error::badVersion || ec == Error::noNode) {
        ec.clear();
        continue;
      }
      if (retry_after_connection_loss(client_, ec, deadline)) continue;
      break;
    }
    std::string watch;
    if (m.front() == name_) {
      watch = m.back();  // the lowest waits for the highest
    } else {
      if (ours) {
        remove_our_node(ec);
        if (ec) {
          if (retry_after_connection_loss(client_, ec, deadline)) continue;
          break;
        }
      }
      watch = m.front();  // everybody else waits for the lowest
    }
    auto signal = std::make_shared<Signal>();
    const auto there = client_.exists(join(path_, watch), Signal::watcher(signal), ec);
    if (ec) {
      if (retry_after_connection_loss(client_, ec, deadline)) continue;
      break;
    }
    if (!there) continue;
    // Names are per object, so the node we watch may already be its owner's
    // node of the next round (the round ended since we read the members):
    // then it stays until we enter. ready moving on must wake us too.
    const NodeData now = client_.get(ready_, Signal::watcher(signal), ec);
    if (ec == Error::noNode) {
      ec.clear();
      continue;
    }
    if (ec) {
      if (retry_after_connection_loss(client_, ec, deadline)) continue;
      break;
    }
    const State moved = decode(now.data, now.stat.version);
    if (is_at_least(moved, State::left, r) || is_at_least(moved, State::entered, r + 1)) continue;
    if (!signal->wait_until(deadline)) {
      ec = Error::operationTimeout;
      break;
    }
  }
  // Done or not, this round is over for us: the next enter() joins a later one.
  inside_ = false;
  round_ = r + 1;
  std::error_code ignored;
  if (node_exists_) remove_our_node(ignored);
  if (done) ec.clear();
  return done;
}

void DoubleBarrier::enter() {
  or_throw("enter", path_, [&](std::error_code& ec) { enter(Clock::time_point::max(), ec); });
}

bool DoubleBarrier::enter_for(std::chrono::milliseconds timeout) {
  return or_throw_unless_timeout("enter", path_,
                                 [&](std::error_code& ec) { return enter(Clock::now() + timeout, ec); });
}

void DoubleBarrier::leave() {
  or_throw("leave", path_, [&](std::error_code& ec) { leave(Clock::time_point::max(), ec); });
}

bool DoubleBarrier::leave_for(std::chrono::milliseconds timeout) {
  return or_throw_unless_timeout("leave", path_,
                                 [&](std::error_code& ec) { return leave(Clock::now() + timeout, ec); });
}

}  // namespace corral::recipes
