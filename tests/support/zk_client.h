// The official ZooKeeper C client (libzookeeper_mt) wrapped for tests: a handle
// that closes itself, a global watcher that records every event it gets, and
// bounded waits for states and events. The zoo_* API stays available through
// get(); the few shorthands below only spare the buffers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/wait.h"
#include "tests/support/zookeeper_c.h"

namespace corral::test {

struct ZkEvent {
  int type = 0;   // ZOO_CREATED_EVENT, ..., ZOO_SESSION_EVENT
  int state = 0;  // ZOO_CONNECTED_STATE, ZOO_EXPIRED_SESSION_STATE, ...
  std::string path;
};
std::string to_string(const ZkEvent& e);

// One asynchronous completion, waited for with a deadline: pass `this` as the
// `data` of a zoo_a* call together with one of the static callbacks.
class Completion {
 public:
  static void on_void(int rc, const void* data);
  static void on_string(int rc, const char* value, const void* data);
  // True once the callback ran, false at the deadline.
  bool wait(milliseconds timeout = default_timeout);
  int rc() const;
  std::string value() const;

 private:
  void done(int rc, std::string value);

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  int rc_ = 0;
  std::string value_;
};

// Keeps `late` alive for the rest of the process: for a Completion whose
// callback missed its deadline and may still run.
void keep_forever(std::shared_ptr<Completion> late);

class ZkClient {
 public:
  // Starts connecting to `hosts` ("127.0.0.1:port"), with a new session or, if
  // `resume` is given, that one. Does not wait: see wait_connected().
  explicit ZkClient(const std::string& hosts, int timeout_ms = 10000, const clientid_t* resume = nullptr);
  ~ZkClient();
  ZkClient(const ZkClient&) = delete;
  ZkClient& operator=(const ZkClient&) = delete;

  // A ZkClient that is connected; throws if it is not by the deadline. The
  // "connected" session event is taken, so the event queue starts empty.
  static std::unique_ptr<ZkClient> connect(const std::string& hosts, int timeout_ms = 10000,
                                           const clientid_t* resume = nullptr, milliseconds timeout = default_timeout);

  zhandle_t* get() const { return zh_; }
  // zoo_state() reaches `state` (ZOO_CONNECTED_STATE, ZOO_EXPIRED_SESSION_STATE, ...).
  bool wait_state(int state, milliseconds timeout = default_timeout) const;
  bool wait_connected(milliseconds timeout = default_timeout) const { return wait_state(ZOO_CONNECTED_STATE, timeout); }
  int64_t session_id() const;
  clientid_t client_id() const;
  // The session timeout the server granted.
  int negotiated_timeout() const { return zoo_recv_timeout(zh_); }
  // zookeeper_close(): ends the session (closeSession) and frees the handle.
  int close();

  // Takes the first recorded event that `match` accepts, waiting up to `timeout`.
  std::optional<ZkEvent> wait_event(const std::function<bool(const ZkEvent&)>& match,
                                    milliseconds timeout = default_timeout);
  // ... the first event of this type (ZOO_CHANGED_EVENT, ...) on this path.
  std::optional<ZkEvent> wait_event(int type, const std::string& path, milliseconds timeout = default_timeout);
  // ... the first session event with this state.
  std::optional<ZkEvent> wait_session_event(int state, milliseconds timeout = default_timeout);
  // Recorded events not yet taken, oldest first.
  std::vector<ZkEvent> pending_events() const;
  void clear_events();

  // ---- synchronous shorthands (each returns the zoo_* result code) ----------
  int create(const std::string& path, const std::string& data = {}, int flags = 0, std::string* created = nullptr,
             const ACL_vector* acl = &ZOO_OPEN_ACL_UNSAFE);
  int get(const std::string& path, std::string* data, Stat* stat = nullptr, bool watch = false);
  int set(const std::string& path, const std::string& data, int version = -1, Stat* stat = nullptr);
  int exists(const std::string& path, Stat* stat = nullptr, bool watch = false);
  int remove(const std::string& path, int version = -1);
  int children(const std::string& path, std::vector<std::string>* out, bool watch = false);
  int children2(const std::string& path, std::vector<std::string>* out, Stat* stat, bool watch = false);
  // zoo_add_auth(), waiting for the server's answer (ZOPERATIONTIMEOUT if none
  // came by the deadline).
  int add_auth(const std::string& scheme, const std::string& credentials, milliseconds timeout = default_timeout);
  // zoo_async() (the sync operation), waiting for its completion.
  int sync(const std::string& path, std::string* answered_path = nullptr, milliseconds timeout = default_timeout);

 private:
  static void on_event(zhandle_t* zh, int type, int state, const char* path, void* context);

  zhandle_t* zh_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<ZkEvent> events_;
};

// Frees what a String_vector holds and returns it as strings, sorted.
std::vector<std::string> take_strings(String_vector& v);

}  // namespace corral::test
