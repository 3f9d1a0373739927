#include "ensemble/net/peer_link.h"

namespace corral::ensemble {

PeerLink::PeerLink(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
}

std::shared_ptr<PeerLink> PeerLink::connect(asio::io_context& io, const asio::ip::tcp::endpoint& to, Handler handler) {
  auto link = std::make_shared<PeerLink>(asio::ip::tcp::socket(io));
  link->handler_ = std::move(handler);
  link->connected_ = false;
  link->socket_.async_connect(to, [link](const boost::system::error_code& ec) {
    if (link->closed_) return;
    if (ec) {
      link->fail();
      return;
    }
    boost::system::error_code ignored;
    link->socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    link->connected_ = true;
    if (link->handler_.on_connected) link->handler_.on_connected();
    if (link->closed_) return;
    link->read();
    link->write();
  });
  return link;
}

void PeerLink::start() { read(); }

void PeerLink::send(std::string_view message) {
  if (closed_) return;
  const auto n = static_cast<uint32_t>(message.size());
  const char length[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                          static_cast<char>(n)};
  out_.append(length, 4);
  out_.append(message);
  write();
}

void PeerLink::write() {
  if (closed_ || !connected_ || !writing_.empty() || out_.empty()) return;
  writing_.swap(out_);
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      if (self->closed_) return;
                      if (ec) {
                        self->fail();
                        return;
                      }
                      self->writing_.clear();
                      self->write();
                    });
}

void PeerLink::read() {
  const auto space = decoder_.prepare();
  socket_.async_read_some(asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            if (self->closed_) return;
                            if (ec) {
                              self->fail();
                              return;
                            }
                            self->decoder_.commit(n);
                            std::string_view frame;
                            for (;;) {
                              const auto status = self->decoder_.next(frame);
                              if (status == wire::FrameDecoder::Status::need_more) break;
                              if (status == wire::FrameDecoder::Status::bad_length) {
                                self->fail();
                                return;
                              }
                              self->handler_.on_frame(frame);
                              if (self->closed_) return;
                            }
                            self->read();
                          });
}

void PeerLink::fail() {
  if (closed_) return;
  close();
  if (handler_.on_closed) handler_.on_closed();
}

void PeerLink::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace corral::ensemble
