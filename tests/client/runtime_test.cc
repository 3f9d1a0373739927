// corral::Runtime: Boost.Fiber fibers and an Asio io_context on one thread.
// Fibers, sleeps and Asio timers interleave with socket I/O; busy fibers
// neither starve the sockets nor each other; other threads wake the runtime
// (Runtime::post, and Boost.Fiber primitives); an idle runtime blocks in the
// kernel instead of spinning.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/future.hpp>
#include <fstream>
#include <numeric>
#include <set>
#include <thread>

#include "client/runtime/await.h"
#include "corral/asio.h"
#include "corral/client.h"
#include "corral/runtime.h"
#include "tests/client/fiber_test_util.h"
#include "tests/support/test_server.h"

namespace corral::test {
namespace {

using boost::system::error_code;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Accepts connections and echoes every byte back, one fiber per connection.
// close() ends every one of its fibers before it returns: a fiber still
// waiting on the io_context when the Runtime goes would touch freed memory.
class EchoServer {
 public:
  explicit EchoServer(Runtime& rt) : acceptor_(rt.io(), tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    start([this] { accept_loop(); });
  }
  ~EchoServer() { close(); }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void close() {
    error_code ignored;
    acceptor_.close(ignored);
    for (auto* s : sockets_) s->close(ignored);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return live_ == 0; });
  }
  int connections() const { return connections_; }

 private:
  template <class F>
  void start(F f) {
    ++live_;
    boost::fibers::fiber([this, f = std::move(f)]() mutable {
      f();
      --live_;
      done_.notify_all();
    }).detach();
  }
  void accept_loop() {
    for (;;) {
      auto [ec, socket] = runtime::await<error_code, tcp::socket>(
          [&](auto handler) { acceptor_.async_accept(std::move(handler)); });  // a move-only result
      if (ec) return;
      ++connections_;
      start([this, s = std::move(socket)]() mutable {
        sockets_.insert(&s);
        echo(s);
        sockets_.erase(&s);
      });
    }
  }
  static void echo(tcp::socket& s) {
    std::array<char, 4096> buf{};
    for (;;) {
      auto [ec, n] = runtime::await<error_code, std::size_t>(
          [&](auto handler) { s.async_read_some(asio::buffer(buf), std::move(handler)); });
      if (ec) return;
      auto [wec, written] = runtime::await<error_code, std::size_t>(
          [&](auto handler) { asio::async_write(s, asio::buffer(buf.data(), n), std::move(handler)); });
      if (wec) return;
    }
  }

  tcp::acceptor acceptor_;
  std::set<tcp::socket*> sockets_;
  int connections_ = 0;
  int live_ = 0;
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable done_;
};

// Connects to the echo server, sends `rounds` messages and checks each echo.
// Returns the number of rounds that came back intact.
int echo_client(Runtime& rt, uint16_t port, int id, int rounds) {
  tcp::socket s(rt.io());
  auto [cec] = runtime::await<error_code>([&](auto handler) {
    s.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), std::move(handler));
  });
  if (cec) return 0;
  int ok = 0;
  for (int r = 0; r < rounds; ++r) {
    // Messages of varying size, some larger than one read.
    const std::string msg = "fiber " + std::to_string(id) + " round " + std::to_string(r) + " " +
                            std::string(static_cast<std::size_t>((id * 977 + r * 131) % 9000), 'x');
    auto [wec, wn] = runtime::await<error_code, std::size_t>(
        [&](auto handler) { asio::async_write(s, asio::buffer(msg), std::move(handler)); });
    if (wec) break;
    std::string back(msg.size(), '\0');
    auto [rec, rn] = runtime::await<error_code, std::size_t>(
        [&](auto handler) { asio::async_read(s, asio::buffer(back), std::move(handler)); });
    if (rec || back != msg) break;
    ++ok;
  }
  return ok;
}

TEST(Runtime, RunReturnsAfterItsFiberAndSpawnedFibersRunToo) {
  Runtime rt;
  EXPECT_EQ(Runtime::current(), &rt);
  std::vector<int> order;
  rt.run([&] {
    rt.spawn([&] { order.push_back(2); });
    order.push_back(1);
    boost::this_fiber::yield();
    order.push_back(3);
  });
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Runtime, OneThreadOneRuntimeAndCurrentIsPerThread) {
  Runtime rt;
  Runtime* seen_elsewhere = &rt;
  std::thread([&] { seen_elsewhere = Runtime::current(); }).join();
  EXPECT_EQ(seen_elsewhere, nullptr);
  std::thread([&] {
    Runtime other;
    seen_elsewhere = Runtime::current();
    other.run([] {});
  }).join();
  EXPECT_NE(seen_elsewhere, &rt);
  EXPECT_EQ(Runtime::current(), &rt);
}

TEST(Runtime, EchoFibersSleepersAndTimersInterleave) {
  run_fibers([](Runtime& rt) {
    EchoServer server(rt);
    constexpr int clients = 40, rounds = 25, sleepers = 20, timers = 20;
    const auto t0 = SteadyClock::now();

    std::vector<int> results(clients, -1);
    std::vector<int> sleeper_order, timer_order;
    int early = 0;
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < clients; ++i) {
      fibers.emplace_back([&, i] { results[i] = echo_client(rt, server.port(), i, rounds); });
    }
    // Sleepers and Asio timers with distinct deadlines, started in an order
    // other than their deadlines'.
    for (int k = 0; k < sleepers; ++k) {
      const int i = (k * 7) % sleepers;
      fibers.emplace_back([&, i] {
        const auto until = t0 + std::chrono::milliseconds(5 + 4 * i);
        boost::this_fiber::sleep_until(until);
        if (SteadyClock::now() < until) ++early;
        sleeper_order.push_back(i);
      });
    }
    for (int k = 0; k < timers; ++k) {
      const int i = (k * 11) % timers;
      fibers.emplace_back([&, i] {
        asio::steady_timer timer(rt.io());
        const auto until = t0 + std::chrono::milliseconds(7 + 4 * i);
        timer.expires_at(until);
        auto [ec] = runtime::await<error_code>([&](auto handler) { timer.async_wait(std::move(handler)); });
        if (ec || SteadyClock::now() < until) ++early;
        timer_order.push_back(i);
      });
    }
    for (auto& f : fibers) f.join();
    server.close();

    for (int i = 0; i < clients; ++i) EXPECT_EQ(results[i], rounds) << "client fiber " << i;
    EXPECT_EQ(server.connections(), clients);
    EXPECT_EQ(early, 0) << "a sleep or a timer ended before its deadline";
    std::vector<int> in_order(sleepers);
    std::iota(in_order.begin(), in_order.end(), 0);
    EXPECT_EQ(sleeper_order, in_order) << "sleepers woke out of deadline order";
    in_order.resize(timers);
    std::iota(in_order.begin(), in_order.end(), 0);
    EXPECT_EQ(timer_order, in_order) << "timers completed out of deadline order";
  });
}

TEST(Runtime, BusyFibersShareTheThreadFairlyAndDoNotStarveIo) {
  run_fibers([](Runtime& rt) {
    EchoServer server(rt);
    constexpr int busy = 4;
    std::array<uint64_t, busy> spins{};
    bool done = false;
    std::vector<boost::fibers::fiber> spinners;
    for (int i = 0; i < busy; ++i) {
      spinners.emplace_back([&, i] {
        while (!done) {
          ++spins[i];
          boost::this_fiber::yield();  // never blocks: always ready
        }
      });
    }
    // With every spinner always ready, I/O, a timer and a sleeper still complete.
    const auto t0 = SteadyClock::now();
    int echoed = 0;
    bool timer_fired = false, slept = false;
    auto io = boost::fibers::fiber([&] { echoed = echo_client(rt, server.port(), 1, 50); });
    auto tf = boost::fibers::fiber([&] {
      asio::steady_timer timer(rt.io(), 20ms);
      auto [ec] = runtime::await<error_code>([&](auto handler) { timer.async_wait(std::move(handler)); });
      timer_fired = !ec;
    });
    auto sf = boost::fibers::fiber([&] {
      boost::this_fiber::sleep_for(20ms);
      slept = true;
    });
    io.join();
    tf.join();
    sf.join();
    const auto elapsed = SteadyClock::now() - t0;
    // Round robin: when one spinner sets nothing, every spinner has had the
    // same number of turns, give or take the one in progress.
    const auto [lo, hi] = std::minmax_element(spins.begin(), spins.end());
    done = true;
    for (auto& s : spinners) s.join();
    server.close();

    EXPECT_EQ(echoed, 50);
    EXPECT_TRUE(timer_fired);
    EXPECT_TRUE(slept);
    EXPECT_LE(*hi - *lo, 1u) << "unfair: " << *lo << " vs " << *hi;
    EXPECT_GT(*lo, 0u);
    EXPECT_LT(elapsed, 20s);
  });
}

TEST(Runtime, PostRunsFunctionsFromOtherThreadsOnTheRuntimeThread) {
  run_fibers([](Runtime& rt) {
    constexpr int threads = 4, posts = 500;
    const auto runtime_thread = std::this_thread::get_id();
    int ran = 0, wrong_thread = 0;
    boost::fibers::promise<void> all_ran;
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t) {
      posters.emplace_back([&] {
        for (int i = 0; i < posts; ++i) {
          rt.post([&] {
            if (std::this_thread::get_id() != runtime_thread) ++wrong_thread;
            if (++ran == threads * posts) all_ran.set_value();
          });
        }
      });
    }
    auto f = all_ran.get_future();
    const auto status = f.wait_for(default_timeout);
    for (auto& p : posters) p.join();
    ASSERT_EQ(status, boost::fibers::future_status::ready) << ran << " of " << threads * posts << " ran";
    EXPECT_EQ(ran, threads * posts);
    EXPECT_EQ(wrong_thread, 0);
  });
}

TEST(Runtime, FiberChannelsPingPongWithAnotherThread) {
  run_fibers([](Runtime&) {
    constexpr int rounds = 5000;
    boost::fibers::buffered_channel<int> to_thread(2), from_thread(2);
    std::thread peer([&] {
      int v = 0;
      // A plain thread blocks in Boost.Fiber's default scheduler; the runtime's
      // fiber is woken through AsioScheduler::notify().
      while (to_thread.pop(v) == boost::fibers::channel_op_status::success) {
        if (from_thread.push(v + 1) != boost::fibers::channel_op_status::success) break;
      }
    });
    int lost = -1;
    for (int i = 0; i < rounds; ++i) {
      to_thread.push(i);
      int v = 0;
      if (from_thread.pop_wait_for(v, default_timeout) != boost::fibers::channel_op_status::success || v != i + 1) {
        lost = i;
        break;
      }
    }
    to_thread.close();
    from_thread.close();
    peer.join();
    EXPECT_EQ(lost, -1) << "round " << lost << ": a wake-up from the other thread was lost";
  });
}

// The runtime thread's scheduling state from /proc ('S' while blocked).
char thread_state(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

TEST(Runtime, APromiseFulfilledByAnotherThreadWakesABlockedRuntime) {
  run_fibers([](Runtime& rt) {
    const pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
    for (int round = 0; round < 5; ++round) {
      boost::fibers::promise<int> promise;
      auto future = promise.get_future();
      std::atomic<bool> saw_sleeping{false};
      std::thread other([&] {
        // Fulfil it only once the runtime thread sleeps in the kernel.
        saw_sleeping = wait_until([&] { return thread_state(tid) == 'S'; }, default_timeout, 1ms);
        promise.set_value(round);
      });
      const uint64_t waits_before = rt.blocking_waits();
      const auto status = future.wait_for(default_timeout);
      const uint64_t waits_after = rt.blocking_waits();
      other.join();
      ASSERT_EQ(status, boost::fibers::future_status::ready) << "round " << round;
      EXPECT_EQ(future.get(), round);
      EXPECT_TRUE(saw_sleeping);
      EXPECT_GT(waits_after, waits_before) << "the runtime never blocked while waiting";
    }
  });
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Behavioural, not a benchmark: an idle client (pings only) must leave its
// thread asleep. A spinning scheduler would use close to 100% of a core.
TEST(Runtime, AnIdleConnectedClientSleepsInTheKernel) {
  ServerOptions so;
  so.kind = ServerKind::corral;
  TestServer server(so);
  server.start();
  run_fibers([&](Runtime& rt) {
    ClientOptions o;
    o.connect_string = server.host_port();
    o.session_timeout = 900ms;  // pings every 300 ms
    Client c(rt, o);
    c.connect();
    c.create("/idle", "");
    c.get("/idle", [](const WatchedEvent&) {});

    const uint64_t waits_before = rt.blocking_waits();
    const double cpu_before = thread_cpu_seconds();
    const auto wall_before = SteadyClock::now();
    boost::this_fiber::sleep_for(3s);  // the measurement window, not a settling delay
    const double cpu = thread_cpu_seconds() - cpu_before;
    const double wall = std::chrono::duration<double>(SteadyClock::now() - wall_before).count();
    const uint64_t waits = rt.blocking_waits() - waits_before;

    EXPECT_LT(cpu, 0.05 * wall) << "the idle runtime used " << cpu << " s of CPU in " << wall << " s";
    EXPECT_GE(waits, 9u) << "at least one blocking wait per ping sent and per reply";
    EXPECT_LT(waits, 2000u) << "woke up far more often than pings need";
    EXPECT_TRUE(c.state() == SessionState::connected) << to_string(c.state()) << ": pings did not keep the session";
    EXPECT_EQ(c.get("/idle").stat.version, 0);
  });
}

// Runtime's shutdown rule: the fibers waiting on its io_context must end
// before it goes, or they wait forever and the thread's fiber scheduler never
// lets the thread exit. A closed (or destroyed) Client has ended its fibers:
// its thread exits at once, even with a long session timeout (whose pings would
// otherwise keep a heartbeat fiber asleep for seconds) and even when closed
// while it was reconnecting.
TEST(Runtime, AThreadWhoseClientsClosedExitsPromptly) {
  ServerOptions so;
  so.kind = ServerKind::corral;
  TestServer server(so);
  server.start();
  std::atomic<bool> body_done{false};
  std::string failure;
  const auto t0 = SteadyClock::now();
  std::thread worker([&] {
    Runtime rt;
    rt.run([&] {
      ClientOptions o;
      o.connect_string = server.host_port();
      o.session_timeout = 30s;  // the heartbeat would sleep 10 s
      Client steady(rt, o);
      Client reconnecting(rt, o);
      steady.connect();
      reconnecting.connect();
      steady.create("/closing", "");
      steady.get("/closing", [](const WatchedEvent&) {});
      steady.add_state_listener([](SessionState) {});
      reconnecting.drop_connection();  // closed (destroyed) while reconnecting
      steady.close();
      if (steady.state() != SessionState::closed) failure = "not closed";
    });
    body_done = true;
  });
  worker.join();
  const auto elapsed = SteadyClock::now() - t0;
  EXPECT_TRUE(body_done);
  EXPECT_EQ(failure, "");
  EXPECT_LT(elapsed, 5s) << "the thread lingered for "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
}

}  // namespace
}  // namespace corral::test
