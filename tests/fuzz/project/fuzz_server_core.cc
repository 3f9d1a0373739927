// Fuzz target: the server core's request path (ensemble/core/server_core.h).
//
// The harness plays the network shell and the storage shell around one
// ServerCore: it opens connections and handshakes, feeds requests (well-formed
// ones built from a few input bytes, and arbitrary frames), holds a
// connection's frames until the core says resume_reading, reports the log
// durable (synced) when the input says so, and advances a fake clock. The
// input is a program in the command language of core_commands.h.
//
// After every command it checks what must hold whatever the input:
//  * the tree's own invariants (tree_check.h);
//  * effects name only connections that were opened and not closed since,
//    every send is one well-formed frame, a connection's first frame is a
//    ConnectResponse, and logged zxids increase;
//  * per connection, replies come in request order (FIFO) and the zxid in
//    reply headers never goes backwards;
//  * every txn survives serialization (the log stores it so), and a replica
//    that applies the parsed copies holds the same tree;
//  * every ephemeral belongs to a session the core knows; every watcher is the
//    session of an open connection; the core's connections and outstanding
//    txns are the ones the shell knows of.
// At the end it makes everything durable and checks that every request on a
// connection still open was answered, and that a tree recovered from a
// snapshot (taken at a `snapshot` command) plus a replay of the log from a
// little before it (a fuzzy snapshot) equals the live tree.
#include <array>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core_commands.h"
#include "corral/wire/frame.h"
#include "corral/wire/protocol.h"
#include "corral/wire/records.h"
#include "ensemble/core/acl.h"
#include "ensemble/core/data_tree.h"
#include "ensemble/core/server_core.h"
#include "fuzz_check.h"
#include "tree_check.h"
#include "txn.pb.h"

namespace wire = corral::wire;
namespace ens = corral::ensemble;
using corral::fuzz::check_tree;
using corral::fuzz::diff_images;
using corral::fuzz::TreeImage;
namespace cmd = corral::fuzz::core_cmd;

namespace {

constexpr int32_t kXidBase = 0x40000000;  // xids of requests the harness builds
constexpr int64_t kStart = 1'700'000'000'000;

struct Input {
  const uint8_t* p;
  std::size_t n;
  std::size_t i = 0;
  bool done() const { return i >= n; }
  uint8_t u8() { return i < n ? p[i++] : 0; }
  uint16_t u16() {
    const uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
  }
  std::string bytes(std::size_t k) {
    k = std::min(k, n - std::min(i, n));
    std::string s(reinterpret_cast<const char*>(p + i), k);
    i += k;
    return s;
  }
};

const wire::OpCode kOps[] = {wire::OpCode::create,
                             wire::OpCode::create2,
                             wire::OpCode::createContainer,
                             wire::OpCode::createTTL,
                             wire::OpCode::remove,
                             wire::OpCode::exists,
                             wire::OpCode::getData,
                             wire::OpCode::setData,
                             wire::OpCode::getACL,
                             wire::OpCode::setACL,
                             wire::OpCode::getChildren,
                             wire::OpCode::getChildren2,
                             wire::OpCode::sync,
                             wire::OpCode::ping,
                             wire::OpCode::check,
                             wire::OpCode::checkWatches,
                             wire::OpCode::removeWatches,
                             wire::OpCode::setWatches,
                             wire::OpCode::setWatches2,
                             wire::OpCode::getEphemerals,
                             wire::OpCode::getAllChildrenNumber,
                             wire::OpCode::addWatch,
                             wire::OpCode::whoAmI,
                             wire::OpCode::closeSession,
                             wire::OpCode::deleteContainer,
                             wire::OpCode::reconfig,
                             wire::OpCode::sasl,
                             static_cast<wire::OpCode>(99)};
static_assert(std::size(kOps) == cmd::op::count);

const std::string kPaths[] = {"/", "/a", "/a/b", "/a/b/c", "/b", "/b/c", "/c", "/e", "/e/x", "/t", "/zookeeper",
                              "/zookeeper/config", "/zookeeper/quota",
                              // more names, sequential-looking names, and bad paths
                              "/a/b0000000000", "/a/b0000000001", "/a0000000002", "/c/d", "/c/d/e", "/t/x", "", "a",
                              "/a/", "//a", "/a/./b", "/a/..", "/\xc3\xa9", "/\xff", std::string("/a\0b", 4), "/\x01",
                              "/a//b", "/zookeeper/x"};
static_assert(std::size(kPaths) >= cmd::path::count);

const int64_t kTtls[] = {-1, 0, 1, 10, 1000, 100000, wire::max_ttl_ms, wire::max_ttl_ms + 1, INT64_MIN};

// CORRAL_FUZZ_TRACE=1 prints every command and effect (to read a crash input).
const bool kTrace = std::getenv("CORRAL_FUZZ_TRACE") != nullptr;
#define TRACE(...)                                 \
  do {                                             \
    if (kTrace) std::fprintf(stderr, __VA_ARGS__); \
  } while (0)

std::string hex_bytes(std::string_view s, std::size_t max = 48) {
  std::string out;
  char b[4];
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(s[i]));
    out += b;
  }
  if (s.size() > max) out += "...";
  return out;
}

// Readers of the parameters of a structured request.
std::string read_path(Input& in) {
  const uint8_t b = in.u8();
  if (b >= 0xf0) return "/a/" + in.bytes(b & 0x0f);
  if (b >= 0xe0) return in.bytes(b & 0x0f);
  return kPaths[b % std::size(kPaths)];
}
std::string read_data(Input& in) { return in.bytes(in.u8() % 16); }
int32_t read_version(Input& in) {
  const uint8_t b = in.u8();
  if (b >= 0xf0) return -1;
  if (b == 0xef) return INT32_MAX;
  if (b == 0xee) return INT32_MIN;
  return b % 6;
}
int32_t read_flags(Input& in) {
  const uint8_t b = in.u8();
  if (b >= 0xf8) return static_cast<int8_t>(b);
  return b % 8;
}
int64_t read_ttl(Input& in) { return kTtls[in.u8() % std::size(kTtls)]; }

wire::AclList read_acl(Input& in) {
  const wire::Id anyone{"world", "anyone"};
  static const std::string user_digest = ens::digest_of("user:pw");
  static const std::string super_digest = ens::digest_of("super:secret");
  switch (in.u8() % 16) {
    case cmd::acl::open: return {{wire::perms::all, anyone}};
    case cmd::acl::read_only: return {{wire::perms::read, anyone}};
    case cmd::acl::creator: return {{wire::perms::all, {"auth", ""}}};
    case cmd::acl::digest_user: return {{wire::perms::all, {"digest", user_digest}}};
    case cmd::acl::ip_local: return {{wire::perms::all, {"ip", "127.0.0.1"}}};
    case cmd::acl::ip_cidr: return {{wire::perms::read | wire::perms::write, {"ip", "10.0.0.0/8"}}};
    case cmd::acl::empty: return {};
    case cmd::acl::bad_scheme: return {{wire::perms::all, {"foo", "bar"}}};
    case 8: return {{0, anyone}};
    case 9: return {{wire::perms::all, {"digest", "nocolon"}}};
    case 10: return {{wire::perms::all, {"digest", "\xff\xfe:abc"}}};
    case 11: return {{wire::perms::all, anyone}, {wire::perms::all, anyone}};
    case 12: return {{wire::perms::read, anyone}, {wire::perms::all, {"auth", ""}}};
    case 13: return {{static_cast<int32_t>(0x7fffffff), anyone}};
    case 14: return {{wire::perms::all, {"ip", "300.1.1.1/40"}}};
    default: return {{wire::perms::all, {"digest", super_digest}}};
  }
}

std::vector<std::string> read_paths(Input& in) {
  std::vector<std::string> out(in.u8() % 3);
  for (auto& p : out) p = read_path(in);
  return out;
}

// The body of a structured request of type `op`.
std::string read_body(Input& in, wire::OpCode op) {
  switch (op) {
    case wire::OpCode::create:
    case wire::OpCode::create2:
    case wire::OpCode::createContainer: {
      wire::CreateRequest r;
      r.path = read_path(in);
      r.data = read_data(in);
      r.acl = read_acl(in);
      r.flags = read_flags(in);
      return wire::encode_to_string(r);
    }
    case wire::OpCode::createTTL: {
      wire::CreateTTLRequest r;
      r.path = read_path(in);
      r.data = read_data(in);
      r.acl = read_acl(in);
      r.flags = read_flags(in);
      r.ttl = read_ttl(in);
      return wire::encode_to_string(r);
    }
    case wire::OpCode::remove:
    case wire::OpCode::check:
    case wire::OpCode::deleteContainer: {
      wire::PathVersionRequest r;
      r.path = read_path(in);
      r.version = read_version(in);
      return wire::encode_to_string(r);
    }
    case wire::OpCode::exists:
    case wire::OpCode::getData:
    case wire::OpCode::getChildren:
    case wire::OpCode::getChildren2: {
      wire::PathWatchRequest r;
      r.path = read_path(in);
      r.watch = in.u8() & 1;
      return wire::encode_to_string(r);
    }
    case wire::OpCode::setData: {
      wire::SetDataRequest r;
      r.path = read_path(in);
      r.data = read_data(in);
      r.version = read_version(in);
      return wire::encode_to_string(r);
    }
    case wire::OpCode::getACL:
    case wire::OpCode::sync:
    case wire::OpCode::getEphemerals:
    case wire::OpCode::getAllChildrenNumber: return wire::encode_to_string(wire::PathRecord{read_path(in)});
    case wire::OpCode::setACL: {
      wire::SetACLRequest r;
      r.path = read_path(in);
      r.acl = read_acl(in);
      r.version = read_version(in);
      return wire::encode_to_string(r);
    }
    case wire::OpCode::checkWatches:
    case wire::OpCode::removeWatches: {
      wire::PathTypeRequest r;
      r.path = read_path(in);
      r.type = in.u8() % 7;
      return wire::encode_to_string(r);
    }
    case wire::OpCode::addWatch: {
      wire::AddWatchRequest r;
      r.path = read_path(in);
      r.mode = in.u8() % 3;
      return wire::encode_to_string(r);
    }
    case wire::OpCode::setWatches: {
      wire::SetWatches r;
      r.relativeZxid = in.u8();
      r.dataWatches = read_paths(in);
      r.existWatches = read_paths(in);
      r.childWatches = read_paths(in);
      return wire::encode_to_string(r);
    }
    case wire::OpCode::setWatches2: {
      wire::SetWatches2 r;
      r.relativeZxid = in.u8();
      r.dataWatches = read_paths(in);
      r.existWatches = read_paths(in);
      r.childWatches = read_paths(in);
      r.persistentWatches = read_paths(in);
      r.persistentRecursiveWatches = read_paths(in);
      return wire::encode_to_string(r);
    }
    default: return {};
  }
}

const wire::OpCode kMultiOps[] = {wire::OpCode::create,         wire::OpCode::create2, wire::OpCode::createContainer,
                                  wire::OpCode::createTTL,      wire::OpCode::remove,  wire::OpCode::check,
                                  wire::OpCode::setData,        wire::OpCode::getData, wire::OpCode::getChildren,
                                  static_cast<wire::OpCode>(99)};

wire::MultiRequest read_multi(Input& in, uint8_t count) {
  wire::MultiRequest m;
  for (uint8_t k = 0; k < count; ++k) {
    wire::MultiOp op;
    op.type = kMultiOps[in.u8() % std::size(kMultiOps)];
    op.path = read_path(in);
    switch (op.type) {
      case wire::OpCode::create:
      case wire::OpCode::create2:
      case wire::OpCode::createContainer:
      case wire::OpCode::createTTL:
        op.data = read_data(in);
        op.acl = read_acl(in);
        op.flags = read_flags(in);
        if (op.type == wire::OpCode::createTTL) op.ttl = read_ttl(in);
        break;
      case wire::OpCode::remove:
      case wire::OpCode::check: op.version = read_version(in); break;
      case wire::OpCode::setData:
        op.data = read_data(in);
        op.version = read_version(in);
        break;
      default: break;
    }
    m.ops.push_back(std::move(op));
  }
  return m;
}

// The reserved xid a request of `op` is sent with (0: the next harness xid).
// Replies echo the request's xid; only a ping's is the ping xid whatever was sent.
int32_t reply_xid_of(wire::OpCode op) {
  switch (op) {
    case wire::OpCode::ping: return wire::xid::ping;
    case wire::OpCode::auth: return wire::xid::auth;  // answered at once, outside the FIFO
    default: return 0;
  }
}

std::string header_frame(int32_t xid, wire::OpCode op, std::string_view body) {
  std::string payload = wire::encode_to_string(wire::RequestHeader{xid, static_cast<int32_t>(op)});
  payload.append(body);
  return payload;
}

struct Conn {
  bool open = true;
  bool resumed = false;           // resume_reading seen: frames go straight in
  std::vector<std::string> held;  // frames the shell holds until resume_reading
  bool got_connect_response = false;
  int64_t session = 0;
  struct Pending {
    int32_t xid;
    wire::OpCode op;
    std::size_t ops;  // a multi's op count, if it decodes
  };
  std::deque<Pending> expected;  // harness requests awaiting their reply, in order
  int64_t last_zxid = 0;         // highest zxid seen in a reply header
};

struct Snapshot {
  struct Node {
    std::string path;
    std::string data;
    wire::AclList acl;
    wire::Stat stat;
  };
  std::vector<Node> nodes;
  int64_t zxid = 0;
  std::size_t applied = 0;  // txns applied when it was taken
};

struct Harness {
  ens::CoreConfig config() {
    ens::CoreConfig c;
    c.tick_ms = 1000;
    c.min_session_timeout_ms = 2000;
    c.max_session_timeout_ms = 20000;
    c.container_check_interval_ms = 5000;
    c.container_max_per_minute = 60;
    c.super_digest = ens::digest_of("super:secret");
    c.server_id = 1;
    c.random_seed = 42;
    return c;
  }

  ens::ServerCore core{config()};
  ens::DataTree replica;
  std::vector<corral::proto::Txn> applied;  // what the log would give back, in apply order
  std::deque<corral::proto::Txn> pending;
  int64_t last_logged = 0;
  int64_t now = kStart;
  ens::ConnId next_conn = 1;
  std::array<ens::ConnId, cmd::kSlots> slot{};
  std::map<ens::ConnId, Conn> conns;
  std::vector<std::pair<int64_t, std::string>> sessions;  // (id, password) from ConnectResponses
  int32_t next_xid = kXidBase;
  std::unique_ptr<Snapshot> snap;
  std::size_t replies = 0;

  Harness() { core.start(now); }

  // ---- the shell side -------------------------------------------------------

  void process_effects() {
    for (;;) {
      ens::Effects e = core.take_effects();
      if (e.empty()) return;
      for (const auto& line : e.log_lines) TRACE("    log: %s\n", line.c_str());
      for (auto& txn : e.log) {
        TRACE("    txn: %s\n", txn.ShortDebugString().c_str());
        FUZZ_CHECK(txn.zxid() > last_logged, "logged zxid %lld after %lld", (long long)txn.zxid(),
                   (long long)last_logged);
        last_logged = txn.zxid();
        pending.push_back(std::move(txn));
      }
      for (auto& io : e.io) effect(io);
    }
  }

  void effect(ens::Effect& io) {
    auto it = conns.find(io.conn);
    FUZZ_CHECK(it != conns.end(), "effect for connection %llu, never opened", (unsigned long long)io.conn);
    Conn& c = it->second;
    TRACE("    effect %s conn %llu %s\n",
          io.kind == ens::Effect::Kind::send    ? "send"
          : io.kind == ens::Effect::Kind::close ? "close"
                                                : "resume",
          (unsigned long long)io.conn, hex_bytes(io.bytes).c_str());
    FUZZ_CHECK(c.open, "effect (kind %d) for connection %llu after it was closed", static_cast<int>(io.kind),
               (unsigned long long)io.conn);
    switch (io.kind) {
      case ens::Effect::Kind::send: reply(io.conn, c, io.bytes); break;
      case ens::Effect::Kind::close:
        c.open = false;
        c.held.clear();
        break;
      case ens::Effect::Kind::resume_reading: {
        FUZZ_CHECK(!c.resumed, "resume_reading twice for connection %llu", (unsigned long long)io.conn);
        FUZZ_CHECK(c.got_connect_response, "resume_reading before the ConnectResponse");
        c.resumed = true;
        std::vector<std::string> held = std::move(c.held);
        c.held.clear();
        for (const auto& f : held) {
          if (!conns[io.conn].open) break;
          TRACE("  held frame conn %llu: %s\n", (unsigned long long)io.conn, hex_bytes(f).c_str());
          core.frame(io.conn, f, now);
        }
        break;
      }
    }
  }

  void reply(ens::ConnId id, Conn& c, const std::string& bytes) {
    wire::FrameDecoder dec;
    dec.append(bytes);
    std::string_view frame;
    FUZZ_CHECK(dec.next(frame) == wire::FrameDecoder::Status::frame && dec.buffered() == 0,
               "send of %zu bytes is not exactly one frame", bytes.size());
    if (!c.got_connect_response) {
      wire::ConnectResponse r;
      FUZZ_CHECK(wire::decode_from(frame, r), "first frame to a connection is not a ConnectResponse");
      c.got_connect_response = true;
      if (r.sessionId != 0) {
        FUZZ_CHECK(r.timeOut >= 2000 && r.timeOut <= 20000, "negotiated timeout %d out of bounds", r.timeOut);
        c.session = r.sessionId;
        bool known = false;
        for (const auto& [sid, pw] : sessions) known |= sid == r.sessionId;
        if (!known) sessions.emplace_back(r.sessionId, r.passwd);
      }
      return;
    }
    ++replies;
    wire::JuteReader rd(frame);
    wire::ReplyHeader h;
    wire::decode(rd, h);
    FUZZ_CHECK(rd.ok(), "reply without a header");
    if (h.xid == wire::xid::notification && h.zxid == -1) {  // (a request may use xid -1 too)
      wire::WatcherEvent ev;
      FUZZ_CHECK(wire::decode_from(frame.substr(rd.position()), ev), "notification without a WatcherEvent");
      return;
    }
    FUZZ_CHECK(h.zxid >= c.last_zxid, "reply zxid went back from %lld to %lld (xid %d)", (long long)c.last_zxid,
               (long long)h.zxid, h.xid);
    FUZZ_CHECK(h.zxid <= core.last_zxid(), "reply zxid %lld beyond the tree's %lld", (long long)h.zxid,
               (long long)core.last_zxid());
    c.last_zxid = h.zxid;
    if (h.xid >= kXidBase) {
      FUZZ_CHECK(!c.expected.empty() && c.expected.front().xid == h.xid,
                 "reply to xid %d out of order on connection %llu (expected %d)", h.xid, (unsigned long long)id,
                 c.expected.empty() ? 0 : c.expected.front().xid);
      check_body(c.expected.front(), h.err, frame.substr(rd.position()));
      c.expected.pop_front();
    }
  }

  // A reply body is exactly the response record of its request (ZooKeeper's
  // clients read it by the op they sent), and nothing after an error.
  template <class T>
  static T exact(std::string_view body, wire::OpCode op) {
    wire::JuteReader r(body);
    T rec{};
    wire::decode(r, rec);
    FUZZ_CHECK(r.ok() && r.at_end(), "reply to op %d is not exactly its response record (%zu bytes: %s)",
               static_cast<int>(op), body.size(), hex_bytes(body).c_str());
    return rec;
  }

  static void check_body(const Conn::Pending& req, int32_t err, std::string_view body) {
    const wire::OpCode op = req.op;
    if (err != 0) {
      FUZZ_CHECK(body.empty(), "reply to op %d with error %d carries %zu bytes", static_cast<int>(op), err,
                 body.size());
      return;
    }
    switch (op) {
      case wire::OpCode::create: exact<wire::CreateResponse>(body, op); break;
      case wire::OpCode::create2:
      case wire::OpCode::createContainer:
      case wire::OpCode::createTTL: exact<wire::Create2Response>(body, op); break;
      case wire::OpCode::exists:
      case wire::OpCode::setData:
      case wire::OpCode::setACL: exact<wire::StatResponse>(body, op); break;
      case wire::OpCode::getData: exact<wire::GetDataResponse>(body, op); break;
      case wire::OpCode::getACL: exact<wire::GetACLResponse>(body, op); break;
      case wire::OpCode::getChildren:
      case wire::OpCode::getEphemerals: exact<wire::StringListResponse>(body, op); break;
      case wire::OpCode::getChildren2: exact<wire::GetChildren2Response>(body, op); break;
      case wire::OpCode::sync: exact<wire::SyncResponse>(body, op); break;
      case wire::OpCode::getAllChildrenNumber: exact<wire::GetAllChildrenNumberResponse>(body, op); break;
      case wire::OpCode::whoAmI: exact<wire::WhoAmIResponse>(body, op); break;
      case wire::OpCode::addWatch: exact<wire::ErrorResponse>(body, op); break;  // as ZooKeeper: ErrorResponse(0)
      case wire::OpCode::multi:
      case wire::OpCode::multiRead: {
        const auto m = exact<wire::MultiResponse>(body, op);
        if (req.ops != SIZE_MAX) {
          FUZZ_CHECK(m.results.size() == req.ops, "multi of %zu ops answered with %zu results", req.ops,
                     m.results.size());
        }
        break;
      }
      case wire::OpCode::check: break;  // (not a top-level request in ZooKeeper 3.8)
      default: FUZZ_CHECK(body.empty(), "reply to op %d carries %zu bytes", static_cast<int>(op), body.size()); break;
    }
  }

  // ---- connections ------------------------------------------------------------

  ens::ConnId open_conn(int s, const std::string& first_frame) {
    const ens::ConnId id = next_conn++;
    conns[id] = Conn{};
    slot[static_cast<std::size_t>(s)] = id;
    TRACE("  open conn %llu (slot %d), connect frame %s\n", (unsigned long long)id, s, hex_bytes(first_frame).c_str());
    core.connection_opened(id, "127.0.0.1", now);
    core.frame(id, first_frame, now);
    return id;
  }

  static std::string connect_frame(int64_t session, const std::string& password, int32_t timeout, int64_t zxid,
                                   int how) {
    wire::ConnectRequest r;
    r.lastZxidSeen = zxid;
    r.timeOut = timeout;
    r.sessionId = session;
    r.passwd = password;
    r.readOnly = how & 4;
    r.has_read_only = !(how & 8);
    return wire::encode_to_string(r);
  }

  void new_session(int s, int32_t timeout) { open_conn(s, connect_frame(0, std::string(16, '\0'), timeout, 0, 0)); }

  // The open connection of a slot; a new one with a new session if there is none.
  ens::ConnId conn_of(int s) {
    const ens::ConnId id = slot[static_cast<std::size_t>(s)];
    if (id != 0 && conns[id].open) return id;
    new_session(s, 6000);
    process_effects();
    return slot[static_cast<std::size_t>(s)];
  }

  // Sends a request frame from a slot, as the shell would hand it over.
  void send(int s, std::string frame, wire::OpCode op, bool harness_xid) {
    const ens::ConnId id = conn_of(s);
    Conn& c = conns[id];
    if (!c.open) return;
    if (harness_xid && reply_xid_of(op) == 0) {
      wire::JuteReader r(frame);
      const int32_t xid = r.i32();
      wire::MultiRequest m;
      const bool multi = op == wire::OpCode::multi || op == wire::OpCode::multiRead;
      const bool decodes = multi && wire::decode_from(frame.substr(8), m);
      c.expected.push_back({xid, op, decodes ? m.ops.size() : SIZE_MAX});
    }
    if (!c.resumed) {
      c.held.push_back(std::move(frame));
      return;
    }
    TRACE("  frame conn %llu: %s\n", (unsigned long long)id, hex_bytes(frame).c_str());
    core.frame(id, frame, now);
  }

  // Clients send pings and auth packets with their reserved xids; everything
  // else (setWatches too, as the Java client does) gets the next harness xid.
  int32_t xid_for(wire::OpCode op) {
    const int32_t reserved = reply_xid_of(op);
    return reserved != 0 ? reserved : next_xid++;
  }

  // ---- storage ----------------------------------------------------------------

  void sync_to(std::size_t k) {  // the first k pending txns are durable
    if (k == 0 || pending.empty()) return;
    k = std::min(k, pending.size());
    const int64_t zxid = pending[k - 1].zxid();
    TRACE("  synced(%lld)\n", (long long)zxid);
    std::vector<corral::proto::Txn> done(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(k));
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(k));
    core.synced(zxid, now);
    for (auto& txn : done) {
      std::string bytes;
      FUZZ_CHECK(txn.SerializeToString(&bytes), "txn %lld does not serialize", (long long)txn.zxid());
      corral::proto::Txn copy;
      if (!copy.ParseFromString(bytes)) {
        FUZZ_CHECK(corral::fuzz::known_bug("txn-utf8"),
                   "txn %lld does not parse back after serialization (the txn log would refuse it on recovery): %s",
                   (long long)txn.zxid(), txn.ShortDebugString().c_str());
        copy = std::move(txn);
      }
      std::vector<ens::OpResult> results;
      std::vector<ens::WatchTrigger> triggers;
      replica.apply(copy, results, triggers);
      applied.push_back(std::move(copy));
    }
  }

  // ---- checks -------------------------------------------------------------------

  void check() {
    const TreeImage live = check_tree(core.tree(), "live tree");
    const TreeImage rep = check_tree(replica, "replica");
    const std::string d = diff_images(live, rep);
    FUZZ_CHECK(d.empty(), "the replica that applied the logged txns differs from the live tree: %s", d.c_str());
    FUZZ_CHECK(core.last_zxid() == replica.last_zxid(), "last zxid %lld, replica %lld", (long long)core.last_zxid(),
               (long long)replica.last_zxid());
    FUZZ_CHECK(core.outstanding_txns() == pending.size(), "core has %zu txns outstanding, the log %zu",
               core.outstanding_txns(), pending.size());

    std::set<int64_t> known;
    core.for_each_session([&](int64_t id, int32_t, const std::string&) { known.insert(id); });
    FUZZ_CHECK(known.size() == core.session_count(), "session_count");
    for (const auto& [owner, ids] : core.tree().ephemerals()) {
      FUZZ_CHECK(known.count(owner) == 1, "ephemeral %s outlives its session %llx",
                 core.tree().path_of(*ids.begin()).c_str(), (unsigned long long)owner);
    }

    std::set<ens::ConnId> open;
    for (const auto& [id, c] : conns) {
      if (c.open) open.insert(id);
    }
    std::set<int64_t> attached;
    std::set<ens::ConnId> listed;
    for (const auto& cs : core.connection_stats()) {
      listed.insert(cs.id);
      if (cs.session != 0) attached.insert(cs.session);
    }
    FUZZ_CHECK(listed == open, "the core lists %zu connections, the shell has %zu open", listed.size(), open.size());
    for (const auto& [watcher, paths] : core.watches().by_watcher()) {
      FUZZ_CHECK(attached.count(watcher) == 1, "session %llx watches %zu paths without a connection",
                 (unsigned long long)watcher, paths.size());
    }
  }

  void take_snapshot() {
    snap = std::make_unique<Snapshot>();
    core.tree().for_each_node([&](const ens::NodeImage& n) {
      snap->nodes.push_back({n.path, std::string(n.data), *n.acl, n.stat});
    });
    snap->zxid = core.last_zxid();
    snap->applied = applied.size();
  }

  void check_recovery(std::size_t back) {
    if (!snap) return;
    ens::DataTree t;
    for (const auto& n : snap->nodes) {
      FUZZ_CHECK(t.load_node(ens::NodeImage{n.path, n.data, &n.acl, n.stat}), "snapshot node %s does not load",
                 n.path.c_str());
    }
    t.set_last_zxid(snap->zxid);
    const std::size_t from = snap->applied - std::min(back, snap->applied);
    for (std::size_t k = from; k < applied.size(); ++k) {
      std::vector<ens::OpResult> results;
      std::vector<ens::WatchTrigger> triggers;
      t.apply(applied[k], results, triggers);
    }
    const TreeImage recovered = check_tree(t, "recovered tree");
    const TreeImage live = check_tree(core.tree(), "live tree");
    const std::string d = diff_images(live, recovered);
    FUZZ_CHECK(d.empty(),
               "snapshot at zxid %lld + replay of %zu txns (%zu of them already in the snapshot) differs from the "
               "live tree: %s",
               (long long)snap->zxid, applied.size() - from, snap->applied - from, d.c_str());
    FUZZ_CHECK(t.last_zxid() == core.last_zxid(), "recovered last zxid");
  }

  // ---- the program -------------------------------------------------------------

  void run(Input& in) {
    while (!in.done()) {
      const uint8_t c = in.u8();
      const int s = (c >> 4) % cmd::kSlots;
      TRACE("command %d slot %d at t+%lld\n", c & 0x0f, s, (long long)(now - kStart));
      switch (static_cast<cmd::Kind>(c & 0x0f)) {
        case cmd::request:
        case cmd::request_b:
        case cmd::request_c: {
          const wire::OpCode op = kOps[in.u8() % std::size(kOps)];
          const std::string body = read_body(in, op);
          send(s, header_frame(xid_for(op), op, body), op, true);
          break;
        }
        case cmd::raw_frame: {
          std::string f = in.bytes(in.u16() % 2048);
          if (f.size() >= 4 && (static_cast<uint8_t>(f[0]) & 0xc0) == 0x40) f[0] = static_cast<char>(f[0] & 0x3f);
          send(s, std::move(f), wire::OpCode::error, false);
          break;
        }
        case cmd::raw_body: {
          const uint8_t t = in.u8();
          const auto op = t < 0xf0 ? kOps[t % std::size(kOps)]
                                   : (t == 0xff   ? wire::OpCode::multi
                                      : t == 0xfe ? wire::OpCode::multiRead
                                      : t == 0xfd ? wire::OpCode::auth
                                                  : static_cast<wire::OpCode>(t));
          const std::string body = in.bytes(in.u8());
          send(s, header_frame(xid_for(op), op, body), op, true);
          break;
        }
        case cmd::sync_all: sync_to(pending.size()); break;
        case cmd::sync_some: sync_to(pending.empty() ? 0 : 1 + in.u8() % pending.size()); break;
        case cmd::tick:
          now += in.u16();
          core.tick(now);
          break;
        case cmd::long_tick:
          now += int64_t{in.u8()} * 1000 + 1;
          core.tick(now);
          break;
        case cmd::client_close: {
          const ens::ConnId id = slot[static_cast<std::size_t>(s)];
          if (id != 0 && conns[id].open) {
            conns[id].open = false;
            core.connection_closed(id, now);
          }
          break;
        }
        case cmd::connect: {
          const uint8_t b = in.u8();
          new_session(s, b == 0xff ? -1 : b * 100);
          break;
        }
        case cmd::reconnect: {
          const uint8_t which = in.u8();
          const uint8_t how = in.u8();
          if (sessions.empty()) break;
          auto [sid, pw] = sessions[which % sessions.size()];
          if (how & 1) pw[0] = static_cast<char>(pw[0] ^ 1);
          const int64_t zxid = (how & 2) ? core.last_zxid() + 1 : core.last_zxid();
          open_conn(s, connect_frame(sid, pw, 6000, zxid, how));
          break;
        }
        case cmd::raw_connect: open_conn(s, in.bytes(in.u8())); break;
        case cmd::snapshot: take_snapshot(); break;
        case cmd::auth: {
          static const std::string schemes[] = {"digest", "ip", "world", "sasl"};
          static const std::string auths[] = {"user:pw", "super:secret", "other:x", "\xff\xfe:pw", "nocolon", ""};
          const uint8_t a = in.u8();
          const uint8_t b = in.u8();
          wire::AuthPacket p;
          p.scheme = a < 0xf0 ? schemes[a % std::size(schemes)] : in.bytes(a & 0x0f);
          p.auth = b < 0xf0 ? auths[b % std::size(auths)] : in.bytes(b & 0x0f);
          send(s, header_frame(wire::xid::auth, wire::OpCode::auth, wire::encode_to_string(p)), wire::OpCode::auth,
               true);
          break;
        }
        case cmd::multi: {
          const uint8_t b = in.u8();
          const auto op = (b & 1) ? wire::OpCode::multiRead : wire::OpCode::multi;
          const wire::MultiRequest m = read_multi(in, static_cast<uint8_t>((b >> 1) % 6));
          send(s, header_frame(next_xid++, op, wire::encode_to_string(m)), op, true);
          break;
        }
      }
      process_effects();
      check();
    }

    // The end: everything becomes durable; every request on a connection that
    // is still open must have had its reply.
    // (Held frames delivered at a resume can log more txns: repeat.)
    while (!pending.empty()) {
      sync_to(pending.size());
      process_effects();
    }
    check();
    for (const auto& [id, c] : conns) {
      if (!c.open || !c.resumed) continue;
      FUZZ_CHECK(c.expected.empty(), "connection %llu: request xid %d never answered", (unsigned long long)id,
                 c.expected.front());
    }
    check_recovery(in.n > 0 ? in.p[in.n - 1] % 4 : 0);
    if (std::getenv("CORRAL_FUZZ_VERBOSE")) {
      std::fprintf(stderr, "connections %zu, sessions %zu, txns applied %zu, nodes %zu, replies %zu, watches %zu\n",
                   conns.size(), sessions.size(), applied.size(), core.tree().node_count(), replies,
                   core.watches().watch_count());
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness h;
  Input in{data, size};
  h.run(in);
  return 0;
}
