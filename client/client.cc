#include "corral/client.h"

#include <algorithm>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <boost/fiber/operations.hpp>
#include <deque>
#include <map>
#include <random>

#include "client/connect_string.h"
#include "client/runtime/await.h"
#include "client/session_protocol.h"
#include "corral/asio.h"
#include "corral/runtime.h"
#include "corral/wire/frame.h"
#include "corral/wire/path.h"

namespace corral {

namespace {

using Clock = std::chrono::steady_clock;
using boost::system::error_code;

// The client accepts bigger frames than a server does: a reply carries a
// node's data (up to jute.maxbuffer) plus its header and stat.
constexpr std::size_t max_reply_frame = 2 * wire::default_max_frame;

std::error_code code_of(int32_t err) { return static_cast<Error>(err); }

}  // namespace

const AclList& open_acl() {
  static const AclList acl{{wire::perms::all, {"world", "anyone"}}};
  return acl;
}
const AclList& creator_all_acl() {
  static const AclList acl{{wire::perms::all, {"auth", ""}}};
  return acl;
}
const AclList& read_acl() {
  static const AclList acl{{wire::perms::read, {"world", "anyone"}}};
  return acl;
}

std::string_view to_string(SessionState s) {
  switch (s) {
    case SessionState::connecting: return "connecting";
    case SessionState::connected: return "connected";
    case SessionState::suspended: return "suspended";
    case SessionState::reconnected: return "reconnected";
    case SessionState::expired: return "expired";
    case SessionState::closed: return "closed";
    case SessionState::authFailed: return "auth-failed";
  }
  return "unknown";
}

bool is_connected(SessionState s) { return s == SessionState::connected || s == SessionState::reconnected; }

bool has_ended(SessionState s) {
  return s == SessionState::expired || s == SessionState::closed || s == SessionState::authFailed;
}

std::error_code end_error(SessionState s) {
  switch (s) {
    case SessionState::expired: return Error::sessionExpired;
    case SessionState::authFailed: return Error::authFailed;
    case SessionState::closed: return Error::connectionLoss;
    default: return {};
  }
}

// ---- Transaction ------------------------------------------------------------------

Transaction& Transaction::create(std::string path, std::string data, CreateOptions options) {
  MultiOp op;
  op.type = options.container            ? wire::OpCode::createContainer
            : wire::is_ttl(options.mode) ? wire::OpCode::createTTL
                                         : wire::OpCode::create2;
  op.path = std::move(path);
  op.data = std::move(data);
  op.acl = std::move(options.acl);
  op.flags = static_cast<int32_t>(options.container ? CreateMode::container : options.mode);
  op.ttl = options.ttl_ms;
  ops_.push_back(std::move(op));
  return *this;
}

Transaction& Transaction::remove(std::string path, int32_t version) {
  ops_.push_back(MultiOp{wire::OpCode::remove, std::move(path), {}, {}, 0, -1, version});
  return *this;
}

Transaction& Transaction::set(std::string path, std::string data, int32_t version) {
  ops_.push_back(MultiOp{wire::OpCode::setData, std::move(path), std::move(data), {}, 0, -1, version});
  return *this;
}

Transaction& Transaction::check(std::string path, int32_t version) {
  ops_.push_back(MultiOp{wire::OpCode::check, std::move(path), {}, {}, 0, -1, version});
  return *this;
}

// ---- Impl ---------------------------------------------------------------------------

// The shell around SessionProtocol (client/session_protocol.h): the socket,
// the connection loop over the ensemble's hosts, the heartbeat, the session
// state and its listeners, and the event fiber that runs watchers and
// listeners in order.
class Client::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(Runtime& runtime, ClientOptions options)
      : io_(runtime.io()),
        options_(std::move(options)),
        connect_(parse_or_report(options_.connect_string, config_error_)),
        protocol_(connect_.chroot, options_.session_id, options_.session_password) {
    std::mt19937_64 rng(options_.seed ? options_.seed : std::random_device{}());
    std::shuffle(connect_.hosts.begin(), connect_.hosts.end(), rng);
    rng_.seed(rng());
  }

  // ---- connection life ------------------------------------------------------------

  void connect(std::chrono::milliseconds timeout, std::error_code& ec) {
    if (!config_error_.empty()) {
      ec = Error::badArguments;
      return;
    }
    if (!running_) {
      running_ = true;
      if (state_ != SessionState::connected && state_ != SessionState::reconnected) set_state(SessionState::connecting);
      start_event_fiber();
      spawn([](Impl& impl) { impl.connection_loop(); });
    }
    std::unique_lock lock(state_mutex_);
    const bool done = state_cv_.wait_for(lock, timeout, [&] {
      return state_ == SessionState::connected || state_ == SessionState::reconnected || terminal();
    });
    if (!done) {
      ec = Error::operationTimeout;
    } else if (state_ == SessionState::expired) {
      ec = Error::sessionExpired;
    } else if (state_ == SessionState::authFailed) {
      ec = Error::authFailed;
    } else if (state_ == SessionState::closed) {
      ec = Error::connectionLoss;
    } else {
      ec.clear();
    }
  }

  void close() {
    if (state_ == SessionState::closed) return;
    if (connected()) {
      auto done = call<Empty>(wire::OpCode::closeSession, std::string{},
                              [](const wire::ReplyHeader&, std::string_view) { return Result<Empty>{}; });
      done.wait_for(std::chrono::milliseconds(std::max<int64_t>(protocol_.negotiated_ms(), 1000)));
    }
    running_ = false;
    closing_ = true;
    set_state(SessionState::closed);
    fail_all(Error::connectionLoss);
    drop_socket();
    stop_event_fiber();
    wake_.notify_all();
    // The client's fibers see the closed socket (operation_aborted) or the
    // wake-up and end; wait for them, so that the Runtime may be destroyed
    // once close() (or ~Client) has returned: a fiber left waiting on an
    // io_context that is gone would never end. (Called from a callback, the
    // event fiber itself is still running: it ends when the callback returns.)
    const int remaining = boost::this_fiber::get_id() == event_fiber_id_ ? 1 : 0;
    std::unique_lock lock(fibers_mutex_);
    fibers_cv_.wait(lock, [&] { return live_fibers_ <= remaining; });
  }

  // For ~Client: close, and let no callback of the client's run afterwards
  // (listeners and watchers usually capture objects that die with it).
  void shutdown() {
    listeners_.clear();
    events_.clear();
    protocol_.watches().take_all();
    close();
  }

  void reconnect_new_session(std::chrono::milliseconds timeout, std::error_code& ec) {
    if (state_ != SessionState::expired) {
      ec.clear();
      return;
    }
    protocol_.forget_session();
    running_ = false;
    connect(timeout, ec);  // reports connecting, once
  }

  void drop_connection() { drop_socket(); }

  // ---- requests --------------------------------------------------------------------

  template <class T, class Decode>
  boost::fibers::future<Result<T>> call(wire::OpCode op, std::string_view payload, Decode decode) {
    auto promise = std::make_shared<boost::fibers::promise<Result<T>>>();
    auto future = promise->get_future();
    if (auto ec = refusal(); ec) {
      promise->set_value(Result<T>{ec, {}});
      return future;
    }
    write(protocol_.submit(
        op, payload,
        [promise, decode = std::move(decode)](const wire::ReplyHeader& h, std::string_view body) mutable {
          promise->set_value(decode(h, body));
        },
        [promise](std::error_code ec) {
          promise->set_value(Result<T>{ec, {}});
        },
        sendable()));
    return future;
  }

  template <class Record>
  static std::string payload_of(const Record& r) {
    return wire::encode_to_string(r);
  }

  std::string server_path(std::string_view path) const { return protocol_.server_path(path); }
  std::string client_path(std::string_view path) const { return protocol_.client_path(path); }

  void add_watch(WatchKind kind, const std::string& client_path, Watcher w) {
    if (w) protocol_.watches().add(kind, client_path, std::move(w));
  }

  bool remove_local_watches(const std::string& path, wire::WatcherType type) {
    return protocol_.watches().remove(path, type);
  }
  bool has_local_watches(const std::string& path, wire::WatcherType type) const {
    return protocol_.watches().contains(path, type);
  }

  void remember_auth(std::string scheme, std::string credentials) {
    protocol_.remember_auth(std::move(scheme), std::move(credentials));
  }

  boost::fibers::future<Result<Empty>> send_auth(const std::string& scheme, const std::string& credentials) {
    auto promise = std::make_shared<boost::fibers::promise<Result<Empty>>>();
    auto future = promise->get_future();
    if (auto ec = refusal(); ec) {
      promise->set_value(Result<Empty>{ec, {}});
      return future;
    }
    write(protocol_.submit_auth(
        scheme, credentials,
        [promise](std::error_code ec) {
          promise->set_value(Result<Empty>{ec, {}});
        },
        connected()));
    return future;
  }

  SessionState state() const { return state_; }
  int64_t session_id() const { return protocol_.session_id(); }
  const std::string& password() const { return protocol_.password(); }
  int32_t negotiated_ms() const { return protocol_.negotiated_ms(); }
  int64_t last_zxid() const { return protocol_.last_zxid(); }
  uint64_t add_listener(StateListener l) {
    const uint64_t id = ++last_listener_id_;
    listeners_.emplace(id, std::move(l));
    return id;
  }
  void remove_listener(uint64_t id) { listeners_.erase(id); }

  bool wait_connected(std::chrono::steady_clock::time_point deadline, const std::stop_token& stop) {
    const std::stop_callback wake(stop, [this] {
      std::unique_lock lock(state_mutex_);
      state_cv_.notify_all();
    });
    std::unique_lock lock(state_mutex_);
    state_cv_.wait_until(lock, deadline, [&] { return connected() || terminal() || stop.stop_requested(); });
    return connected() && !stop.stop_requested();
  }

 private:
  // The parsed connect string; a malformed one is reported in `error`
  // (connect() refuses it) and leaves no hosts.
  static ConnectString parse_or_report(const std::string& text, std::string& error) {
    auto cs = parse_connect_string(text, error);
    return cs ? std::move(*cs) : ConnectString{};
  }

  bool connected() const { return is_connected(state_); }
  // A request may go out now (else it waits for the next connection).
  bool sendable() const { return connected() && socket_.has_value(); }
  bool terminal() const { return has_ended(state_); }
  std::error_code refusal() const { return end_error(state_); }

  void set_state(SessionState s) {
    {
      std::unique_lock lock(state_mutex_);
      state_ = s;
    }
    state_cv_.notify_all();
    for (const auto& [id, l] : listeners_) {
      // Looked up again when delivered: a listener removed meanwhile is not called.
      enqueue_event([this, listener_id = id, s] {
        if (auto it = listeners_.find(listener_id); it != listeners_.end()) it->second(s);
      });
    }
  }

  void fail_all(std::error_code ec) { protocol_.fail_all(ec); }

  // ---- the socket ------------------------------------------------------------------

  void write(std::string_view frame) {
    if (frame.empty()) return;  // nothing to send now (a request queued for the next connection)
    last_send_ = Clock::now();
    out_.append(frame);
    flush();
  }

  void flush() {
    if (writing_ || out_.empty() || !socket_) return;
    writing_ = true;
    writing_buf_.swap(out_);
    auto self = shared_from_this();
    const uint64_t generation = generation_;
    asio::async_write(*socket_, asio::buffer(writing_buf_), [self, generation](const error_code& ec, std::size_t) {
      self->writing_ = false;
      self->writing_buf_.clear();
      if (generation != self->generation_) return;
      if (ec) {
        self->drop_socket();
        return;
      }
      self->flush();
    });
  }

  void drop_socket() {
    if (!socket_) return;
    error_code ignored;
    socket_->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_->close(ignored);
  }

  // ---- the connection fiber ---------------------------------------------------------

  void connection_loop() {
    std::size_t attempt = 0;
    bool ever_connected = state_ == SessionState::connected || state_ == SessionState::reconnected;
    while (running_ && !terminal()) {
      const HostPort& host = connect_.hosts[next_host_++ % connect_.hosts.size()];
      const auto per_host = std::chrono::milliseconds(
          std::max<int64_t>(1000, options_.session_timeout.count() / static_cast<int64_t>(connect_.hosts.size())));
      if (attempt++ > 0) {
        // A short random pause between attempts, as ZooKeeper's client takes.
        std::uniform_int_distribution<int> jitter(0, 100);
        pause_until(Clock::now() + std::chrono::milliseconds(jitter(rng_)));
        if (!running_ || terminal()) break;
      }
      if (!open_socket(host, per_host)) {
        // As after a failed handshake: what waits for a connection fails now
        // instead of for as long as no server can be reached.
        fail_queued(Error::connectionLoss);
        continue;
      }
      const HandshakeOutcome outcome = handshake(per_host);
      if (outcome == HandshakeOutcome::failed) {
        discard_socket();
        fail_queued(Error::connectionLoss);
        continue;
      }
      if (outcome == HandshakeOutcome::expired) {
        discard_socket();
        expire();
        if (options_.renew_expired_session && running_) {
          protocol_.forget_session();
          ever_connected = false;
          set_state(SessionState::connecting);
          continue;
        }
        break;
      }
      attempt = 0;
      set_state(ever_connected ? SessionState::reconnected : SessionState::connected);
      ever_connected = true;
      prime_connection();
      run_connection();
      discard_socket();
      if (!running_ || terminal()) break;
      set_state(SessionState::suspended);
      fail_all(Error::connectionLoss);
    }
  }

  bool open_socket(const HostPort& host, std::chrono::milliseconds timeout) {
    asio::ip::tcp::resolver resolver(io_);
    auto [rec, resolved] = runtime::await<error_code, asio::ip::tcp::resolver::results_type>(
        [&](auto handler) { resolver.async_resolve(host.host, std::to_string(host.port), std::move(handler)); });
    if (rec || !running_ || terminal()) return false;  // close() may have come meanwhile
    const auto endpoints = std::move(resolved);        // a lambda may not capture a structured binding (clang)
    socket_.emplace(io_);
    ++generation_;
    asio::steady_timer timer(io_);
    timer.expires_after(timeout);
    timer.async_wait([this, generation = generation_](const error_code& ec) {
      if (!ec && generation == generation_) drop_socket();
    });
    auto [ec, endpoint] = runtime::await<error_code, asio::ip::tcp::endpoint>(
        [&](auto handler) { asio::async_connect(*socket_, endpoints, std::move(handler)); });
    timer.cancel();
    if (ec) {
      discard_socket();
      return false;
    }
    error_code ignored;
    socket_->set_option(asio::ip::tcp::no_delay(true), ignored);
    decoder_ = wire::FrameDecoder(max_reply_frame);
    return true;
  }

  void discard_socket() {
    drop_socket();
    socket_.reset();
    out_.clear();
    ++generation_;
    wake_.notify_all();  // the heartbeat of the old connection ends
  }

  // Reads one frame with a deadline; empty optional on error or timeout.
  std::optional<std::string> read_frame(Clock::time_point deadline) {
    while (true) {
      std::string_view frame;
      const auto status = decoder_.next(frame);
      if (status == wire::FrameDecoder::Status::frame) return std::string(frame);
      if (status == wire::FrameDecoder::Status::bad_length || !socket_) return std::nullopt;
      asio::steady_timer timer(io_);
      timer.expires_at(deadline);
      timer.async_wait([this, generation = generation_](const error_code& ec) {
        if (!ec && generation == generation_) drop_socket();
      });
      auto space = decoder_.prepare(std::size_t{64} * 1024);
      auto [ec, n] = runtime::await<error_code, std::size_t>([&](auto handler) {
        socket_->async_read_some(asio::buffer(space.data(), space.size()), std::move(handler));
      });
      timer.cancel();
      if (ec) return std::nullopt;
      decoder_.commit(n);
      last_recv_ = Clock::now();
    }
  }

  using HandshakeOutcome = SessionProtocol::Handshake;

  HandshakeOutcome handshake(std::chrono::milliseconds timeout) {
    write(protocol_.connect_request(static_cast<int32_t>(options_.session_timeout.count())));
    const auto reply = read_frame(Clock::now() + timeout);
    if (!reply) return HandshakeOutcome::failed;
    return protocol_.on_connect_response(*reply);
  }

  // What a fresh connection sends before anything else: watches to re-arm,
  // credentials, then the requests that queued while we were away.
  void prime_connection() {
    for (const auto& frame : protocol_.on_connected()) write(frame);
  }

  void run_connection() {
    const uint64_t generation = generation_;
    last_recv_ = last_send_ = Clock::now();
    spawn([generation](Impl& impl) { impl.heartbeat(generation); });
    while (running_ && generation == generation_) {
      const auto frame = read_frame(Clock::time_point::max());
      if (!frame) return;
      if (!dispatch(*frame)) return;
    }
  }

  // Pings when idle for a third of the session timeout; gives up on the
  // connection when nothing arrived for two thirds of it.
  void heartbeat(uint64_t generation) {
    const int32_t negotiated_ms = protocol_.negotiated_ms();
    const auto ping_every = std::chrono::milliseconds(std::max(negotiated_ms / 3, 1));
    const auto read_timeout = std::chrono::milliseconds(std::max(negotiated_ms * 2 / 3, 1));
    while (running_ && generation == generation_) {
      const auto now = Clock::now();
      if (now - last_recv_ > read_timeout) {
        drop_socket();
        return;
      }
      if (now - last_send_ >= ping_every) {
        write(SessionProtocol::ping_request());
      }
      const auto next = std::min(last_send_ + ping_every, last_recv_ + read_timeout);
      pause_until(std::max(next, now + std::chrono::milliseconds(1)));
    }
  }

  // False: the connection cannot go on (a protocol error, or auth failed).
  bool dispatch(std::string_view frame) {
    SessionProtocol::Fired fired;
    const auto outcome = protocol_.on_frame(frame, fired);
    deliver(fired);
    if (outcome == SessionProtocol::Frame::auth_failed) {
      set_state(SessionState::authFailed);
      deliver_final_event(wire::KeeperState::authFailed);
      fail_all(Error::authFailed);
      running_ = false;
    }
    return outcome == SessionProtocol::Frame::ok;
  }

  // Watchers run on the event fiber, in the order they fired.
  void deliver(SessionProtocol::Fired& fired) {
    for (auto& [w, event] : fired) enqueue_event([w = std::move(w), event = std::move(event)] { w(event); });
  }

  void fail_queued(std::error_code ec) { protocol_.fail_queued(ec); }

  void deliver_final_event(wire::KeeperState state) {
    SessionProtocol::Fired fired;
    protocol_.fire_all(state, fired);
    deliver(fired);
  }

  void expire() {
    set_state(SessionState::expired);
    deliver_final_event(wire::KeeperState::expired);
    fail_all(Error::sessionExpired);
  }

  // ---- the event fiber ------------------------------------------------------------------

  void enqueue_event(std::function<void()> f) {
    events_.push_back(std::move(f));
    events_cv_.notify_one();
  }

  void start_event_fiber() {
    if (event_fiber_running_) return;
    event_fiber_running_ = true;
    spawn([](Impl& impl) {
      impl.event_fiber_id_ = boost::this_fiber::get_id();
      impl.event_loop();
    });
  }

  void stop_event_fiber() {
    stop_events_ = true;
    events_cv_.notify_one();
  }

  void event_loop() {
    while (true) {
      std::unique_lock lock(events_mutex_);
      events_cv_.wait(lock, [&] { return !events_.empty() || stop_events_; });
      if (events_.empty()) break;
      auto f = std::move(events_.front());
      events_.pop_front();
      lock.unlock();
      f();
    }
    event_fiber_running_ = false;
    event_fiber_id_ = {};
  }

  // Runs `body(*this)` in a detached fiber that close() waits for.
  template <class F>
  void spawn(F body) {
    ++live_fibers_;
    auto self = shared_from_this();
    boost::fibers::fiber([self, body = std::move(body)]() mutable {
      body(*self);
      --self->live_fibers_;
      self->fibers_cv_.notify_all();
    }).detach();
  }

  // Sleeps until `deadline`, or until close() or a dropped connection wakes
  // the fiber early (callers re-check their loop condition).
  void pause_until(Clock::time_point deadline) {
    std::unique_lock lock(wake_mutex_);
    wake_.wait_until(lock, deadline);
  }

  asio::io_context& io_;
  ClientOptions options_;
  std::string config_error_;
  ConnectString connect_;  // its hosts shuffled once, then tried in turn
  SessionProtocol protocol_;
  std::mt19937_64 rng_;
  std::size_t next_host_ = 0;

  SessionState state_ = SessionState::connecting;
  bool running_ = false;
  bool closing_ = false;
  boost::fibers::mutex state_mutex_;
  boost::fibers::condition_variable state_cv_;

  std::optional<asio::ip::tcp::socket> socket_;
  uint64_t generation_ = 0;
  wire::FrameDecoder decoder_{max_reply_frame};
  std::string out_;
  std::string writing_buf_;
  bool writing_ = false;
  Clock::time_point last_send_{};
  Clock::time_point last_recv_{};

  std::map<uint64_t, StateListener> listeners_;
  uint64_t last_listener_id_ = 0;

  std::deque<std::function<void()>> events_;
  boost::fibers::mutex events_mutex_;
  boost::fibers::condition_variable events_cv_;
  bool event_fiber_running_ = false;
  boost::fibers::fiber::id event_fiber_id_;

  int live_fibers_ = 0;  // spawned and not yet ended
  boost::fibers::mutex fibers_mutex_;
  boost::fibers::condition_variable fibers_cv_;
  boost::fibers::mutex wake_mutex_;
  boost::fibers::condition_variable wake_;
  bool stop_events_ = false;
};

// ---- Client: thin forms over Impl ----------------------------------------------------------

namespace {

template <class T>
T take(boost::fibers::future<Result<T>> f, std::error_code& ec) {
  Result<T> r = f.get();
  ec = r.error;
  return std::move(r.value);
}

template <class T>
T or_throw(T value, const std::error_code& ec) {
  if (ec) throw std::system_error(ec);
  return value;
}

template <class T>
boost::fibers::future<Result<T>> refused(std::error_code ec) {
  boost::fibers::promise<Result<T>> p;
  p.set_value(Result<T>{ec, {}});
  return p.get_future();
}

bool path_ok(std::string_view path) { return wire::path_problem(path).empty(); }

// The usual reply: an error code, or a `Response` record turned into a T.
template <class Response, class Convert>
auto reply_as(Convert convert) {
  using T = std::invoke_result_t<Convert&, Response&&>;
  return [convert = std::move(convert)](const wire::ReplyHeader& h, std::string_view body) mutable {
    Result<T> r;
    Response resp;
    if (h.err != 0) {
      r.error = code_of(h.err);
    } else if (!wire::decode_from(body, resp)) {
      r.error = Error::marshallingError;
    } else {
      r.value = convert(std::move(resp));
    }
    return r;
  };
}

// A reply with no body worth reading.
Result<Empty> bare_reply(const wire::ReplyHeader& h, std::string_view) { return Result<Empty>{code_of(h.err), {}}; }

}  // namespace

Client::Client(Runtime& runtime, ClientOptions options) : impl_(std::make_shared<Impl>(runtime, std::move(options))) {}

// close(), but no listener or watcher of this client runs once the destructor
// has begun, not even for events queued before it: they usually capture
// objects that die with the client.
Client::~Client() {
  if (impl_) impl_->shutdown();
}

void Client::connect(std::chrono::milliseconds timeout, std::error_code& ec) { impl_->connect(timeout, ec); }
void Client::connect(std::chrono::milliseconds timeout) {
  std::error_code ec;
  connect(timeout, ec);
  if (ec) throw std::system_error(ec);
}
void Client::close() { impl_->close(); }
void Client::reconnect_new_session(std::chrono::milliseconds timeout, std::error_code& ec) {
  impl_->reconnect_new_session(timeout, ec);
}
SessionState Client::state() const { return impl_->state(); }
int64_t Client::session_id() const { return impl_->session_id(); }
const std::string& Client::session_password() const { return impl_->password(); }
std::chrono::milliseconds Client::negotiated_timeout() const {
  return std::chrono::milliseconds(impl_->negotiated_ms());
}
int64_t Client::last_zxid() const { return impl_->last_zxid(); }
uint64_t Client::add_state_listener(StateListener listener) { return impl_->add_listener(std::move(listener)); }
void Client::remove_state_listener(uint64_t id) { impl_->remove_listener(id); }
bool Client::wait_connected(std::chrono::steady_clock::time_point deadline, const std::stop_token& stop) {
  return impl_->wait_connected(deadline, stop);
}
void Client::drop_connection() { impl_->drop_connection(); }

boost::fibers::future<Result<Created>> Client::async_create(std::string_view path, std::string_view data,
                                                            const CreateOptions& options) {
  const bool sequential = wire::is_sequential(options.mode);
  if (!path_ok(sequential ? std::string(path) + "1" : std::string(path))) return refused<Created>(Error::badArguments);
  const bool ttl = wire::is_ttl(options.mode);
  const auto op = options.container ? wire::OpCode::createContainer
                  : ttl             ? wire::OpCode::createTTL
                                    : wire::OpCode::create2;
  const auto flags = static_cast<int32_t>(options.container ? CreateMode::container : options.mode);
  const std::string server_path = impl_->server_path(path);
  std::string payload =
      ttl ? Impl::payload_of(wire::CreateTTLRequest{server_path, std::string(data), options.acl, flags, options.ttl_ms})
          : Impl::payload_of(wire::CreateRequest{server_path, std::string(data), options.acl, flags});
  auto impl = impl_;
  return impl_->call<Created>(op, std::move(payload),
                              reply_as<wire::Create2Response>([impl](wire::Create2Response&& resp) {
                                return Created{impl->client_path(resp.path), resp.stat};
                              }));
}

Created Client::create(std::string_view path, std::string_view data, const CreateOptions& options,
                       std::error_code& ec) {
  return take(async_create(path, data, options), ec);
}
Created Client::create(std::string_view path, std::string_view data, const CreateOptions& options) {
  std::error_code ec;
  auto r = create(path, data, options, ec);
  return or_throw(std::move(r), ec);
}

boost::fibers::future<Result<Empty>> Client::async_remove(std::string_view path, int32_t version) {
  if (!path_ok(path)) return refused<Empty>(Error::badArguments);
  return impl_->call<Empty>(wire::OpCode::remove,
                            Impl::payload_of(wire::DeleteRequest{impl_->server_path(path), version}), bare_reply);
}
void Client::remove(std::string_view path, int32_t version, std::error_code& ec) {
  take(async_remove(path, version), ec);
}
void Client::remove(std::string_view path, int32_t version) {
  std::error_code ec;
  remove(path, version, ec);
  or_throw(Empty{}, ec);
}

boost::fibers::future<Result<std::optional<Stat>>> Client::async_exists(std::string_view path, Watcher watcher) {
  if (!path_ok(path)) return refused<std::optional<Stat>>(Error::badArguments);
  auto impl = impl_;
  const std::string p(path);
  const bool watch = bool(watcher);  // read before `watcher` is moved into the reply handler
  return impl_->call<std::optional<Stat>>(
      wire::OpCode::exists, Impl::payload_of(wire::ExistsRequest{impl_->server_path(path), watch}),
      [impl, p, watcher = std::move(watcher)](const wire::ReplyHeader& h, std::string_view body) mutable {
        Result<std::optional<Stat>> r;
        if (h.err == static_cast<int32_t>(Error::noNode)) {
          impl->add_watch(WatchKind::exist, p, std::move(watcher));
          return r;
        }
        if (h.err != 0) {
          r.error = code_of(h.err);
          return r;
        }
        wire::ExistsResponse resp;
        if (!wire::decode_from(body, resp)) {
          r.error = Error::marshallingError;
          return r;
        }
        impl->add_watch(WatchKind::data, p, std::move(watcher));
        r.value = resp.stat;
        return r;
      });
}
std::optional<Stat> Client::exists(std::string_view path, Watcher watcher, std::error_code& ec) {
  return take(async_exists(path, std::move(watcher)), ec);
}
std::optional<Stat> Client::exists(std::string_view path, Watcher watcher) {
  std::error_code ec;
  auto r = exists(path, std::move(watcher), ec);
  return or_throw(r, ec);
}

boost::fibers::future<Result<NodeData>> Client::async_get(std::string_view path, Watcher watcher) {
  if (!path_ok(path)) return refused<NodeData>(Error::badArguments);
  auto impl = impl_;
  const std::string p(path);
  const bool watch = bool(watcher);  // read before `watcher` is moved into the reply handler
  return impl_->call<NodeData>(
      wire::OpCode::getData, Impl::payload_of(wire::GetDataRequest{impl_->server_path(path), watch}),
      reply_as<wire::GetDataResponse>([impl, p, watcher = std::move(watcher)](wire::GetDataResponse&& resp) mutable {
        impl->add_watch(WatchKind::data, p, std::move(watcher));
        return NodeData{std::move(resp.data), resp.stat};
      }));
}
NodeData Client::get(std::string_view path, Watcher watcher, std::error_code& ec) {
  return take(async_get(path, std::move(watcher)), ec);
}
NodeData Client::get(std::string_view path, Watcher watcher) {
  std::error_code ec;
  auto r = get(path, std::move(watcher), ec);
  return or_throw(std::move(r), ec);
}

boost::fibers::future<Result<Stat>> Client::async_set(std::string_view path, std::string_view data, int32_t version) {
  if (!path_ok(path)) return refused<Stat>(Error::badArguments);
  return impl_->call<Stat>(wire::OpCode::setData,
                           Impl::payload_of(wire::SetDataRequest{impl_->server_path(path), std::string(data), version}),
                           reply_as<wire::SetDataResponse>([](wire::SetDataResponse&& resp) { return resp.stat; }));
}
Stat Client::set(std::string_view path, std::string_view data, int32_t version, std::error_code& ec) {
  return take(async_set(path, data, version), ec);
}
Stat Client::set(std::string_view path, std::string_view data, int32_t version) {
  std::error_code ec;
  auto r = set(path, data, version, ec);
  return or_throw(r, ec);
}

boost::fibers::future<Result<Children>> Client::async_children(std::string_view path, Watcher watcher) {
  if (!path_ok(path)) return refused<Children>(Error::badArguments);
  auto impl = impl_;
  const std::string p(path);
  const bool watch = bool(watcher);  // read before `watcher` is moved into the reply handler
  return impl_->call<Children>(wire::OpCode::getChildren2,
                               Impl::payload_of(wire::GetChildren2Request{impl_->server_path(path), watch}),
                               reply_as<wire::GetChildren2Response>(
                                   [impl, p, watcher = std::move(watcher)](wire::GetChildren2Response&& resp) mutable {
                                     impl->add_watch(WatchKind::child, p, std::move(watcher));
                                     return Children{std::move(resp.children), resp.stat};
                                   }));
}
Children Client::children(std::string_view path, Watcher watcher, std::error_code& ec) {
  return take(async_children(path, std::move(watcher)), ec);
}
Children Client::children(std::string_view path, Watcher watcher) {
  std::error_code ec;
  auto r = children(path, std::move(watcher), ec);
  return or_throw(std::move(r), ec);
}

int32_t Client::all_children_number(std::string_view path, std::error_code& ec) {
  if (!path_ok(path)) {
    ec = Error::badArguments;
    return 0;
  }
  return take(impl_->call<int32_t>(wire::OpCode::getAllChildrenNumber,
                                   Impl::payload_of(wire::GetAllChildrenNumberRequest{impl_->server_path(path)}),
                                   reply_as<wire::GetAllChildrenNumberResponse>(
                                       [](wire::GetAllChildrenNumberResponse&& resp) { return resp.totalNumber; })),
              ec);
}
int32_t Client::all_children_number(std::string_view path) {
  std::error_code ec;
  auto r = all_children_number(path, ec);
  return or_throw(r, ec);
}

std::vector<std::string> Client::ephemerals(std::string_view prefix, std::error_code& ec) {
  auto impl = impl_;
  return take(impl_->call<std::vector<std::string>>(
                  wire::OpCode::getEphemerals, Impl::payload_of(wire::GetEphemeralsRequest{impl_->server_path(prefix)}),
                  reply_as<wire::GetEphemeralsResponse>([impl](wire::GetEphemeralsResponse&& resp) {
                    std::vector<std::string> out;
                    for (auto& p : resp.children) out.push_back(impl->client_path(p));
                    return out;
                  })),
              ec);
}
std::vector<std::string> Client::ephemerals(std::string_view prefix) {
  std::error_code ec;
  auto r = ephemerals(prefix, ec);
  return or_throw(std::move(r), ec);
}

void Client::sync(std::string_view path, std::error_code& ec) {
  if (!path_ok(path)) {
    ec = Error::badArguments;
    return;
  }
  take(
      impl_->call<Empty>(wire::OpCode::sync, Impl::payload_of(wire::SyncRequest{impl_->server_path(path)}), bare_reply),
      ec);
}
void Client::sync(std::string_view path) {
  std::error_code ec;
  sync(path, ec);
  or_throw(Empty{}, ec);
}

void Client::check(std::string_view path, int32_t version, std::error_code& ec) {
  Transaction t;
  t.check(std::string(path), version);
  multi(t, ec);
}

boost::fibers::future<Result<std::vector<MultiResult>>> Client::async_multi(const Transaction& txn) {
  wire::MultiRequest req;
  for (const auto& op : txn.ops()) {
    const bool sequential = (op.type == wire::OpCode::create2 || op.type == wire::OpCode::createTTL) &&
                            wire::is_sequential(static_cast<CreateMode>(op.flags));
    if (!path_ok(sequential ? op.path + "1" : op.path)) return refused<std::vector<MultiResult>>(Error::badArguments);
    MultiOp server_op = op;
    server_op.path = impl_->server_path(op.path);
    req.ops.push_back(std::move(server_op));
  }
  auto impl = impl_;
  return impl_->call<std::vector<MultiResult>>(wire::OpCode::multi, Impl::payload_of(req),
                                               [impl](const wire::ReplyHeader& h, std::string_view body) {
                                                 Result<std::vector<MultiResult>> r;
                                                 if (h.err != 0) {
                                                   r.error = code_of(h.err);
                                                   return r;
                                                 }
                                                 wire::MultiResponse resp;
                                                 if (!wire::decode_from(body, resp)) {
                                                   r.error = Error::marshallingError;
                                                   return r;
                                                 }
                                                 for (auto& res : resp.results) {
                                                   if (!res.path.empty()) res.path = impl->client_path(res.path);
                                                   if (res.type == wire::OpCode::error && res.err != 0 && !r.error &&
                                                       res.err != static_cast<int32_t>(Error::runtimeInconsistency)) {
                                                     r.error = code_of(res.err);
                                                   }
                                                 }
                                                 r.value = std::move(resp.results);
                                                 return r;
                                               });
}
std::vector<MultiResult> Client::multi(const Transaction& txn, std::error_code& ec) {
  return take(async_multi(txn), ec);
}
std::vector<MultiResult> Client::multi(const Transaction& txn) {
  std::error_code ec;
  auto r = multi(txn, ec);
  return or_throw(std::move(r), ec);
}

std::vector<MultiResult> Client::multi_read(const std::vector<std::string>& get_data_paths,
                                            const std::vector<std::string>& get_children_paths, std::error_code& ec) {
  wire::MultiRequest req;
  for (const auto& p : get_data_paths)
    req.ops.push_back(MultiOp{wire::OpCode::getData, impl_->server_path(p), {}, {}, 0, -1, -1});
  for (const auto& p : get_children_paths) {
    req.ops.push_back(MultiOp{wire::OpCode::getChildren, impl_->server_path(p), {}, {}, 0, -1, -1});
  }
  return take(impl_->call<std::vector<MultiResult>>(
                  wire::OpCode::multiRead, Impl::payload_of(req),
                  reply_as<wire::MultiResponse>([](wire::MultiResponse&& resp) { return std::move(resp.results); })),
              ec);
}

AclAndStat Client::get_acl(std::string_view path, std::error_code& ec) {
  if (!path_ok(path)) {
    ec = Error::badArguments;
    return {};
  }
  return take(
      impl_->call<AclAndStat>(wire::OpCode::getACL, Impl::payload_of(wire::GetACLRequest{impl_->server_path(path)}),
                              reply_as<wire::GetACLResponse>([](wire::GetACLResponse&& resp) {
                                return AclAndStat{std::move(resp.acl), resp.stat};
                              })),
      ec);
}
AclAndStat Client::get_acl(std::string_view path) {
  std::error_code ec;
  auto r = get_acl(path, ec);
  return or_throw(std::move(r), ec);
}

Stat Client::set_acl(std::string_view path, const AclList& acl, int32_t aversion, std::error_code& ec) {
  if (!path_ok(path)) {
    ec = Error::badArguments;
    return {};
  }
  return take(impl_->call<Stat>(wire::OpCode::setACL,
                                Impl::payload_of(wire::SetACLRequest{impl_->server_path(path), acl, aversion}),
                                reply_as<wire::SetACLResponse>([](wire::SetACLResponse&& resp) { return resp.stat; })),
              ec);
}
Stat Client::set_acl(std::string_view path, const AclList& acl, int32_t aversion) {
  std::error_code ec;
  auto r = set_acl(path, acl, aversion, ec);
  return or_throw(r, ec);
}

void Client::add_auth(std::string_view scheme, std::string_view credentials, std::error_code& ec) {
  impl_->remember_auth(std::string(scheme), std::string(credentials));
  take(impl_->send_auth(std::string(scheme), std::string(credentials)), ec);
}
void Client::add_auth(std::string_view scheme, std::string_view credentials) {
  std::error_code ec;
  add_auth(scheme, credentials, ec);
  or_throw(Empty{}, ec);
}

void Client::add_watch(std::string_view path, wire::AddWatchMode mode, Watcher watcher, std::error_code& ec) {
  if (!path_ok(path)) {
    ec = Error::badArguments;
    return;
  }
  auto impl = impl_;
  std::string p(path);
  take(impl_->call<Empty>(
           wire::OpCode::addWatch,
           Impl::payload_of(wire::AddWatchRequest{impl_->server_path(path), static_cast<int32_t>(mode)}),
           [impl, p, mode, watcher = std::move(watcher)](const wire::ReplyHeader& h, std::string_view) mutable {
             if (h.err == 0) {
               impl->add_watch(
                   mode == wire::AddWatchMode::persistentRecursive ? WatchKind::recursive : WatchKind::persistent, p,
                   std::move(watcher));
             }
             return Result<Empty>{code_of(h.err), {}};
           }),
       ec);
}
void Client::add_watch(std::string_view path, wire::AddWatchMode mode, Watcher watcher) {
  std::error_code ec;
  add_watch(path, mode, std::move(watcher), ec);
  or_throw(Empty{}, ec);
}

void Client::remove_watches(std::string_view path, wire::WatcherType type, bool local, std::error_code& ec) {
  if (!path_ok(path)) {
    ec = Error::badArguments;
    return;
  }
  const std::string p(path);
  if (!impl_->has_local_watches(p, type)) {
    ec = Error::noWatcher;
    return;
  }
  if (!local) {
    take(impl_->call<Empty>(
             wire::OpCode::removeWatches,
             Impl::payload_of(wire::RemoveWatchesRequest{impl_->server_path(path), static_cast<int32_t>(type)}),
             bare_reply),
         ec);
    if (ec) return;
  }
  impl_->remove_local_watches(p, type);
  ec.clear();
}
void Client::remove_watches(std::string_view path, wire::WatcherType type, bool local) {
  std::error_code ec;
  remove_watches(path, type, local, ec);
  or_throw(Empty{}, ec);
}

std::vector<wire::ClientInfo> Client::who_am_i(std::error_code& ec) {
  return take(impl_->call<std::vector<wire::ClientInfo>>(
                  wire::OpCode::whoAmI, std::string{}, reply_as<wire::WhoAmIResponse>([](wire::WhoAmIResponse&& resp) {
                    return std::move(resp.clientInfo);
                  })),
              ec);
}

}  // namespace corral
