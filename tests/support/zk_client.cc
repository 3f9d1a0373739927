#include "tests/support/zk_client.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace corral::test {

namespace {

void quiet_client_log() {
  static const bool once = [] {
    // The C client logs to stderr; errors only (connection refused while a
    // server restarts is expected in tests) unless asked for more.
    const char* level = std::getenv("CORRAL_ZK_C_LOG");
    zoo_set_debug_level(level && std::string(level) == "debug" ? ZOO_LOG_LEVEL_DEBUG : ZOO_LOG_LEVEL_ERROR);
    return true;
  }();
  (void)once;
}

}  // namespace

std::string to_string(const ZkEvent& e) {
  return "{type " + std::to_string(e.type) + ", state " + std::to_string(e.state) + ", path '" + e.path + "'}";
}

std::vector<std::string> take_strings(String_vector& v) {
  std::vector<std::string> out;
  for (int32_t i = 0; i < v.count; ++i) out.emplace_back(v.data[i]);
  deallocate_String_vector(&v);
  std::sort(out.begin(), out.end());
  return out;
}

void Completion::on_void(int rc, const void* data) { static_cast<Completion*>(const_cast<void*>(data))->done(rc, {}); }

void Completion::on_string(int rc, const char* value, const void* data) {
  static_cast<Completion*>(const_cast<void*>(data))->done(rc, value ? value : "");
}

void Completion::done(int rc, std::string value) {
  {
    std::lock_guard lock(mutex_);
    rc_ = rc;
    value_ = std::move(value);
    done_ = true;
  }
  cv_.notify_all();
}

bool Completion::wait(milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return done_; });
}

int Completion::rc() const {
  std::lock_guard lock(mutex_);
  return rc_;
}

std::string Completion::value() const {
  std::lock_guard lock(mutex_);
  return value_;
}

ZkClient::ZkClient(const std::string& hosts, int timeout_ms, const clientid_t* resume) {
  quiet_client_log();
  zh_ = zookeeper_init(hosts.c_str(), &ZkClient::on_event, timeout_ms, resume, this, 0);
  if (zh_ == nullptr) throw std::runtime_error("zookeeper_init(" + hosts + ") failed");
}

ZkClient::~ZkClient() { close(); }

std::unique_ptr<ZkClient> ZkClient::connect(const std::string& hosts, int timeout_ms, const clientid_t* resume,
                                            milliseconds timeout) {
  auto client = std::make_unique<ZkClient>(hosts, timeout_ms, resume);
  if (!client->wait_session_event(ZOO_CONNECTED_STATE, timeout)) {
    throw std::runtime_error("the C client did not connect to " + hosts + " (state " +
                             std::to_string(zoo_state(client->get())) + ")");
  }
  return client;
}

int ZkClient::close() {
  if (zh_ == nullptr) return ZOK;
  const int rc = zookeeper_close(zh_);
  zh_ = nullptr;
  return rc;
}

void ZkClient::on_event(zhandle_t*, int type, int state, const char* path, void* context) {
  auto* self = static_cast<ZkClient*>(context);
  {
    std::lock_guard lock(self->mutex_);
    self->events_.push_back(ZkEvent{type, state, path ? path : ""});
  }
  self->changed_.notify_all();
}

bool ZkClient::wait_state(int state, milliseconds timeout) const {
  return wait_until([&] { return zh_ != nullptr && zoo_state(zh_) == state; }, timeout);
}

int64_t ZkClient::session_id() const { return zh_ ? zoo_client_id(zh_)->client_id : 0; }

clientid_t ZkClient::client_id() const { return *zoo_client_id(zh_); }

std::optional<ZkEvent> ZkClient::wait_event(const std::function<bool(const ZkEvent&)>& match, milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::optional<ZkEvent> found;
  changed_.wait_for(lock, timeout, [&] {
    auto it = std::find_if(events_.begin(), events_.end(), match);
    if (it == events_.end()) return false;
    found = *it;
    events_.erase(it);
    return true;
  });
  return found;
}

std::optional<ZkEvent> ZkClient::wait_event(int type, const std::string& path, milliseconds timeout) {
  return wait_event([&](const ZkEvent& e) { return e.type == type && e.path == path; }, timeout);
}

std::optional<ZkEvent> ZkClient::wait_session_event(int state, milliseconds timeout) {
  return wait_event([&](const ZkEvent& e) { return e.type == ZOO_SESSION_EVENT && e.state == state; }, timeout);
}

std::vector<ZkEvent> ZkClient::pending_events() const {
  std::lock_guard lock(mutex_);
  return {events_.begin(), events_.end()};
}

void ZkClient::clear_events() {
  std::lock_guard lock(mutex_);
  events_.clear();
}

int ZkClient::create(const std::string& path, const std::string& data, int flags, std::string* created,
                     const ACL_vector* acl) {
  char buf[1024] = {};
  const int rc = zoo_create(zh_, path.c_str(), data.data(), static_cast<int>(data.size()), acl, flags, buf, sizeof buf);
  if (rc == ZOK && created) *created = buf;
  return rc;
}

int ZkClient::get(const std::string& path, std::string* data, Stat* stat, bool watch) {
  std::string buf(64 * 1024, '\0');
  for (;;) {
    int len = static_cast<int>(buf.size());
    Stat s{};
    const int rc = zoo_get(zh_, path.c_str(), watch ? 1 : 0, buf.data(), &len, &s);
    if (rc == ZOK && s.dataLength > static_cast<int>(buf.size())) {  // did not fit: again, big enough
      buf.assign(static_cast<std::size_t>(s.dataLength), '\0');
      continue;
    }
    if (rc == ZOK) {
      if (data) data->assign(buf.data(), len < 0 ? 0 : static_cast<std::size_t>(len));
      if (stat) *stat = s;
    }
    return rc;
  }
}

int ZkClient::set(const std::string& path, const std::string& data, int version, Stat* stat) {
  Stat s{};
  const int rc = zoo_set2(zh_, path.c_str(), data.data(), static_cast<int>(data.size()), version, &s);
  if (rc == ZOK && stat) *stat = s;
  return rc;
}

int ZkClient::exists(const std::string& path, Stat* stat, bool watch) {
  Stat s{};
  const int rc = zoo_exists(zh_, path.c_str(), watch ? 1 : 0, &s);
  if (rc == ZOK && stat) *stat = s;
  return rc;
}

int ZkClient::remove(const std::string& path, int version) { return zoo_delete(zh_, path.c_str(), version); }

int ZkClient::children(const std::string& path, std::vector<std::string>* out, bool watch) {
  String_vector v{};
  const int rc = zoo_get_children(zh_, path.c_str(), watch ? 1 : 0, &v);
  if (rc == ZOK) {
    auto names = take_strings(v);
    if (out) *out = std::move(names);
  }
  return rc;
}

int ZkClient::children2(const std::string& path, std::vector<std::string>* out, Stat* stat, bool watch) {
  String_vector v{};
  Stat s{};
  const int rc = zoo_get_children2(zh_, path.c_str(), watch ? 1 : 0, &v, &s);
  if (rc == ZOK) {
    auto names = take_strings(v);
    if (out) *out = std::move(names);
    if (stat) *stat = s;
  }
  return rc;
}

// A completion whose callback did not come by the deadline may still come
// later; it is kept alive here instead of being freed under the client's feet.
void keep_forever(std::shared_ptr<Completion> late) {
  static std::mutex mutex;
  static std::vector<std::shared_ptr<Completion>> graveyard;
  std::lock_guard lock(mutex);
  graveyard.push_back(std::move(late));
}

int ZkClient::add_auth(const std::string& scheme, const std::string& credentials, milliseconds timeout) {
  auto done = std::make_shared<Completion>();
  const int rc = zoo_add_auth(zh_, scheme.c_str(), credentials.data(), static_cast<int>(credentials.size()),
                              &Completion::on_void, done.get());
  if (rc != ZOK) return rc;
  if (!done->wait(timeout)) {
    keep_forever(done);
    return ZOPERATIONTIMEOUT;
  }
  return done->rc();
}

int ZkClient::sync(const std::string& path, std::string* answered_path, milliseconds timeout) {
  auto done = std::make_shared<Completion>();
  const int rc = zoo_async(zh_, path.c_str(), &Completion::on_string, done.get());
  if (rc != ZOK) return rc;
  if (!done->wait(timeout)) {
    keep_forever(done);
    return ZOPERATIONTIMEOUT;
  }
  if (answered_path) *answered_path = done->value();
  return done->rc();
}

}  // namespace corral::test
