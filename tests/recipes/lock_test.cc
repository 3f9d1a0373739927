// Lock (InterProcessMutex): mutual exclusion, re-entrancy, timeouts,
// herd-freedom, faults — against corral-server and Apache ZooKeeper 3.8.
#include <mutex>

#include "recipes/lock.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"

namespace corral::test {
namespace {

using recipes::Lock;

class LockTest : public ClientTest {};

TEST_P(LockTest, FibersOnSeveralClientsNeverOverlap) {
  run_fibers([&](Runtime& rt) {
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 4; ++i) clients.push_back(connect(rt));
    int inside = 0, max_inside = 0, total = 0;
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < 4; ++i) {
      fibers.emplace_back([&, i] {
        Lock lock(*clients[static_cast<std::size_t>(i)], at("lock"));
        for (int k = 0; k < 10; ++k) {
          std::unique_lock guard(lock);
          max_inside = std::max(max_inside, ++inside);
          boost::this_fiber::yield();
          --inside;
          ++total;
        }
      });
    }
    for (auto& f : fibers) f.join();
    EXPECT_EQ(total, 40);
    EXPECT_EQ(max_inside, 1);
  });
}

CORRAL_CLIENT_SUITE(LockTest);

}  // namespace
}  // namespace corral::test
