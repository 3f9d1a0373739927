#include "ensemble/net/client_front_end.h"

#include "ensemble/net/server_log.h"
#include "ensemble/net/wall_clock.h"

namespace corral::ensemble {

ClientFrontEnd::ClientFrontEnd(asio::io_context& io, const ServerConfig& config, ServerCore& core, Hooks hooks)
    : config_(config), core_(core), hooks_(std::move(hooks)), acceptor_(io) {
  handler_.on_frame = [this](uint64_t conn, std::string_view frame) { return on_frame(conn, frame); };
  handler_.on_four_letter_word = [this](uint64_t, std::string_view word) { return hooks_.four_letter_word(word); };
  handler_.on_closed = [this](uint64_t conn) { on_closed(conn); };
  handler_.log = [](const std::string& line) { log_line(line); };
}

void ClientFrontEnd::listen(const std::string& role_for_log) {
  const auto address = asio::ip::make_address(config_.client_address.host);
  const asio::ip::tcp::endpoint endpoint(address, config_.client_address.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  log_line("serving ZooKeeper clients on " + config_.client_address.host + ":" + std::to_string(port()) + " (" +
           role_for_log + ", dataDir " + config_.data_dir + ")");
}

uint16_t ClientFrontEnd::port() const { return acceptor_.local_endpoint().port(); }

void ClientFrontEnd::start_accepting() { accept(); }

void ClientFrontEnd::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (stopping_) return;
    if (!ec) {
      on_accepted(std::move(socket));
    } else if (ec != asio::error::operation_aborted) {
      log_line("accept failed: " + ec.message());
    }
    accept();
  });
}

void ClientFrontEnd::on_accepted(asio::ip::tcp::socket socket) {
  const uint64_t id = next_conn_++;
  auto conn = std::make_shared<ClientConnection>(id, std::move(socket),
                                                 static_cast<std::size_t>(config_.jute_max_buffer), handler_);
  int& count = per_ip_[conn->remote_ip()];
  if (config_.max_client_cnxns > 0 && count >= config_.max_client_cnxns) {
    log_line("too many connections from " + conn->remote_ip() + " - max is " +
             std::to_string(config_.max_client_cnxns));
    return;  // the socket closes as `conn` goes out of scope
  }
  ++count;
  connections_.emplace(id, conn);
  core_.connection_opened(id, conn->remote_ip(), wall_ms());
  conn->start();
}

bool ClientFrontEnd::on_frame(uint64_t conn, std::string_view frame) {
  auto [it, first] = awaiting_handshake_.try_emplace(conn, true);
  core_.frame(conn, frame, wall_ms());
  hooks_.after_input();
  if (first) {
    // Still waiting unless apply() saw resume_reading.
    auto w = awaiting_handshake_.find(conn);
    if (w != awaiting_handshake_.end() && w->second) return false;
  }
  if (over_outstanding_limit()) {
    // globalOutstandingLimit: stop reading from this client until the log
    // catches up (resume_throttled), as ZooKeeper throttles.
    throttled_.insert(conn);
    return false;
  }
  return true;
}

bool ClientFrontEnd::over_outstanding_limit() const {
  return config_.global_outstanding_limit > 0 &&
         core_.outstanding_txns() >= static_cast<std::size_t>(config_.global_outstanding_limit);
}

void ClientFrontEnd::resume_throttled() {
  if (throttled_.empty() || over_outstanding_limit()) return;
  const auto ids = std::exchange(throttled_, {});
  for (uint64_t id : ids) {
    if (auto it = connections_.find(id); it != connections_.end()) {
      const auto conn = it->second;
      conn->resume();
    }
  }
}

void ClientFrontEnd::on_closed(uint64_t conn) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  const auto keep = it->second;  // outlives this call
  if (int& count = per_ip_[keep->remote_ip()]; --count <= 0) per_ip_.erase(keep->remote_ip());
  connections_.erase(it);
  awaiting_handshake_.erase(conn);
  throttled_.erase(conn);
  core_.connection_closed(conn, wall_ms());
  hooks_.after_input();
}

void ClientFrontEnd::apply(Effects& effects) {
  for (auto& line : effects.log_lines) log_line(line);
  for (auto& e : effects.io) {
    auto it = connections_.find(e.conn);
    if (it == connections_.end()) continue;
    const auto conn = it->second;
    switch (e.kind) {
      case Effect::Kind::send: conn->send(std::move(e.bytes)); break;
      case Effect::Kind::close: conn->close(); break;
      case Effect::Kind::resume_reading:
        awaiting_handshake_[e.conn] = false;
        conn->resume();
        break;
    }
  }
}

void ClientFrontEnd::close_all() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& [id, conn] : std::unordered_map(connections_)) conn->close();
}

std::string ClientFrontEnd::remote_address(uint64_t conn) const {
  auto it = connections_.find(conn);
  return it == connections_.end() ? std::string() : it->second->remote_address();
}

}  // namespace corral::ensemble
