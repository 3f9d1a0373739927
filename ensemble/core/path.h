// The server uses the protocol's path rules (corral/wire/path.h).
#pragma once

#include "corral/wire/path.h"

namespace corral::ensemble {
using wire::base_name;
using wire::child_path;
using wire::is_valid_path;
using wire::parent_path;
using wire::path_problem;
}  // namespace corral::ensemble
