// DoubleBarrier (DistributedDoubleBarrier): BSP rounds across processes with
// the ordering proved from every participant's timestamps, timeouts, a
// participant that dies before the threshold and one that dies inside, an
// expired session, a suspended connection and a server restart — against
// corral-server and Apache ZooKeeper 3.8.
#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "corral/recipes/double_barrier.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"

namespace corral::test {
namespace {

using recipes::DoubleBarrier;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// One participant's round, as it saw it (steady clock, shared by all
// processes of this machine): when it called enter and when enter returned,
// the same for leave.
struct RoundRecord {
  int participant = 0;
  int64_t round = 0;
  int64_t enter_start = 0, enter_end = 0, leave_start = 0, leave_end = 0;
};

// args: hosts path threshold rounds participants first_id out_file
// Runs `participants` fibers, each with its own client and barrier, through
// `rounds` rounds with random pauses, and appends one line per participant
// and round to out_file.
CORRAL_RECIPE_WORKER(db_rounds) {
  const std::string hosts = args.at(0), path = args.at(1);
  const int threshold = std::stoi(args.at(2)), rounds = std::stoi(args.at(3));
  const int participants = std::stoi(args.at(4)), first_id = std::stoi(args.at(5));
  std::vector<RoundRecord> records;
  int failures = 0;
  Runtime rt;
  rt.run([&] {
    std::vector<boost::fibers::fiber> fibers;
    for (int p = 0; p < participants; ++p) {
      fibers.emplace_back([&, p] {
        ClientOptions o;
        o.connect_string = hosts;
        o.session_timeout = std::chrono::seconds(10);
        Client client(rt, o);
        std::error_code ec;
        client.connect(std::chrono::seconds(10), ec);
        if (ec) {
          std::fprintf(stderr, "connect: %s\n", ec.message().c_str());
          ++failures;
          return;
        }
        std::mt19937 rng(static_cast<unsigned>(first_id + p) * 7919u + static_cast<unsigned>(now_ns()));
        const auto pause = [&] { boost::this_fiber::sleep_for(std::chrono::microseconds(rng() % 3000)); };
        DoubleBarrier barrier(client, path, threshold);
        for (int r = 0; r < rounds; ++r) {
          RoundRecord rec;
          rec.participant = first_id + p;
          pause();
          rec.enter_start = now_ns();
          if (!barrier.enter(Clock::now() + std::chrono::seconds(30), ec)) {
            std::fprintf(stderr, "enter %d: %s\n", r, ec.message().c_str());
            ++failures;
            return;
          }
          rec.enter_end = now_ns();
          rec.round = barrier.round();
          pause();
          rec.leave_start = now_ns();
          if (!barrier.leave(Clock::now() + std::chrono::seconds(30), ec)) {
            std::fprintf(stderr, "leave %d: %s\n", r, ec.message().c_str());
            ++failures;
            return;
          }
          rec.leave_end = now_ns();
          records.push_back(rec);
        }
      });
    }
    for (auto& f : fibers) f.join();
  });
  std::ofstream out(args.at(6), std::ios::app);
  for (const auto& r : records) {
    out << r.participant << ' ' << r.round << ' ' << r.enter_start << ' ' << r.enter_end << ' ' << r.leave_start << ' '
        << r.leave_end << '\n';
  }
  return failures == 0 ? 0 : 1;
}

// args: hosts path threshold session_timeout_ms
// Enters and stays inside until killed; prints "inside" once it is.
CORRAL_RECIPE_WORKER(db_stay_inside) {
  Runtime rt;
  int status = 0;
  rt.run([&] {
    ClientOptions o;
    o.connect_string = args.at(0);
    o.session_timeout = std::chrono::milliseconds(std::stoi(args.at(3)));
    Client client(rt, o);
    client.connect(std::chrono::seconds(10));
    DoubleBarrier barrier(client, args.at(1), std::stoi(args.at(2)));
    std::error_code ec;
    if (!barrier.enter(Clock::now() + std::chrono::seconds(60), ec)) {
      std::fprintf(stderr, "enter: %s\n", ec.message().c_str());
      status = 1;
      return;
    }
    std::printf("inside\n");
    std::fflush(stdout);
    boost::this_fiber::sleep_for(std::chrono::seconds(120));
  });
  return status;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class DoubleBarrierTest : public ClientTest {
 protected:
  std::size_t member_count(Client& c, const std::string& path) {
    std::error_code ec;
    auto kids = c.children(path, {}, ec);
    if (ec) return 0;
    return static_cast<std::size_t>(
        std::count_if(kids.names.begin(), kids.names.end(), [](const std::string& n) { return n != "ready"; }));
  }

  std::unique_ptr<Client> connect_with_timeout(Runtime& rt, std::chrono::milliseconds session_timeout,
                                               std::string connect_string = {}) {
    auto o = options();
    o.session_timeout = session_timeout;
    if (!connect_string.empty()) o.connect_string = connect_string;
    return connect(rt, o);
  }
};

TEST_P(DoubleBarrierTest, StateTextRoundTrips) {
  const auto e = DoubleBarrier::decode(DoubleBarrier::encode(DoubleBarrier::State::entered, 41), 3);
  EXPECT_EQ(e.kind, DoubleBarrier::State::entered);
  EXPECT_EQ(e.round, 41);
  EXPECT_EQ(e.version, 3);
  const auto l = DoubleBarrier::decode(DoubleBarrier::encode(DoubleBarrier::State::left, 0), 0);
  EXPECT_EQ(l.kind, DoubleBarrier::State::left);
  EXPECT_EQ(l.round, 0);
  // Curator's ready node holds the client's address: "entered", round unknown.
  EXPECT_EQ(DoubleBarrier::decode("127.0.1.1", 0).kind, DoubleBarrier::State::foreign);
  EXPECT_EQ(DoubleBarrier::decode("round 7 sideways", 0).kind, DoubleBarrier::State::foreign);
  EXPECT_EQ(DoubleBarrier::decode("round -1 left", 0).kind, DoubleBarrier::State::foreign);
}

// 6 participants in 3 processes, 20 rounds, threshold 6. From each
// participant's own clock readings: in every round no enter() returned before
// every participant had called enter(), and no leave() returned before every
// participant had called leave() (so nobody started round r+1 before all had
// left round r).
TEST_P(DoubleBarrierTest, RoundsAcrossProcessesKeepTheirOrder) {
  constexpr int processes = 3, per_process = 2, rounds = 20;
  constexpr int participants = processes * per_process;
  TempDir dir("corral-double-barrier");
  const auto out = dir.path() / "rounds.txt";
  const std::string path = at("bsp");
  std::vector<std::unique_ptr<Process>> workers;
  for (int w = 0; w < processes; ++w) {
    workers.push_back(spawn_worker("db_rounds",
                                   {server().host_port(), path, std::to_string(participants), std::to_string(rounds),
                                    std::to_string(per_process), std::to_string(w * per_process), out.string()},
                                   dir.path() / ("worker" + std::to_string(w) + ".log")));
  }
  for (std::size_t w = 0; w < workers.size(); ++w) {
    const auto status = workers[w]->wait(60s);
    ASSERT_TRUE(status) << "worker " << w << " still running";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << describe_wait_status(*status) << "\n"
        << slurp(dir.path() / ("worker" + std::to_string(w) + ".log"));
  }

  std::map<int64_t, std::vector<RoundRecord>> by_round;
  std::ifstream in(out);
  RoundRecord r;
  while (in >> r.participant >> r.round >> r.enter_start >> r.enter_end >> r.leave_start >> r.leave_end) {
    by_round[r.round].push_back(r);
  }
  ASSERT_EQ(by_round.size(), static_cast<std::size_t>(rounds));
  int64_t expected_round = 0;
  int64_t previous_leave_start = 0;
  for (const auto& [round, recs] : by_round) {
    EXPECT_EQ(round, expected_round++);
    ASSERT_EQ(recs.size(), static_cast<std::size_t>(participants)) << "round " << round;
    int64_t last_enter_start = 0, first_enter_end = INT64_MAX, last_leave_start = 0, first_leave_end = INT64_MAX;
    int64_t first_enter_start = INT64_MAX;
    for (const auto& x : recs) {
      last_enter_start = std::max(last_enter_start, x.enter_start);
      first_enter_start = std::min(first_enter_start, x.enter_start);
      first_enter_end = std::min(first_enter_end, x.enter_end);
      last_leave_start = std::max(last_leave_start, x.leave_start);
      first_leave_end = std::min(first_leave_end, x.leave_end);
    }
    EXPECT_LE(last_enter_start, first_enter_end) << "round " << round << ": an enter returned before all had entered";
    EXPECT_LE(last_leave_start, first_leave_end) << "round " << round << ": a leave returned before all had left";
    EXPECT_LE(previous_leave_start, first_enter_start)
        << "round " << round << " began before round " << round - 1 << " was left by all";
    previous_leave_start = last_leave_start;
  }
  if (by_round.size() > 1) {
    // Round time: from the first enter() call of round 1 to the last leave()
    // return (round 0 includes connecting).
    int64_t from = INT64_MAX, to = 0;
    for (const auto& [round, recs] : by_round) {
      for (const auto& x : recs) {
        if (round >= 1) from = std::min(from, x.enter_start);
        to = std::max(to, x.leave_end);
      }
    }
    std::printf(
        "[ figures  ] %s: %d participants in %d processes: %.2f ms per round "
        "(enter + leave, random pauses up to 3 ms)\n",
        kind_name(kind()).c_str(), participants, processes,
        static_cast<double>(to - from) / 1e6 / static_cast<double>(by_round.size() - 1));
  }
  with_client([&](Runtime&, Client& c) {
    // Every participant removed its node; the last one out removed ready.
    EXPECT_EQ(member_count(c, path), 0u);
    EXPECT_FALSE(c.exists(path + "/ready").has_value());
  });
}

TEST_P(DoubleBarrierTest, EnterTimesOutBelowTheThresholdAndLeavesNothing) {
  with_client([&](Runtime& rt, Client& c) {
    auto c2 = connect(rt);
    const std::string path = at("b");
    DoubleBarrier a(c, path, 3), b(*c2, path, 3);
    std::error_code ea, eb;
    bool ra = true, rb = true;
    const auto start = Clock::now();
    boost::fibers::fiber fa([&] { ra = a.enter(Clock::now() + 300ms, ea); });
    rb = b.enter(Clock::now() + 300ms, eb);
    fa.join();
    EXPECT_FALSE(ra);
    EXPECT_FALSE(rb);
    EXPECT_ZK(ea, Error::operationTimeout);
    EXPECT_ZK(eb, Error::operationTimeout);
    EXPECT_GE(Clock::now() - start, 300ms);
    EXPECT_EQ(member_count(c, path), 0u) << "a timed-out participant left its node behind";
    EXPECT_FALSE(a.inside());
    EXPECT_FALSE(a.enter_for(50ms));

    // With the third one they all pass, and leave.
    auto c3 = connect(rt);
    DoubleBarrier d(*c3, path, 3);
    std::vector<boost::fibers::fiber> fibers;
    int entered = 0, left = 0;
    for (DoubleBarrier* x : {&a, &b, &d}) {
      fibers.emplace_back([&, x] {
        if (x->enter_for(10s)) ++entered;
        if (x->leave_for(10s)) ++left;
      });
    }
    for (auto& f : fibers) f.join();
    EXPECT_EQ(entered, 3);
    EXPECT_EQ(left, 3);
    // leave() without enter() is refused.
    std::error_code ec;
    EXPECT_FALSE(a.leave(Clock::now() + 1s, ec));
    EXPECT_EQ(ec, std::make_error_code(std::errc::operation_not_permitted));
  });
}

TEST_P(DoubleBarrierTest, LeaveTimesOutWhileAnotherStaysAndReleasesIt) {
  with_client([&](Runtime& rt, Client& c) {
    auto c2 = connect(rt);
    const std::string path = at("b");
    DoubleBarrier a(c, path, 2), b(*c2, path, 2);
    boost::fibers::fiber fa([&] { EXPECT_TRUE(a.enter_for(10s)); });
    EXPECT_TRUE(b.enter_for(10s));
    fa.join();
    // b stays inside: a's leave cannot finish.
    std::error_code ec;
    EXPECT_FALSE(a.leave(Clock::now() + 300ms, ec));
    EXPECT_ZK(ec, Error::operationTimeout);
    EXPECT_EQ(member_count(c, path), 1u) << "the timed-out leaver's node is still there";
    // a gave up, so b is the last one: it leaves at once.
    const auto start = Clock::now();
    EXPECT_TRUE(b.leave_for(10s));
    EXPECT_LT(Clock::now() - start, 5s);
    // Both can go on with the next round.
    boost::fibers::fiber fb([&] { EXPECT_TRUE(b.enter_for(10s)); });
    EXPECT_TRUE(a.enter_for(10s));
    fb.join();
    EXPECT_EQ(a.round(), b.round());
    boost::fibers::fiber fl([&] { EXPECT_TRUE(b.leave_for(10s)); });
    EXPECT_TRUE(a.leave_for(10s));
    fl.join();
  });
}

// A participant that dies before the threshold counts only while its session
// lives; once it has expired, two live participants of three do not pass.
TEST_P(DoubleBarrierTest, AParticipantThatDiesBeforeTheThresholdStopsCounting) {
  TempDir dir("corral-double-barrier");
  const std::string path = at("b");
  auto worker = spawn_worker("db_stay_inside", {server().host_port(), path, "3", "600"}, dir.path() / "w.log");
  with_client([&](Runtime& rt, Client& c) {
    ASSERT_TRUE(fiber_wait_until([&] { return member_count(c, path) == 1; })) << slurp(dir.path() / "w.log");
    worker->kill();
    ASSERT_TRUE(fiber_wait_until([&] { return member_count(c, path) == 0; }))
        << "the dead participant's node outlived its session";
    auto c2 = connect(rt);
    DoubleBarrier a(c, path, 3), b(*c2, path, 3);
    boost::fibers::fiber fa([&] { EXPECT_FALSE(a.enter_for(300ms)); });
    EXPECT_FALSE(b.enter_for(300ms));
    fa.join();
  });
}

// A participant killed inside the barrier: the others' leave() waits for it
// only until its session expires.
TEST_P(DoubleBarrierTest, AParticipantKilledInsideHoldsLeaveOnlyUntilItsSessionExpires) {
  TempDir dir("corral-double-barrier");
  const std::string path = at("b");
  auto worker = spawn_worker("db_stay_inside", {server().host_port(), path, "3", "800"}, dir.path() / "w.log");
  with_client([&](Runtime& rt, Client& c) {
    auto c2 = connect(rt);
    DoubleBarrier a(c, path, 3), b(*c2, path, 3);
    boost::fibers::fiber fa([&] { EXPECT_TRUE(a.enter_for(10s)); });
    EXPECT_TRUE(b.enter_for(10s));
    fa.join();
    ASSERT_TRUE(fiber_wait_until([&] { return slurp(dir.path() / "w.log").find("inside") != std::string::npos; }));
    worker->kill();
    const auto killed = Clock::now();
    bool gone_before_leave_returned = false;
    boost::fibers::fiber fl([&] { EXPECT_TRUE(a.leave_for(10s)); });
    EXPECT_TRUE(b.leave_for(10s));
    fl.join();
    gone_before_leave_returned = member_count(c, path) == 0;
    EXPECT_TRUE(gone_before_leave_returned);
    const auto waited = Clock::now() - killed;
    EXPECT_LT(waited, 8s) << "leave waited far beyond the dead participant's session timeout";
  });
}

// A participant's session expires while it is inside: it is told at once,
// the others' leave does not wait for it, and the object works again on the
// client's next session.
TEST_P(DoubleBarrierTest, ExpiryInsideIsReportedAndTheObjectIsUsableAgain) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto victim = connect_with_timeout(rt, 10s, proxy.host_port());
    ASSERT_TRUE(victim);
    const std::string path = at("b");
    DoubleBarrier a(c, path, 2), v(*victim, path, 2);
    std::vector<SessionState> heard;
    v.on_lost([&](SessionState s) { heard.push_back(s); });
    boost::fibers::fiber fa([&] { EXPECT_TRUE(a.enter_for(10s)); });
    EXPECT_TRUE(v.enter_for(10s));
    fa.join();

    proxy.set_refusing(true);
    proxy.drop_all();
    ASSERT_TRUE(fiber_wait_until([&] { return !heard.empty(); }));
    EXPECT_EQ(heard.front(), SessionState::suspended);
    expire_session(rt, *victim);
    // The others do not wait for the dead participant.
    EXPECT_TRUE(a.leave_for(10s));
    proxy.set_refusing(false);
    // The state changes first; the listeners hear it next on the event fiber.
    ASSERT_TRUE(fiber_wait_until([&] { return victim->state() == SessionState::expired; }));
    ASSERT_TRUE(fiber_wait_until([&] { return heard.back() == SessionState::expired; }))
        << "last heard: " << to_string(heard.back());
    std::error_code ec;
    EXPECT_FALSE(v.leave(Clock::now() + 5s, ec));
    EXPECT_ZK(ec, Error::sessionExpired);
    EXPECT_FALSE(v.inside());

    victim->reconnect_new_session(default_timeout, ec);
    ASSERT_FALSE(ec) << ec.message();
    boost::fibers::fiber fb([&] { EXPECT_TRUE(a.enter_for(10s)); });
    EXPECT_TRUE(v.enter_for(10s));
    fb.join();
    EXPECT_EQ(a.round(), v.round());
    boost::fibers::fiber fl([&] { EXPECT_TRUE(a.leave_for(10s)); });
    EXPECT_TRUE(v.leave_for(10s));
    fl.join();
  });
}

// A participant cut off from the server while it waits in enter() keeps
// waiting and passes once it is back; one cut off inside hears `suspended`.
TEST_P(DoubleBarrierTest, ASuspendedWaiterKeepsWaitingAndPassesAfterTheReconnect) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto cut = connect_with_timeout(rt, 10s, proxy.host_port());
    ASSERT_TRUE(cut);
    const std::string path = at("b");
    DoubleBarrier a(c, path, 2), w(*cut, path, 2);
    bool passed = false;
    boost::fibers::fiber fw([&] { passed = w.enter_for(20s); });
    ASSERT_TRUE(fiber_wait_until([&] { return member_count(c, path) == 1; }));
    ASSERT_TRUE(cut_off(proxy, *cut));
    EXPECT_TRUE(a.enter_for(10s));  // a sees both nodes and marks the round entered
    EXPECT_FALSE(passed);
    proxy.set_refusing(false);
    fw.join();
    EXPECT_TRUE(passed);
    boost::fibers::fiber fl([&] { EXPECT_TRUE(a.leave_for(10s)); });
    EXPECT_TRUE(w.leave_for(10s));
    fl.join();
  });
}

// The server the participants are connected to is killed and restarted in
// the middle of a round: the sessions resume and the rounds go on.
TEST_P(DoubleBarrierTest, RoundsSurviveAServerRestart) {
  ServerOptions so;
  so.kind = kind();
  TestServer own(so);
  own.start(kind() == ServerKind::zookeeper ? 60s : default_timeout);
  run_fibers([&](Runtime& rt) {
    auto c1 = connect_with_timeout(rt, 20s, own.host_port());
    auto c2 = connect_with_timeout(rt, 20s, own.host_port());
    ASSERT_TRUE(c1 && c2);
    DoubleBarrier a(*c1, "/restart/b", 2), b(*c2, "/restart/b", 2);
    bool a_in = false;
    boost::fibers::fiber fa([&] { a_in = a.enter_for(30s); });
    ASSERT_TRUE(fiber_wait_until([&] { return member_count(*c2, "/restart/b") == 1; }));
    own.restart();  // blocks this thread: both clients see the connection drop afterwards
    EXPECT_TRUE(b.enter_for(30s));
    fa.join();
    EXPECT_TRUE(a_in);
    for (int round = 0; round < 3; ++round) {
      boost::fibers::fiber fl([&] {
        EXPECT_TRUE(a.leave_for(30s));
        if (round < 2) {
          EXPECT_TRUE(a.enter_for(30s));
        }
      });
      EXPECT_TRUE(b.leave_for(30s));
      if (round < 2) {
        EXPECT_TRUE(b.enter_for(30s));
      }
      fl.join();
    }
    EXPECT_EQ(a.round(), 3);
    EXPECT_EQ(b.round(), 3);
  });
}

CORRAL_CLIENT_SUITE(DoubleBarrierTest);

}  // namespace
}  // namespace corral::test
