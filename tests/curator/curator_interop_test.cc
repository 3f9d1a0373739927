// Curator interop: Java processes on Apache Curator 5.4 (Debian
// libcurator-recipes-java) and Corral's C++ recipes share one lock and one
// election, because Corral uses Curator's znode names and ordering
// (InterProcessMutex's "_c_<uuid>-lock-<seq>", LeaderLatch's
// "_c_<uuid>-latch-<seq>"). Against corral-server and Apache ZooKeeper 3.8.
#include <mutex>

#include "corral/recipes/leader_election.h"
#include "corral/recipes/lock.h"
#include "tests/client/client_fixture.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/text_file.h"

namespace corral::test {
namespace {

class CuratorInteropTest : public ClientTest {
 protected:
  // A CuratorPeer process (tests/curator/CuratorPeer.java); output to `log`.
  std::unique_ptr<Process> curator(const std::vector<std::string>& args, const std::filesystem::path& log) {
    std::vector<std::string> argv{CORRAL_JAVA,  "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", CORRAL_CURATOR_CLASSPATH,
                                  "CuratorPeer"};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Process>(argv, log);
  }
  TempDir dir_{"corral-curator"};
};

// Two Curator processes and two Corral clients take one InterProcessMutex
// 25 times each; inside it each reads a counter znode and writes it back
// plus one without a version check, so any overlap would lose an increment.
TEST_P(CuratorInteropTest, CuratorAndCorralShareOneLock) {
  with_client([&](Runtime& rt, Client& c) {
    const std::string lock_path = at("lock"), counter = at("counter");
    c.create(counter, "0");
    constexpr int rounds = 25;
    auto j1 =
        curator({"lock", server().host_port(), lock_path, std::to_string(rounds), counter}, dir_.path() / "j1.log");
    auto j2 =
        curator({"lock", server().host_port(), lock_path, std::to_string(rounds), counter}, dir_.path() / "j2.log");
    std::vector<boost::fibers::fiber> ours;
    for (int k = 0; k < 2; ++k) {
      ours.emplace_back([&] {
        auto own = connect(rt);
        recipes::Lock lock(*own, lock_path);
        for (int i = 0; i < rounds; ++i) {
          std::scoped_lock hold(lock);
          const int v = std::stoi(own->get(counter).data);
          own->sync();
          own->set(counter, std::to_string(v + 1));
        }
      });
    }
    for (auto& f : ours) f.join();
    ASSERT_TRUE(fiber_wait_until([&] { return !j1->alive() && !j2->alive(); }, 120s))
        << read_file(dir_.path() / "j1.log") << read_file(dir_.path() / "j2.log");
    EXPECT_NE(read_file(dir_.path() / "j1.log").find("done 25"), std::string::npos)
        << read_file(dir_.path() / "j1.log");
    EXPECT_NE(read_file(dir_.path() / "j2.log").find("done 25"), std::string::npos)
        << read_file(dir_.path() / "j2.log");
    EXPECT_EQ(c.get(counter).data, std::to_string(4 * rounds));
    // Curator's and our nodes were all named the same way and are all gone
    // (the lock path itself is a container, which may be gone too).
    std::error_code ec;
    const auto left = c.children(lock_path, {}, ec);
    EXPECT_TRUE(ec == Error::noNode || left.names.empty()) << ec.message();
  });
}

// A Curator LeaderLatch and a Corral LeaderLatch in one election: while the
// Java process leads, ours waits and names it as the leader; when it
// resigns, ours leads; then a second Java latch waits behind ours.
TEST_P(CuratorInteropTest, CuratorAndCorralShareOneElection) {
  with_client([&](Runtime& rt, Client& c) {
    const std::string election = at("election");
    const auto log1 = dir_.path() / "e1.log", log2 = dir_.path() / "e2.log";
    auto java = curator({"elect", server().host_port(), election, "java-1", "1500"}, log1);
    ASSERT_TRUE(fiber_wait_until([&] { return read_file(log1).find("leader java-1") != std::string::npos; }, 60s))
        << read_file(log1);
    auto own = connect(rt);
    recipes::LeaderLatch ours(*own, election, "cpp");
    EXPECT_FALSE(ours.campaign(200ms)) << "two leaders at once";
    EXPECT_EQ(ours.leader_id(), "java-1");
    ASSERT_TRUE(ours.campaign(30s)) << read_file(log1);
    // The Java latch deletes its node, then prints: the line may come a little after we lead.
    EXPECT_TRUE(fiber_wait_until([&] { return read_file(log1).find("resigned java-1") != std::string::npos; }, 60s))
        << read_file(log1);

    auto second = curator({"elect", server().host_port(), election, "java-2", "0"}, log2);
    // The Java latch queues behind ours (two participants), and does not lead.
    ASSERT_TRUE(fiber_wait_until([&] { return ours.participants().size() == 2; }, 60s)) << read_file(log2);
    EXPECT_EQ(read_file(log2).find("leader java-2"), std::string::npos);
    EXPECT_TRUE(ours.is_leader());
    ours.resign();
    EXPECT_TRUE(fiber_wait_until([&] { return read_file(log2).find("leader java-2") != std::string::npos; }, 30s))
        << read_file(log2);
    (void)c;
  });
}

CORRAL_CLIENT_SUITE(CuratorInteropTest);

}  // namespace
}  // namespace corral::test
