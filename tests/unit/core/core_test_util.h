// Helpers shared by the core's unit tests: txn builders for DataTree, and
// ACL shorthands. No I/O, no clock.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "corral/wire/protocol.h"
#include "corral/wire/records.h"
#include "ensemble/core/data_tree.h"
#include "txn.pb.h"

namespace corral::wire {
// Readable gtest failure messages.
inline void PrintTo(const Stat& s, std::ostream* os) {
  *os << "{czxid=" << s.czxid << " mzxid=" << s.mzxid << " ctime=" << s.ctime << " mtime=" << s.mtime
      << " version=" << s.version << " cversion=" << s.cversion << " aversion=" << s.aversion
      << " ephemeralOwner=" << s.ephemeralOwner << " dataLength=" << s.dataLength << " numChildren=" << s.numChildren
      << " pzxid=" << s.pzxid << "}";
}
inline void PrintTo(const Acl& a, std::ostream* os) { *os << a.perms << ":" << a.id.scheme << ":" << a.id.id; }
}  // namespace corral::wire

namespace corral::ensemble::coretest {

inline wire::AclList open_acl() { return {{wire::perms::all, {"world", "anyone"}}}; }
inline wire::AclList read_acl() { return {{wire::perms::read, {"world", "anyone"}}}; }
inline wire::AclList world_acl(int32_t perms) { return {{perms, {"world", "anyone"}}}; }
inline wire::AclList digest_acl(int32_t perms, std::string user_colon_hash) {
  return {{perms, {"digest", std::move(user_colon_hash)}}};
}

inline void copy_acl(const wire::AclList& acl, google::protobuf::RepeatedPtrField<proto::Acl>* out) {
  for (const auto& a : acl) {
    auto* p = out->Add();
    p->set_perms(a.perms);
    p->set_scheme(a.id.scheme);
    p->set_id(a.id.id);
  }
}

inline proto::Txn txn(int64_t zxid, int64_t time_ms = 0, int64_t session = 0) {
  proto::Txn t;
  t.set_zxid(zxid);
  t.set_time_ms(time_ms);
  t.set_session_id(session);
  return t;
}

inline proto::Op& add_create(proto::Txn& t, std::string path, std::string data = {}, int64_t owner = 0,
                             int32_t parent_cversion = -1, const wire::AclList& acl = open_acl()) {
  auto& op = *t.add_ops();
  auto* c = op.mutable_create();
  c->set_path(std::move(path));
  c->set_data(std::move(data));
  copy_acl(acl, c->mutable_acl());
  c->set_ephemeral_owner(owner);
  c->set_parent_cversion(parent_cversion);
  return op;
}

inline void add_delete(proto::Txn& t, std::string path) { t.add_ops()->mutable_delete_()->set_path(std::move(path)); }

inline void add_set_data(proto::Txn& t, std::string path, std::string data, int32_t version) {
  auto* s = t.add_ops()->mutable_set_data();
  s->set_path(std::move(path));
  s->set_data(std::move(data));
  s->set_version(version);
}

inline void add_set_acl(proto::Txn& t, std::string path, const wire::AclList& acl, int32_t aversion) {
  auto* s = t.add_ops()->mutable_set_acl();
  s->set_path(std::move(path));
  copy_acl(acl, s->mutable_acl());
  s->set_aversion(aversion);
}

inline void add_close_session(proto::Txn& t, int64_t session, const std::vector<std::string>& paths = {}) {
  auto* c = t.add_ops()->mutable_close_session();
  c->set_session_id(session);
  for (const auto& p : paths) c->add_paths_to_delete(p);
}

// Applies `t` and returns its results; triggers go to `triggers` if given.
inline std::vector<OpResult> apply(DataTree& tree, const proto::Txn& t, std::vector<WatchTrigger>* triggers = nullptr) {
  std::vector<OpResult> results;
  std::vector<WatchTrigger> local;
  tree.apply(t, results, triggers ? *triggers : local);
  return results;
}

// One-op conveniences.
inline OpResult create(DataTree& tree, int64_t zxid, std::string path, std::string data = {}, int64_t owner = 0,
                       int64_t time_ms = 0, int32_t parent_cversion = -1, const wire::AclList& acl = open_acl()) {
  auto t = txn(zxid, time_ms);
  add_create(t, std::move(path), std::move(data), owner, parent_cversion, acl);
  return apply(tree, t).at(0);
}

inline OpResult remove(DataTree& tree, int64_t zxid, std::string path) {
  auto t = txn(zxid);
  add_delete(t, std::move(path));
  return apply(tree, t).at(0);
}

inline wire::Stat stat_of(const DataTree& tree, std::string_view path) {
  const NodeId id = tree.lookup(path);
  if (id == no_node) return wire::Stat{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  return tree.stat(id);
}

}  // namespace corral::ensemble::coretest
