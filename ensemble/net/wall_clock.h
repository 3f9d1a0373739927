// The time the shells give the pure core (ensemble/core takes time only as
// an input): the wall clock in milliseconds, for txn times (ctime, mtime) and
// session deadlines, as ZooKeeper uses it.
#pragma once

#include <cstdint>

namespace corral::ensemble {

int64_t wall_ms();

}  // namespace corral::ensemble
