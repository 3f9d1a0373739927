// The fixture of the behavioural client suite: the same tests against
// corral-server and against Apache ZooKeeper 3.8 (the test parameter).
//
// One server per kind per test process, started on first use and shared by
// the tests that run in that process: CMake runs each corral test in its own
// process (corral-server starts in milliseconds) and each ZooKeeper suite in
// one process (the JVM takes seconds to start). Each test works below its own
// node ("/<Suite>.<Test>"), so tests sharing a server do not see each other.
// Tests that kill or reconfigure a server start their own.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>

#include "corral/client.h"
#include "tests/client/fiber_test_util.h"
#include "tests/support/test_server.h"

namespace corral::test {

std::string kind_name(ServerKind kind);
// How gtest prints the parameter.
inline void PrintTo(ServerKind kind, std::ostream* out) { *out << kind_name(kind); }

// The shared server of `kind` for this process (started on first use).
TestServer& shared_server(ServerKind kind);

// Prints the end of a server's log (for a failed test).
void print_log_tail(const TestServer& server, std::size_t bytes = 6000);

class ClientTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override;
  void TearDown() override;

  ServerKind kind() const { return GetParam(); }
  bool is_corral() const { return kind() == ServerKind::corral; }
  TestServer& server() { return shared_server(kind()); }
  // "/<Suite>.<Test>": this test's own part of the tree.
  const std::string& base() const { return base_; }
  std::string at(std::string_view rel) const { return base_ + "/" + std::string(rel); }

  ClientOptions options(std::string_view chroot = {}) const;
  // A connected client (connect() with a deadline; fails the test if it cannot).
  std::unique_ptr<Client> connect(Runtime& rt, std::string_view chroot = {});
  std::unique_ptr<Client> connect(Runtime& rt, ClientOptions options);
  // A connected client of another address (a proxy in front of the server).
  std::unique_ptr<Client> connect_to(Runtime& rt, const std::string& host_port);
  // Ends `victim`'s session from another connection that resumes it and
  // closes it (Curator's KillSession); the victim must be cut off meanwhile.
  void expire_session(Runtime& rt, const Client& victim);

  // Runs `body(runtime, client)` in a fiber with a connected client for
  // which base() exists.
  template <class F>
  void with_client(F&& body) {
    run_fibers([&](Runtime& rt) {
      auto c = connect(rt);
      if (!c) return;
      std::error_code ec;
      c->create(base_, "", {}, ec);
      ASSERT_TRUE(!ec || ec == Error::nodeExists) << ec.message();
      body(rt, *c);
    });
  }

 private:
  std::string base_;
};

// For INSTANTIATE_TEST_SUITE_P: ".../corral" and ".../zookeeper".
std::string param_name(const ::testing::TestParamInfo<ServerKind>& info);

#define CORRAL_CLIENT_SUITE(Suite) \
  INSTANTIATE_TEST_SUITE_P(Servers, Suite, ::testing::Values(ServerKind::corral, ServerKind::zookeeper), param_name)

// Asserts an error_code equals a ZooKeeper code, naming both on failure.
#define EXPECT_ZK(ec, code) EXPECT_EQ((ec), std::error_code(code)) << (ec).message()
#define ASSERT_ZK(ec, code) ASSERT_EQ((ec), std::error_code(code)) << (ec).message()

}  // namespace corral::test
