#include "corral/wire/protocol.h"

namespace corral::wire {

namespace {
constexpr uint64_t extended_mask = 0xff00000000000000ull;
constexpr uint64_t reserved_mask = 0x00ffff0000000000ull;
}  // namespace

std::optional<CreateMode> create_mode_from_flags(int32_t flags) {
  if (flags < 0 || flags > static_cast<int32_t>(CreateMode::persistentSequentialWithTtl)) {
    return std::nullopt;
  }
  return static_cast<CreateMode>(flags);
}

bool is_sequential(CreateMode m) {
  return m == CreateMode::persistentSequential || m == CreateMode::ephemeralSequential ||
         m == CreateMode::persistentSequentialWithTtl;
}

bool is_ephemeral(CreateMode m) { return m == CreateMode::ephemeral || m == CreateMode::ephemeralSequential; }

bool is_ttl(CreateMode m) { return m == CreateMode::persistentWithTtl || m == CreateMode::persistentSequentialWithTtl; }

int64_t ttl_owner(int64_t ttl_ms) { return static_cast<int64_t>(extended_mask | static_cast<uint64_t>(ttl_ms)); }

bool is_ttl_owner(int64_t owner) {
  const auto u = static_cast<uint64_t>(owner);
  return (u & extended_mask) == extended_mask && (u & reserved_mask) == 0;
}

int64_t ttl_of_owner(int64_t owner) {
  return static_cast<int64_t>(static_cast<uint64_t>(owner) & ~(extended_mask | reserved_mask));
}

}  // namespace corral::wire
