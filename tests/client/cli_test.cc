// corral-cli as a user runs it: one command per invocation and a scripted
// interactive session, against a live corral-server. Output and exit codes
// are what scripts depend on: 0 on success, 1 with one line on stderr when a
// command fails, 2 for a usage error.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"
#include "tests/support/wait.h"

namespace corral::test {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Under ASan, the first exception thrown across a fiber stack makes the
// runtime print a three-line note about stack switching (it cannot see
// Boost.Context's switches). It is not the CLI's output: leave it out.
std::string without_sanitizer_notes(const std::string& text) {
  std::istringstream in(text);
  std::string out, line;
  int skip = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("==") && line.find("__asan_handle_no_return") != std::string::npos) {
      skip = 2;
      continue;
    }
    if (skip > 0) {
      --skip;
      continue;
    }
    out += line + "\n";
  }
  if (!text.empty() && text.back() != '\n' && !out.empty()) out.pop_back();
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.start(); }

  // Runs corral-cli with `args`, feeding `input` on stdin (through a file).
  CliRun cli(std::vector<std::string> args, const std::string& input = "") {
    const auto in = dir_.path() / ("in" + std::to_string(runs_));
    const auto out = dir_.path() / ("out" + std::to_string(runs_++));
    std::ofstream(in) << input;
    std::vector<std::string> argv{"/bin/sh", "-c", ""};
    std::string command = "exec '" CORRAL_CLI_BIN "' -server " + server_.host_port();
    for (const auto& a : args) command += " '" + a + "'";
    argv[2] = command + " < '" + in.string() + "'";
    Process p(argv, out);
    const auto status = p.wait(std::chrono::seconds(30));
    CliRun r;
    if (status && WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
    std::ifstream f(out);
    std::stringstream s;
    s << f.rdbuf();
    r.output = without_sanitizer_notes(s.str());
    return r;
  }

  TempDir dir_{"corral-cli-test"};
  TestServer server_;
  int runs_ = 0;
};

TEST_F(CliTest, OneCommandPerInvocation) {
  EXPECT_EQ(cli({"create", "/app", "hello"}).output, "Created /app\n");
  EXPECT_EQ(cli({"create", "-s", "/app/job-", "a"}).output, "Created /app/job-0000000000\n");
  EXPECT_EQ(cli({"get", "/app"}).output, "hello\n");
  EXPECT_EQ(cli({"set", "/app", "world"}).exit_code, 0);
  const CliRun got = cli({"get", "-s", "/app"});
  EXPECT_EQ(got.output.substr(0, 6), "world\n");
  EXPECT_NE(got.output.find("dataVersion = 1"), std::string::npos) << got.output;
  EXPECT_EQ(cli({"ls", "/app"}).output, "[job-0000000000]\n");
  EXPECT_EQ(cli({"ls", "-R", "/app"}).output, "/app\n/app/job-0000000000\n");
  EXPECT_EQ(cli({"getAllChildrenNumber", "/app"}).output, "1\n");
  EXPECT_EQ(cli({"sync", "/app"}).output, "Sync is OK\n");
  EXPECT_EQ(cli({"deleteall", "/app"}).exit_code, 0);
  EXPECT_EQ(cli({"ls", "/"}).output, "[zookeeper]\n");
}

TEST_F(CliTest, FailuresAreOneLineAndExitOne) {
  const CliRun missing = cli({"get", "/nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output, "Node does not exist: /nope\n");
  cli({"create", "/x"});
  const CliRun twice = cli({"create", "/x"});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_EQ(twice.output, "Node already exists: /x\n");
  EXPECT_EQ(cli({"delete", "-v", "7", "/x"}).output, "version No is not valid : /x\n");
  EXPECT_EQ(cli({"bogus"}).exit_code, 1);
  EXPECT_EQ(cli({"create", "/y", "d", "world:anyone:xyz"}).exit_code, 1);
}

TEST_F(CliTest, UsageErrorsExitTwoAndUnreachableServersExitOne) {
  {
    Process p({CORRAL_CLI_BIN, "-timeout", "abc"}, dir_.path() / "usage");
    const auto status = p.wait(std::chrono::seconds(10));
    ASSERT_TRUE(status && WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 2);
  }
  Process p({CORRAL_CLI_BIN, "-server", "127.0.0.1:1", "-timeout", "1000", "ls", "/"}, dir_.path() / "unreachable");
  const auto status = p.wait(std::chrono::seconds(30));
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 1);
}

TEST_F(CliTest, AclsAndAuth) {
  const CliRun created = cli({"create", "/secret", "s", "digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:cdrwa"});
  EXPECT_EQ(created.exit_code, 0) << created.output;
  EXPECT_EQ(cli({"get", "/secret"}).output, "Insufficient permission : /secret\n");
  // addauth and the read share one connection in an interactive session.
  const CliRun session = cli({}, "addauth digest alice:secret\nget /secret\ngetAcl /secret\nquit\n");
  EXPECT_EQ(session.exit_code, 0) << session.output;
  EXPECT_NE(session.output.find("s\n"), std::string::npos) << session.output;
  EXPECT_NE(session.output.find("'digest,'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=\n: cdrwa"), std::string::npos)
      << session.output;
}

TEST_F(CliTest, InteractiveSessionKeepsGoingAfterAFailure) {
  const CliRun r = cli({}, "create /i one\nget /missing\nset /i two\nget /i\ncreate -e /i/e\nquit\n");
  EXPECT_EQ(r.exit_code, 1);  // one command failed
  EXPECT_NE(r.output.find("Node does not exist: /missing"), std::string::npos);
  EXPECT_NE(r.output.find("two\n"), std::string::npos);
  EXPECT_NE(r.output.find("Created /i/e"), std::string::npos);
  // The ephemeral died with the CLI's session.
  EXPECT_EQ(cli({"ls", "/i"}).output, "[]\n");
}

TEST_F(CliTest, WatchPrintsEventsUntilTheCount) {
  const auto out = dir_.path() / "watch";
  Process watcher({CORRAL_CLI_BIN, "-server", server_.host_port(), "watch", "-R", "-n", "2", "/w"}, out);
  // The watch is in place once the server lists it.
  ASSERT_TRUE(wait_until([&] { return server_.four_letter("wchp").find("/w") != std::string::npos; }));
  cli({"create", "/w"});
  cli({"create", "/w/x"});
  const auto status = watcher.wait(std::chrono::seconds(20));
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  std::ifstream f(out);
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_EQ(text.str(), "WatchedEvent type:NodeCreated path:/w\nWatchedEvent type:NodeCreated path:/w/x\n");
}

}  // namespace
}  // namespace corral::test
