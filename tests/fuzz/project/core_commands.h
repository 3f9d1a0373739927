// The little command language of fuzz_server_core, shared with the seed
// generator. An input is a run of commands; each starts with one byte whose low
// four bits are the Kind and whose high bits pick one of four connection slots.
// Missing bytes read as zero, so every input is a valid program.
#pragma once

#include <cstdint>
#include <string>

namespace corral::fuzz::core_cmd {

inline constexpr int kSlots = 4;

enum Kind : uint8_t {
  request = 0,    // [op][params...]: a well-formed request (see kOps and the param readers)
  request_b = 1,  //   (the same; three kinds so that the fuzzer picks them often)
  request_c = 2,
  raw_frame = 3,     // [len lo][len hi][bytes]: a frame of arbitrary bytes
  raw_body = 4,      // [type][len][bytes]: a good header, then arbitrary bytes
  sync_all = 5,      // the log is durable up to the last txn it was given
  sync_some = 6,     // [k]: durable up to the k-th pending txn
  tick = 7,          // [lo][hi]: time advances by that many ms; tick()
  long_tick = 8,     // [s]: time advances by s seconds + 1 ms; tick()
  client_close = 9,  // the client goes away (connection_closed)
  connect = 10,      // [timeout/100]: a new connection asks for a new session
  reconnect = 11,    // [which session][how]: a new connection resumes a known session
  raw_connect = 12,  // [len][bytes]: a new connection whose first frame is arbitrary
  snapshot = 13,     // remember the tree now, for the recovery check at the end
  auth = 14,         // [scheme][auth]: an auth packet
  multi = 15,        // [kind and count][op, params...]*: a multi or multiRead
};

inline uint8_t cmd(Kind k, int slot = 0) { return static_cast<uint8_t>(k | (slot << 4)); }

// Indices into the tables of fuzz_server_core.cc, for the seed generator.
namespace op {
enum : uint8_t {
  create,
  create2,
  createContainer,
  createTTL,
  remove,
  exists,
  getData,
  setData,
  getACL,
  setACL,
  getChildren,
  getChildren2,
  sync,
  ping,
  check,
  checkWatches,
  removeWatches,
  setWatches,
  setWatches2,
  getEphemerals,
  getAllChildrenNumber,
  addWatch,
  whoAmI,
  closeSession,
  deleteContainer,
  reconfig,
  sasl,
  unknown,
  count
};
}  // namespace op

namespace path {
enum : uint8_t {
  root,
  a,
  a_b,
  a_b_c,
  b,
  b_c,
  c,
  e,
  e_x,
  t,
  zookeeper,
  zk_config,
  zk_quota,
  a_b0,
  a_b1,
  a2,
  c_d,
  count
};
}

namespace acl {
enum : uint8_t { open, read_only, creator, digest_user, ip_local, ip_cidr, empty, bad_scheme, count };
}

}  // namespace corral::fuzz::core_cmd
