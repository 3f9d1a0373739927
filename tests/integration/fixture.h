// The fixture every integration test uses: a fresh server (corral-server, or
// Apache ZooKeeper with CORRAL_TEST_SERVER=zookeeper) per test, clients that
// connect to it, and the check that it still serves everyone.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <string>

#include "tests/support/digest.h"
#include "tests/support/net.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_server.h"
#include "tests/support/wait.h"
#include "tests/support/zk_client.h"

namespace corral::test {

class ServerTest : public ::testing::Test {
 protected:
  // Adjusts the server's configuration before it starts.
  virtual void configure(ServerOptions&) {}

  void SetUp() override {
    ServerOptions options;
    configure(options);
    server_ = std::make_unique<TestServer>(std::move(options));
    server_->start();
  }

  void TearDown() override {
    if (server_) {
      // A sanitizer report from the server (or its snapshot child) fails the
      // test even when the clients noticed nothing.
      const std::string log = server_->log();
      for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
        EXPECT_EQ(log.find(marker), std::string::npos) << "the server log reports '" << marker << "'";
      }
    }
    if (HasFailure() && server_) {
      const std::string log = server_->log();
      std::cerr << "---- server log (" << server_->log_path() << ", last 8000 bytes) ----\n"
                << (log.size() > 8000 ? log.substr(log.size() - 8000) : log) << "---- end of server log ----\n";
    }
    server_.reset();  // SIGKILL and remove the directory
  }

  TestServer& server() { return *server_; }
  bool is_corral() const { return server_->is_corral(); }

  // A connected C client with a new session.
  std::unique_ptr<ZkClient> connect(int timeout_ms = 10000) {
    return ZkClient::connect(server_->host_port(), timeout_ms);
  }
  // A raw session (handshake done).
  std::unique_ptr<RawSession> raw(RawSession::Options options = {}) {
    return std::make_unique<RawSession>(server_->port(), std::move(options));
  }

  // The server is alive, answers ruok, and a new client can write and read.
  void expect_serving() {
    ASSERT_TRUE(server_->alive()) << "the server process is gone";
    EXPECT_EQ(server_->four_letter("ruok"), "imok");
    auto c = connect();
    const std::string path = "/still-serving-" + std::to_string(++serving_checks_);
    ASSERT_EQ(c->create(path, "yes"), ZOK);
    std::string data;
    ASSERT_EQ(c->get(path, &data), ZOK);
    EXPECT_EQ(data, "yes");
  }

 private:
  std::unique_ptr<TestServer> server_;
  int serving_checks_ = 0;
};

// Skips a test that checks a detail of Corral's own (a log line) when the
// suite runs against Apache ZooKeeper for reference.
#define CORRAL_ONLY()                                                           \
  do {                                                                          \
    if (!is_corral()) GTEST_SKIP() << "checks a Corral detail (reference run)"; \
  } while (0)

}  // namespace corral::test
