// The workloads corral-bench knows, one file each (see workload.h).
#pragma once

#include <memory>
#include <string>

#include "tools/bench/workload.h"

namespace corral::bench {

std::unique_ptr<Workload> make_mixed();       // workload_mixed.cc
std::unique_ptr<Workload> make_create_seq();  // workload_create_seq.cc
std::unique_ptr<Workload> make_lock();        // workload_lock.cc
std::unique_ptr<Workload> make_rwlock();      // workload_rwlock.cc
std::unique_ptr<Workload> make_election();    // workload_election.cc
std::unique_ptr<Workload> make_membership();  // workload_membership.cc
std::unique_ptr<Workload> make_barrier();     // workload_barrier.cc
std::unique_ptr<Workload> make_queue();       // workload_queue.cc

}  // namespace corral::bench
