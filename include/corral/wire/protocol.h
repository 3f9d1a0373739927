// Constants of ZooKeeper's client protocol (3.8): opcodes, special xids, event
// types, keeper states, create modes, permissions and watcher types. Values
// are fixed by the wire contract; see ZooDefs.java and Watcher.java upstream.
#pragma once

#include <cstdint>
#include <optional>

namespace corral::wire {

enum class OpCode : int32_t {
  notification = 0,
  create = 1,
  remove = 2,  // "delete" upstream; a C++ keyword here
  exists = 3,
  getData = 4,
  setData = 5,
  getACL = 6,
  setACL = 7,
  getChildren = 8,
  sync = 9,
  ping = 11,
  getChildren2 = 12,
  check = 13,
  multi = 14,
  create2 = 15,
  reconfig = 16,
  checkWatches = 17,
  removeWatches = 18,
  createContainer = 19,
  deleteContainer = 20,
  createTTL = 21,
  multiRead = 22,
  auth = 100,
  setWatches = 101,
  sasl = 102,
  getEphemerals = 103,
  getAllChildrenNumber = 104,
  setWatches2 = 105,
  addWatch = 106,
  whoAmI = 107,
  createSession = -10,
  closeSession = -11,
  error = -1,
};

// Reserved xids: replies with these carry no request of the client's own.
namespace xid {
inline constexpr int32_t notification = -1;
inline constexpr int32_t ping = -2;
inline constexpr int32_t auth = -4;
inline constexpr int32_t set_watches = -8;
}  // namespace xid

enum class EventType : int32_t {
  none = -1,
  nodeCreated = 1,
  nodeDeleted = 2,
  nodeDataChanged = 3,
  nodeChildrenChanged = 4,
  dataWatchRemoved = 5,
  childWatchRemoved = 6,
  persistentWatchRemoved = 7,
};

enum class KeeperState : int32_t {
  disconnected = 0,
  syncConnected = 3,
  authFailed = 4,
  connectedReadOnly = 5,
  saslAuthenticated = 6,
  closed = 7,
  expired = -112,
};

namespace perms {
inline constexpr int32_t read = 1;
inline constexpr int32_t write = 2;
inline constexpr int32_t create = 4;
inline constexpr int32_t remove = 8;
inline constexpr int32_t admin = 16;
inline constexpr int32_t all = 31;
}  // namespace perms

// The `flags` of a create request.
enum class CreateMode : int32_t {
  persistent = 0,
  ephemeral = 1,
  persistentSequential = 2,
  ephemeralSequential = 3,
  container = 4,
  persistentWithTtl = 5,
  persistentSequentialWithTtl = 6,
};

std::optional<CreateMode> create_mode_from_flags(int32_t flags);
bool is_sequential(CreateMode m);
bool is_ephemeral(CreateMode m);
bool is_ttl(CreateMode m);

// The `type` of checkWatches/removeWatches.
enum class WatcherType : int32_t {
  children = 1,
  data = 2,
  any = 3,
  persistent = 4,
  persistentRecursive = 5,
};

// The `mode` of addWatch.
enum class AddWatchMode : int32_t {
  persistent = 0,
  persistentRecursive = 1,
};

// Ephemeral-owner encodings of the extended node types (EphemeralType.java):
// a container's owner is the minimum long; a TTL node's owner is the top byte
// 0xFF, 16 reserved zero bits, then the TTL in milliseconds in the low 40 bits.
inline constexpr int64_t container_owner = INT64_MIN;
inline constexpr int64_t max_ttl_ms = 0x000000ffffffffffLL;
int64_t ttl_owner(int64_t ttl_ms);
bool is_ttl_owner(int64_t owner);
int64_t ttl_of_owner(int64_t owner);

}  // namespace corral::wire
