// Recipes that are not on main yet: none built in.
#include "bench/workloads.h"

namespace corral::bench {

std::unique_ptr<Workload> make_more(const std::string& name) {
  (void)name;
  return nullptr;
}

}  // namespace corral::bench
