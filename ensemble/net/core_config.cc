#include "ensemble/net/core_config.h"

#include <random>

namespace corral::ensemble {

CoreConfig core_config_of(const ServerConfig& c) {
  CoreConfig out;
  out.tick_ms = c.tick_time_ms;
  out.min_session_timeout_ms = c.min_session_timeout_ms;
  out.max_session_timeout_ms = c.max_session_timeout_ms;
  out.extended_types = c.extended_types_enabled;
  out.container_check_interval_ms = c.container_check_interval_ms;
  out.container_max_per_minute = c.container_max_per_minute;
  out.super_digest = c.super_digest;
  out.server_id = static_cast<int32_t>(c.my_id);
  out.random_seed = std::random_device{}();
  out.random_seed = (out.random_seed << 32) ^ std::random_device{}();
  return out;
}

}  // namespace corral::ensemble
