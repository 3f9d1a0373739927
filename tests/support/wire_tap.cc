#include "tests/support/wire_tap.h"

#include <arpa/inet.h>

#include <cstring>

namespace corral::test {

namespace {
int32_t be32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return static_cast<int32_t>(ntohl(v));
}
}  // namespace

WireTap::WireTap(uint16_t target_port)
    : proxy_(target_port, [this](bool up, bool first, std::string_view body) { return inspect(up, first, body); }) {}

// Request headers (xid, type) up; reply headers (xid, zxid, err) down, a
// notification being a reply with xid -1. The connect request and response
// (the first frames) are passed without counting.
bool WireTap::inspect(bool up, bool first, std::string_view body) {
  if (first) return true;
  std::lock_guard lock(mutex_);
  const char* p = body.data();
  if (up && body.size() >= 8) {
    const int32_t xid = be32(p);
    if (xid != wire::xid::ping) ++requests_[be32(p + 4)];
    return true;
  }
  if (up || body.size() < 16) return true;
  const int32_t xid = be32(p);
  if (xid == wire::xid::notification) {
    ++notifications_;
    // WatcherEvent: type, state, path (length-prefixed).
    if (body.size() >= 28) {
      const auto path_length = static_cast<std::size_t>(be32(p + 24));
      if (28 + path_length <= body.size()) notified_paths_.emplace_back(p + 28, path_length);
    }
    return true;
  }
  if (xid == wire::xid::ping) return true;
  if (swallow_) {
    ++swallowed_;
    return false;
  }
  ++replies_;
  return true;
}

int WireTap::requests(wire::OpCode op) const {
  std::lock_guard lock(mutex_);
  const auto it = requests_.find(static_cast<int32_t>(op));
  return it == requests_.end() ? 0 : it->second;
}

int WireTap::requests() const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& [op, count] : requests_) n += count;
  return n;
}

int WireTap::replies() const {
  std::lock_guard lock(mutex_);
  return replies_;
}

int WireTap::outstanding() const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& [op, count] : requests_) n += count;
  return n - replies_ - swallowed_;
}

int WireTap::notifications() const {
  std::lock_guard lock(mutex_);
  return notifications_;
}

std::vector<std::string> WireTap::notified_paths() const {
  std::lock_guard lock(mutex_);
  return notified_paths_;
}

void WireTap::set_swallow_replies(bool on) {
  std::lock_guard lock(mutex_);
  swallow_ = on;
}

int WireTap::swallowed() const {
  std::lock_guard lock(mutex_);
  return swallowed_;
}

}  // namespace corral::test
