// Lock (InterProcessMutex) against corral-server and Apache ZooKeeper 3.8:
// mutual exclusion across processes and across fibers on several clients,
// re-entrancy, the try_ forms, std::unique_lock/std::scoped_lock,
// herd-freedom (counted on the wire), and faults: a killed holder process, a
// restarted server, an expired holder, a suspension, a lost create reply.
//
// Herd-freedom is counted by a WireTap (tests/recipes/wire_tap.h) between
// each waiter's client and the server: it parses the frames and counts the
// watch notifications the server delivered to that client and the requests
// the client sent. A release may deliver one notification to one waiter and
// cause one queue read (getChildren) by that waiter only; counting on the wire
// sees every event and read, whatever the recipe does internally.
#include <fstream>
#include <mutex>

#include "corral/recipes/lock.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wire_tap.h"

namespace corral::test {
namespace {

using recipes::Lock;

// Inside the lock: read the counter, yield a round trip, write it back + 1
// without a version check. Any overlap of two holders loses an increment.
void unsafe_increment(Client& c, const std::string& counter) {
  const int value = std::stoi(c.get(counter).data);
  c.sync();
  c.set(counter, std::to_string(value + 1));
}

// args: hosts lock counter fibers rounds
CORRAL_RECIPE_WORKER(lock_contender) {
  const std::string &hosts = args.at(0), &path = args.at(1), &counter = args.at(2);
  const int fibers = std::stoi(args.at(3)), rounds = std::stoi(args.at(4));
  int failures = 0;
  Runtime rt;
  rt.run([&] {
    std::vector<boost::fibers::fiber> running;
    for (int i = 0; i < fibers; ++i) {
      running.emplace_back([&] {
        try {
          auto c = connect_client(rt, hosts, 10s);
          Lock lock(*c, path);
          for (int r = 0; r < rounds; ++r) {
            if (!lock.try_lock_for(30s)) throw std::runtime_error("lock timed out");
            std::unique_lock guard(lock, std::adopt_lock);
            unsafe_increment(*c, counter);
          }
        } catch (const std::exception& e) {
          std::fprintf(stderr, "lock_contender: %s\n", e.what());
          ++failures;
        }
      });
    }
    for (auto& f : running) f.join();
  });
  return failures == 0 ? 0 : 1;
}

// args: hosts lock session_ms. Takes the lock, says so, waits to be killed.
CORRAL_RECIPE_WORKER(lock_holder) {
  Runtime rt;
  int rc = 1;
  rt.run([&] {
    try {
      auto c = connect_client(rt, args.at(0), milliseconds(std::stoi(args.at(2))));
      Lock lock(*c, args.at(1));
      if (!lock.try_lock_for(30s)) return;
      std::printf("holding %s\n", lock.our_path().c_str());
      std::fflush(stdout);
      boost::this_fiber::sleep_for(60s);  // bounded: the test kills it long before
      rc = 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "lock_holder: %s\n", e.what());
    }
  });
  return rc;
}

class LockTest : public ClientTest {
 protected:
  std::vector<std::string> nodes(Client& c, const std::string& path) {
    std::error_code ec;
    auto kids = c.children(path, {}, ec);
    return ec ? std::vector<std::string>{} : kids.names;
  }
};

// What on_lost() listeners heard, as words.
struct Heard {
  std::vector<std::string> words;
  std::function<void(SessionState)> listener() {
    return [this](SessionState s) { words.emplace_back(to_string(s)); };
  }
  bool wait_for(std::string_view word) const {
    return fiber_wait_until([&] { return std::find(words.begin(), words.end(), word) != words.end(); });
  }
};

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

TEST_P(LockTest, ProcessesNeverOverlap) {
  with_client([&](Runtime& rt, Client& c) {
    std::error_code ec;
    c.create(at("counter"), "0", {}, ec);
    c.set(at("counter"), "0");
    TempDir dir("lock-workers");
    constexpr int workers = 3, fibers = 2, rounds = 8;
    std::vector<std::unique_ptr<Process>> procs;
    for (int w = 0; w < workers; ++w) {
      procs.push_back(spawn_worker(
          "lock_contender",
          {server().host_port(), at("lock"), at("counter"), std::to_string(fibers), std::to_string(rounds)},
          dir.path() / ("w" + std::to_string(w) + ".log")));
    }
    // Fibers of this process contend too, through the same read-then-write.
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<boost::fibers::fiber> local;
    for (int i = 0; i < 2; ++i) {
      clients.push_back(connect(rt));
      local.emplace_back([&, i] {
        Client& mine = *clients[static_cast<std::size_t>(i)];
        Lock lock(mine, at("lock"));
        for (int r = 0; r < rounds; ++r) {
          std::unique_lock guard(lock);
          unsafe_increment(mine, at("counter"));
        }
      });
    }
    for (auto& f : local) f.join();
    for (int w = 0; w < workers; ++w) {
      auto& p = *procs[static_cast<std::size_t>(w)];
      ASSERT_TRUE(fiber_wait_until([&] { return !p.alive(); }, 60s)) << "worker " << w << " still running";
      std::ifstream in(dir.path() / ("w" + std::to_string(w) + ".log"));
      const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(describe_wait_status(*p.status()), "exited with 0") << out;
    }
    EXPECT_EQ(c.get(at("counter")).data, std::to_string((workers * fibers + 2) * rounds)) << "two holders overlapped";
    EXPECT_TRUE(nodes(c, at("lock")).empty()) << "a contender left its node behind";
  });
}

TEST_P(LockTest, ReentrantWithinTheFiberOnly) {
  with_client([&](Runtime&, Client& c) {
    Lock lock(c, at("lock"));
    lock.lock();
    const std::string node = lock.our_path();
    ASSERT_FALSE(node.empty());
    lock.lock();  // again: counted, no second node
    EXPECT_EQ(lock.our_path(), node);
    EXPECT_EQ(lock.participants().size(), 1u);
    // Another fiber, same object: it queues like anyone else.
    bool other_got = true;
    boost::fibers::fiber([&] { other_got = lock.try_lock(); }).join();
    EXPECT_FALSE(other_got);
    EXPECT_EQ(lock.participants().size(), 1u) << "a failed try_lock left its node";
    lock.unlock();
    EXPECT_TRUE(lock.held_by_this_fiber());
    EXPECT_EQ(nodes(c, at("lock")).size(), 1u);
    lock.unlock();
    EXPECT_FALSE(lock.held_by_this_fiber());
    EXPECT_TRUE(nodes(c, at("lock")).empty());
    std::error_code ec;
    lock.release(ec);
    EXPECT_EQ(ec, std::make_error_code(std::errc::operation_not_permitted));
    EXPECT_THROW(lock.unlock(), std::system_error);
  });
}

TEST_P(LockTest, TryFormsTimeOutAndLeaveNothingBehind) {
  with_client([&](Runtime& rt, Client& c) {
    auto other = connect(rt);
    Lock held(*other, at("lock"));
    bool locked = false, release = false;
    boost::fibers::fiber holder([&] {  // holds (a lock is unlocked by the fiber that took it)
      held.lock();
      locked = true;
      fiber_wait_until([&] { return release; });
      boost::this_fiber::sleep_for(50ms);
      held.unlock();
    });
    ASSERT_TRUE(fiber_wait_until([&] { return locked; }));
    Lock lock(c, at("lock"));
    EXPECT_FALSE(lock.try_lock());
    auto start = Clock::now();
    EXPECT_FALSE(lock.try_lock_for(150ms));
    EXPECT_GE(Clock::now() - start, 150ms);
    start = Clock::now();
    EXPECT_FALSE(lock.try_lock_until(std::chrono::system_clock::now() + 100ms));
    EXPECT_GE(Clock::now() - start, 90ms);
    std::error_code ec;
    EXPECT_FALSE(lock.acquire(Clock::now() + 50ms, ec));
    EXPECT_ZK(ec, Error::operationTimeout);
    EXPECT_EQ(nodes(c, at("lock")).size(), 1u) << "a timed-out waiter left its node";
    // Released meanwhile: the waiter gets it within its timeout.
    release = true;
    EXPECT_TRUE(lock.try_lock_for(default_timeout));
    holder.join();
    lock.unlock();
    EXPECT_TRUE(lock.try_lock());
    lock.unlock();
  });
}

TEST_P(LockTest, WorksWithStdUniqueLockAndScopedLock) {
  with_client([&](Runtime& rt, Client& c) {
    auto other = connect(rt);
    Lock a(c, at("a")), b(c, at("b"));
    Lock a2(*other, at("a")), b2(*other, at("b"));
    {
      std::scoped_lock both(a, b);
      EXPECT_TRUE(a.held_by_this_fiber() && b.held_by_this_fiber());
      EXPECT_FALSE(a2.try_lock());
      EXPECT_FALSE(b2.try_lock());
    }
    EXPECT_FALSE(a.held_by_this_fiber() || b.held_by_this_fiber());
    {
      std::unique_lock guard(a2, std::defer_lock);
      EXPECT_TRUE(guard.try_lock_for(default_timeout));
      std::unique_lock timed(a, 50ms);
      EXPECT_FALSE(timed.owns_lock());
    }
    std::unique_lock guard(a, std::try_to_lock);
    EXPECT_TRUE(guard.owns_lock());
  });
}

TEST_P(LockTest, AReleaseWakesExactlyOneWaiter) {
  with_client([&](Runtime& rt, Client& c) {
    constexpr int waiters = 4;
    Lock holder(c, at("lock"));
    holder.lock();
    std::vector<std::unique_ptr<WireTap>> taps;
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::unique_ptr<Lock>> locks;
    std::vector<int> holding(waiters, 0);
    bool release_next = false;
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < waiters; ++i) {
      taps.push_back(std::make_unique<WireTap>(server().port()));
      clients.push_back(connect_to(rt, taps.back()->host_port()));
      ASSERT_TRUE(clients.back());
      locks.push_back(std::make_unique<Lock>(*clients.back(), at("lock")));
      const std::size_t n = locks.size();
      fibers.emplace_back([&, i] {
        std::unique_lock guard(*locks[static_cast<std::size_t>(i)]);
        holding[static_cast<std::size_t>(i)] = 1;
        fiber_wait_until([&] { return release_next; });
        release_next = false;
        holding[static_cast<std::size_t>(i)] = 2;
      });
      // In line in this order.
      ASSERT_TRUE(fiber_wait_until([&] { return holder.participants().size() == n + 1; }));
    }
    // Everyone waits, each on the node ahead: settled when each tap has seen
    // the waiter's getData (its watch) go out and come back.
    ASSERT_TRUE(fiber_wait_until([&] {
      for (auto& t : taps) {
        if (t->requests(wire::OpCode::getData) < 1 || t->outstanding() != 0) return false;
      }
      return true;
    }));
    std::vector<int> notified, reads;
    for (auto& t : taps) {
      EXPECT_EQ(t->notifications(), 0);
      notified.push_back(t->notifications());
      reads.push_back(t->requests(wire::OpCode::getChildren2) + t->requests(wire::OpCode::getChildren));
    }
    const auto reads_of = [&](std::size_t i) {
      return taps[i]->requests(wire::OpCode::getChildren2) + taps[i]->requests(wire::OpCode::getChildren);
    };
    holder.unlock();
    for (std::size_t turn = 0; turn < waiters; ++turn) {
      ASSERT_TRUE(fiber_wait_until([&] { return holding[turn] == 1; })) << "waiter " << turn << " never got the lock";
      for (std::size_t i = 0; i < waiters; ++i) {
        if (i == turn) continue;
        EXPECT_NE(holding[i], 1) << "two holders at once";
      }
      // The waiter just woken got one notification and read the queue once;
      // those still waiting got none and read nothing.
      for (std::size_t i = turn + 1; i < waiters; ++i) {
        EXPECT_EQ(taps[i]->notifications(), notified[i]) << "waiter " << i << " woken by the release of " << turn;
        EXPECT_EQ(reads_of(i), reads[i]) << "waiter " << i << " read the queue at the release of " << turn;
      }
      EXPECT_EQ(taps[turn]->notifications(), notified[turn] + 1);
      EXPECT_EQ(reads_of(turn), reads[turn] + 1);
      release_next = true;
      ASSERT_TRUE(fiber_wait_until([&] { return holding[turn] == 2; }));
    }
    for (auto& f : fibers) f.join();
    EXPECT_TRUE(nodes(c, at("lock")).empty());
  });
}

TEST_P(LockTest, AKilledHolderProcessPassesTheLockOnWithinTheSessionTimeout) {
  with_client([&](Runtime&, Client& c) {
    TempDir dir("lock-holder");
    constexpr auto session = 1000ms;
    auto holder = spawn_worker("lock_holder", {server().host_port(), at("lock"), std::to_string(session.count())},
                               dir.path() / "holder.log");
    Lock lock(c, at("lock"));
    ASSERT_TRUE(fiber_wait_until([&] { return nodes(c, at("lock")).size() == 1; })) << "the worker never locked";
    EXPECT_FALSE(lock.try_lock());
    const auto killed = Clock::now();
    holder->kill();
    ASSERT_TRUE(lock.try_lock_for(default_timeout));
    const auto handoff = std::chrono::duration_cast<milliseconds>(Clock::now() - killed);
    std::printf("lock passed on %lld ms after kill -9 (session timeout %lld ms)\n",
                static_cast<long long>(handoff.count()), static_cast<long long>(session.count()));
    EXPECT_LT(handoff, session + 3s);
    EXPECT_EQ(lock.participants().size(), 1u);
    lock.unlock();
  });
}

TEST_P(LockTest, HolderAndWaiterSurviveARestartOfTheServer) {
  ServerOptions server_options;
  server_options.kind = kind();
  TestServer own(server_options);  // its own: killed and restarted on its port
  const milliseconds start_timeout = is_corral() ? default_timeout : 60s;
  own.start(start_timeout);
  run_fibers([&](Runtime& rt) {
    ClientOptions o;
    o.connect_string = own.host_port();
    o.session_timeout = 10s;
    auto c1 = connect(rt, o), c2 = connect(rt, o);
    ASSERT_TRUE(c1 && c2);
    Heard heard;  // outlives the lock, which may call it until it is gone
    Lock held(*c1, "/lock"), waiting(*c2, "/lock");
    held.on_lost(heard.listener());
    held.lock();
    bool got = false;
    boost::fibers::fiber waiter([&] {
      got = waiting.try_lock_for(60s);
      if (got) waiting.unlock();
    });
    ASSERT_TRUE(fiber_wait_until([&] { return held.participants().size() == 2; }));

    own.kill9();
    ASSERT_TRUE(heard.wait_for("suspended"));
    own.start(start_timeout);
    ASSERT_TRUE(c1->wait_connected(Clock::now() + default_timeout));
    ASSERT_TRUE(c2->wait_connected(Clock::now() + default_timeout));
    // Same sessions, same nodes: the holder still holds, the waiter waits.
    const auto after = held.participants();
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ("/lock/" + after.front(), held.our_path());
    EXPECT_FALSE(got);
    held.unlock();
    waiter.join();
    EXPECT_TRUE(got) << "the waiter never got the lock after the restart";
    EXPECT_TRUE(nodes(*c1, "/lock").empty());
  });
}

TEST_P(LockTest, AnExpiredHolderIsToldAndTheLockIsUsableAgain) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto c1 = connect_to(rt, proxy.host_port());
    ASSERT_TRUE(c1);
    Heard heard;  // outlives the lock, which may call it until it is gone
    Lock lock(*c1, at("lock"));
    lock.on_lost(heard.listener());
    lock.lock();
    const std::string node = lock.our_path();

    proxy.set_refusing(true);
    proxy.drop_all();
    const auto cut = Clock::now();
    ASSERT_TRUE(heard.wait_for("suspended"));
    EXPECT_LT(Clock::now() - cut, 2s) << "suspension not reported at once";
    expire_session(rt, *c1);
    EXPECT_TRUE(nodes(c, at("lock")).empty()) << "the expired holder's node is still there";
    proxy.set_refusing(false);
    ASSERT_TRUE(heard.wait_for("expired"));
    EXPECT_EQ(heard.words, (std::vector<std::string>{"suspended", "expired"}));

    // The fiber still counts the lost holding: lock() does not re-enter it.
    std::error_code ec;
    EXPECT_FALSE(lock.acquire(Clock::now() + 10ms, ec));
    EXPECT_ZK(ec, Error::sessionExpired);
    lock.unlock();  // not an error: the node went with the session
    EXPECT_FALSE(lock.held_by_this_fiber());

    c1->reconnect_new_session(default_timeout, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(lock.try_lock_for(default_timeout));
    EXPECT_NE(lock.our_path(), node);
    EXPECT_EQ(nodes(c, at("lock")).size(), 1u);
    lock.unlock();
    EXPECT_TRUE(nodes(c, at("lock")).empty());
  });
}

TEST_P(LockTest, ALostCreateReplyLeavesNoOrphan) {
  with_client([&](Runtime& rt, Client& c) {
    WireTap tap(server().port());
    auto c1 = connect_to(rt, tap.host_port());
    ASSERT_TRUE(c1);
    Lock lock(*c1, at("lock"));
    std::error_code ec;
    c.create(at("lock"), "", {}, ec);  // so the create that goes missing is the lock node's
    tap.set_swallow_replies(true);
    bool got = false, done = false;
    boost::fibers::fiber locker([&] {
      got = lock.try_lock_for(default_timeout);
      fiber_wait_until([&] { return done; });
      if (got) lock.unlock();
    });
    // The create reached the server; its reply did not come back.
    ASSERT_TRUE(fiber_wait_until([&] { return tap.swallowed() >= 1; }));
    ASSERT_TRUE(fiber_wait_until([&] { return nodes(c, at("lock")).size() == 1; }));
    tap.set_swallow_replies(false);
    tap.drop_all();  // the client reconnects with its session and looks for its node
    ASSERT_TRUE(fiber_wait_until([&] { return got; })) << "the lock was not taken after the lost reply";
    const auto kids = nodes(c, at("lock"));
    EXPECT_EQ(kids.size(), 1u) << "an orphan besides our node";
    EXPECT_EQ(tap.requests(wire::OpCode::create) + tap.requests(wire::OpCode::create2), 1)
        << "created again instead of finding its node";
    done = true;
    locker.join();
    EXPECT_TRUE(nodes(c, at("lock")).empty());
  });
}

// A waiter whose node someone else deletes is told noNode when it next looks
// (Curator's LockInternals throws NoNode), not left waiting nor told its
// session expired; its place is gone, so is the node.
TEST_P(LockTest, AWaiterWhoseNodeIsDeletedIsToldNoNode) {
  with_client([&](Runtime& rt, Client& c) {
    auto c1 = connect(rt);
    ASSERT_TRUE(c1);
    Lock held(c, at("lock")), waiting(*c1, at("lock"));
    held.lock();
    std::error_code ec;
    bool done = false;
    JoiningFiber waiter([&] {
      waiting.acquire(Clock::now() + default_timeout, ec);
      done = true;
    });
    ASSERT_TRUE(fiber_wait_until([&] { return held.participants().size() == 2; }));
    c.remove(recipes::join(at("lock"), held.participants().at(1)));
    held.unlock();
    ASSERT_TRUE(fiber_wait_until([&] { return done; }));
    EXPECT_ZK(ec, Error::noNode);
    EXPECT_FALSE(waiting.held_by_this_fiber());
    EXPECT_TRUE(nodes(c, at("lock")).empty());
  });
}

// The node a waiter watches is deleted while the waiter is cut off: after
// the reconnect its re-registered watch must still tell it (a getData watch
// does; an exists watch would have become a watch for a re-creation).
TEST_P(LockTest, AWaiterCutOffWhileTheHolderLeavesStillGetsTheLock) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto c1 = connect_to(rt, proxy.host_port());
    ASSERT_TRUE(c1);
    Lock held(c, at("lock")), waiting(*c1, at("lock"));
    held.lock();
    bool got = false;
    boost::fibers::fiber waiter([&] {
      got = waiting.try_lock_for(default_timeout);
      if (got) waiting.unlock();
    });
    ASSERT_TRUE(fiber_wait_until([&] { return held.participants().size() == 2; }));
    ASSERT_TRUE(cut_off(proxy, *c1));
    held.unlock();
    proxy.set_refusing(false);
    waiter.join();
    EXPECT_TRUE(got) << "the waiter slept through the delete of the node ahead";
  });
}

CORRAL_CLIENT_SUITE(LockTest);

}  // namespace
}  // namespace corral::test
