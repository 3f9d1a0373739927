// Requests that change nothing replicated: reads, watch management and sync.
// They are answered from the tree as it stands on this server, once every
// earlier request of the same session has been answered (per-session FIFO is
// the caller's job).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "corral/wire/error.h"
#include "corral/wire/protocol.h"
#include "ensemble/core/acl.h"
#include "ensemble/core/data_tree.h"
#include "ensemble/core/watch_registry.h"

namespace corral::ensemble {

struct ReadContext {
  const DataTree& tree;
  WatchRegistry& watches;
  int64_t session;
  const AuthIds& ids;
};

struct ReadReply {
  Error err = Error::ok;
  std::string body;  // the response record, empty when err != ok
  // Events owed to this session before the reply (setWatches finds changes
  // the client missed while it was away).
  std::vector<Notification> notifications;
};

// True for the opcodes answer_read handles.
bool is_read_op(wire::OpCode op);

// Answers `op` with request record `payload`. A payload that does not decode
// is MARSHALLINGERROR.
ReadReply answer_read(ReadContext& ctx, wire::OpCode op, std::string_view payload);

}  // namespace corral::ensemble
