// The replicated state: ZooKeeper's znode tree with its exact Stat semantics.
//
// Pure: no clock, no I/O. Changes arrive only as committed transactions
// (apply), whose every decision (names, times, owners, versions) was made at
// prep time, so replicas that apply the same txns hold the same tree, and
// applying a txn twice (replay over a snapshot) is harmless.
//
// Layout, chosen for memory (docs/ARCHITECTURE.md §3): nodes live in fixed-size chunks
// addressed by a 32-bit NodeId; a node stores only its own name (not its path)
// together with its data in one heap block, links to parent and siblings, its
// Stat, and a reference to an interned ACL. A single open-addressing hash index
// maps (parent id, child name) to a node, so a lookup walks the path one
// component at a time without any per-node map. Children are an intrusive
// doubly-linked list in creation order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "corral/wire/error.h"
#include "corral/wire/protocol.h"
#include "corral/wire/records.h"
#include "ensemble/core/acl_table.h"

namespace corral::proto {
class Txn;
class Op;
}  // namespace corral::proto

namespace corral::ensemble {

using NodeId = uint32_t;
inline constexpr NodeId no_node = UINT32_MAX;

// What a change means to watchers: ZooKeeper's event type and the path it
// fires on (the parent's path for NodeChildrenChanged).
struct WatchTrigger {
  wire::EventType type;
  std::string path;
};

// The outcome of one op of an applied txn.
struct OpResult {
  Error err = Error::ok;
  std::string path;  // the created node's name for creates
  wire::Stat stat;   // after the change, for creates, setData and setACL
};

// A node as a snapshot stores it; also how a snapshot is loaded back.
struct NodeImage {
  std::string path;
  std::string_view data;
  const wire::AclList* acl = nullptr;
  // As stored, not as clients see it (cversion counts creates only; the raw
  // container/TTL owner). dataLength and numChildren are derived and ignored on load.
  wire::Stat stat;
};

class DataTree {
 public:
  DataTree();
  ~DataTree();
  DataTree(const DataTree&) = delete;
  DataTree& operator=(const DataTree&) = delete;

  // ---- reads -------------------------------------------------------------
  NodeId lookup(std::string_view path) const;
  // The Stat a client sees (DataNode.copyStat): cversion counts creates and
  // deletes of children (2 * stored cversion - numChildren), and containers
  // and TTL nodes show no ephemeral owner. The stored values are cversion()
  // and ephemeral_owner(), and what for_each_node hands to a snapshot.
  wire::Stat stat(NodeId id) const;
  std::string_view data(NodeId id) const;
  const wire::AclList& acl(NodeId id) const;
  int64_t ephemeral_owner(NodeId id) const;
  uint32_t num_children(NodeId id) const;
  int32_t cversion(NodeId id) const;
  std::vector<std::string> children(NodeId id) const;
  // Number of all descendants (getAllChildrenNumber).
  uint64_t descendant_count(NodeId id) const;
  std::string path_of(NodeId id) const;

  std::size_t node_count() const { return live_nodes_; }
  int64_t last_zxid() const { return last_zxid_; }
  // Sum of path and data bytes, as ZooKeeper's approximate_data_size.
  uint64_t approximate_data_size() const { return data_bytes_; }

  // Paths of a session's ephemeral nodes; sessions that own any.
  std::vector<std::string> ephemerals_of(int64_t session) const;
  std::size_t ephemeral_count() const;
  const std::unordered_map<int64_t, std::unordered_set<NodeId>>& ephemerals() const { return ephemerals_; }
  // Containers and TTL nodes, for the cleanup that removes them.
  const std::set<NodeId>& containers() const { return containers_; }
  const std::set<NodeId>& ttl_nodes() const { return ttl_nodes_; }

  // ---- changes -----------------------------------------------------------
  // Applies a committed txn. Session ops are the caller's business and are
  // skipped here except for CloseSession's deletion of ephemerals. Results
  // get one entry per op; watch triggers are appended in firing order.
  void apply(const proto::Txn& txn, std::vector<OpResult>& results, std::vector<WatchTrigger>& triggers);

  // Back to a fresh server's tree (recovery starting over from another snapshot).
  void reset();

  // Visits every node, parents before children (a snapshot's order).
  void for_each_node(const std::function<void(const NodeImage&)>& visit) const;
  // Loads one node of a snapshot; its parent must already be loaded.
  bool load_node(const NodeImage& image);
  void set_last_zxid(int64_t zxid) { last_zxid_ = zxid; }

  // Bytes used per node record, without data, name and index.
  static std::size_t node_record_size();

 private:
  struct Node;
  class Index;

  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  wire::Stat stored_stat(NodeId id) const;
  NodeId child(NodeId parent, std::string_view name) const;
  NodeId allocate(NodeId parent, std::string_view name, std::string_view data);
  void release(NodeId id);
  void link_child(NodeId parent, NodeId id);
  void unlink_child(NodeId id);
  void index_owner(NodeId id, int64_t owner);
  void unindex_owner(NodeId id, int64_t owner);

  OpResult create(const proto::Op& op, int64_t zxid, int64_t time, std::vector<WatchTrigger>& triggers);
  OpResult remove(std::string_view path, int64_t zxid, std::vector<WatchTrigger>& triggers);
  OpResult set_data(const proto::Op& op, int64_t zxid, int64_t time, std::vector<WatchTrigger>& triggers);
  OpResult set_acl(const proto::Op& op);

  std::vector<std::unique_ptr<Node[]>> chunks_;
  std::vector<NodeId> free_ids_;
  NodeId next_id_ = 0;
  std::size_t live_nodes_ = 0;
  std::unique_ptr<Index> index_;
  AclTable acls_;
  int64_t last_zxid_ = 0;
  uint64_t data_bytes_ = 0;
  std::unordered_map<int64_t, std::unordered_set<NodeId>> ephemerals_;
  std::set<NodeId> containers_;
  std::set<NodeId> ttl_nodes_;
};

}  // namespace corral::ensemble
