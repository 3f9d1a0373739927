// Shared by the micro benchmarks: the tree shape they use, and txn builders
// shaped like the txns prep makes (ensemble/core/prep.cc).
//
// Tree shape: /bench/p<i>/n<j>, `children_per_parent` znodes under each
// parent, j counting across the whole tree (zero-padded to 7 digits, so every
// path has the same length), 100 bytes of data each unless said otherwise.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

#include "corral/wire/protocol.h"
#include "corral/wire/records.h"
#include "ensemble/core/data_tree.h"
#include "txn.pb.h"

namespace corral::bench {

inline constexpr uint32_t children_per_parent = 1000;
inline constexpr int64_t bench_time_ms = 1'700'000'000'000;

inline std::string payload(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

inline wire::AclList open_acl() { return {{wire::perms::all, {"world", "anyone"}}}; }

inline std::string parent_path(uint32_t parent) { return "/bench/p" + std::to_string(parent); }

// Writes "/bench/p<parent>/n<j, 7 digits>" into `out`, reusing its capacity.
inline void node_path_into(std::string& out, uint32_t parent, uint32_t j) {
  out.assign("/bench/p");
  char buf[16];
  auto r = std::to_chars(buf, buf + sizeof buf, parent);
  out.append(buf, r.ptr);
  out.append("/n");
  r = std::to_chars(buf, buf + sizeof buf, j);
  const auto digits = static_cast<std::size_t>(r.ptr - buf);
  if (digits < 7) out.append(7 - digits, '0');
  out.append(buf, r.ptr);
}

inline std::string node_path(uint32_t parent, uint32_t j) {
  std::string s;
  node_path_into(s, parent, j);
  return s;
}

// The j-th node of the benchmark shape.
inline std::string shaped_path(uint32_t j) { return node_path(j / children_per_parent, j); }

inline void set_acl(google::protobuf::RepeatedPtrField<proto::Acl>* out) {
  auto* a = out->Add();
  a->set_perms(wire::perms::all);
  a->set_scheme("world");
  a->set_id("anyone");
}

// A one-op create txn as prep makes it (persistent, world:anyone).
inline proto::Txn create_txn(int64_t zxid, const std::string& path, const std::string& data) {
  proto::Txn t;
  t.set_zxid(zxid);
  t.set_session_id(0x1000000000001);
  t.set_cxid(static_cast<int32_t>(zxid));
  t.set_time_ms(bench_time_ms);
  auto* c = t.add_ops()->mutable_create();
  c->set_path(path);
  c->set_data(data);
  set_acl(c->mutable_acl());
  c->set_ephemeral_owner(0);
  c->set_parent_cversion(-1);  // apply derives it; prep states it, with the same result
  return t;
}

inline proto::Txn set_data_txn(int64_t zxid, const std::string& path, const std::string& data, int32_t version) {
  proto::Txn t;
  t.set_zxid(zxid);
  t.set_session_id(0x1000000000001);
  t.set_cxid(static_cast<int32_t>(zxid));
  t.set_time_ms(bench_time_ms);
  auto* s = t.add_ops()->mutable_set_data();
  s->set_path(path);
  s->set_data(data);
  s->set_version(version);
  return t;
}

// Fills `tree` with /bench, its parents, and `nodes` znodes of `data_size`
// bytes in the benchmark shape; returns the next free zxid.
inline int64_t populate(ensemble::DataTree& tree, uint32_t nodes, std::size_t data_size = 100, int64_t zxid = 1) {
  std::vector<ensemble::OpResult> results;
  std::vector<ensemble::WatchTrigger> triggers;
  const auto apply = [&](const proto::Txn& t) {
    results.clear();
    triggers.clear();
    tree.apply(t, results, triggers);
  };
  apply(create_txn(zxid++, "/bench", ""));
  const uint32_t parents = (nodes + children_per_parent - 1) / children_per_parent;
  for (uint32_t p = 0; p < parents; ++p) apply(create_txn(zxid++, parent_path(p), ""));
  const std::string data = payload(data_size);
  proto::Txn t = create_txn(0, "", data);
  auto* c = t.mutable_ops(0)->mutable_create();
  for (uint32_t j = 0; j < nodes; ++j) {
    t.set_zxid(zxid++);
    node_path_into(*c->mutable_path(), j / children_per_parent, j);
    apply(t);
  }
  return zxid;
}

// A fixed pseudo-random visiting order of [0, n), so lookups do not walk
// memory in creation order.
inline std::vector<uint32_t> shuffled(uint32_t n, uint64_t seed = 0x9e3779b97f4a7c15ull) {
  std::vector<uint32_t> v(n);
  for (uint32_t i = 0; i < n; ++i) v[i] = i;
  uint64_t x = seed;
  for (uint32_t i = n; i > 1; --i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::swap(v[i - 1], v[x % i]);
  }
  return v;
}

}  // namespace corral::bench
