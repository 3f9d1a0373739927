#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>

#include <array>
#include <atomic>
#include <cstring>
#include <future>
#include <list>
#include <thread>

#include "corral/asio.h"

namespace corral::test {

namespace {
using boost::system::error_code;
using tcp = asio::ip::tcp;

std::size_t frame_length(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}
}  // namespace

class TcpProxy::Impl {
 public:
  Impl(uint16_t target_port, FrameInspector inspector)
      : inspector_(std::move(inspector)),
        target_(asio::ip::address_v4::loopback(), target_port),
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
      close_all();
    });
    // Everything is closed: the pending handlers complete with
    // operation_aborted, and run() returns once the guard is gone.
    guard_.reset();
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port() const { return port_; }
  int forwarded() const { return forwarded_.load(); }

  void set_refusing(bool refusing) {
    on_thread([this, refusing] { refusing_ = refusing; });
  }

  void drop_all() {
    on_thread([this] { close_all(); });
  }

 private:
  // One direction of one connection.
  struct Direction {
    bool up = false;          // client -> server
    bool first_done = false;  // the first frame has passed
    std::array<char, 16384> buf{};
    std::string pending;  // bytes of an incomplete frame (inspected connections)
    std::string out;      // what is being written
  };

  // Two sockets glued together; each direction a read-then-write loop.
  struct Pair : std::enable_shared_from_this<Pair> {
    Pair(asio::io_context& io, const FrameInspector& inspect) : client(io), server(io), inspector(inspect) {
      up.up = true;
    }
    tcp::socket client;
    tcp::socket server;
    const FrameInspector& inspector;
    Direction up;
    Direction down;

    void close() {
      error_code ignored;
      client.shutdown(tcp::socket::shutdown_both, ignored);
      server.shutdown(tcp::socket::shutdown_both, ignored);
      client.close(ignored);
      server.close(ignored);
    }

    // Moves what may go on from what was read to d.out: everything, or the
    // whole frames the inspector keeps.
    void pass(Direction& d, std::size_t n) {
      d.out.clear();
      if (!inspector) {
        d.out.append(d.buf.data(), n);
        return;
      }
      d.pending.append(d.buf.data(), n);
      std::size_t at = 0;
      while (d.pending.size() - at >= 4) {
        const std::size_t length = frame_length(d.pending.data() + at);
        if (d.pending.size() - at - 4 < length) break;
        const bool first = !d.first_done;
        d.first_done = true;
        if (inspector(d.up, first, std::string_view(d.pending).substr(at + 4, length))) {
          d.out.append(d.pending, at, 4 + length);
        }
        at += 4 + length;
      }
      d.pending.erase(0, at);
    }

    void pump(tcp::socket& from, tcp::socket& to, Direction& d) {
      auto self = shared_from_this();
      from.async_read_some(asio::buffer(d.buf), [self, &from, &to, &d](const error_code& ec, std::size_t n) {
        if (ec) {
          self->close();
          return;
        }
        self->pass(d, n);
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

  void close_all() {
    for (auto& pair : pairs_) pair->close();
    pairs_.clear();
  }

  void accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) take(std::move(socket));
      accept();
    });
  }

  void take(tcp::socket socket) {
    error_code ignored;
    if (refusing_) {
      socket.close(ignored);
      return;
    }
    auto pair = std::make_shared<Pair>(io_, inspector_);
    pair->client = std::move(socket);
    pair->client.set_option(tcp::no_delay(true), ignored);
    pairs_.push_back(pair);
    pair->server.async_connect(target_, [this, pair](const error_code& ec) {
      if (ec || !pair->client.is_open()) {
        pair->close();
        return;
      }
      error_code ignored2;
      pair->server.set_option(tcp::no_delay(true), ignored2);
      ++forwarded_;
      pair->pump(pair->client, pair->server, pair->up);
      pair->pump(pair->server, pair->client, pair->down);
    });
  }

  // Runs `f` on the proxy thread and waits for it.
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

  const FrameInspector inspector_;  // outlives every Pair: they are closed before the thread ends
  asio::io_context io_{1};
  tcp::endpoint target_;
  tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
  uint16_t port_ = 0;
  bool refusing_ = false;
  std::list<std::shared_ptr<Pair>> pairs_;
  std::atomic<int> forwarded_{0};
};

TcpProxy::TcpProxy(uint16_t target_port, FrameInspector inspector)
    : impl_(std::make_unique<Impl>(target_port, std::move(inspector))) {}

TcpProxy::~TcpProxy() = default;

uint16_t TcpProxy::port() const { return impl_->port(); }
void TcpProxy::set_refusing(bool refusing) { impl_->set_refusing(refusing); }
void TcpProxy::drop_all() { impl_->drop_all(); }
int TcpProxy::forwarded() const { return impl_->forwarded(); }

}  // namespace corral::test
