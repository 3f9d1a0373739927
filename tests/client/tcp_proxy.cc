#include "tests/client/tcp_proxy.h"

#include <array>
#include <atomic>
#include <future>
#include <list>
#include <thread>

#include "corral/asio.h"
#include "corral/client.h"
#include "tests/client/fiber_test_util.h"

namespace corral::test {

namespace {
using boost::system::error_code;
using tcp = asio::ip::tcp;
}  // namespace

class TcpProxy::Impl {
 public:
  explicit Impl(uint16_t target_port)
      : target_(asio::ip::address_v4::loopback(), target_port),
        acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
        guard_(asio::make_work_guard(io_)) {}

  void start() {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop() {
    on_thread([this] {
      error_code ignored;
      acceptor_.close(ignored);
      for (auto& pair : pairs_) pair->close();
      pairs_.clear();
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
    on_thread([this] {
      for (auto& pair : pairs_) pair->close();
      pairs_.clear();
    });
  }

  void init_port() { port_ = acceptor_.local_endpoint().port(); }

 private:
  // Two sockets glued together; each direction a read-then-write loop.
  struct Pair : std::enable_shared_from_this<Pair> {
    explicit Pair(asio::io_context& io) : client(io), server(io) {}
    tcp::socket client;
    tcp::socket server;
    std::array<char, 16384> up{};
    std::array<char, 16384> down{};

    void close() {
      error_code ignored;
      client.shutdown(tcp::socket::shutdown_both, ignored);
      server.shutdown(tcp::socket::shutdown_both, ignored);
      client.close(ignored);
      server.close(ignored);
    }

    void pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf) {
      auto self = shared_from_this();
      from.async_read_some(asio::buffer(buf), [self, &from, &to, &buf](const error_code& ec, std::size_t n) {
        if (ec) {
          self->close();
          return;
        }
        asio::async_write(to, asio::buffer(buf.data(), n),
                          [self, &from, &to, &buf](const error_code& wec, std::size_t) {
                            if (wec) {
                              self->close();
                              return;
                            }
                            self->pump(from, to, buf);
                          });
      });
    }
  };

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
    auto pair = std::make_shared<Pair>(io_);
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

TcpProxy::TcpProxy(uint16_t target_port) : impl_(std::make_unique<Impl>(target_port)) {
  impl_->init_port();
  impl_->start();
}

TcpProxy::~TcpProxy() { impl_->stop(); }

uint16_t TcpProxy::port() const { return impl_->port(); }
void TcpProxy::set_refusing(bool refusing) { impl_->set_refusing(refusing); }
void TcpProxy::drop_all() { impl_->drop_all(); }
int TcpProxy::forwarded() const { return impl_->forwarded(); }

bool cut_off(TcpProxy& proxy, const Client& client) {
  proxy.set_refusing(true);
  proxy.drop_all();
  return fiber_wait_until([&] { return client.state() == SessionState::suspended; });
}

}  // namespace corral::test
