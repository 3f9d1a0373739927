// The workloads corral-bench knows, one file each (see workload.h).
#pragma once

#include <memory>
#include <string>

#include "bench/workload.h"

namespace corral::bench {

std::unique_ptr<Workload> make_mixed();       // workload_mixed.cc
std::unique_ptr<Workload> make_create_seq();  // workload_create_seq.cc
std::unique_ptr<Workload> make_lock();        // workload_lock.cc
std::unique_ptr<Workload> make_election();    // workload_election.cc
std::unique_ptr<Workload> make_membership();  // workload_membership.cc
// The recipes that arrive with the `recipes` branch (rwlock, barrier,
// queue); nullptr for a name not built in.
std::unique_ptr<Workload> make_more(const std::string& name);  // workload_more.cc

}  // namespace corral::bench
