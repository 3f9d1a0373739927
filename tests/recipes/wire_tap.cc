#include "tests/recipes/wire_tap.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <future>
#include <list>
#include <mutex>
#include <thread>

#include "corral/asio.h"

namespace corral::test {

namespace {
using boost::system::error_code;
using tcp = asio::ip::tcp;

int32_t be32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return static_cast<int32_t>(ntohl(v));
}
}  // namespace

class WireTap::Impl {
 public:
  explicit Impl(uint16_t target_port)
      : target_(asio::ip::address_v4::loopback(), target_port),
        acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
        guard_(asio::make_work_guard(io_)) {
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    on_thread([this] {
      error_code ignored;
      acceptor_.close(ignored);
      for (auto& pair : pairs_) pair->close();
      pairs_.clear();
    });
    guard_.reset();
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port() const { return port_; }

  void drop_all() {
    on_thread([this] {
      for (auto& pair : pairs_) pair->close();
      pairs_.clear();
    });
  }

  // Counters, shared with the test's thread.
  mutable std::mutex mutex;
  std::map<int32_t, int> requests;
  int replies = 0;
  int notifications = 0;
  int swallowed = 0;
  bool swallow = false;
  std::vector<std::string> notified_paths;

 private:
  // One direction of one connection: bytes in, whole frames out.
  struct Direction {
    bool up = false;              // client -> server
    bool handshake_done = false;  // the first frame (connect request/response) has passed
    std::array<char, 16384> buf{};
    std::string pending;  // bytes of an incomplete frame
    std::string out;      // frames being written
  };

  struct Pair : std::enable_shared_from_this<Pair> {
    Pair(asio::io_context& io, Impl& owner) : client(io), server(io), tap(owner) { up.up = true; }
    tcp::socket client;
    tcp::socket server;
    Impl& tap;
    Direction up;
    Direction down;

    void close() {
      error_code ignored;
      client.shutdown(tcp::socket::shutdown_both, ignored);
      server.shutdown(tcp::socket::shutdown_both, ignored);
      client.close(ignored);
      server.close(ignored);
    }

    void pump(tcp::socket& from, tcp::socket& to, Direction& d) {
      auto self = shared_from_this();
      from.async_read_some(asio::buffer(d.buf), [self, &from, &to, &d](const error_code& ec, std::size_t n) {
        if (ec) {
          self->close();
          return;
        }
        d.pending.append(d.buf.data(), n);
        d.out.clear();
        self->tap.frames(d);
        if (d.out.empty()) {
          self->pump(from, to, d);
          return;
        }
        asio::async_write(to, asio::buffer(d.out), [self, &from, &to, &d](const error_code& wec, std::size_t) {
          if (wec) {
            self->close();
            return;
          }
          self->pump(from, to, d);
        });
      });
    }
  };

  // Moves the complete frames of d.pending to d.out (or drops them), counting.
  void frames(Direction& d) {
    std::size_t at = 0;
    std::lock_guard lock(mutex);
    while (d.pending.size() - at >= 4) {
      const auto length = static_cast<std::size_t>(be32(d.pending.data() + at));
      if (d.pending.size() - at - 4 < length) break;
      const char* body = d.pending.data() + at + 4;
      bool forward = true;
      if (!d.handshake_done) {
        d.handshake_done = true;
      } else if (d.up && length >= 8) {
        const int32_t xid = be32(body);
        const int32_t type = be32(body + 4);
        if (xid != wire::xid::ping) ++requests[type];
      } else if (!d.up && length >= 16) {
        const int32_t xid = be32(body);
        if (xid == wire::xid::notification) {
          ++notifications;
          // WatcherEvent: type, state, path (length-prefixed).
          if (length >= 28) {
            const auto path_length = static_cast<std::size_t>(be32(body + 24));
            if (28 + path_length <= length) notified_paths.emplace_back(body + 28, path_length);
          }
        } else if (xid != wire::xid::ping) {
          if (swallow) {
            ++swallowed;
            forward = false;
          } else {
            ++replies;
          }
        }
      }
      if (forward) d.out.append(d.pending, at, 4 + length);
      at += 4 + length;
    }
    d.pending.erase(0, at);
  }

  void accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) take(std::move(socket));
      accept();
    });
  }

  void take(tcp::socket socket) {
    auto pair = std::make_shared<Pair>(io_, *this);
    error_code ignored;
    pair->client = std::move(socket);
    pair->client.set_option(tcp::no_delay(true), ignored);
    pairs_.push_back(pair);
    pair->server.async_connect(target_, [pair](const error_code& ec) {
      if (ec || !pair->client.is_open()) {
        pair->close();
        return;
      }
      error_code ignored2;
      pair->server.set_option(tcp::no_delay(true), ignored2);
      pair->pump(pair->client, pair->server, pair->up);
      pair->pump(pair->server, pair->client, pair->down);
    });
  }

  template <class F>
  void on_thread(F f) {
    if (!thread_.joinable() || std::this_thread::get_id() == thread_.get_id()) {
      f();
      return;
    }
    std::promise<void> done;
    asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  asio::io_context io_{1};
  tcp::endpoint target_;
  tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::list<std::shared_ptr<Pair>> pairs_;
};

WireTap::WireTap(uint16_t target_port) : impl_(std::make_unique<Impl>(target_port)) {}
WireTap::~WireTap() = default;

std::string WireTap::host_port() const { return "127.0.0.1:" + std::to_string(impl_->port()); }

int WireTap::requests(wire::OpCode op) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->requests.find(static_cast<int32_t>(op));
  return it == impl_->requests.end() ? 0 : it->second;
}

int WireTap::requests() const {
  std::lock_guard lock(impl_->mutex);
  int n = 0;
  for (const auto& [op, count] : impl_->requests) n += count;
  return n;
}

int WireTap::replies() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->replies;
}

int WireTap::outstanding() const {
  std::lock_guard lock(impl_->mutex);
  int n = 0;
  for (const auto& [op, count] : impl_->requests) n += count;
  return n - impl_->replies - impl_->swallowed;
}

int WireTap::notifications() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->notifications;
}

std::vector<std::string> WireTap::notified_paths() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->notified_paths;
}

void WireTap::set_swallow_replies(bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->swallow = on;
}

int WireTap::swallowed() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->swallowed;
}

void WireTap::drop_all() { impl_->drop_all(); }

}  // namespace corral::test
