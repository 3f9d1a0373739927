// SharedCounter (Curator's SharedCount) against corral-server and Apache
// ZooKeeper 3.8: concurrent adds from several processes and clients sum
// exactly, Curator's encoding, version-checked sets, listeners, and the
// counter across a cut connection and an expired session.
#include <fstream>

#include "corral/recipes/shared_counter.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"

namespace corral::test {
namespace {

using recipes::SharedCounter;

// args: hosts path clients adds
CORRAL_RECIPE_WORKER(counter_adder) {
  const int clients = std::stoi(args.at(2)), adds = std::stoi(args.at(3));
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
          SharedCounter counter(c, args.at(1), 0);
          try {
            counter.start();
          } catch (const std::exception&) {
            // What this session sees, for the failure report.
            std::error_code ec;
            const auto there = c.exists(args.at(1), {}, ec);
            std::fprintf(stderr, "counter_adder: session %llx sees %s: %s (%s)\n",
                         static_cast<unsigned long long>(c.session_id()), args.at(1).c_str(),
                         there ? "present" : "absent", ec.message().c_str());
            throw;
          }
          for (int k = 0; k < adds; ++k) counter.add(1);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "counter_adder: %s\n", e.what());
          ++failures;
        }
      });
    }
    for (auto& f : fibers) f.join();
  });
  return failures == 0 ? 0 : 1;
}

class SharedCounterTest : public ClientTest {};

TEST_P(SharedCounterTest, ConcurrentAddsFromSeveralProcessesAndClientsSumExactly) {
  with_client([&](Runtime& rt, Client& c) {
    constexpr int workers = 2, worker_clients = 2, local_clients = 3, adds = 15;
    SharedCounter first(c, at("count"), 0);
    first.start();  // the node exists before anyone adds
    TempDir dir("counter-workers");
    std::vector<std::unique_ptr<Process>> procs;
    for (int w = 0; w < workers; ++w) {
      procs.push_back(spawn_worker(
          "counter_adder", {server().host_port(), at("count"), std::to_string(worker_clients), std::to_string(adds)},
          dir.path() / ("w" + std::to_string(w) + ".log")));
    }
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < local_clients; ++i) {
      clients.push_back(connect(rt));
      fibers.emplace_back([&, i] {
        SharedCounter counter(*clients[static_cast<std::size_t>(i)], at("count"), 0);
        counter.start();
        for (int k = 0; k < adds; ++k) counter.add(1);
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
    SharedCounter check(c, at("count"), 0);
    check.start();
    EXPECT_EQ(check.count(), (workers * worker_clients + local_clients) * adds);
  });
}

TEST_P(SharedCounterTest, TheSeedIsWrittenOnceInCuratorsEncoding) {
  with_client([&](Runtime&, Client& c) {
    SharedCounter a(c, at("deep/count"), 7);
    a.start();  // parents made as containers
    EXPECT_EQ(a.count(), 7);
    EXPECT_EQ(c.get(at("deep/count")).data, std::string("\0\0\0\7", 4));
    SharedCounter b(c, at("deep/count"), 99);  // the node exists: no seed
    b.start();
    EXPECT_EQ(b.count(), 7);
    b.set(-2);
    EXPECT_EQ(c.get(at("deep/count")).data, std::string("\xff\xff\xff\xfe", 4));
    std::error_code ec;
    EXPECT_EQ(SharedCounter::decode(SharedCounter::encode(-123456789), ec), -123456789);
    SharedCounter::decode("abc", ec);
    EXPECT_EQ(ec, std::make_error_code(std::errc::bad_message));
  });
}

TEST_P(SharedCounterTest, TrySetRefusesAStaleVersion) {
  with_client([&](Runtime& rt, Client& c) {
    auto other = connect(rt);
    SharedCounter a(c, at("count"), 0), b(*other, at("count"), 0);
    a.start();
    b.start();
    const auto seen = a.versioned();
    b.set(5);
    EXPECT_FALSE(a.try_set(seen, 9));
    EXPECT_EQ(a.count(), 5) << "the refused set did not bring the cache up to date";
    EXPECT_TRUE(a.try_set(a.versioned(), 9));
    EXPECT_EQ(b.read().value, 9);
    EXPECT_EQ(a.add(3), 12);
  });
}

TEST_P(SharedCounterTest, ListenersHearChangesFromOthers) {
  with_client([&](Runtime& rt, Client& c) {
    auto other = connect(rt);
    std::vector<int32_t> heard;
    SharedCounter a(c, at("count"), 0), b(*other, at("count"), 0);
    a.start();
    b.start();
    const auto id = a.add_listener([&](int32_t n) { heard.push_back(n); });
    b.set(3);
    ASSERT_TRUE(fiber_wait_until([&] { return !heard.empty() && heard.back() == 3; }));
    b.add(2);
    ASSERT_TRUE(fiber_wait_until([&] { return heard.back() == 5; }));
    EXPECT_EQ(a.count(), 5);
    a.remove_listener(id);
    b.add(1);
    ASSERT_TRUE(fiber_wait_until([&] { return a.count() == 6; }));
    EXPECT_EQ(heard.back(), 5);
  });
}

TEST_P(SharedCounterTest, ChangesWhileCutOffOrExpiredAreSeenAfterwards) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto o = options();
    o.connect_string = proxy.host_port();
    auto c1 = connect(rt, o);
    ASSERT_TRUE(c1);
    std::vector<int32_t> heard;
    SharedCounter a(*c1, at("count"), 0), b(c, at("count"), 0);
    a.start();
    b.start();
    a.add_listener([&](int32_t n) { heard.push_back(n); });

    // Cut off, same session: the re-registered watch reports the change.
    ASSERT_TRUE(cut_off(proxy, *c1));
    b.set(11);
    proxy.set_refusing(false);
    ASSERT_TRUE(fiber_wait_until([&] { return a.count() == 11 && !heard.empty() && heard.back() == 11; }));

    // Expired: with the new session it reads the node again and watches it.
    ASSERT_TRUE(cut_off(proxy, *c1));
    expire_session(rt, *c1);
    b.set(42);
    proxy.set_refusing(false);
    ASSERT_TRUE(fiber_wait_until([&] { return c1->state() == SessionState::expired; }));
    std::error_code ec;
    a.add(1, ec);
    EXPECT_ZK(ec, Error::sessionExpired);
    c1->reconnect_new_session(default_timeout, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(fiber_wait_until([&] { return a.count() == 42; }));
    b.set(43);
    ASSERT_TRUE(fiber_wait_until([&] { return heard.back() == 43; })) << "no watch after the new session";
    EXPECT_EQ(a.add(1), 44);
  });
}

CORRAL_CLIENT_SUITE(SharedCounterTest);

}  // namespace
}  // namespace corral::test
