#include "ensemble/core/prep.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "ensemble/core/path.h"

namespace corral::ensemble {

namespace {

bool is_special_path(std::string_view path) {
  return path == "/" || path == "/zookeeper" || path == "/zookeeper/quota" || path == "/zookeeper/config";
}

// A plain ephemeral (EphemeralType.NORMAL): owned by a session.
bool is_session_owned(int64_t owner) {
  return owner != 0 && owner != wire::container_owner && !wire::is_ttl_owner(owner);
}

// ZooKeeper's checkAndIncVersion.
std::optional<int32_t> next_version(int32_t current, int32_t expected) {
  if (expected != -1 && expected != current) return std::nullopt;
  const int32_t next = current == INT32_MAX ? INT32_MIN : current + 1;
  return next == -1 ? 0 : next;
}

// The parent of a create or delete target, as getParentPathAndValidate
// takes it: everything before the last slash ("" means the root).
std::optional<std::string> parent_of_target(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos || path.find('\0') != std::string_view::npos) return std::nullopt;
  return slash == 0 ? std::string("/") : std::string(path.substr(0, slash));
}

void copy_acl(const wire::AclList& acl, google::protobuf::RepeatedPtrField<proto::Acl>* out) {
  for (const auto& a : acl) {
    auto* p = out->Add();
    p->set_perms(a.perms);
    p->set_scheme(a.id.scheme);
    p->set_id(a.id.id);
  }
}

}  // namespace

class Preparer::Batch {
 public:
  explicit Batch(const Preparer& p) : prep_(p) {}
  std::optional<NodeState> get(std::string_view path) const { return prep_.lookup(&scratch_, path); }
  void put(const std::string& path, NodeState s) { scratch_[path] = std::move(s); }
  const Layer& changes() const { return scratch_; }

 private:
  const Preparer& prep_;
  Layer scratch_;
};

std::optional<Preparer::NodeState> Preparer::lookup(const Layer* scratch, std::string_view path) const {
  if (scratch) {
    if (auto it = scratch->find(path); it != scratch->end()) {
      return it->second.exists ? std::optional(it->second) : std::nullopt;
    }
  }
  if (auto it = pending_.find(std::string(path)); it != pending_.end()) {
    return it->second.state.exists ? std::optional(it->second.state) : std::nullopt;
  }
  const NodeId id = tree_.lookup(path);
  if (id == no_node) return std::nullopt;
  // The stored cversion and owner (ZooKeeper's StatPersisted), not the view
  // a client gets from stat(): sequential names and the ephemeral-parent
  // rule are decided on these.
  const wire::Stat s = tree_.stat(id);
  return NodeState{
      true,         s.version, tree_.cversion(id), s.aversion, tree_.ephemeral_owner(id), tree_.num_children(id),
      tree_.acl(id)};
}

proto::Txn Preparer::make_txn(const PrepContext& ctx) const {
  proto::Txn txn;
  txn.set_zxid(ctx.zxid);
  txn.set_session_id(ctx.session);
  txn.set_cxid(ctx.cxid);
  txn.set_time_ms(ctx.now_ms);
  return txn;
}

void Preparer::commit(const Batch& b, int64_t zxid) {
  for (const auto& [path, state] : b.changes()) {
    pending_[path] = Pending{zxid, state};
    order_.emplace_back(zxid, path);
  }
}

void Preparer::applied(int64_t zxid) {
  while (!order_.empty() && order_.front().first <= zxid) {
    if (auto it = pending_.find(order_.front().second); it != pending_.end() && it->second.zxid <= zxid) {
      pending_.erase(it);
    }
    order_.pop_front();
  }
}

void Preparer::reset() {
  pending_.clear();
  order_.clear();
}

Error Preparer::create_op(Batch& b, const PrepContext& ctx, wire::OpCode type, const wire::CreateTTLRequest& req,
                          proto::Op& out) {
  const auto mode = wire::create_mode_from_flags(req.flags);
  if (!mode) return Error::badArguments;
  const bool ttl = wire::is_ttl(*mode);
  if (ttl && !ctx.extended_types) return Error::unimplemented;
  if (ttl ? (req.ttl <= 0 || req.ttl > wire::max_ttl_ms) : req.ttl >= 0) return Error::badArguments;
  const auto parent_name = parent_of_target(req.path);
  if (!parent_name) return Error::badArguments;
  const auto acl = fixup_acl(req.acl, *ctx.ids);
  if (!acl) return Error::invalidAcl;
  auto parent = b.get(*parent_name);
  if (!parent) return Error::noNode;
  if (!acl_permits(parent->acl, wire::perms::create, *ctx.ids)) return Error::noAuth;
  std::string path = req.path;
  if (wire::is_sequential(*mode)) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%010d", parent->cversion);
    path += suffix;
  }
  if (!is_valid_path(path)) return Error::badArguments;
  if (b.get(path)) return Error::nodeExists;
  if (is_session_owned(parent->owner)) return Error::noChildrenForEphemerals;

  int64_t owner = 0;
  if (type == wire::OpCode::createContainer || *mode == wire::CreateMode::container) {
    owner = wire::container_owner;
  } else if (ttl) {
    owner = wire::ttl_owner(req.ttl);
  } else if (wire::is_ephemeral(*mode)) {
    owner = ctx.session;
  }
  // Java int arithmetic: wraps at INT32_MAX instead of overflowing.
  const auto new_cversion = static_cast<int32_t>(static_cast<uint32_t>(parent->cversion) + 1u);
  auto* c = out.mutable_create();
  c->set_path(path);
  c->set_data(req.data);
  copy_acl(*acl, c->mutable_acl());
  c->set_ephemeral_owner(owner);
  c->set_parent_cversion(new_cversion);

  parent->cversion = new_cversion;
  ++parent->children;
  b.put(*parent_name, std::move(*parent));
  b.put(path, NodeState{true, 0, 0, 0, owner, 0, *acl});
  return Error::ok;
}

Error Preparer::remove_op(Batch& b, const PrepContext& ctx, const std::string& path, int32_t version,
                          bool container_only, proto::Op& out) {
  const auto parent_name = parent_of_target(path);
  if (!parent_name || is_special_path(path)) return Error::badArguments;
  auto parent = b.get(*parent_name);
  if (!parent) return Error::noNode;
  if (!container_only && !acl_permits(parent->acl, wire::perms::remove, *ctx.ids)) return Error::noAuth;
  const auto node = b.get(path);
  if (!node) return Error::noNode;
  if (!container_only && !next_version(node->version, version)) return Error::badVersion;
  if (node->children > 0) return Error::notEmpty;
  if (container_only && node->owner != wire::container_owner && !wire::is_ttl_owner(node->owner)) {
    return Error::badVersion;
  }
  out.mutable_delete_()->set_path(path);
  --parent->children;
  b.put(*parent_name, std::move(*parent));
  b.put(path, NodeState{});
  return Error::ok;
}

Error Preparer::set_data_op(Batch& b, const PrepContext& ctx, const wire::SetDataRequest& req, proto::Op& out) {
  if (!is_valid_path(req.path)) return Error::badArguments;
  auto node = b.get(req.path);
  if (!node) return Error::noNode;
  if (!acl_permits(node->acl, wire::perms::write, *ctx.ids)) return Error::noAuth;
  const auto version = next_version(node->version, req.version);
  if (!version) return Error::badVersion;
  auto* s = out.mutable_set_data();
  s->set_path(req.path);
  s->set_data(req.data);
  s->set_version(*version);
  node->version = *version;
  b.put(req.path, std::move(*node));
  return Error::ok;
}

Error Preparer::set_acl_op(Batch& b, const PrepContext& ctx, const wire::SetACLRequest& req, proto::Op& out) {
  if (!is_valid_path(req.path)) return Error::badArguments;
  const auto acl = fixup_acl(req.acl, *ctx.ids);
  if (!acl) return Error::invalidAcl;
  auto node = b.get(req.path);
  if (!node) return Error::noNode;
  if (!acl_permits(node->acl, wire::perms::admin, *ctx.ids)) return Error::noAuth;
  const auto aversion = next_version(node->aversion, req.version);
  if (!aversion) return Error::badVersion;
  auto* s = out.mutable_set_acl();
  s->set_path(req.path);
  copy_acl(*acl, s->mutable_acl());
  s->set_aversion(*aversion);
  node->aversion = *aversion;
  node->acl = *acl;
  b.put(req.path, std::move(*node));
  return Error::ok;
}

Error Preparer::check_op(Batch& b, const PrepContext& ctx, const wire::CheckVersionRequest& req, proto::Op& out) {
  if (!is_valid_path(req.path)) return Error::badArguments;
  const auto node = b.get(req.path);
  if (!node) return Error::noNode;
  if (!acl_permits(node->acl, wire::perms::read, *ctx.ids)) return Error::noAuth;
  if (!next_version(node->version, req.version)) return Error::badVersion;
  out.mutable_check()->set_path(req.path);
  return Error::ok;
}

PrepResult Preparer::single(const PrepContext& ctx, const std::function<Error(Batch&, proto::Op&)>& op) {
  Batch b(*this);
  proto::Txn txn = make_txn(ctx);
  if (const Error e = op(b, *txn.add_ops()); e != Error::ok) return e;
  commit(b, ctx.zxid);
  return txn;
}

PrepResult Preparer::create(const PrepContext& ctx, wire::OpCode type, const wire::CreateTTLRequest& req) {
  return single(ctx, [&](Batch& b, proto::Op& op) { return create_op(b, ctx, type, req, op); });
}

PrepResult Preparer::remove(const PrepContext& ctx, const wire::DeleteRequest& req) {
  return single(ctx, [&](Batch& b, proto::Op& op) { return remove_op(b, ctx, req.path, req.version, false, op); });
}

PrepResult Preparer::remove_container(const PrepContext& ctx, const std::string& path) {
  return single(ctx, [&](Batch& b, proto::Op& op) { return remove_op(b, ctx, path, -1, true, op); });
}

PrepResult Preparer::set_data(const PrepContext& ctx, const wire::SetDataRequest& req) {
  return single(ctx, [&](Batch& b, proto::Op& op) { return set_data_op(b, ctx, req, op); });
}

PrepResult Preparer::set_acl(const PrepContext& ctx, const wire::SetACLRequest& req) {
  return single(ctx, [&](Batch& b, proto::Op& op) { return set_acl_op(b, ctx, req, op); });
}

PrepResult Preparer::check(const PrepContext& ctx, const wire::CheckVersionRequest& req) {
  return single(ctx, [&](Batch& b, proto::Op& op) { return check_op(b, ctx, req, op); });
}

PrepResult Preparer::multi(const PrepContext& ctx, const wire::MultiRequest& req) {
  Batch b(*this);
  proto::Txn txn = make_txn(ctx);
  for (std::size_t i = 0; i < req.ops.size(); ++i) {
    const wire::MultiOp& op = req.ops[i];
    proto::Op& out = *txn.add_ops();
    Error e = Error::ok;
    switch (op.type) {
      case wire::OpCode::create:
      case wire::OpCode::create2:
      case wire::OpCode::createContainer:
      case wire::OpCode::createTTL:
        e = create_op(b, ctx, op.type, wire::CreateTTLRequest{op.path, op.data, op.acl, op.flags, op.ttl}, out);
        break;
      case wire::OpCode::remove: e = remove_op(b, ctx, op.path, op.version, false, out); break;
      case wire::OpCode::setData:
        e = set_data_op(b, ctx, wire::SetDataRequest{op.path, op.data, op.version}, out);
        break;
      case wire::OpCode::check: e = check_op(b, ctx, wire::CheckVersionRequest{op.path, op.version}, out); break;
      default: e = Error::marshallingError; break;
    }
    if (e != Error::ok) {
      MultiFailure failure;
      failure.codes.assign(req.ops.size(), Error::runtimeInconsistency);
      std::fill(failure.codes.begin(), failure.codes.begin() + static_cast<std::ptrdiff_t>(i), Error::ok);
      failure.codes[i] = e;
      return failure;
    }
  }
  commit(b, ctx.zxid);
  return txn;
}

proto::Txn Preparer::create_session(const PrepContext& ctx, int64_t session_id, int32_t timeout_ms,
                                    const std::string& password) {
  proto::Txn txn = make_txn(ctx);
  auto* s = txn.add_ops()->mutable_create_session();
  s->set_session_id(session_id);
  s->set_timeout_ms(timeout_ms);
  s->set_password(password);
  return txn;
}

proto::Txn Preparer::close_session(const PrepContext& ctx, int64_t session_id) {
  // The session's ephemerals as they will be when this txn applies: the
  // tree's, adjusted by pending changes. A pending record is the path's
  // latest state, so a path whose latest state is not this session's node
  // (deleted, or since re-created by someone else) is spared, as ZooKeeper's
  // walk over every outstanding change spares it.
  std::set<std::string> doomed;
  for (auto& p : tree_.ephemerals_of(session_id)) doomed.insert(std::move(p));
  for (const auto& [path, pending] : pending_) {
    if (pending.state.exists && pending.state.owner == session_id) {
      doomed.insert(path);
    } else {
      doomed.erase(path);
    }
  }
  Batch b(*this);
  proto::Txn txn = make_txn(ctx);
  auto* close = txn.add_ops()->mutable_close_session();
  close->set_session_id(session_id);
  for (const auto& path : doomed) {
    close->add_paths_to_delete(path);
    const std::string parent(parent_path(path));
    if (auto parent_state = b.get(parent)) {
      --parent_state->children;
      b.put(parent, std::move(*parent_state));
    }
    b.put(path, NodeState{});
  }
  commit(b, ctx.zxid);
  return txn;
}

}  // namespace corral::ensemble
