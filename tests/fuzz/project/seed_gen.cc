// Writes the seed corpora of the fuzz targets into <dir>/<target>/, using the
// real encoders and writers so that every seed is a valid input that reaches
// deep into its target. Run after a format change:
//   <fuzz build>/fuzz_seed_gen tests/fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core_commands.h"
#include "corral/wire/frame.h"
#include "corral/wire/records.h"
#include "ensemble/core/data_tree.h"
#include "ensemble/storage/file_snapshot.h"
#include "ensemble/storage/file_txn_log.h"
#include "txn.pb.h"

namespace fs = std::filesystem;
namespace wire = corral::wire;
namespace storage = corral::storage;
namespace cmd = corral::fuzz::core_cmd;

namespace {

fs::path out_root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  const fs::path dir = out_root / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

template <class T>
std::string frame(const T& rec) {
  std::string out;
  wire::append_frame(out, wire::encode_to_string(rec));
  return out;
}

template <class T>
std::string request(int32_t xid, wire::OpCode op, const T& rec) {
  std::string payload = wire::encode_to_string(wire::RequestHeader{xid, static_cast<int32_t>(op)});
  payload += wire::encode_to_string(rec);
  std::string out;
  wire::append_frame(out, payload);
  return out;
}

std::string bare_request(int32_t xid, wire::OpCode op) {
  std::string out;
  wire::append_frame(out, wire::encode_to_string(wire::RequestHeader{xid, static_cast<int32_t>(op)}));
  return out;
}

template <class T>
std::string response(int32_t xid, int64_t zxid, int32_t err, const T& rec) {
  std::string payload = wire::encode_to_string(wire::ReplyHeader{xid, zxid, err});
  payload += wire::encode_to_string(rec);
  std::string out;
  wire::append_frame(out, payload);
  return out;
}

// ---- fuzz_wire: [flags][chunk seed][stream] ------------------------------------

void wire_seeds() {
  const wire::AclList open{{wire::perms::all, {"world", "anyone"}}};
  const wire::Stat stat{5, 6, 1000, 2000, 1, 2, 0, 0, 3, 1, 7};

  std::string connect = frame(wire::ConnectRequest{0, 0, 30000, 0, std::string(16, '\0'), false, true});
  std::string old_connect = frame(wire::ConnectRequest{0, 0, 30000, 0, std::string(16, '\0'), false, false});

  std::string requests = connect;
  int32_t xid = 1;
  requests += request(xid++, wire::OpCode::create, wire::CreateRequest{"/a", "data", open, 0});
  requests += request(xid++, wire::OpCode::create2, wire::CreateRequest{"/a/b", "", open, 3});
  requests += request(xid++, wire::OpCode::createContainer, wire::CreateRequest{"/c", "", open, 4});
  requests += request(xid++, wire::OpCode::createTTL, wire::CreateTTLRequest{"/t", "x", open, 5, 1000});
  requests += request(xid++, wire::OpCode::remove, wire::PathVersionRequest{"/a/b", -1});
  requests += request(xid++, wire::OpCode::exists, wire::PathWatchRequest{"/a", true});
  requests += request(xid++, wire::OpCode::getData, wire::PathWatchRequest{"/a", false});
  requests += request(xid++, wire::OpCode::setData, wire::SetDataRequest{"/a", "new", 0});
  requests += request(xid++, wire::OpCode::getACL, wire::PathRecord{"/a"});
  requests += request(xid++, wire::OpCode::setACL, wire::SetACLRequest{"/a", open, 0});
  requests += request(xid++, wire::OpCode::getChildren, wire::PathWatchRequest{"/", true});
  requests += request(xid++, wire::OpCode::getChildren2, wire::PathWatchRequest{"/", false});
  requests += request(xid++, wire::OpCode::sync, wire::PathRecord{"/"});
  requests += bare_request(wire::xid::ping, wire::OpCode::ping);
  requests += request(xid++, wire::OpCode::check, wire::PathVersionRequest{"/a", 1});
  requests += request(xid++, wire::OpCode::checkWatches, wire::PathTypeRequest{"/a", 3});
  requests += request(xid++, wire::OpCode::removeWatches, wire::PathTypeRequest{"/a", 1});
  requests += request(wire::xid::set_watches, wire::OpCode::setWatches, wire::SetWatches{5, {"/a"}, {"/b"}, {"/"}});
  requests += request(wire::xid::set_watches, wire::OpCode::setWatches2,
                      wire::SetWatches2{5, {"/a"}, {"/b"}, {"/"}, {"/p"}, {"/r"}});
  requests += request(xid++, wire::OpCode::getEphemerals, wire::PathRecord{"/"});
  requests += request(xid++, wire::OpCode::getAllChildrenNumber, wire::PathRecord{"/"});
  requests += request(xid++, wire::OpCode::addWatch, wire::AddWatchRequest{"/a", 1});
  requests += bare_request(xid++, wire::OpCode::whoAmI);
  requests += request(wire::xid::auth, wire::OpCode::auth, wire::AuthPacket{0, "digest", "user:pw"});
  wire::MultiRequest multi;
  multi.ops.push_back({wire::OpCode::create, "/m", "d", open, 0, -1, -1});
  multi.ops.push_back({wire::OpCode::createTTL, "/m2", "", open, 5, 100, -1});
  multi.ops.push_back({wire::OpCode::check, "/m", "", {}, 0, -1, 0});
  multi.ops.push_back({wire::OpCode::setData, "/m", "e", {}, 0, -1, 0});
  multi.ops.push_back({wire::OpCode::remove, "/m", "", {}, 0, -1, -1});
  requests += request(xid++, wire::OpCode::multi, multi);
  wire::MultiRequest reads;
  reads.ops.push_back({wire::OpCode::getData, "/a", "", {}, 0, -1, -1});
  reads.ops.push_back({wire::OpCode::getChildren, "/", "", {}, 0, -1, -1});
  requests += request(xid++, wire::OpCode::multiRead, reads);
  requests += bare_request(xid++, wire::OpCode::closeSession);

  std::string responses = frame(wire::ConnectResponse{0, 30000, 0x0100000000000001, std::string(16, 'p'), false});
  responses += response(1, 5, 0, wire::PathRecord{"/a"});
  responses += response(2, 6, 0, wire::Create2Response{"/a/b0000000001", stat});
  responses += response(3, 6, 0, wire::StatResponse{stat});
  responses += response(4, 6, 0, wire::GetDataResponse{"data", stat});
  responses += response(5, 6, 0, wire::StringListResponse{{"a", "zookeeper"}});
  responses += response(6, 6, 0, wire::GetChildren2Response{{"a"}, stat});
  responses += response(7, 6, 0, wire::GetACLResponse{open, stat});
  responses += response(8, 6, 0, wire::GetAllChildrenNumberResponse{4});
  responses += response(9, 6, 0, wire::WhoAmIResponse{{{"ip", "127.0.0.1"}, {"digest", "user"}}});
  responses += response(wire::xid::notification, -1, 0, wire::WatcherEvent{3, 3, "/a"});
  wire::MultiResponse mr;
  mr.results.push_back({wire::OpCode::create, 0, "/m", "", {}, {}});
  mr.results.push_back({wire::OpCode::create2, 0, "/m2", "", stat, {}});
  mr.results.push_back({wire::OpCode::check, 0, "", "", {}, {}});
  mr.results.push_back({wire::OpCode::setData, 0, "", "", stat, {}});
  mr.results.push_back({wire::OpCode::getData, 0, "", "d", stat, {}});
  mr.results.push_back({wire::OpCode::getChildren, 0, "", "", {}, {"x", "y"}});
  mr.results.push_back({wire::OpCode::remove, 0, "", "", {}, {}});
  mr.results.push_back({wire::OpCode::error, -101, "", "", {}, {}});
  responses += response(10, 7, 0, mr);
  responses += response(11, 7, -101, wire::ErrorResponse{-101});

  const auto seed = [](uint8_t flags, uint8_t chunk, const std::string& stream) {
    return std::string{static_cast<char>(flags), static_cast<char>(chunk)} + stream;
  };
  put("fuzz_wire", "connect", seed(0, 1, connect));
  put("fuzz_wire", "connect-old-client", seed(0, 2, old_connect));
  put("fuzz_wire", "requests", seed(0, 3, requests));
  put("fuzz_wire", "requests-tiny-chunks", seed(0x80, 4, requests.substr(0, 400)));
  put("fuzz_wire", "responses", seed(0, 5, responses));
  put("fuzz_wire", "multi", seed(0, 6, request(1, wire::OpCode::multi, multi)));
  put("fuzz_wire", "multi-response", seed(0x80, 7, response(10, 7, 0, mr)));
  put("fuzz_wire", "small-max-frame", seed(0x03, 8, connect + requests.substr(connect.size(), 200)));
  put("fuzz_wire", "negative-length", seed(0, 9, connect + std::string("\xff\xff\xff\xfe", 4)));
  put("fuzz_wire", "four-letter-word", seed(0, 10, "ruok"));
  std::string path;
  wire::append_frame(path, "/a/\xc3\xa9/b\xe2\x82\xac/\xf0\x9f\x98\x80");
  put("fuzz_wire", "path", seed(0, 11, path));
}

// ---- fuzz_server_core: command programs -------------------------------------------

struct Program {
  std::string b;
  Program& c(cmd::Kind k, int slot = 0) {
    b.push_back(static_cast<char>(cmd::cmd(k, slot)));
    return *this;
  }
  Program& u8(int v) {
    b.push_back(static_cast<char>(v));
    return *this;
  }
  Program& data(const std::string& d) {  // read_data: [len][bytes], len < 16
    u8(static_cast<int>(d.size()));
    b += d;
    return *this;
  }
  Program& op(int slot, int o) { return c(cmd::request, slot).u8(o); }
  Program& create(int slot, int path, const std::string& d, int acl, int flags) {
    return op(slot, cmd::op::create).u8(path).data(d).u8(acl).u8(flags);
  }
  Program& create2(int slot, int path, const std::string& d, int acl, int flags) {
    return op(slot, cmd::op::create2).u8(path).data(d).u8(acl).u8(flags);
  }
  Program& container(int slot, int path) {
    return op(slot, cmd::op::createContainer).u8(path).data("").u8(cmd::acl::open).u8(4);
  }
  Program& ttl(int slot, int path, int ttl_index) {
    return op(slot, cmd::op::createTTL).u8(path).data("t").u8(cmd::acl::open).u8(5).u8(ttl_index);
  }
  Program& remove(int slot, int path, int version = 0xff) { return op(slot, cmd::op::remove).u8(path).u8(version); }
  Program& set_data(int slot, int path, const std::string& d, int version = 0xff) {
    return op(slot, cmd::op::setData).u8(path).data(d).u8(version);
  }
  Program& read(int slot, int o, int path, bool watch) { return op(slot, o).u8(path).u8(watch ? 1 : 0); }
  Program& path_op(int slot, int o, int path) { return op(slot, o).u8(path); }
  Program& sync() { return c(cmd::sync_all); }
};

void core_seeds() {
  namespace P = cmd::path;
  namespace A = cmd::acl;
  namespace O = cmd::op;
  {
    Program p;
    p.create(0, P::a, "hello", A::open, 0).sync();
    p.read(0, O::getData, P::a, true).set_data(0, P::a, "world", 0).sync();
    p.read(0, O::getChildren, P::root, true).read(0, O::exists, P::a_b, true);
    p.create2(0, P::a_b, "", A::open, 0).sync();
    p.path_op(0, O::getACL, P::a).path_op(0, O::getAllChildrenNumber, P::root).path_op(0, O::sync, P::a);
    p.read(0, O::getChildren2, P::a, false).remove(0, P::a_b).remove(0, P::a).sync();
    put("fuzz_server_core", "crud", p.b);
  }
  {
    Program p;
    p.create(0, P::e, "", A::open, 1).create(0, P::a, "", A::open, 2).create(0, P::a, "", A::open, 3).sync();
    p.path_op(0, O::getEphemerals, P::root).c(cmd::long_tick).u8(30).sync().c(cmd::tick).u8(0x10).u8(0x27).sync();
    put("fuzz_server_core", "ephemeral-expiry", p.b);
  }
  {
    Program p;
    p.c(cmd::multi).u8(5 << 1);                         // multi of five ops
    p.u8(0).u8(P::a).data("x").u8(A::open).u8(0);       // create /a
    p.u8(1).u8(P::a_b).data("").u8(A::open).u8(2);      // create2 /a/b, sequential
    p.u8(6).u8(P::a).data("y").u8(0);                   // setData /a version 0
    p.u8(5).u8(P::a).u8(1);                             // check /a version 1
    p.u8(3).u8(P::t).data("").u8(A::open).u8(5).u8(4);  // createTTL /t
    p.sync();
    p.c(cmd::multi).u8((2 << 1) | 1).u8(7).u8(P::a).u8(8).u8(P::root).sync();                             // multiRead
    p.c(cmd::multi).u8(2 << 1).u8(4).u8(P::c).u8(0xff).u8(0).u8(P::a).data("").u8(A::open).u8(0).sync();  // fails
    put("fuzz_server_core", "multi", p.b);
  }
  {
    // Watches across sessions: standard, persistent and recursive; setWatches.
    Program p;
    p.create(0, P::c, "", A::open, 0).sync();
    p.read(1, O::exists, P::b, true).read(1, O::getData, P::c, true).read(1, O::getChildren, P::c, true);
    p.op(1, O::addWatch).u8(P::root).u8(1).op(1, O::addWatch).u8(P::a).u8(0).sync();
    p.create(0, P::b, "", A::open, 0).set_data(0, P::c, "x").create(0, P::a, "", A::open, 0).sync();
    p.op(1, O::checkWatches).u8(P::c).u8(3).op(1, O::removeWatches).u8(P::root).u8(5).sync();
    p.op(1, O::setWatches).u8(0).u8(1).u8(P::a).u8(1).u8(P::e).u8(1).u8(P::c);
    p.op(1, O::setWatches2).u8(0).u8(1).u8(P::a).u8(0).u8(0).u8(1).u8(P::b).u8(1).u8(P::root).sync();
    p.remove(0, P::b).remove(0, P::a).sync();
    put("fuzz_server_core", "watches", p.b);
  }
  {
    // Auth and ACLs: digest, creator ACL, super, setACL, getACL, whoAmI.
    Program p;
    p.c(cmd::auth).u8(0).u8(0);  // digest user:pw
    p.create(0, P::a, "", A::creator, 0).create(0, P::b, "", A::read_only, 0);
    p.create(0, P::c, "", A::digest_user, 0).create(0, P::e, "", A::ip_local, 0).sync();
    p.set_data(1, P::a, "no").set_data(1, P::b, "no").read(1, O::getData, P::a, false);
    p.c(cmd::auth, 1).u8(0).u8(1);  // digest super:secret
    p.set_data(1, P::a, "yes").op(1, O::setACL).u8(P::b).u8(A::open).u8(0).path_op(1, O::getACL, P::c);
    p.op(0, O::whoAmI).create(0, P::t, "", A::bad_scheme, 0).create(0, P::t, "", A::empty, 0).sync();
    p.c(cmd::auth, 2).u8(3).u8(0);  // sasl: refused, connection closed
    put("fuzz_server_core", "auth-acl", p.b);
  }
  {
    // Sessions: two connections, resume, wrong password, stale zxid, close.
    Program p;
    p.c(cmd::connect).u8(60).c(cmd::connect, 1).u8(0).sync();
    p.create(0, P::e, "", A::open, 1).sync();
    p.c(cmd::reconnect, 2).u8(0).u8(0).sync().read(2, O::getData, P::e, true);
    p.c(cmd::reconnect, 3).u8(1).u8(1).c(cmd::reconnect, 3).u8(1).u8(2).c(cmd::reconnect, 3).u8(1).u8(8);
    p.c(cmd::client_close, 2).c(cmd::tick).u8(0x40).u8(0x1f).op(1, O::ping).op(1, O::closeSession).sync();
    p.c(cmd::long_tick).u8(60).sync();
    put("fuzz_server_core", "sessions", p.b);
  }
  {
    // Containers and TTL nodes, cleaned up by the clock.
    Program p;
    p.container(0, P::c).create(0, P::c_d, "", A::open, 0).sync();
    p.remove(0, P::c_d).ttl(0, P::t, 3).sync();
    p.c(cmd::long_tick).u8(10).sync().c(cmd::long_tick).u8(10).sync();
    put("fuzz_server_core", "containers-ttl", p.b);
  }
  {
    // A snapshot in the middle of a run; the end compares a recovery with it.
    Program p;
    p.c(cmd::connect).u8(60).sync();
    p.create(0, P::a, "1", A::open, 0).create(0, P::a_b, "", A::open, 2).create(0, P::e, "", A::open, 1).sync();
    p.c(cmd::snapshot).set_data(0, P::a, "2", 0).sync().remove(0, P::a_b).create(0, P::a_b, "", A::open, 2);
    p.c(cmd::client_close).c(cmd::long_tick).u8(30).sync().u8(cmd::cmd(cmd::tick)).u8(0).u8(0).u8(3);
    put("fuzz_server_core", "snapshot-recovery", p.b);
  }
  {
    // Frames the core has to refuse: bad bodies, unknown ops, a raw handshake.
    Program p;
    p.c(cmd::raw_body).u8(cmd::op::create).u8(3).u8(0).u8(0).u8(0);
    p.c(cmd::raw_body).u8(0xff).u8(8).u8(0).u8(0).u8(0).u8(1).u8(0).u8(0).u8(0).u8(0).sync();
    p.c(cmd::raw_frame).u8(2).u8(0).u8(1).u8(2).sync();
    p.c(cmd::raw_connect, 1).u8(4).u8(0).u8(0).u8(0).u8(0);
    p.op(2, cmd::op::unknown).op(3, cmd::op::reconfig).sync();
    put("fuzz_server_core", "refusals", p.b);
  }
}

// ---- the storage seeds ---------------------------------------------------------------

corral::proto::Txn txn(int64_t zxid) {
  corral::proto::Txn t;
  t.set_zxid(zxid);
  t.set_session_id(0x0100000000000001);
  t.set_cxid(static_cast<int32_t>(zxid));
  t.set_time_ms(1'700'000'000'000 + zxid);
  return t;
}

std::vector<corral::proto::Txn> some_txns(int64_t first, int n) {
  std::vector<corral::proto::Txn> out;
  for (int k = 0; k < n; ++k) {
    corral::proto::Txn t = txn(first + k);
    switch (k % 5) {
      case 0: {
        auto* cs = t.add_ops()->mutable_create_session();
        cs->set_session_id(0x0100000000000001 + k);
        cs->set_timeout_ms(6000);
        cs->set_password(std::string(16, 'p'));
        break;
      }
      case 1: {
        auto* c = t.add_ops()->mutable_create();
        c->set_path("/n" + std::to_string(k));
        c->set_data("data");
        auto* a = c->add_acl();
        a->set_perms(31);
        a->set_scheme("world");
        a->set_id("anyone");
        c->set_parent_cversion(k);
        break;
      }
      case 2: {
        auto* s = t.add_ops()->mutable_set_data();
        s->set_path("/n" + std::to_string(k - 1));
        s->set_data("more");
        s->set_version(1);
        break;
      }
      case 3: {
        t.add_ops()->mutable_check()->set_path("/n1");
        t.add_ops()->mutable_delete_()->set_path("/gone");
        break;
      }
      default: {
        auto* c = t.add_ops()->mutable_close_session();
        c->set_session_id(0x0100000000000001);
        c->add_paths_to_delete("/e");
        break;
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

void txn_log_seeds(const fs::path& scratch) {
  // Segments written by FileTxnLog itself; roll() trims each to its records.
  const auto segments = [&](std::vector<std::vector<corral::proto::Txn>> groups) {
    const fs::path d = scratch / "txnlog";
    fs::remove_all(d);
    {
      storage::FileTxnLog log(d, storage::FileTxnLog::Options{4096, 4096});
      for (const auto& g : groups) {
        for (const auto& t : g) log.append(t);
        log.sync();
        log.roll();
      }
    }
    std::vector<std::string> files;
    for (int64_t start : storage::FileTxnLog(d).segment_starts()) {
      files.push_back(read_all(d / "corral-1" / storage::detail::zxid_file_name("log.", start)));
    }
    return files;
  };
  const auto input = [](uint8_t flags, const std::vector<std::string>& segs) {
    std::string out(1, static_cast<char>(flags | ((segs.size() - 1) << 1)));
    for (std::size_t k = 0; k < segs.size(); ++k) {
      if (k + 1 < segs.size()) {
        out.push_back(static_cast<char>(segs[k].size() >> 8));
        out.push_back(static_cast<char>(segs[k].size()));
      }
      out += segs[k];
    }
    return out;
  };
  const auto one = segments({some_txns(1, 6)});
  const auto two = segments({some_txns(1, 4), some_txns(5, 4)});
  const auto three = segments({some_txns(1, 3), some_txns(4, 2), some_txns(0x100000001, 3)});
  put("fuzz_txn_log", "one-segment", input(1, one));
  put("fuzz_txn_log", "one-segment-append", input(1 | 8, one));
  put("fuzz_txn_log", "two-segments", input(1, two));
  put("fuzz_txn_log", "two-segments-truncate", input(1 | 16, two));
  put("fuzz_txn_log", "three-segments", input(1, three));
  std::string torn = one[0].substr(0, one[0].size() - 5);
  put("fuzz_txn_log", "torn-tail", input(1, {torn}));
  put("fuzz_txn_log", "zero-tail", input(1, {one[0] + std::string(64, '\0')}));
  put("fuzz_txn_log", "header-only", input(1, {one[0].substr(0, 24)}));
  put("fuzz_txn_log", "bad-crc", input(0, {one[0].substr(0, 40) + "x" + one[0].substr(41)}));
}

void snapshot_seeds(const fs::path& scratch) {
  const fs::path d = scratch / "snap";
  fs::remove_all(d);
  fs::create_directories(d);
  // A tree as the core builds it, written as the server writes it.
  corral::ensemble::DataTree tree;
  for (const auto& t : some_txns(1, 9)) {
    std::vector<corral::ensemble::OpResult> results;
    std::vector<corral::ensemble::WatchTrigger> triggers;
    tree.apply(t, results, triggers);
  }
  corral::proto::Txn eph = txn(20);
  auto* c = eph.add_ops()->mutable_create();
  c->set_path("/e");
  c->set_ephemeral_owner(0x0100000000000002);
  auto* cont = eph.add_ops()->mutable_create();
  cont->set_path("/c");
  cont->set_ephemeral_owner(wire::container_owner);
  auto* ttl = eph.add_ops()->mutable_create();
  ttl->set_path("/t");
  ttl->set_ephemeral_owner(wire::ttl_owner(1000));
  auto* child = eph.add_ops()->mutable_create();
  child->set_path("/c/x");
  std::vector<corral::ensemble::OpResult> results;
  std::vector<corral::ensemble::WatchTrigger> triggers;
  tree.apply(eph, results, triggers);

  const auto write = [&](int sessions) {
    storage::SnapshotWriter w(d, 20);
    storage::SnapshotNode node;
    tree.for_each_node([&](const corral::ensemble::NodeImage& n) {
      node.path = n.path;
      node.data.assign(n.data);
      node.acl = *n.acl;
      node.czxid = n.stat.czxid;
      node.mzxid = n.stat.mzxid;
      node.pzxid = n.stat.pzxid;
      node.ctime = n.stat.ctime;
      node.mtime = n.stat.mtime;
      node.version = n.stat.version;
      node.cversion = n.stat.cversion;
      node.aversion = n.stat.aversion;
      node.ephemeral_owner = n.stat.ephemeralOwner;
      w.add_node(node);
    });
    for (int k = 0; k < sessions; ++k) {
      w.add_session(storage::SnapshotSession{0x0100000000000001 + k, 6000, std::string(16, 'p')});
    }
    w.commit();
    std::string bytes = read_all(w.path());
    fs::remove(w.path());
    return bytes;
  };
  const std::string full = write(2);
  const std::string no_sessions = write(0);
  put("fuzz_snapshot", "tree-and-sessions", std::string(1, '\x01') + full);
  put("fuzz_snapshot", "tree-via-store", std::string(1, '\x03') + full);
  put("fuzz_snapshot", "server-id-127", std::string(1, static_cast<char>(1 | (63 << 2))) + full);
  put("fuzz_snapshot", "no-sessions", std::string(1, '\x01') + no_sessions);
  put("fuzz_snapshot", "truncated", std::string(1, '\x01') + full.substr(0, full.size() - 10));
  put("fuzz_snapshot", "bad-crc", std::string(1, '\x00') + full);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  out_root = argv[1];
  const fs::path scratch = fs::temp_directory_path() / ("corral-seed-gen-" + std::to_string(getpid()));
  fs::create_directories(scratch);
  wire_seeds();
  core_seeds();
  txn_log_seeds(scratch);
  snapshot_seeds(scratch);
  fs::remove_all(scratch);
  return 0;
}
