// Prep: turns a client's write request into a deterministic Txn, or refuses
// it with ZooKeeper's error code (PrepRequestProcessor's rules and order of
// checks).
//
// Prep decides against "the committed tree plus every txn prepped but not yet
// applied", so a session may pipeline writes that depend on each other (create
// /a then create /a/b) before either is durable. Those pending changes are
// explicit per-path records; a multi first collects its changes in a scratch
// layer and merges them only if every op succeeds, so a failed multi leaves no
// trace (no undo closures).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "corral/wire/error.h"
#include "corral/wire/records.h"
#include "ensemble/core/acl.h"
#include "ensemble/core/data_tree.h"
#include "txn.pb.h"

namespace corral::ensemble {

// Who asks and when; `zxid` is the zxid the txn will get if prep succeeds.
struct PrepContext {
  int64_t session = 0;
  int32_t cxid = 0;
  int64_t zxid = 0;
  int64_t now_ms = 0;
  const AuthIds* ids = nullptr;
  bool extended_types = true;  // TTL nodes allowed
};

// A failed multi: the code of each op as ZooKeeper reports it (OK before the
// failing op, its error, RUNTIMEINCONSISTENCY after).
struct MultiFailure {
  std::vector<Error> codes;
};

using PrepResult = std::variant<proto::Txn, Error, MultiFailure>;

class Preparer {
 public:
  explicit Preparer(const DataTree& tree) : tree_(tree) {}

  PrepResult create(const PrepContext& ctx, wire::OpCode type, const wire::CreateTTLRequest& req);
  PrepResult remove(const PrepContext& ctx, const wire::DeleteRequest& req);
  PrepResult set_data(const PrepContext& ctx, const wire::SetDataRequest& req);
  PrepResult set_acl(const PrepContext& ctx, const wire::SetACLRequest& req);
  PrepResult check(const PrepContext& ctx, const wire::CheckVersionRequest& req);
  PrepResult multi(const PrepContext& ctx, const wire::MultiRequest& req);
  // Server-initiated deletion of an empty container or an expired TTL node.
  PrepResult remove_container(const PrepContext& ctx, const std::string& path);
  proto::Txn create_session(const PrepContext& ctx, int64_t session_id, int32_t timeout_ms,
                            const std::string& password);
  proto::Txn close_session(const PrepContext& ctx, int64_t session_id);

  // The txn with this zxid was applied to the tree: its pending records go.
  void applied(int64_t zxid);
  // Forgets every pending change (the txns will not be applied in this role).
  void reset();
  std::size_t pending_count() const { return pending_.size(); }

 private:
  // What prep needs to know about a node (ZooKeeper's ChangeRecord).
  struct NodeState {
    bool exists = false;
    int32_t version = 0;
    int32_t cversion = 0;
    int32_t aversion = 0;
    int64_t owner = 0;
    uint32_t children = 0;
    wire::AclList acl;
  };
  struct Pending {
    int64_t zxid;
    NodeState state;
  };
  using Layer = std::map<std::string, NodeState, std::less<>>;

  // A unit of prep: reads through scratch -> pending -> tree, writes to scratch.
  class Batch;
  Error create_op(Batch& b, const PrepContext& ctx, wire::OpCode type, const wire::CreateTTLRequest& req,
                  proto::Op& out);
  Error remove_op(Batch& b, const PrepContext& ctx, const std::string& path, int32_t version, bool container_only,
                  proto::Op& out);
  Error set_data_op(Batch& b, const PrepContext& ctx, const wire::SetDataRequest& req, proto::Op& out);
  Error set_acl_op(Batch& b, const PrepContext& ctx, const wire::SetACLRequest& req, proto::Op& out);
  Error check_op(Batch& b, const PrepContext& ctx, const wire::CheckVersionRequest& req, proto::Op& out);
  PrepResult single(const PrepContext& ctx, const std::function<Error(Batch&, proto::Op&)>& op);
  void commit(const Batch& b, int64_t zxid);
  std::optional<NodeState> lookup(const Layer* scratch, std::string_view path) const;
  proto::Txn make_txn(const PrepContext& ctx) const;

  const DataTree& tree_;
  std::unordered_map<std::string, Pending> pending_;
  std::deque<std::pair<int64_t, std::string>> order_;  // (zxid, path) in prep order
};

}  // namespace corral::ensemble
