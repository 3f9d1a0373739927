// corral-cli lock/elect (tools/cli/recipe_commands.h) run as processes
// against corral-server and Apache ZooKeeper 3.8: the command runs under the
// lock and its status is the CLI's, commands under one lock never overlap (a
// counter file), without a command the lock is held until SIGTERM, elect runs
// the command as leader, usage errors exit 2. corral-cli is found next to
// this test binary (both are built into <build>/bin).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "corral/recipes/leader_election.h"
#include "corral/recipes/lock.h"
#include "tests/client/client_fixture.h"
#include "tests/support/net.h"
#include "tests/support/temp_dir.h"
#include "tests/support/text_file.h"

namespace corral::test {
namespace {

class CliRecipeTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    cli_ = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "corral-cli";
    if (!std::filesystem::exists(cli_)) GTEST_SKIP() << "corral-cli not built at " << cli_;
  }

  std::unique_ptr<Process> spawn(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> argv = {cli_.string(), "-server", server().host_port()};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Process>(argv, dir_.path() / log);
  }

  // Waits (from a fiber) for `p` to end; its exit code, or -1.
  int finish(Process& p, milliseconds timeout = default_timeout) {
    if (!fiber_wait_until([&] { return !p.alive(); }, timeout)) return -1;
    const int status = *p.status();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string output(const std::string& log) { return read_file(dir_.path() / log); }

  std::vector<std::string> nodes(Client& c, const std::string& path) {
    std::error_code ec;
    auto kids = c.children(path, {}, ec);
    return ec ? std::vector<std::string>{} : kids.names;
  }

  std::filesystem::path cli_;
  TempDir dir_{"cli-recipes"};
};

TEST_P(CliRecipeTest, LockRunsTheCommandHoldingTheLockAndExitsWithItsStatus) {
  with_client([&](Runtime&, Client& c) {
    auto p = spawn({"lock", at("l"), "--", "sh", "-c", "echo \"$CORRAL_LOCK_NODE\"; ls >/dev/null; exit 7"}, "a.log");
    ASSERT_EQ(finish(*p), 7) << output("a.log");
    const auto out = lines(output("a.log"));
    ASSERT_EQ(out.size(), 2u) << output("a.log");
    EXPECT_TRUE(out[0].starts_with(at("l") + "/_c_") && out[0].find("-lock-") != std::string::npos) << out[0];
    EXPECT_EQ(out[1], out[0]) << "the command did not get the held node";
    EXPECT_TRUE(nodes(c, at("l")).empty()) << "the lock was not released";
  });
}

TEST_P(CliRecipeTest, CommandsUnderOneLockNeverOverlap) {
  with_client([&](Runtime&, Client&) {
    const auto file = dir_.path() / "counter";
    std::ofstream(file) << "0\n";
    const std::string script = "n=$(cat '" + file.string() + "'); sleep 0.05; echo $((n+1)) > '" + file.string() + "'";
    constexpr int n = 4;
    std::vector<std::unique_ptr<Process>> procs;
    for (int i = 0; i < n; ++i) {
      procs.push_back(spawn({"lock", at("l"), "--", "sh", "-c", script}, "p" + std::to_string(i) + ".log"));
    }
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(finish(*procs[static_cast<std::size_t>(i)], 30s), 0) << output("p" + std::to_string(i) + ".log");
    }
    EXPECT_EQ(read_file(file), std::to_string(n) + "\n") << "two commands ran at once";
  });
}

TEST_P(CliRecipeTest, WithoutACommandTheLockIsHeldUntilSigterm) {
  with_client([&](Runtime&, Client& c) {
    auto p = spawn({"lock", at("l")}, "held.log");
    ASSERT_TRUE(fiber_wait_until([&] { return !output("held.log").empty(); })) << "never locked";
    recipes::Lock lock(c, at("l"));
    EXPECT_FALSE(lock.try_lock());
    EXPECT_EQ(lines(output("held.log")).front(), at("l/" + nodes(c, at("l")).front()));
    p->signal(SIGTERM);
    EXPECT_EQ(finish(*p), 0) << output("held.log");
    ASSERT_TRUE(lock.try_lock_for(default_timeout));
    lock.unlock();
  });
}

// The sessions watching each path, from the "wchp" four-letter word
// ("<path>" lines, each followed by "\t0x<session>" lines).
std::map<std::string, std::set<std::string>> watchers_by_path(const std::string& wchp) {
  std::map<std::string, std::set<std::string>> out;
  std::string path;
  for (const auto& line : lines(wchp)) {
    if (line.starts_with("/")) {
      path = line;
      out[path];
    } else if (!path.empty() && line.find("0x") != std::string::npos) {
      out[path].insert(line.substr(line.find("0x")));
    }
  }
  return out;
}

// Eight corral-cli processes wait behind a holder: each keeps the one node it
// queued with until it holds the lock (none leaves and joins again at the
// back), each watches only the node ahead of it, and they take the lock in
// queue order (FIFO), each running its command with the node it queued with.
TEST_P(CliRecipeTest, WaitersKeepOneNodeEachWatchOnlyTheirPredecessorAndGoInQueueOrder) {
  with_client([&](Runtime&, Client& c) {
    const std::string lock = at("q");
    const auto order = dir_.path() / "order";
    auto holder = spawn({"lock", lock}, "holder.log");
    ASSERT_TRUE(fiber_wait_until([&] { return !output("holder.log").empty(); })) << "never locked";
    constexpr std::size_t n = 8;
    std::vector<std::unique_ptr<Process>> waiters;
    for (std::size_t i = 0; i < n; ++i) {
      waiters.push_back(
          spawn({"lock", lock, "--", "sh", "-c", "echo \"$CORRAL_LOCK_NODE\" >> '" + order.string() + "'"},
                "w" + std::to_string(i) + ".log"));
    }
    ASSERT_TRUE(fiber_wait_until([&] { return nodes(c, lock).size() == n + 1; })) << nodes(c, lock).size();
    const auto queue = recipes::sorted_by_sequence(nodes(c, lock), "lock-");
    ASSERT_EQ(lock + "/" + queue.front(), lines(output("holder.log")).front());
    // Let the waiters wait a whole second by the server's clock (the mtime of
    // a node we touch, against the ctime of the last one to queue): a waiter
    // that left and rejoined the queue would show as a new node.
    int64_t queued_at = 0;
    for (const auto& name : queue) queued_at = std::max(queued_at, c.exists(lock + "/" + name)->ctime);
    c.create(at("clock"), "");
    ASSERT_TRUE(fiber_wait_until([&] { return c.set(at("clock"), "").mtime - queued_at >= 1000; }, 60s, 50ms));
    EXPECT_EQ(recipes::sorted_by_sequence(nodes(c, lock), "lock-"), queue) << "a waiter left the queue or rejoined it";
    // Herd-free: every node but the last is watched by exactly one session
    // (its successor), and nothing else under the lock is watched.
    std::string last_wchp;
    const bool one_watcher_each = fiber_wait_until([&] {
      last_wchp = four_letter_word(server().port(), "wchp").value_or("");
      const auto watched = watchers_by_path(last_wchp);
      std::size_t under_lock = 0;
      for (const auto& [path, sessions] : watched) under_lock += path.starts_with(lock + "/");
      if (under_lock != n) return false;
      for (std::size_t i = 0; i < n; ++i) {
        const auto it = watched.find(lock + "/" + queue[i]);
        if (it == watched.end() || it->second.size() != 1) return false;
      }
      return true;
    });
    EXPECT_TRUE(one_watcher_each) << "wchp:\n" << last_wchp;

    holder->signal(SIGTERM);
    EXPECT_EQ(finish(*holder), 0) << output("holder.log");
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(finish(*waiters[i], 60s), 0) << output("w" + std::to_string(i) + ".log");
    }
    std::vector<std::string> want;
    for (std::size_t i = 1; i <= n; ++i) want.push_back(lock + "/" + queue[i]);
    EXPECT_EQ(lines(read_file(order)), want) << "not served in queue order with the nodes they queued with";
  });
}

// Stopped while waiting (SIGTERM), a waiter leaves the queue: its node goes
// at once and it exits without having held the lock.
TEST_P(CliRecipeTest, AWaiterStoppedWhileWaitingLeavesTheQueue) {
  with_client([&](Runtime&, Client& c) {
    const std::string lock = at("q");
    auto holder = spawn({"lock", lock}, "holder.log");
    ASSERT_TRUE(fiber_wait_until([&] { return !output("holder.log").empty(); })) << "never locked";
    auto waiter = spawn({"lock", lock, "--", "true"}, "waiter.log");
    ASSERT_TRUE(fiber_wait_until([&] { return nodes(c, lock).size() == 2; }));
    waiter->signal(SIGTERM);
    EXPECT_EQ(finish(*waiter), 1) << output("waiter.log");
    EXPECT_EQ(output("waiter.log").find(lock), std::string::npos) << "it held the lock: " << output("waiter.log");
    EXPECT_EQ(nodes(c, lock).size(), 1u);
    holder->signal(SIGTERM);
    EXPECT_EQ(finish(*holder), 0) << output("holder.log");
  });
}

TEST_P(CliRecipeTest, ElectRunsTheCommandAsLeader) {
  with_client([&](Runtime&, Client& c) {
    auto p = spawn({"elect", at("e"), "worker-7"}, "leader.log");
    ASSERT_TRUE(fiber_wait_until([&] { return lines(output("leader.log")).size() >= 2; })) << "never led";
    const auto out = lines(output("leader.log"));
    EXPECT_NE(out[0].find("-latch-"), std::string::npos) << out[0];
    EXPECT_EQ(out[1], "worker-7");
    recipes::LeaderLatch observer(c, at("e"), "observer");
    EXPECT_EQ(observer.leader_id(), "worker-7");
    // Next in line: runs its command once the first resigns.
    auto q =
        spawn({"elect", at("e"), "worker-8", "--", "sh", "-c", "echo \"$CORRAL_LEADER_NODE\"; exit 3"}, "next.log");
    ASSERT_TRUE(fiber_wait_until([&] { return observer.participants().size() == 2; }));
    EXPECT_TRUE(output("next.log").empty()) << "ran its command while another led";
    p->signal(SIGINT);
    EXPECT_EQ(finish(*p), 0) << output("leader.log");
    EXPECT_EQ(finish(*q), 3) << output("next.log");
    const auto next = lines(output("next.log"));
    ASSERT_EQ(next.size(), 3u) << output("next.log");
    EXPECT_EQ(next[1], "worker-8");
    EXPECT_EQ(next[2], next[0]);
    EXPECT_TRUE(observer.participants().empty());
  });
}

TEST_P(CliRecipeTest, UsageErrorsExit2) {
  with_client([&](Runtime&, Client&) {
    EXPECT_EQ(finish(*spawn({"lock"}, "u1.log")), 2);
    EXPECT_EQ(finish(*spawn({"elect", at("e")}, "u2.log")), 2);
    EXPECT_EQ(finish(*spawn({"lock", at("l"), "--"}, "u3.log")), 2);
    EXPECT_NE(output("u1.log").find("usage"), std::string::npos);
  });
}

CORRAL_CLIENT_SUITE(CliRecipeTest);

}  // namespace
}  // namespace corral::test
