// Semaphore (Curator's InterProcessSemaphoreV2) against corral-server and
// Apache ZooKeeper 3.8: never more than n holders across processes and
// clients, Curator's znode layout, timeouts that leave nothing behind,
// several leases at once, herd-freedom (counted on the wire), an expired
// holder.
#include <fstream>

#include "corral/recipes/semaphore.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wire_tap.h"

namespace corral::test {
namespace {

using recipes::Lease;
using recipes::Semaphore;

// Inside a lease: register in `holders` (ephemeral), count the registered,
// record an excess under `excess`, leave. Works across processes.
void hold_and_count(Client& c, const std::string& holders, const std::string& excess, int max) {
  const auto me = c.create(holders + "/h-", "", {.mode = CreateMode::ephemeralSequential}).path;
  const auto in = c.children(holders).names.size();
  if (in > static_cast<std::size_t>(max)) {
    c.create(excess + "/x-", std::to_string(in), {.mode = CreateMode::persistentSequential});
  }
  c.sync();
  c.remove(me);
}

// args: hosts path holders excess max clients rounds
CORRAL_RECIPE_WORKER(lease_taker) {
  const int max = std::stoi(args.at(4)), clients = std::stoi(args.at(5)), rounds = std::stoi(args.at(6));
  int failures = 0;
  Runtime rt;
  rt.run([&] {
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < clients; ++i) {
      fibers.emplace_back([&] {
        try {
          ClientOptions o;
          o.connect_string = args.at(0);
          Client c(rt, o);
          c.connect(default_timeout);
          Semaphore sem(c, args.at(1), max);
          for (int r = 0; r < rounds; ++r) {
            auto lease = sem.try_acquire_for(30s);
            if (!lease) throw std::runtime_error("acquire timed out");
            hold_and_count(c, args.at(2), args.at(3), max);
          }
        } catch (const std::exception& e) {
          std::fprintf(stderr, "lease_taker: %s\n", e.what());
          ++failures;
        }
      });
    }
    for (auto& f : fibers) f.join();
  });
  return failures == 0 ? 0 : 1;
}

class SemaphoreTest : public ClientTest {
 protected:
  std::vector<std::string> nodes(Client& c, const std::string& path) {
    std::error_code ec;
    auto kids = c.children(path, {}, ec);
    return ec ? std::vector<std::string>{} : kids.names;
  }
};

TEST_P(SemaphoreTest, NeverMoreThanMaxHoldersAcrossProcessesAndClients) {
  with_client([&](Runtime& rt, Client& c) {
    constexpr int max = 3, workers = 2, worker_clients = 2, local_clients = 3, rounds = 5;
    std::error_code ec;
    c.create(at("holders"), "", {}, ec);
    c.create(at("excess"), "", {}, ec);
    TempDir dir("semaphore-workers");
    std::vector<std::unique_ptr<Process>> procs;
    for (int w = 0; w < workers; ++w) {
      procs.push_back(spawn_worker("lease_taker",
                                   {server().host_port(), at("sem"), at("holders"), at("excess"), std::to_string(max),
                                    std::to_string(worker_clients), std::to_string(rounds)},
                                   dir.path() / ("w" + std::to_string(w) + ".log")));
    }
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<boost::fibers::fiber> fibers;
    int inside = 0, most = 0;
    for (int i = 0; i < local_clients; ++i) {
      clients.push_back(connect(rt));
      fibers.emplace_back([&, i] {
        Client& mine = *clients[static_cast<std::size_t>(i)];
        Semaphore sem(mine, at("sem"), max);
        for (int r = 0; r < rounds; ++r) {
          Lease lease = sem.acquire();
          most = std::max(most, ++inside);
          hold_and_count(mine, at("holders"), at("excess"), max);
          --inside;
        }
      });
    }
    for (auto& f : fibers) f.join();
    for (int w = 0; w < workers; ++w) {
      auto& p = *procs[static_cast<std::size_t>(w)];
      ASSERT_TRUE(fiber_wait_until([&] { return !p.alive(); }, 60s)) << "worker " << w << " still running";
      std::ifstream in(dir.path() / ("w" + std::to_string(w) + ".log"));
      const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(describe_wait_status(*p.status()), "exited with 0") << out;
    }
    EXPECT_LE(most, max);
    EXPECT_TRUE(nodes(c, at("excess")).empty()) << "more than " << max << " holders at once";
    EXPECT_TRUE(nodes(c, at("sem/leases")).empty()) << "a lease was left behind";
  });
}

TEST_P(SemaphoreTest, CuratorsLayoutAndSeveralLeasesAtOnce) {
  with_client([&](Runtime&, Client& c) {
    Semaphore sem(c, at("sem"), 3, "me");
    auto two = sem.acquire(2);
    ASSERT_EQ(two.size(), 2u);
    // Curator's layout: "leases" and the admission lock's "locks", both
    // containers. "locks" is empty once acquire() returns, so the server's
    // container check may already have deleted it.
    auto kids = nodes(c, at("sem"));
    std::sort(kids.begin(), kids.end());
    if (kids.size() == 1) {
      EXPECT_EQ(kids, (std::vector<std::string>{"leases"}));
    } else {
      EXPECT_EQ(kids, (std::vector<std::string>{"leases", "locks"}));
    }
    const auto leases = nodes(c, at("sem/leases"));
    ASSERT_EQ(leases.size(), 2u);
    for (const auto& l : leases) {
      EXPECT_TRUE(l.starts_with("_c_")) << l;
      EXPECT_NE(l.find("-lease-"), std::string::npos) << l;
      EXPECT_EQ(c.get(at("sem/leases/" + l)).data, "me");
    }
    EXPECT_TRUE(nodes(c, at("sem/locks")).empty()) << "the admission lock is held after acquire";
    // Two more than are left: all or none, by the deadline.
    std::error_code ec;
    EXPECT_TRUE(sem.acquire(2, Clock::now() + 100ms, ec).empty());
    EXPECT_ZK(ec, Error::operationTimeout);
    EXPECT_EQ(nodes(c, at("sem/leases")).size(), 2u) << "a timed-out acquire left a lease";
    auto third = sem.try_acquire_for(100ms);
    ASSERT_TRUE(third.has_value());
    EXPECT_FALSE(sem.try_acquire_for(50ms).has_value());
    // Moving a lease moves the ownership; releasing twice is fine.
    Lease moved = std::move(two[0]);
    EXPECT_FALSE(two[0].held());
    moved.release();
    moved.release();
    EXPECT_EQ(nodes(c, at("sem/leases")).size(), 2u);
    EXPECT_TRUE(sem.try_acquire_for(default_timeout).has_value());  // and returned at once
    two.clear();
    third.reset();
    EXPECT_TRUE(nodes(c, at("sem/leases")).empty());
    EXPECT_TRUE(sem.acquire(0, Clock::now(), ec).empty());
    EXPECT_ZK(ec, Error::badArguments);
  });
}

// Waiters queue on the admission lock; only its holder watches the leases. A
// returned lease notifies that one waiter; those behind it in the lock's
// queue are woken one at a time as the lock moves on.
TEST_P(SemaphoreTest, AReturnedLeaseWakesOneWaiter) {
  with_client([&](Runtime& rt, Client& c) {
    constexpr int waiters = 3;
    Semaphore sem(c, at("sem"), 1);
    auto held = sem.acquire();
    std::vector<std::unique_ptr<WireTap>> taps;
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::unique_ptr<Semaphore>> sems;
    std::vector<int> got(waiters, 0);
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < waiters; ++i) {
      taps.push_back(std::make_unique<WireTap>(server().port()));
      clients.push_back(connect_to(rt, taps.back()->host_port()));
      ASSERT_TRUE(clients.back());
      sems.push_back(std::make_unique<Semaphore>(*clients.back(), at("sem"), 1));
      fibers.emplace_back([&, i] {
        auto lease = sems[static_cast<std::size_t>(i)]->try_acquire_for(default_timeout);
        got[static_cast<std::size_t>(i)] = lease ? 1 : -1;
        fiber_wait_until([&] { return got[static_cast<std::size_t>(i)] == 2; });
      });
      const std::size_t n = taps.size();
      ASSERT_TRUE(fiber_wait_until([&] { return nodes(c, at("sem/locks")).size() == n; }));
    }
    ASSERT_TRUE(fiber_wait_until([&] {
      for (auto& t : taps) {
        if (t->outstanding() != 0) return false;
      }
      return true;
    }));
    for (auto& t : taps) EXPECT_EQ(t->notifications(), 0);
    held.release();
    ASSERT_TRUE(fiber_wait_until([&] { return got[0] == 1; }));
    // 1, or 2 when waiter 1 already made its lease node: the children watch
    // set by the head's last (successful) look is still on the server, as
    // with Curator; it wakes nobody (the head no longer waits).
    EXPECT_GE(taps[0]->notifications(), 1);
    EXPECT_LE(taps[0]->notifications(), 2);
    EXPECT_LE(taps[1]->notifications(), 1);  // the admission lock moved on to it
    EXPECT_EQ(taps[2]->notifications(), 0) << "the last waiter was woken";
    EXPECT_EQ(got[1], 0);
    EXPECT_EQ(got[2], 0);
    for (int i = 0; i < waiters; ++i) {
      ASSERT_TRUE(fiber_wait_until([&] { return got[static_cast<std::size_t>(i)] == 1; })) << i;
      got[static_cast<std::size_t>(i)] = 2;  // returns its lease
    }
    for (auto& f : fibers) f.join();
    EXPECT_TRUE(nodes(c, at("sem/leases")).empty());
  });
}

TEST_P(SemaphoreTest, AnExpiredHolderIsToldAndCanTakeLeasesAgain) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto c1 = connect_to(rt, proxy.host_port());
    ASSERT_TRUE(c1);
    Semaphore sem(*c1, at("sem"), 1), other(c, at("sem"), 1);
    std::vector<std::string> heard;
    sem.on_lost([&](SessionState s) { heard.emplace_back(to_string(s)); });
    Lease lease = sem.acquire();
    proxy.set_refusing(true);
    proxy.drop_all();
    ASSERT_TRUE(fiber_wait_until([&] { return !heard.empty(); }));
    EXPECT_EQ(heard.front(), "suspended");
    expire_session(rt, *c1);
    // Its lease went with the session: another takes it.
    EXPECT_TRUE(other.try_acquire_for(default_timeout).has_value());
    proxy.set_refusing(false);
    ASSERT_TRUE(fiber_wait_until([&] { return heard.size() == 2; }));
    EXPECT_EQ(heard.back(), "expired");
    std::error_code ec;
    lease.release(ec);
    EXPECT_FALSE(ec) << ec.message();
    c1->reconnect_new_session(default_timeout, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_TRUE(sem.try_acquire_for(default_timeout).has_value());
    EXPECT_TRUE(nodes(c, at("sem/leases")).empty());
  });
}

CORRAL_CLIENT_SUITE(SemaphoreTest);

}  // namespace
}  // namespace corral::test
