#include "corral/recipes/lock.h"

#include "recipes/throwing.h"

namespace corral::recipes {

Lock::Lock(Client& client, std::string path) : internals_(client, std::move(path), "lock-") { watch_state(); }

Lock::Lock(Client& client, std::string path, std::string lock_name, LockDriver driver, LockSorter sorter,
           SortingSequence sequence)
    : internals_(client, std::move(path), std::move(lock_name), 1, std::move(driver), std::move(sorter),
                 std::move(sequence)) {
  watch_state();
}

void Lock::watch_state() {
  state_listener_ = internals_.client().add_state_listener([this](SessionState s) {
    if (holdings_.empty()) return;
    if (s == SessionState::expired) {
      for (auto& [fiber, holding] : holdings_) holding.lost = true;
    }
    if (s == SessionState::suspended || s == SessionState::expired) {
      for (const auto& l : lost_listeners_) l(s);
    }
  });
}

Lock::~Lock() {
  internals_.client().remove_state_listener(state_listener_);
  for (const auto& [fiber, holding] : holdings_) {
    std::error_code ignored;
    internals_.release(holding.path, ignored);
  }
}

bool Lock::acquire(Clock::time_point deadline, std::error_code& ec, const std::stop_token& stop) {
  const auto me = boost::this_fiber::get_id();
  if (auto it = holdings_.find(me); it != holdings_.end()) {
    if (it->second.lost) {
      ec = Error::sessionExpired;
      return false;
    }
    ++it->second.count;
    ec.clear();
    return true;
  }
  std::string path = internals_.acquire(deadline, {}, ec, stop);
  if (ec) return false;
  holdings_[me] = Holding{std::move(path), 1};
  return true;
}

void Lock::release(std::error_code& ec) {
  const auto it = holdings_.find(boost::this_fiber::get_id());
  if (it == holdings_.end()) {
    ec = std::make_error_code(std::errc::operation_not_permitted);
    return;
  }
  if (--it->second.count > 0) {
    ec.clear();
    return;
  }
  const std::string path = std::move(it->second.path);
  holdings_.erase(it);
  internals_.release(path, ec);
}

void Lock::lock() {
  or_throw("lock", internals_.base_path(), [&](std::error_code& ec) { acquire(Clock::time_point::max(), ec); });
}

bool Lock::try_lock() { return try_lock_until(Clock::now()); }

void Lock::unlock() {
  or_throw("unlock", internals_.base_path(), [&](std::error_code& ec) { release(ec); });
}

bool Lock::held_by_this_fiber() const { return holdings_.count(boost::this_fiber::get_id()) > 0; }

std::string Lock::our_path() const {
  const auto it = holdings_.find(boost::this_fiber::get_id());
  return it == holdings_.end() ? std::string() : it->second.path;
}

std::vector<std::string> Lock::participants() {
  return or_throw("participants of", internals_.base_path(),
                  [&](std::error_code& ec) { return internals_.participants(ec); });
}

void Lock::on_lost(std::function<void(SessionState)> listener) { lost_listeners_.push_back(std::move(listener)); }

}  // namespace corral::recipes
