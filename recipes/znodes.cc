#include "corral/recipes/znodes.h"

#include <algorithm>
#include <random>

namespace corral::recipes {

std::string join(std::string_view parent, std::string_view child) {
  std::string out(parent);
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(child);
  return out;
}

void ensure_path(Client& client, std::string_view path, std::error_code& ec) {
  CreateOptions container;
  container.container = true;
  // The deepest node first: one round trip when only it is missing. Never an
  // exists() check instead of the create: a container the server's container
  // check is deleting still reads as there while its delete waits for the
  // disk, but a create is decided after that delete and makes it again. A
  // parent that is missing (or deleted under us) is made the same way, then
  // the node again, a few times.
  for (int attempt = 0; attempt < 10; ++attempt) {
    client.create(path, {}, container, ec);
    if (!ec || ec == Error::nodeExists) {
      ec.clear();
      return;
    }
    if (ec == Error::noAuth) {  // no CREATE right on the parent: fine if the node is there
      std::error_code exists_ec;
      if (client.exists(path, {}, exists_ec) && !exists_ec) ec.clear();
      return;
    }
    const auto slash = path.rfind('/');
    if (ec != Error::noNode || slash == 0 || slash == std::string_view::npos) return;
    ensure_path(client, path.substr(0, slash), ec);
    if (ec) return;
  }
}

bool retry_after_connection_loss(Client& client, std::error_code& ec, Clock::time_point deadline,
                                 const std::stop_token& stop) {
  if (ec != Error::connectionLoss) return false;
  if (client.wait_connected(deadline, stop)) {
    ec.clear();
    return true;
  }
  ec = stop.stop_requested() ? std::make_error_code(std::errc::operation_canceled) : why_not_connected(client);
  return false;
}

std::error_code why_not_connected(const Client& client) {
  return has_ended(client.state()) ? end_error(client.state()) : std::error_code(Error::operationTimeout);
}

std::string new_protected_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = (rng() & 0xffffffffffff0fffull) | 0x0000000000004000ull;  // version 4
  const uint64_t lo = (rng() & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffull));
  return buf;
}

std::string protected_prefix(std::string_view id) { return "_c_" + std::string(id) + "-"; }

std::string_view strip_protection(std::string_view name) {
  constexpr std::size_t prefix_length = 3 + 36 + 1;  // "_c_" + uuid + "-"
  if (name.size() > prefix_length && name.starts_with("_c_") && name[prefix_length - 1] == '-') {
    return name.substr(prefix_length);
  }
  return name;
}

std::string_view sort_key(std::string_view name, std::string_view lock_name) {
  const auto at = name.rfind(lock_name);
  return at == std::string_view::npos ? name : name.substr(at + lock_name.size());
}

std::vector<std::string> sorted_by_sequence(std::vector<std::string> children, std::string_view lock_name) {
  std::erase_if(children, [&](const std::string& c) { return c.find(lock_name) == std::string::npos; });
  std::stable_sort(children.begin(), children.end(), [&](const std::string& a, const std::string& b) {
    return sort_key(a, lock_name) < sort_key(b, lock_name);
  });
  return children;
}

std::string protected_create(Client& client, std::string_view parent, std::string_view name, std::string_view data,
                             CreateMode mode, Clock::time_point deadline, std::error_code& ec,
                             const std::stop_token& stop) {
  const std::string prefix = protected_prefix(new_protected_id());
  const std::string path = join(parent, prefix + std::string(name));
  CreateOptions options;
  options.mode = mode;
  // Nothing sent yet: a stop request ends the wait at once.
  ec = Error::connectionLoss;
  if (!retry_after_connection_loss(client, ec, deadline, stop)) return {};
  bool stopping = false;  // asked to stop after a lost reply: look for the node, make none
  for (bool first = true;; first = false) {
    if (!first) {
      // The last try may have created the node: find it by its protected id.
      if (!retry_after_connection_loss(client, ec, deadline, stopping ? std::stop_token() : stop)) {
        if (stopping || !stop.stop_requested()) return {};
        stopping = true;
        deadline = std::min(deadline, Clock::now() + client.negotiated_timeout());
        ec = Error::connectionLoss;
        continue;
      }
      auto kids = client.children(parent, {}, ec);
      if (ec == Error::connectionLoss) continue;
      if (ec && ec != Error::noNode) return {};
      for (const auto& k : kids.names) {
        if (k.starts_with(prefix)) {
          ec.clear();
          return join(parent, k);
        }
      }
      if (stopping || stop.stop_requested()) {  // never made: nothing to remove
        ec = std::make_error_code(std::errc::operation_canceled);
        return {};
      }
    }
    auto created = client.create(path, data, options, ec);
    // The parent (a container) went away: make it again. More than once: a
    // container emptied by others may be deleted by the server's container
    // check between our ensure_path and our create.
    for (int again = 0; ec == Error::noNode && again < 5; ++again) {
      ensure_path(client, parent, ec);
      if (ec) return {};
      created = client.create(path, data, options, ec);
    }
    if (ec == Error::connectionLoss) continue;
    if (ec) return {};
    return created.path;
  }
}

}  // namespace corral::recipes
