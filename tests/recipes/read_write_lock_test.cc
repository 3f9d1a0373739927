// ReadWriteLock (Curator's InterProcessReadWriteLock) against corral-server
// and Apache ZooKeeper 3.8: reader/writer exclusion across processes and
// across fibers on several clients, many readers at once, Curator's node
// names, herd-freedom (readers behind a writer wake together and nobody
// else; counted on the wire by WireTap), read-after-write re-entrancy and the
// downgrade, write-after-read refused, an expired writer.
#include <fstream>
#include <shared_mutex>

#include "corral/recipes/read_write_lock.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wire_tap.h"

namespace corral::test {
namespace {

using recipes::ReadWriteLock;

// A writer moves the value by two in two unconditional writes; a reader
// holding the read lock must never see it odd (half a write).
void write_twice(Client& c, const std::string& value) {
  const int v = std::stoi(c.get(value).data);
  c.set(value, std::to_string(v + 1));
  c.sync();
  c.set(value, std::to_string(v + 2));
}
void read_checked(Client& c, const std::string& value, const std::string& odd) {
  const auto seen = c.get(value).data;
  if (std::stoi(seen) % 2 != 0) c.create(odd + "/o-", seen, {.mode = CreateMode::persistentSequential});
}

// args: hosts lock value odd rounds. One writer and one reader client.
CORRAL_RECIPE_WORKER(rw_contender) {
  const std::string &hosts = args.at(0), &path = args.at(1), &value = args.at(2), &odd = args.at(3);
  const int rounds = std::stoi(args.at(4));
  int failures = 0;
  Runtime rt;
  rt.run([&] {
    std::vector<boost::fibers::fiber> fibers;
    for (int writer = 0; writer < 2; ++writer) {
      fibers.emplace_back([&, writer] {
        try {
          ClientOptions o;
          o.connect_string = hosts;
          Client c(rt, o);
          c.connect(default_timeout);
          ReadWriteLock rw(c, path);
          for (int r = 0; r < rounds; ++r) {
            if (writer) {
              std::unique_lock w(rw);
              write_twice(c, value);
            } else {
              std::shared_lock s(rw);
              read_checked(c, value, odd);
            }
          }
        } catch (const std::exception& e) {
          std::fprintf(stderr, "rw_contender: %s\n", e.what());
          ++failures;
        }
      });
    }
    for (auto& f : fibers) f.join();
  });
  return failures == 0 ? 0 : 1;
}

class ReadWriteLockTest : public ClientTest {
 protected:
  std::vector<std::string> nodes(Client& c, const std::string& path) {
    std::error_code ec;
    auto kids = c.children(path, {}, ec);
    return ec ? std::vector<std::string>{} : kids.names;
  }
};

TEST_P(ReadWriteLockTest, WritersExcludeEveryoneAcrossProcesses) {
  with_client([&](Runtime& rt, Client& c) {
    constexpr int workers = 2, rounds = 6;
    std::error_code ec;
    c.create(at("value"), "0", {}, ec);
    c.set(at("value"), "0");
    c.create(at("odd"), "", {}, ec);
    TempDir dir("rw-workers");
    std::vector<std::unique_ptr<Process>> procs;
    for (int w = 0; w < workers; ++w) {
      procs.push_back(spawn_worker("rw_contender",
                                   {server().host_port(), at("rw"), at("value"), at("odd"), std::to_string(rounds)},
                                   dir.path() / ("w" + std::to_string(w) + ".log")));
    }
    // Here: fibers on several clients, counting who is inside.
    int readers = 0, writers = 0, most_readers = 0, overlaps = 0, writes = 0;
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < 4; ++i) {
      clients.push_back(connect(rt));
      fibers.emplace_back([&, i] {
        Client& mine = *clients[static_cast<std::size_t>(i)];
        ReadWriteLock rw(mine, at("rw"));
        for (int r = 0; r < rounds; ++r) {
          if (i == 0) {
            std::unique_lock w(rw);
            if (++writers != 1 || readers != 0) ++overlaps;
            write_twice(mine, at("value"));
            ++writes;
            --writers;
          } else {
            std::shared_lock s(rw);
            ++readers;
            most_readers = std::max(most_readers, readers);
            if (writers != 0) ++overlaps;
            read_checked(mine, at("value"), at("odd"));
            --readers;
          }
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
    EXPECT_EQ(overlaps, 0);
    EXPECT_TRUE(nodes(c, at("odd")).empty()) << "a reader saw half a write";
    EXPECT_EQ(c.get(at("value")).data, std::to_string(2 * (writes + workers * rounds))) << "two writers overlapped";
    EXPECT_TRUE(nodes(c, at("rw")).empty()) << "a node was left behind";
  });
}

TEST_P(ReadWriteLockTest, ManyReadersAtOnceInCuratorsNodes) {
  with_client([&](Runtime& rt, Client& c) {
    constexpr int n = 5;
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::unique_ptr<ReadWriteLock>> locks;
    for (int i = 0; i < n; ++i) {
      clients.push_back(connect(rt));
      locks.push_back(std::make_unique<ReadWriteLock>(*clients.back(), at("rw")));
      ASSERT_TRUE(locks.back()->try_lock_shared_for(default_timeout)) << "reader " << i;
    }
    const auto kids = nodes(c, at("rw"));
    ASSERT_EQ(kids.size(), static_cast<std::size_t>(n));
    for (const auto& k : kids) {
      EXPECT_TRUE(k.starts_with("_c_") && k.find("-__READ__") != std::string::npos) << k;
    }
    ReadWriteLock writer(c, at("rw"));
    EXPECT_FALSE(writer.try_lock_for(50ms));
    for (auto& l : locks) l->unlock_shared();
    ASSERT_TRUE(writer.try_lock_for(default_timeout));
    const auto w = nodes(c, at("rw"));
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w.front().find("-__WRIT__"), std::string::npos) << w.front();
    EXPECT_FALSE(locks[0]->try_lock_shared());
    writer.unlock();
  });
}

// Queue: W (holds), R1 R2 R3, W2, R4. Readers watch the nearest writer ahead
// (R1-R3 watch W, R4 watches W2), W2 its predecessor (R3). W's release wakes
// R1-R3 and nobody else; R1's and R2's releases wake nobody; R3's wakes W2;
// W2's wakes R4.
TEST_P(ReadWriteLockTest, ReadersBehindAWriterWakeTogetherAndNobodyElse) {
  with_client([&](Runtime& rt, Client& c) {
    ReadWriteLock first(c, at("rw"));
    first.lock();
    constexpr int n = 5;  // R1 R2 R3 W2 R4
    const std::vector<bool> is_writer = {false, false, false, true, false};
    std::vector<std::unique_ptr<WireTap>> taps;
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::unique_ptr<ReadWriteLock>> locks;
    std::vector<int> state(n, 0);  // 1 holding, 2 told to release, 3 released
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < n; ++i) {
      taps.push_back(std::make_unique<WireTap>(server().port()));
      clients.push_back(connect_to(rt, taps.back()->host_port()));
      ASSERT_TRUE(clients.back());
      locks.push_back(std::make_unique<ReadWriteLock>(*clients.back(), at("rw")));
      fibers.emplace_back([&, i] {
        const auto k = static_cast<std::size_t>(i);
        auto& rw = *locks[k];
        if (is_writer[k]) {
          std::unique_lock w(rw);
          state[k] = 1;
          fiber_wait_until([&] { return state[k] == 2; });
        } else {
          std::shared_lock r(rw);
          state[k] = 1;
          fiber_wait_until([&] { return state[k] == 2; });
        }
        state[k] = 3;
      });
      const std::size_t in_line = taps.size() + 1;
      ASSERT_TRUE(fiber_wait_until([&] { return nodes(c, at("rw")).size() == in_line; }));
    }
    ASSERT_TRUE(fiber_wait_until([&] {
      for (auto& t : taps) {
        if (t->requests(wire::OpCode::getData) < 1 || t->outstanding() != 0) return false;
      }
      return true;
    }));
    const auto notified = [&] {
      std::vector<int> out;
      for (auto& t : taps) out.push_back(t->notifications());
      return out;
    };
    EXPECT_EQ(notified(), (std::vector<int>{0, 0, 0, 0, 0}));
    first.unlock();
    ASSERT_TRUE(fiber_wait_until([&] { return state[0] == 1 && state[1] == 1 && state[2] == 1; }));
    EXPECT_EQ(state[3], 0);
    EXPECT_EQ(state[4], 0) << "a reader went ahead of the writer before it";
    EXPECT_EQ(notified(), (std::vector<int>{1, 1, 1, 0, 0}));
    for (int i : {0, 1}) {
      state[static_cast<std::size_t>(i)] = 2;
      ASSERT_TRUE(fiber_wait_until([&] { return state[static_cast<std::size_t>(i)] == 3; }));
    }
    ASSERT_TRUE(fiber_wait_until([&] { return nodes(c, at("rw")).size() == 3; }));
    EXPECT_EQ(notified(), (std::vector<int>{1, 1, 1, 0, 0})) << "a reader's release woke someone";
    state[2] = 2;
    ASSERT_TRUE(fiber_wait_until([&] { return state[3] == 1; }));
    EXPECT_EQ(notified(), (std::vector<int>{1, 1, 1, 1, 0}));
    EXPECT_EQ(state[4], 0);
    state[3] = 2;
    ASSERT_TRUE(fiber_wait_until([&] { return state[4] == 1; }));
    EXPECT_EQ(notified(), (std::vector<int>{1, 1, 1, 1, 1}));
    state[4] = 2;
    for (auto& f : fibers) f.join();
    EXPECT_TRUE(nodes(c, at("rw")).empty());
  });
}

TEST_P(ReadWriteLockTest, AWriterMayReadAndDowngradeButAReaderMayNotWrite) {
  with_client([&](Runtime& rt, Client& c) {
    auto other = connect(rt);
    ReadWriteLock rw(c, at("rw")), them(*other, at("rw"));
    rw.lock();
    ASSERT_TRUE(rw.try_lock_shared());  // read after write: at once
    const std::string write_node = rw.write_lock().our_path(), read_node = rw.read_lock().our_path();
    const auto seq = [](const std::string& p) { return p.substr(p.size() - 10); };
    EXPECT_EQ(seq(read_node), seq(write_node)) << "the read node does not sort next to the writer";
    EXPECT_NE(read_node.find("-__READ__"), std::string::npos);
    EXPECT_FALSE(them.try_lock_shared_for(50ms));
    // Downgrade: release the write lock, keep reading.
    rw.unlock();
    EXPECT_TRUE(rw.read_lock().held_by_this_fiber());
    EXPECT_FALSE(them.try_lock_for(50ms)) << "a writer got in beside a reader";
    ASSERT_TRUE(them.try_lock_shared_for(default_timeout));
    them.unlock_shared();
    // Holding the read lock, the write lock would wait for ourselves.
    // (The error_code form: an exception unwound on a fiber stack confuses
    // ASan's stack poisoning; try_lock_for throws the same code.)
    std::error_code ec;
    EXPECT_FALSE(rw.write_lock().acquire(Clock::now() + default_timeout, ec));
    EXPECT_EQ(ec, std::make_error_code(std::errc::resource_deadlock_would_occur));
    EXPECT_EQ(nodes(c, at("rw")).size(), 1u) << "the refused write left its node";
    rw.unlock_shared();
    ASSERT_TRUE(them.try_lock_for(default_timeout));
    them.unlock();
    // Re-entrant halves.
    rw.lock_shared();
    rw.lock_shared();
    rw.unlock_shared();
    EXPECT_FALSE(them.try_lock());
    rw.unlock_shared();
    EXPECT_TRUE(nodes(c, at("rw")).empty());
  });
}

TEST_P(ReadWriteLockTest, AnExpiredWriterIsToldAndReadersGoOn) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto c1 = connect_to(rt, proxy.host_port());
    ASSERT_TRUE(c1);
    ReadWriteLock rw(*c1, at("rw")), reader(c, at("rw"));
    std::vector<std::string> heard;
    rw.write_lock().on_lost([&](SessionState s) { heard.emplace_back(to_string(s)); });
    rw.lock();
    bool got = false;
    boost::fibers::fiber waiting([&] {
      got = reader.try_lock_shared_for(default_timeout);
      if (got) reader.unlock_shared();
    });
    ASSERT_TRUE(fiber_wait_until([&] { return nodes(c, at("rw")).size() == 2; }));
    proxy.set_refusing(true);
    proxy.drop_all();
    ASSERT_TRUE(fiber_wait_until([&] { return !heard.empty(); }));
    EXPECT_EQ(heard.front(), "suspended");
    EXPECT_FALSE(got);
    expire_session(rt, *c1);
    waiting.join();
    EXPECT_TRUE(got) << "the reader did not get in after the writer's session ended";
    proxy.set_refusing(false);
    ASSERT_TRUE(fiber_wait_until([&] { return heard.size() == 2; }));
    EXPECT_EQ(heard.back(), "expired");
    rw.unlock();  // the node went with the session: not an error
    std::error_code ec;
    c1->reconnect_new_session(default_timeout, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(rw.try_lock_for(default_timeout));
    rw.unlock();
  });
}

CORRAL_CLIENT_SUITE(ReadWriteLockTest);

}  // namespace
}  // namespace corral::test
