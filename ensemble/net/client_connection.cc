#include "ensemble/net/client_connection.h"

#include "ensemble/net/four_letter_words.h"

namespace corral::ensemble {

ClientConnection::ClientConnection(uint64_t id, asio::ip::tcp::socket socket, std::size_t max_frame, Handler& handler)
    : id_(id), socket_(std::move(socket)), decoder_(max_frame), handler_(handler) {
  boost::system::error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  remote_ip_ = ec ? "unknown" : endpoint.address().to_string();
  const std::string host = !ec && endpoint.address().is_v6() ? "[" + remote_ip_ + "]" : remote_ip_;
  remote_address_ = ec ? remote_ip_ : host + ":" + std::to_string(endpoint.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

void ClientConnection::start() { read(); }

void ClientConnection::read() {
  if (reading_ || closed_ || closing_ || paused_) return;
  reading_ = true;
  auto space = decoder_.prepare(std::size_t{64} * 1024);
  socket_.async_read_some(asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            self->reading_ = false;
                            if (ec) {
                              self->shutdown();
                              return;
                            }
                            self->decoder_.commit(n);
                            self->process();
                          });
}

void ClientConnection::process() {
  while (!closed_ && !closing_ && !paused_) {
    if (!saw_first_frame_) {
      const auto first = decoder_.peek_length();
      if (!first) break;
      if (auto word = four_letter_word_of(*first)) {
        send(handler_.on_four_letter_word(id_, *word));
        close();
        return;
      }
    }
    std::string_view frame;
    const auto status = decoder_.next(frame);
    if (status == wire::FrameDecoder::Status::need_more) break;
    if (status == wire::FrameDecoder::Status::bad_length) {
      handler_.log("closing connection from " + remote_ip_ + ": frame length " + std::to_string(decoder_.bad_length()) +
                   " is negative or over jute.maxbuffer (" + std::to_string(decoder_.max_frame()) + ")");
      shutdown();
      return;
    }
    saw_first_frame_ = true;
    if (!handler_.on_frame(id_, frame)) paused_ = true;
  }
  read();
}

void ClientConnection::resume() {
  if (!paused_) return;
  paused_ = false;
  process();
}

void ClientConnection::send(std::string bytes) {
  if (closed_) return;
  if (out_.empty()) {
    out_ = std::move(bytes);
  } else {
    out_.append(bytes);
  }
  write();
}

void ClientConnection::write() {
  if (!writing_.empty() || closed_) return;
  if (out_.empty()) {
    if (closing_) shutdown();
    return;
  }
  writing_.swap(out_);
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->writing_.clear();
                      if (ec) {
                        self->shutdown();
                        return;
                      }
                      self->write();
                    });
}

void ClientConnection::close() {
  if (closed_) return;
  closing_ = true;
  write();
}

void ClientConnection::shutdown() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  handler_.on_closed(id_);
}

}  // namespace corral::ensemble
