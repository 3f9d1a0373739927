// A Curator application (CuratorPeer.java's workload: LeaderLatch,
// CuratorCache and InterProcessMutex, on Apache Curator 5.4 and the official
// Java client) on a 3-server ensemble, through a dropped connection and a
// kill -9 of the leader: it goes on exactly as it does on Apache ZooKeeper
// 3.8 (the same test, the other parameter). Every Curator client re-registers
// its watches after a reconnect with the Java client's SetWatches, which is
// where corral-server once cut it off.

#include "tests/client/client_fixture.h"
#include "tests/support/process.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ensemble.h"
#include "tests/support/text_file.h"

namespace corral::test {
namespace {

class CuratorEnsembleTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  std::unique_ptr<Process> curator(const std::vector<std::string>& args, const std::filesystem::path& log) {
    std::vector<std::string> argv{CORRAL_JAVA,  "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", CORRAL_CURATOR_CLASSPATH,
                                  "CuratorPeer"};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Process>(argv, log);
  }
  std::string logs() const {
    std::string out;
    for (const char* name : {"a.log", "b.log"})
      out += std::string("---- ") + name + "\n" + read_file(dir_.path() / name);
    return out;
  }
  TempDir dir_{"corral-curator-ensemble"};
};

TEST_P(CuratorEnsembleTest, ACuratorWorkloadGoesOnAcrossADroppedConnectionAndALeaderKill) {
  TestEnsemble e(3, GetParam());
  e.start(120s);
  const int leader = e.wait_for_leader(60s);
  ASSERT_GE(leader, 0);
  std::vector<std::unique_ptr<TcpProxy>> proxies;
  std::string hosts;
  for (int i = 0; i < 3; ++i) {
    proxies.push_back(std::make_unique<TcpProxy>(e.client_port(i)));
    hosts += (i ? "," : "") + proxies.back()->host_port();
  }
  const std::string base = "/curator-workload";
  run_fibers([&](Runtime& rt) {
    ClientOptions o;
    o.connect_string = e.connect_string();
    Client c(rt, o);
    c.connect(60s);
    c.create(base, "");
    c.create(base + "/counter", "0");
    c.close();
  });
  constexpr int rounds = 100;
  const auto a_log = dir_.path() / "a.log", b_log = dir_.path() / "b.log";
  auto a = curator({"workload", hosts, base, "java-a", std::to_string(rounds), std::to_string(2 * rounds)}, a_log);
  auto b = curator({"workload", hosts, base, "java-b", std::to_string(rounds), std::to_string(2 * rounds)}, b_log);
  const auto progressed = [&](int n) {
    const std::string line = "progress " + std::to_string(n);
    return count_lines(read_file(a_log), line) == 1 && count_lines(read_file(b_log), line) == 1;
  };
  ASSERT_TRUE(wait_until([&] { return progressed(20); }, 180s, 50ms)) << logs();
  for (auto& p : proxies) p->drop_all();  // every connection of both drops at once
  ASSERT_TRUE(wait_until([&] { return progressed(50); }, 120s, 50ms)) << "stuck after the dropped connections\n"
                                                                      << logs();
  e.kill9(leader);
  ASSERT_TRUE(wait_until([&] { return !a->alive() && !b->alive(); }, 180s, 50ms))
      << "stuck after kill -9 of the leader\n"
      << logs() << e.logs_tail();
  const std::string out_a = read_file(a_log), out_b = read_file(b_log);
  for (const auto* out : {&out_a, &out_b}) {
    EXPECT_EQ(count_lines(*out, "done " + std::to_string(rounds)), 1u) << *out;
    EXPECT_EQ(count_lines(*out, "cache " + std::to_string(2 * rounds)), 1u) << "its cache missed the last change\n"
                                                                            << *out;
    EXPECT_EQ(count_lines(*out, "state LOST"), 0u) << *out;
    // One reconnect for the dropped connection and one for the failover (a
    // client on a follower that stays up may not even notice the kill):
    // never a cycle of them.
    const std::size_t reconnects = count_lines(*out, "state RECONNECTED");
    EXPECT_GE(reconnects, 1u) << *out;
    EXPECT_LE(reconnects, 3u) << "a reconnect cycle\n" << *out;
    EXPECT_EQ(out->find("Xid out of order"), std::string::npos) << *out;
  }
  EXPECT_GE(count_lines(out_a, "leader java-a") + count_lines(out_b, "leader java-b"), 1u) << "nobody led\n" << logs();
  run_fibers([&](Runtime& rt) {
    ClientOptions o;
    o.connect_string = e.connect_string();
    Client c(rt, o);
    c.connect(60s);
    c.sync(base);
    EXPECT_EQ(c.get(base + "/counter").data, std::to_string(2 * rounds)) << "an increment was lost or doubled";
    c.close();
  });
}

INSTANTIATE_TEST_SUITE_P(Servers, CuratorEnsembleTest, ::testing::Values(ServerKind::corral, ServerKind::zookeeper),
                         param_name);

}  // namespace
}  // namespace corral::test
