// A program written against the installed headers and libraries only:
//   consumer <connect string>
// takes a lock, runs an election (leads, resigns), prints what it did and the
// library version, exits 0; anything else is a failure (exit 1).
#include <corral/client.h>
#include <corral/recipes/leader_election.h>
#include <corral/recipes/lock.h>
#include <corral/runtime.h>
#include <corral/version.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <stdexcept>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer <connect string>\n");
    return 2;
  }
  int status = 1;
  corral::Runtime runtime;
  runtime.run([&] {
    try {
      corral::Client zk(runtime, {.connect_string = argv[1]});
      zk.connect(std::chrono::seconds(30));
      {
        corral::recipes::Lock lock(zk, "/consumer/lock");
        std::scoped_lock hold(lock);
        std::printf("locked %s\n", lock.our_path().c_str());
      }
      corral::recipes::LeaderLatch latch(zk, "/consumer/election", "consumer-1");
      if (!latch.campaign(std::chrono::seconds(30))) throw std::runtime_error("did not lead");
      std::printf("leader %s with token %lld\n", latch.leader_id().c_str(), static_cast<long long>(latch.token()));
      latch.resign();
      zk.close();
      std::printf("corral %s\n", CORRAL_VERSION);
      status = 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "consumer: %s\n", e.what());
    }
  });
  return status;
}
