// The core's settings taken from zoo.cfg.
#pragma once

#include "ensemble/config/config.h"
#include "ensemble/core/server_core.h"

namespace corral::ensemble {

CoreConfig core_config_of(const ServerConfig& config);

}  // namespace corral::ensemble
