// Small things every recipe needs about znode names: joining paths, creating
// parents, Curator's protected names ("_c_<uuid>-<name>") and its ordering of
// sequential children by the digits after the recipe's name.
#pragma once

#include <chrono>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "corral/client.h"

namespace corral::recipes {

using Clock = std::chrono::steady_clock;

std::string join(std::string_view parent, std::string_view child);

// Creates `path` and its missing ancestors as container nodes (Curator's
// creatingParentContainersIfNeeded), so an empty recipe directory goes away
// by itself. An existing node is fine; one the server's container check is
// deleting (or deletes under us) is made again.
void ensure_path(Client& client, std::string_view path, std::error_code& ec);

// Why wait_connected() returned false: the session's end (sessionExpired,
// authFailed; connectionLoss once the client is closed), else the deadline
// passed (operationTimeout).
std::error_code why_not_connected(const Client& client);

// After a call failed with connectionLoss: waits (this fiber) for the client
// to be connected again; true: try the call again. False when it will not be
// before `deadline` or `stop` is requested, with `ec` saying why:
// operationTimeout, operation_canceled, or the session's end (sessionExpired,
// authFailed; connectionLoss once the client is closed). Any other `ec` (or
// none) is left as it is, and false.
bool retry_after_connection_loss(Client& client, std::error_code& ec, Clock::time_point deadline,
                                 const std::stop_token& stop = {});

// A fresh random id in UUID form, as Curator's protected mode uses.
std::string new_protected_id();
// "_c_<id>-"
std::string protected_prefix(std::string_view id);
// The name without its protected prefix, if it has one.
std::string_view strip_protection(std::string_view name);

// What Curator sorts sequential children by: the text after the last
// occurrence of `lock_name` ("lock-0000000007" -> "0000000007").
std::string_view sort_key(std::string_view name, std::string_view lock_name);
// `children` sorted by sort_key, keeping only names that contain `lock_name`.
std::vector<std::string> sorted_by_sequence(std::vector<std::string> children, std::string_view lock_name);

// Creates `parent/<protected prefix><name>` (sequential if `mode` says so)
// with `data`. When the reply is lost (connectionLoss), waits for the session
// to come back and looks for the node by its protected id before trying again,
// so a lost reply never leaves an orphan nobody owns. Returns the full path.
// A `stop` request ends the wait for a connection with operation_canceled,
// except after a lost reply: then the node, which may exist, is still looked
// for (for up to a session timeout) and returned, so the caller can remove it.
std::string protected_create(Client& client, std::string_view parent, std::string_view name, std::string_view data,
                             CreateMode mode, Clock::time_point deadline, std::error_code& ec,
                             const std::stop_token& stop = {});

}  // namespace corral::recipes
