// corral-memory-loader: the client side of benchmarks/memory/run, one program
// for both corral-server and Apache ZooKeeper so they see the same load.
//
//   corral-memory-loader load  --port P [--nodes 1000000] [--parents 10] [--data-size 100] [--window 1000]
//                              [--timeout-s 900] [--progress N]
//       Creates /bench, /bench/p<i> (i < parents) and `nodes` persistent znodes
//       /bench/p<j % parents>/n<j, 7 digits> of `data-size` bytes, pipelining
//       creates on one session with at most `window` unanswered at a time.
//       Prints "created=N seconds=S rate=R last=PATH" (and every N creates
//       the rate of the last N on stderr with --progress). Exits non-zero on
//       any error reply.
//
//   corral-memory-loader probe --port P --path PATH [--since-ns NS] [--timeout-s 300] [--attempt-ms 250]
//       Connects, opens a session and sends getData(PATH), retrying 10 ms
//       after a refused or closed connection or an error reply, until it
//       succeeds. A handshake unanswered after `attempt-ms` is retried too:
//       ZooKeeper accepts connections before its database is loaded and may
//       leave one made then unanswered. Prints
//       "ms=<elapsed>" measured from NS (CLOCK_REALTIME nanoseconds, e.g. the
//       moment a server was launched) or from the probe's own start.
//
// Only 127.0.0.1. The wire format is our own codec (wire/).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "corral/wire/frame.h"
#include "corral/wire/jute.h"
#include "corral/wire/protocol.h"
#include "corral/wire/records.h"

namespace {

using namespace corral;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "corral-memory-loader: %s\n", msg.c_str());
  std::exit(1);
}

struct Args {
  std::string mode;
  std::map<std::string, std::string> opts;

  std::string str(const std::string& key, std::string fallback = {}) const {
    auto it = opts.find(key);
    return it == opts.end() ? std::move(fallback) : it->second;
  }
  int64_t num(const std::string& key, int64_t fallback) const {
    auto it = opts.find(key);
    if (it == opts.end()) return fallback;
    int64_t v = 0;
    const auto& s = it->second;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) die("--" + key + ": not a number: " + s);
    return v;
  }
};

Args parse(int argc, char** argv) {
  if (argc < 2) die("usage: corral-memory-loader load|probe --port P ... (see loader.cc)");
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc) die("bad argument: " + key);
    a.opts[key.substr(2)] = argv[i + 1];
  }
  return a;
}

// One ZooKeeper client connection over a non-blocking socket.
class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  // False if the server refused or closed the connection, or did not open a
  // session within `handshake_ms`.
  bool open(uint16_t port, int64_t handshake_ms = 30000, int32_t timeout_ms = 30000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) die(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string body =
        wire::encode_to_string(wire::ConnectRequest{0, 0, timeout_ms, 0, std::string(16, '\0'), false, true});
    wire::append_frame(out_, body);
    if (!flush_all()) return false;
    std::string_view frame;
    if (!read_frame(frame, Clock::now() + std::chrono::milliseconds(handshake_ms))) return false;
    wire::ConnectResponse resp;
    if (!wire::decode_from(frame, resp) || resp.sessionId == 0) return false;
    return true;
  }

  template <class T>
  void queue(int32_t xid, wire::OpCode op, const T& rec) {
    const std::size_t at = out_.size();
    out_.append(4, '\0');
    wire::JuteWriter w(out_);
    wire::encode(w, wire::RequestHeader{xid, static_cast<int32_t>(op)});
    wire::encode(w, rec);
    w.patch_i32(at, static_cast<int32_t>(out_.size() - at - 4));
  }

  void queue_header(int32_t xid, wire::OpCode op) {
    const std::size_t at = out_.size();
    out_.append(4, '\0');
    wire::JuteWriter w(out_);
    wire::encode(w, wire::RequestHeader{xid, static_cast<int32_t>(op)});
    w.patch_i32(at, static_cast<int32_t>(out_.size() - at - 4));
  }

  // Writes what it can without blocking; false if the connection broke.
  bool flush_some() {
    while (sent_ < out_.size()) {
      const ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent_ += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    if (sent_ == out_.size()) {
      out_.clear();
      sent_ = 0;
    }
    return true;
  }

  bool flush_all() {
    while (!out_.empty()) {
      if (!flush_some()) return false;
      if (!out_.empty()) {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 1000);
      }
    }
    return true;
  }

  bool pending_output() const { return !out_.empty(); }

  // Waits up to `wait_ms` for the socket; reads what arrived. False on EOF/error.
  bool pump(int wait_ms) {
    pollfd p{fd_, static_cast<short>(POLLIN | (pending_output() ? POLLOUT : 0)), 0};
    const int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) return true;
    if (p.revents & POLLOUT) {
      if (!flush_some()) return false;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      auto space = decoder_.prepare(64 * 1024);
      const ssize_t n = ::recv(fd_, space.data(), space.size(), MSG_DONTWAIT);
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      decoder_.commit(static_cast<std::size_t>(n));
    }
    return true;
  }

  // The next whole frame if one is buffered.
  bool next(std::string_view& frame) {
    const auto s = decoder_.next(frame);
    if (s == wire::FrameDecoder::Status::bad_length) die("server sent a bad frame length");
    return s == wire::FrameDecoder::Status::frame;
  }

  bool read_frame(std::string_view& frame, Clock::time_point deadline) {
    while (!next(frame)) {
      if (Clock::now() > deadline) return false;
      if (!pump(100)) return false;
    }
    return true;
  }

 private:
  int fd_ = -1;
  std::string out_;
  std::size_t sent_ = 0;
  wire::FrameDecoder decoder_;
};

std::string node_path(int64_t j, int64_t parents) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "/bench/p%lld/n%07lld", static_cast<long long>(j % parents),
                static_cast<long long>(j));
  return buf;
}

// One request and its reply, for setup.
wire::ReplyHeader call_create(Connection& c, int32_t xid, const std::string& path, const std::string& data) {
  c.queue(xid, wire::OpCode::create, wire::CreateRequest{path, data, {{wire::perms::all, {"world", "anyone"}}}, 0});
  if (!c.flush_all()) die("connection lost");
  std::string_view frame;
  if (!c.read_frame(frame, Clock::now() + std::chrono::seconds(60))) die("no reply to create " + path);
  wire::ReplyHeader h;
  if (!wire::decode_from(frame, h) || h.xid != xid) die("unexpected reply to create " + path);
  return h;
}

int load(const Args& a) {
  const auto port = static_cast<uint16_t>(a.num("port", 0));
  const int64_t nodes = a.num("nodes", 1'000'000);
  const int64_t parents = a.num("parents", 10);
  const int64_t data_size = a.num("data-size", 100);
  const int64_t window = a.num("window", 1000);
  const auto deadline = Clock::now() + std::chrono::seconds(a.num("timeout-s", 900));
  if (port == 0 || nodes < 1 || parents < 1 || window < 1 || data_size < 0) die("bad load arguments");

  Connection c;
  if (!c.open(port)) die("cannot open a session on 127.0.0.1:" + std::to_string(port));
  int32_t xid = 1;
  const std::string data(static_cast<std::size_t>(data_size), 'x');
  constexpr int32_t node_exists = -110;
  if (auto h = call_create(c, xid++, "/bench", ""); h.err != 0 && h.err != node_exists) {
    die("create /bench failed: " + std::to_string(h.err));
  }
  for (int64_t p = 0; p < parents; ++p) {
    const std::string path = "/bench/p" + std::to_string(p);
    if (auto h = call_create(c, xid++, path, ""); h.err != 0 && h.err != node_exists) {
      die("create " + path + " failed: " + std::to_string(h.err));
    }
  }

  const auto started = Clock::now();
  auto lap_start = started;
  const int64_t progress = a.num("progress", 0);
  const int32_t first_xid = xid;
  int64_t sent = 0;
  int64_t answered = 0;
  wire::CreateRequest req{"", data, {{wire::perms::all, {"world", "anyone"}}}, 0};
  while (answered < nodes) {
    while (sent < nodes && sent - answered < window) {
      req.path = node_path(sent, parents);
      c.queue(xid++, wire::OpCode::create, req);
      ++sent;
    }
    if (!c.flush_some()) die("connection lost after " + std::to_string(answered) + " replies");
    if (!c.pump(1000)) die("connection lost after " + std::to_string(answered) + " replies");
    std::string_view frame;
    while (c.next(frame)) {
      wire::ReplyHeader h;
      if (!wire::decode_from(frame, h)) die("malformed reply");
      if (h.xid < 0) continue;  // notifications, pings: none expected
      if (h.xid != first_xid + answered) {
        die("reply out of order: xid " + std::to_string(h.xid) + ", expected " + std::to_string(first_xid + answered));
      }
      if (h.err != 0) die("create " + node_path(answered, parents) + " failed with error " + std::to_string(h.err));
      ++answered;
      if (progress > 0 && answered % progress == 0) {
        const auto t = Clock::now();
        const double lap = std::chrono::duration<double>(t - lap_start).count();
        std::fprintf(stderr, "corral-memory-loader: %lld created, last %lld at %.0f/s\n",
                     static_cast<long long>(answered), static_cast<long long>(progress),
                     static_cast<double>(progress) / lap);
        lap_start = t;
      }
    }
    if (Clock::now() > deadline) die("timed out after " + std::to_string(answered) + " creates");
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  // Close the session so the server does not hold it (or expire it) later.
  c.queue_header(xid, wire::OpCode::closeSession);
  c.flush_all();
  std::string_view frame;
  c.read_frame(frame, Clock::now() + std::chrono::seconds(10));
  std::printf("created=%lld seconds=%.3f rate=%.0f last=%s\n", static_cast<long long>(nodes), seconds,
              static_cast<double>(nodes) / seconds, node_path(nodes - 1, parents).c_str());
  return 0;
}

int64_t realtime_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int probe(const Args& a) {
  const auto port = static_cast<uint16_t>(a.num("port", 0));
  const std::string path = a.str("path", "/");
  const int64_t since = a.num("since-ns", realtime_ns());
  const auto deadline = Clock::now() + std::chrono::seconds(a.num("timeout-s", 300));
  const int64_t attempt_ms = a.num("attempt-ms", 250);
  if (port == 0) die("probe needs --port");
  int32_t last_err = 0;
  while (Clock::now() < deadline) {
    Connection c;
    if (c.open(port, attempt_ms)) {
      c.queue(1, wire::OpCode::getData, wire::GetDataRequest{path, false});
      std::string_view frame;
      if (c.flush_all() && c.read_frame(frame, Clock::now() + std::chrono::seconds(30))) {
        wire::ReplyHeader h;
        if (wire::decode_from(frame, h) && h.xid == 1) {
          if (h.err == 0) {
            std::printf("ms=%.1f\n", static_cast<double>(realtime_ns() - since) / 1e6);
            return 0;
          }
          last_err = h.err;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  die("no successful getData " + path + " before the deadline (last error " + std::to_string(last_err) + ")");
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  if (a.mode == "load") return load(a);
  if (a.mode == "probe") return probe(a);
  die("unknown mode " + a.mode + " (load or probe)");
}
