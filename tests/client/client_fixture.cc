#include "tests/client/client_fixture.h"

#include <iostream>
#include <map>

namespace corral::test {

std::string kind_name(ServerKind kind) { return kind == ServerKind::corral ? "corral" : "zookeeper"; }

std::string param_name(const ::testing::TestParamInfo<ServerKind>& info) { return kind_name(info.param); }

TestServer& shared_server(ServerKind kind) {
  // Destroyed (the process SIGKILLed, its directory removed) at exit.
  static std::map<ServerKind, std::unique_ptr<TestServer>> servers;
  auto& s = servers[kind];
  if (!s) {
    ServerOptions options;
    options.kind = kind;
    s = std::make_unique<TestServer>(options);
    // A JVM on a loaded machine (or next to a sanitizer build) is slow to start.
    s->start(kind == ServerKind::zookeeper ? 60s : default_timeout);
  }
  return *s;
}

void print_log_tail(const TestServer& server, std::size_t bytes) {
  const std::string log = server.log();
  std::cerr << "---- " << kind_name(server.kind()) << " log (" << server.log_path() << ", last " << bytes
            << " bytes) ----\n"
            << (log.size() > bytes ? log.substr(log.size() - bytes) : log) << "\n---- end of log ----\n";
}

void ClientTest::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& ch : name) {
    if (ch == '/') ch = '_';
  }
  base_ = "/" + name;
  server();  // start it outside the test's own timing
}

void ClientTest::TearDown() {
  if (HasFailure()) print_log_tail(server());
}

ClientOptions ClientTest::options(std::string_view chroot) const {
  ClientOptions o;
  o.connect_string = shared_server(kind()).host_port() + std::string(chroot);
  o.session_timeout = 10s;
  return o;
}

std::unique_ptr<Client> ClientTest::connect(Runtime& rt, std::string_view chroot) {
  return connect(rt, options(chroot));
}

std::unique_ptr<Client> ClientTest::connect(Runtime& rt, ClientOptions o) {
  auto c = std::make_unique<Client>(rt, std::move(o));
  std::error_code ec;
  c->connect(default_timeout, ec);
  if (ec) {
    ADD_FAILURE() << "connect: " << ec.message();
    return nullptr;
  }
  return c;
}

std::unique_ptr<Client> ClientTest::connect_to(Runtime& rt, const std::string& host_port) {
  auto o = options();
  o.connect_string = host_port;
  return connect(rt, o);
}

void ClientTest::expire_session(Runtime& rt, const Client& victim) {
  auto o = options();
  o.session_id = victim.session_id();
  o.session_password = victim.session_password();
  auto closer = connect(rt, o);
  ASSERT_TRUE(closer);
  ASSERT_EQ(closer->session_id(), victim.session_id()) << "did not resume the session";
  closer->close();
}

}  // namespace corral::test
