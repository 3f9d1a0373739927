// The ZooKeeper client protocol of one session, without sockets, fibers or
// clocks: it turns requests into frames, matches replies to requests by xid,
// keeps what a new connection must send again (watches to re-arm, credentials,
// requests made while away) and says what each frame from the server means.
//
// Client::Impl (client.cc) is the shell around it: it owns the socket, the
// reconnect loop, the heartbeat timer and the event fiber, writes the frames
// this returns and runs the callbacks it hands back. Keeping the two apart
// lets the protocol be driven frame by frame in tests and in a simulator,
// as the server's pure core is (docs/ARCHITECTURE.md §3).
//
// Requests are answered in the order they were sent (ZooKeeper's guarantee);
// a reply whose xid is not the oldest outstanding one is a protocol error
// and the shell drops the connection. Special xids: -1 notifications, -2
// pings, -4 auth, -8 the watch re-registration.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "corral/watch_table.h"
#include "corral/wire/error.h"
#include "corral/wire/protocol.h"
#include "corral/wire/records.h"

namespace corral {

class SessionProtocol {
 public:
  // Called with the reply's header and body when the reply comes.
  using Completion = std::function<void(const wire::ReplyHeader&, std::string_view body)>;
  // Called instead when the request will have no reply (connection lost, session ended).
  using Failure = std::function<void(std::error_code)>;
  // A watch that fired, and the event to call it with (on the shell's event fiber).
  using Fired = std::vector<std::pair<Watcher, WatchedEvent>>;

  // A session to resume (`session_id` != 0, its password) or a new one.
  SessionProtocol(std::string chroot, int64_t session_id, std::string password);

  // ---- the session -----------------------------------------------------------------
  int64_t session_id() const { return session_id_; }
  const std::string& password() const { return password_; }
  int32_t negotiated_ms() const { return negotiated_ms_; }
  int64_t last_zxid() const { return last_zxid_; }
  // After an expiry: the next handshake asks for a new session.
  void forget_session();

  // The ConnectRequest frame that opens a connection (resuming the session, if any).
  std::string connect_request(int32_t session_timeout_ms) const;
  enum class Handshake { ok, failed, expired };
  // The server's ConnectResponse frame: ok (the session's id, password and
  // timeout taken), expired (a timeout of 0: the session is gone), failed
  // (not a ConnectResponse).
  Handshake on_connect_response(std::string_view frame);

  // ---- requests ---------------------------------------------------------------------
  // A request with `payload` (an encoded record): its frame when `send_now`
  // (the connection is up; the caller writes it), else "" and it waits for
  // the next connection (on_connected()).
  std::string submit(wire::OpCode op, std::string_view payload, Completion complete, Failure fail, bool send_now);
  // Credentials sent again on every new connection.
  void remember_auth(std::string scheme, std::string credentials);
  // An auth request whose answer `done` hears: its frame when `send_now`,
  // else "" (the credentials, remembered, go with the next connection).
  std::string submit_auth(const std::string& scheme, const std::string& credentials, Failure done, bool send_now);
  // What a fresh connection sends first, in order: the watches to re-arm
  // (setWatches2 in packets of about 128 KiB of paths at most), the
  // credentials, then the requests made while away (now awaiting replies).
  std::vector<std::string> on_connected();
  static std::string ping_request();

  // ---- frames from the server ----------------------------------------------------
  enum class Frame { ok, protocol_error, auth_failed };
  // A frame after the handshake: a reply completes its request, a
  // notification adds the watches it fires to `fired`. auth_failed: the
  // server refused our credentials (the session is over for this client).
  Frame on_frame(std::string_view frame, Fired& fired);

  // Every outstanding and waiting request, and auth answer, fails with `ec`.
  void fail_all(std::error_code ec);
  // The requests waiting for a connection fail with `ec` (none was sent).
  void fail_queued(std::error_code ec);
  // Every watch fires with a session event (`state`: expired, authFailed, closed).
  void fire_all(wire::KeeperState state, Fired& fired);

  // ---- watches and paths ------------------------------------------------------------
  WatchTable& watches() { return watches_; }
  const WatchTable& watches() const { return watches_; }
  std::string server_path(std::string_view path) const;
  std::string client_path(std::string_view path) const;

 private:
  struct Pending {
    int32_t xid;
    wire::OpCode op;
    Completion complete;
    Failure fail;
  };

  std::string chroot_;
  int64_t session_id_ = 0;
  std::string password_;
  int32_t negotiated_ms_ = 0;
  int64_t last_zxid_ = 0;
  int32_t next_xid_ = 1;
  std::deque<Pending> sent_;                            // awaiting replies, in order
  std::deque<std::pair<Pending, std::string>> queued_;  // with their frames, for the next connection
  std::deque<Failure> auth_waiters_;
  std::vector<std::pair<std::string, std::string>> auths_;
  WatchTable watches_;
};

}  // namespace corral
