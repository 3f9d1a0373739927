// corral::Client: a ZooKeeper client on fibers.
//
// Every call suspends only the calling fiber; many requests may be in flight
// on one connection at once (replies are matched to requests in order, as the
// protocol guarantees, and a reply out of order drops the connection). Each
// operation comes in three forms:
//
//   T    op(args..., std::error_code& ec)  // ec set, T default on failure
//   T    op(args...)                        // throws std::system_error
//   auto async_op(args...)                 // boost::fibers::future<Result<T>>
//
// Errors are ZooKeeper's codes in corral::zookeeper_category()
// (corral/wire/error.h). What a caller can see:
//   * every call: connectionLoss (the connection dropped before the reply;
//     the request may or may not have been applied; also after close()),
//     sessionExpired, authFailed (after refused credentials), badArguments
//     (an invalid path, refused before sending), marshallingError (a reply
//     that does not decode);
//   * API errors as the server returns them: noNode, nodeExists, badVersion,
//     notEmpty, noAuth, invalidAcl, noChildrenForEphemerals, noWatcher,
//     unimplemented (e.g. TTL nodes disabled on the server).
//
// Threads: a Client belongs to the Runtime (thread) that created it; call it
// only from fibers of that thread. BlockingClient (blocking_client.h) wraps a
// Client in its own thread for callers outside any runtime.
//
// Connection life: connect() picks servers in random order, resumes the
// session on another server when a connection drops (within the session
// timeout), sends lastZxidSeen so it never goes back in time, pings when idle
// for a third of the session timeout, and re-registers watches (setWatches2)
// and re-sends addauth credentials after each reconnect. State changes go to
// listeners in order. After expiry the client stays expired: calls fail with
// sessionExpired until reconnect_new_session() (or the
// ClientOptions::renew_expired_session policy) starts a new session.
#pragma once

#include <boost/fiber/future.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "corral/watch_table.h"
#include "corral/wire/error.h"
#include "corral/wire/protocol.h"
#include "corral/wire/records.h"

namespace corral {

class Runtime;

using wire::Acl;
using wire::AclList;
using wire::CreateMode;
using wire::Stat;

// world:anyone with all permissions (ZooDefs.Ids.OPEN_ACL_UNSAFE).
const AclList& open_acl();
// All permissions for the creator's authenticated ids (CREATOR_ALL_ACL).
const AclList& creator_all_acl();
// world:anyone may read (READ_ACL_UNSAFE).
const AclList& read_acl();

template <class T>
struct Result {
  std::error_code error;
  T value{};
};

struct Empty {};

enum class SessionState {
  connecting,   // first connection attempt in progress
  connected,    // a session is established
  suspended,    // the connection dropped; the session may still be alive
  reconnected,  // the same session, resumed (possibly on another server)
  expired,      // the server ended the session; ephemerals are gone
  closed,       // close() was called
  authFailed,   // the server refused addauth credentials
};
std::string_view to_string(SessionState s);
// A session usable now: connected, or reconnected after a suspension.
bool is_connected(SessionState s);
// A session that will not come back: expired, closed, or refused credentials.
bool has_ended(SessionState s);
// What a call sees once the session has ended: sessionExpired, authFailed,
// connectionLoss (closed); none while it has not.
std::error_code end_error(SessionState s);

struct ClientOptions {
  std::string connect_string = "127.0.0.1:2181";
  std::chrono::milliseconds session_timeout{30000};
  // Resume this session instead of creating one (id and password).
  int64_t session_id = 0;
  std::string session_password{};
  // After expiry, start a new session automatically (and report connected).
  bool renew_expired_session = false;
  // Seed for shuffling the server list (0: random).
  uint64_t seed = 0;
};

struct CreateOptions {
  CreateMode mode = CreateMode::persistent;
  AclList acl = open_acl();
  int64_t ttl_ms = -1;  // for the WithTtl modes
  bool container = false;
};

struct Created {
  std::string path;  // the actual name (sequential suffix included)
  Stat stat;
};

struct NodeData {
  std::string data;
  Stat stat;
};

struct Children {
  std::vector<std::string> names;
  Stat stat;
};

struct AclAndStat {
  AclList acl;
  Stat stat;
};

// One op of a multi; see Transaction for the builder.
using wire::MultiOp;
// One result of a multi or multiRead: type is wire::OpCode::error with `err`
// set for a failed op (every op of a failed multi reports its own code).
using wire::MultiResult;

class Transaction {
 public:
  Transaction& create(std::string path, std::string data, CreateOptions options = {});
  Transaction& remove(std::string path, int32_t version = -1);
  Transaction& set(std::string path, std::string data, int32_t version = -1);
  Transaction& check(std::string path, int32_t version);
  const std::vector<MultiOp>& ops() const { return ops_; }

 private:
  std::vector<MultiOp> ops_;
};

class Client {
 public:
  using StateListener = std::function<void(SessionState)>;

  Client(Runtime& runtime, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Blocks the fiber until a session is established or `timeout` passes
  // (operationTimeout); a connect string that cannot parse is badArguments.
  void connect(std::chrono::milliseconds timeout, std::error_code& ec);
  void connect(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Ends the session (ephemerals go at once) and the connection.
  void close();
  // After expiry: forget the old session and connect with a new one.
  void reconnect_new_session(std::chrono::milliseconds timeout, std::error_code& ec);

  SessionState state() const;
  int64_t session_id() const;
  const std::string& session_password() const;
  std::chrono::milliseconds negotiated_timeout() const;
  int64_t last_zxid() const;
  // Listeners see every state change in order, on the client's event fiber.
  // The id removes the listener again; a removed listener is never called.
  uint64_t add_state_listener(StateListener listener);
  void remove_state_listener(uint64_t id);
  // Blocks the fiber until the session is connected (true), or it ended,
  // `deadline` passed or `stop` was requested (false). Starts nothing:
  // connect() does that.
  bool wait_connected(std::chrono::steady_clock::time_point deadline, const std::stop_token& stop = {});
  // Drops the TCP connection without ending the session (for tests and
  // for moving to another server): the client reconnects on its own.
  void drop_connection();

  // ---- operations ------------------------------------------------------------
  boost::fibers::future<Result<Created>> async_create(std::string_view path, std::string_view data,
                                                      const CreateOptions& options = {});
  Created create(std::string_view path, std::string_view data, const CreateOptions& options, std::error_code& ec);
  Created create(std::string_view path, std::string_view data = {}, const CreateOptions& options = {});

  boost::fibers::future<Result<Empty>> async_remove(std::string_view path, int32_t version = -1);
  void remove(std::string_view path, int32_t version, std::error_code& ec);
  void remove(std::string_view path, int32_t version = -1);

  // No node is not an error here: the result is empty (the watch, if any,
  // then fires when the node is created).
  boost::fibers::future<Result<std::optional<Stat>>> async_exists(std::string_view path, Watcher watcher = {});
  std::optional<Stat> exists(std::string_view path, Watcher watcher, std::error_code& ec);
  std::optional<Stat> exists(std::string_view path, Watcher watcher = {});

  boost::fibers::future<Result<NodeData>> async_get(std::string_view path, Watcher watcher = {});
  NodeData get(std::string_view path, Watcher watcher, std::error_code& ec);
  NodeData get(std::string_view path, Watcher watcher = {});

  boost::fibers::future<Result<Stat>> async_set(std::string_view path, std::string_view data, int32_t version = -1);
  Stat set(std::string_view path, std::string_view data, int32_t version, std::error_code& ec);
  Stat set(std::string_view path, std::string_view data, int32_t version = -1);

  boost::fibers::future<Result<Children>> async_children(std::string_view path, Watcher watcher = {});
  Children children(std::string_view path, Watcher watcher, std::error_code& ec);
  Children children(std::string_view path, Watcher watcher = {});

  int32_t all_children_number(std::string_view path, std::error_code& ec);
  int32_t all_children_number(std::string_view path);

  // This session's ephemerals whose path starts with `prefix` ("/" for all).
  std::vector<std::string> ephemerals(std::string_view prefix, std::error_code& ec);
  std::vector<std::string> ephemerals(std::string_view prefix = "/");

  // Makes the next read on this connection's server reflect every write
  // committed before it.
  void sync(std::string_view path, std::error_code& ec);
  void sync(std::string_view path = "/");

  void check(std::string_view path, int32_t version, std::error_code& ec);

  // Atomic: all ops apply or none. On failure `ec` is the first failing op's
  // code and every result carries its op's code.
  boost::fibers::future<Result<std::vector<MultiResult>>> async_multi(const Transaction& txn);
  std::vector<MultiResult> multi(const Transaction& txn, std::error_code& ec);
  std::vector<MultiResult> multi(const Transaction& txn);
  // getData/getChildren of several paths in one round trip; per-op errors.
  std::vector<MultiResult> multi_read(const std::vector<std::string>& get_data_paths,
                                      const std::vector<std::string>& get_children_paths, std::error_code& ec);

  AclAndStat get_acl(std::string_view path, std::error_code& ec);
  AclAndStat get_acl(std::string_view path);
  Stat set_acl(std::string_view path, const AclList& acl, int32_t aversion, std::error_code& ec);
  Stat set_acl(std::string_view path, const AclList& acl, int32_t aversion = -1);

  // Adds credentials ("digest", "user:password") to this connection and to
  // every later one; authFailed ends the session's usefulness (state authFailed).
  void add_auth(std::string_view scheme, std::string_view credentials, std::error_code& ec);
  void add_auth(std::string_view scheme, std::string_view credentials);

  // A persistent watch on `path` (and, recursive, on everything below it).
  void add_watch(std::string_view path, wire::AddWatchMode mode, Watcher watcher, std::error_code& ec);
  void add_watch(std::string_view path, wire::AddWatchMode mode, Watcher watcher);
  // Removes this client's watches of `type` on `path` at the server (unless
  // local) and here; noWatcher if there were none.
  void remove_watches(std::string_view path, wire::WatcherType type, bool local, std::error_code& ec);
  void remove_watches(std::string_view path, wire::WatcherType type, bool local = false);

  // Who the server thinks we are (whoAmI): (scheme, user) pairs.
  std::vector<wire::ClientInfo> who_am_i(std::error_code& ec);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace corral
