#include "ensemble/core/reads.h"

#include "corral/wire/records.h"

namespace corral::ensemble {

namespace {

template <class T>
std::string body_of(const T& rec) {
  return wire::encode_to_string(rec);
}

ReadReply fail(Error e) { return ReadReply{e, {}, {}}; }

ReadReply exists(ReadContext& ctx, const wire::ExistsRequest& req) {
  if (req.path.find('\0') != std::string::npos) return fail(Error::badArguments);
  // ZooKeeper 3.8 answers exists without an ACL check (its FinalRequestProcessor
  // has a TODO there); the stat is visible to anyone who can name the node.
  const NodeId id = ctx.tree.lookup(req.path);
  // A watch is left whether or not the node exists: it fires on creation.
  if (req.watch) ctx.watches.add(WatchTable::data, req.path, ctx.session, watch_mode::standard);
  if (id == no_node) return fail(Error::noNode);
  return {Error::ok, body_of(wire::ExistsResponse{ctx.tree.stat(id)}), {}};
}

// The node a read names, if it exists and `perm` allows reading it.
Error readable(ReadContext& ctx, std::string_view path, int32_t perm, NodeId& id) {
  id = ctx.tree.lookup(path);
  if (id == no_node) return Error::noNode;
  if (!acl_permits(ctx.tree.acl(id), perm, ctx.ids)) return Error::noAuth;
  return Error::ok;
}

ReadReply get_data(ReadContext& ctx, const wire::GetDataRequest& req) {
  NodeId id;
  if (const Error e = readable(ctx, req.path, wire::perms::read, id); e != Error::ok) return fail(e);
  if (req.watch) ctx.watches.add(WatchTable::data, req.path, ctx.session, watch_mode::standard);
  std::string body;
  wire::JuteWriter w(body);
  w.bytes(ctx.tree.data(id));
  wire::encode(w, ctx.tree.stat(id));
  return {Error::ok, std::move(body), {}};
}

ReadReply get_children(ReadContext& ctx, const wire::GetChildrenRequest& req, bool with_stat) {
  NodeId id;
  if (const Error e = readable(ctx, req.path, wire::perms::read, id); e != Error::ok) return fail(e);
  if (req.watch) ctx.watches.add(WatchTable::child, req.path, ctx.session, watch_mode::standard);
  if (with_stat) return {Error::ok, body_of(wire::GetChildren2Response{ctx.tree.children(id), ctx.tree.stat(id)}), {}};
  return {Error::ok, body_of(wire::GetChildrenResponse{ctx.tree.children(id)}), {}};
}

ReadReply get_all_children_number(ReadContext& ctx, const wire::GetAllChildrenNumberRequest& req) {
  NodeId id;
  if (const Error e = readable(ctx, req.path, wire::perms::read, id); e != Error::ok) return fail(e);
  return {
      Error::ok, body_of(wire::GetAllChildrenNumberResponse{static_cast<int32_t>(ctx.tree.descendant_count(id))}), {}};
}

ReadReply get_acl(ReadContext& ctx, const wire::GetACLRequest& req) {
  NodeId id;
  if (const Error e = readable(ctx, req.path, wire::perms::read | wire::perms::admin, id); e != Error::ok) {
    return fail(e);
  }
  const auto& acl = ctx.tree.acl(id);
  const bool admin = acl_permits(acl, wire::perms::admin, ctx.ids);
  return {Error::ok, body_of(wire::GetACLResponse{admin ? acl : redact_digests(acl), ctx.tree.stat(id)}), {}};
}

ReadReply get_ephemerals(ReadContext& ctx, const wire::GetEphemeralsRequest& req) {
  const std::string& prefix = req.path;
  // ZooKeeper trims the prefix only to recognise "everything" ("" or "/").
  const auto first = prefix.find_first_not_of(" \t\r\n");
  const bool everything =
      first == std::string::npos || prefix.substr(first, prefix.find_last_not_of(" \t\r\n") - first + 1) == "/";
  wire::GetEphemeralsResponse out;
  for (auto& p : ctx.tree.ephemerals_of(ctx.session)) {
    if (everything || p.starts_with(prefix)) out.children.push_back(std::move(p));
  }
  return {Error::ok, body_of(out), {}};
}

ReadReply multi_read(ReadContext& ctx, const wire::MultiRequest& req) {
  // Like ZooKeeper's MultiOperationRecord: a multiRead holds only reads.
  for (const auto& op : req.ops) {
    if (op.type != wire::OpCode::getData && op.type != wire::OpCode::getChildren) return fail(Error::marshallingError);
  }
  wire::MultiResponse out;
  for (const auto& op : req.ops) {
    wire::MultiResult r;
    NodeId id = no_node;
    if (const Error e = readable(ctx, op.path, wire::perms::read, id); e != Error::ok) {
      r.type = wire::OpCode::error;
      r.err = static_cast<int32_t>(e);
    } else if (op.type == wire::OpCode::getData) {
      r.type = wire::OpCode::getData;
      r.data = std::string(ctx.tree.data(id));
      r.stat = ctx.tree.stat(id);
    } else {
      r.type = wire::OpCode::getChildren;
      r.children = ctx.tree.children(id);
    }
    out.results.push_back(std::move(r));
  }
  return {Error::ok, body_of(out), {}};
}

ReadReply set_watches(ReadContext& ctx, const wire::SetWatches2& req) {
  ReadReply reply;
  const auto missed = [&](wire::EventType type, const std::string& path) {
    reply.notifications.push_back({ctx.session, type, path});
  };
  for (const auto& path : req.dataWatches) {
    const NodeId id = ctx.tree.lookup(path);
    if (id == no_node) {
      missed(wire::EventType::nodeDeleted, path);
    } else if (ctx.tree.stat(id).mzxid > req.relativeZxid) {
      missed(wire::EventType::nodeDataChanged, path);
    } else {
      ctx.watches.add(WatchTable::data, path, ctx.session, watch_mode::standard);
    }
  }
  for (const auto& path : req.existWatches) {
    if (ctx.tree.lookup(path) != no_node) {
      missed(wire::EventType::nodeCreated, path);
    } else {
      ctx.watches.add(WatchTable::data, path, ctx.session, watch_mode::standard);
    }
  }
  for (const auto& path : req.childWatches) {
    const NodeId id = ctx.tree.lookup(path);
    if (id == no_node) {
      missed(wire::EventType::nodeDeleted, path);
    } else if (ctx.tree.stat(id).pzxid > req.relativeZxid) {
      missed(wire::EventType::nodeChildrenChanged, path);
    } else {
      ctx.watches.add(WatchTable::child, path, ctx.session, watch_mode::standard);
    }
  }
  for (const auto& path : req.persistentWatches) {
    ctx.watches.add_persistent(path, ctx.session, wire::AddWatchMode::persistent);
  }
  for (const auto& path : req.persistentRecursiveWatches) {
    ctx.watches.add_persistent(path, ctx.session, wire::AddWatchMode::persistentRecursive);
  }
  return reply;
}

bool valid_watcher_type(int32_t t) { return t >= 1 && t <= 5; }

template <class T>
bool parse(std::string_view payload, T& out) {
  return wire::decode_from(payload, out);
}

}  // namespace

bool is_read_op(wire::OpCode op) {
  switch (op) {
    case wire::OpCode::exists:
    case wire::OpCode::getData:
    case wire::OpCode::getChildren:
    case wire::OpCode::getChildren2:
    case wire::OpCode::getAllChildrenNumber:
    case wire::OpCode::getACL:
    case wire::OpCode::getEphemerals:
    case wire::OpCode::sync:
    case wire::OpCode::multiRead:
    case wire::OpCode::setWatches:
    case wire::OpCode::setWatches2:
    case wire::OpCode::checkWatches:
    case wire::OpCode::removeWatches:
    case wire::OpCode::addWatch:
    case wire::OpCode::whoAmI:
    case wire::OpCode::ping: return true;
    default: return false;
  }
}

ReadReply answer_read(ReadContext& ctx, wire::OpCode op, std::string_view payload) {
  switch (op) {
    case wire::OpCode::exists: {
      wire::ExistsRequest r;
      return parse(payload, r) ? exists(ctx, r) : fail(Error::marshallingError);
    }
    case wire::OpCode::getData: {
      wire::GetDataRequest r;
      return parse(payload, r) ? get_data(ctx, r) : fail(Error::marshallingError);
    }
    case wire::OpCode::getChildren:
    case wire::OpCode::getChildren2: {
      wire::GetChildrenRequest r;
      return parse(payload, r) ? get_children(ctx, r, op == wire::OpCode::getChildren2) : fail(Error::marshallingError);
    }
    case wire::OpCode::getAllChildrenNumber: {
      wire::GetAllChildrenNumberRequest r;
      return parse(payload, r) ? get_all_children_number(ctx, r) : fail(Error::marshallingError);
    }
    case wire::OpCode::getACL: {
      wire::GetACLRequest r;
      return parse(payload, r) ? get_acl(ctx, r) : fail(Error::marshallingError);
    }
    case wire::OpCode::getEphemerals: {
      wire::GetEphemeralsRequest r;
      return parse(payload, r) ? get_ephemerals(ctx, r) : fail(Error::marshallingError);
    }
    case wire::OpCode::sync: {
      wire::SyncRequest r;
      return parse(payload, r) ? ReadReply{Error::ok, body_of(wire::SyncResponse{r.path}), {}}
                               : fail(Error::marshallingError);
    }
    case wire::OpCode::multiRead: {
      wire::MultiRequest r;
      return parse(payload, r) ? multi_read(ctx, r) : fail(Error::marshallingError);
    }
    case wire::OpCode::setWatches: {
      wire::SetWatches r;
      if (!parse(payload, r)) return fail(Error::marshallingError);
      return set_watches(ctx, wire::SetWatches2{r.relativeZxid, r.dataWatches, r.existWatches, r.childWatches, {}, {}});
    }
    case wire::OpCode::setWatches2: {
      wire::SetWatches2 r;
      return parse(payload, r) ? set_watches(ctx, r) : fail(Error::marshallingError);
    }
    case wire::OpCode::checkWatches:
    case wire::OpCode::removeWatches: {
      wire::PathTypeRequest r;
      if (!parse(payload, r) || !valid_watcher_type(r.type)) return fail(Error::marshallingError);
      const auto type = static_cast<wire::WatcherType>(r.type);
      const bool found = op == wire::OpCode::checkWatches ? ctx.watches.contains(r.path, ctx.session, type)
                                                          : ctx.watches.remove(r.path, ctx.session, type);
      return found ? ReadReply{} : fail(Error::noWatcher);
    }
    case wire::OpCode::addWatch: {
      wire::AddWatchRequest r;
      if (!parse(payload, r) || (r.mode != 0 && r.mode != 1)) return fail(Error::marshallingError);
      ctx.watches.add_persistent(r.path, ctx.session, static_cast<wire::AddWatchMode>(r.mode));
      return {Error::ok, body_of(wire::ErrorResponse{0}), {}};
    }
    case wire::OpCode::whoAmI: {
      wire::WhoAmIResponse out;
      for (const auto& id : ctx.ids) {
        out.clientInfo.push_back({id.scheme, id.scheme == "digest" ? id.id.substr(0, id.id.find(':')) : id.id});
      }
      return {Error::ok, body_of(out), {}};
    }
    case wire::OpCode::ping: return {};
    default: return fail(Error::unimplemented);
  }
}

}  // namespace corral::ensemble
