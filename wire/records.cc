#include "corral/wire/records.h"

namespace corral::wire {

void encode(JuteWriter& w, const ConnectRequest& r) {
  w.i32(r.protocolVersion);
  w.i64(r.lastZxidSeen);
  w.i32(r.timeOut);
  w.i64(r.sessionId);
  w.bytes(r.passwd);
  if (r.has_read_only) w.boolean(r.readOnly);
}

void decode(JuteReader& r, ConnectRequest& rec) {
  rec.protocolVersion = r.i32();
  rec.lastZxidSeen = r.i64();
  rec.timeOut = r.i32();
  rec.sessionId = r.i64();
  rec.passwd = r.bytes();
  rec.has_read_only = r.ok() && r.remaining() > 0;
  rec.readOnly = rec.has_read_only && r.boolean();
}

// A multi is a run of (MultiHeader, body) pairs closed by {-1, done, -1}.
void encode(JuteWriter& w, const MultiRequest& r) {
  for (const auto& op : r.ops) {
    encode(w, MultiHeader{static_cast<int32_t>(op.type), false, -1});
    switch (op.type) {
      case OpCode::create:
      case OpCode::create2:
      case OpCode::createContainer: encode(w, CreateRequest{op.path, op.data, op.acl, op.flags}); break;
      case OpCode::createTTL: encode(w, CreateTTLRequest{op.path, op.data, op.acl, op.flags, op.ttl}); break;
      case OpCode::remove:
      case OpCode::check: encode(w, PathVersionRequest{op.path, op.version}); break;
      case OpCode::setData: encode(w, SetDataRequest{op.path, op.data, op.version}); break;
      case OpCode::getData:
      case OpCode::getChildren: encode(w, PathWatchRequest{op.path, false}); break;
      default: break;  // not an op a multi can hold; the peer will refuse it
    }
  }
  encode(w, MultiHeader{-1, true, -1});
}

void decode(JuteReader& r, MultiRequest& rec) {
  rec.ops.clear();
  MultiHeader h;
  decode(r, h);
  while (r.ok() && !h.done) {
    MultiOp op;
    op.type = static_cast<OpCode>(h.type);
    switch (op.type) {
      case OpCode::create:
      case OpCode::create2:
      case OpCode::createContainer: {
        CreateRequest c;
        decode(r, c);
        op.path = std::move(c.path);
        op.data = std::move(c.data);
        op.acl = std::move(c.acl);
        op.flags = c.flags;
        break;
      }
      case OpCode::createTTL: {
        CreateTTLRequest c;
        decode(r, c);
        op.path = std::move(c.path);
        op.data = std::move(c.data);
        op.acl = std::move(c.acl);
        op.flags = c.flags;
        op.ttl = c.ttl;
        break;
      }
      case OpCode::remove:
      case OpCode::check: {
        PathVersionRequest d;
        decode(r, d);
        op.path = std::move(d.path);
        op.version = d.version;
        break;
      }
      case OpCode::setData: {
        SetDataRequest s;
        decode(r, s);
        op.path = std::move(s.path);
        op.data = std::move(s.data);
        op.version = s.version;
        break;
      }
      case OpCode::getData:
      case OpCode::getChildren: {
        PathWatchRequest g;
        decode(r, g);
        op.path = std::move(g.path);
        break;
      }
      default:
        r.fail();  // ZooKeeper: "Invalid type of op"
        return;
    }
    rec.ops.push_back(std::move(op));
    decode(r, h);
  }
}

void encode(JuteWriter& w, const MultiResponse& r) {
  for (const auto& res : r.results) {
    encode(w, MultiHeader{static_cast<int32_t>(res.type), false, res.type == OpCode::error ? res.err : 0});
    switch (res.type) {
      case OpCode::create: w.bytes(res.path); break;
      case OpCode::create2:
        w.bytes(res.path);
        encode(w, res.stat);
        break;
      case OpCode::setData: encode(w, res.stat); break;
      case OpCode::getData:
        w.bytes(res.data);
        encode(w, res.stat);
        break;
      case OpCode::getChildren: encode(w, res.children); break;
      case OpCode::error: w.i32(res.err); break;
      default:  // delete, check: no body
        break;
    }
  }
  encode(w, MultiHeader{-1, true, -1});
}

void decode(JuteReader& r, MultiResponse& rec) {
  rec.results.clear();
  MultiHeader h;
  decode(r, h);
  while (r.ok() && !h.done) {
    MultiResult res;
    res.type = static_cast<OpCode>(h.type);
    switch (res.type) {
      case OpCode::create: res.path = r.bytes(); break;
      case OpCode::create2:
        res.path = r.bytes();
        decode(r, res.stat);
        break;
      case OpCode::setData: decode(r, res.stat); break;
      case OpCode::getData:
        res.data = r.bytes();
        decode(r, res.stat);
        break;
      case OpCode::getChildren: decode(r, res.children); break;
      case OpCode::error: res.err = r.i32(); break;
      case OpCode::remove:
      case OpCode::check: break;
      default: r.fail(); return;
    }
    rec.results.push_back(std::move(res));
    decode(r, h);
  }
}

}  // namespace corral::wire
