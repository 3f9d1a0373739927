#include "tests/support/test_server.h"

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/net.h"

#ifndef CORRAL_SERVER_BIN
#error "CORRAL_SERVER_BIN must name the corral-server binary (set by CMake)"
#endif

namespace corral::test {

namespace {

std::string tail(const std::string& text, std::size_t max_bytes = 6000) {
  return text.size() <= max_bytes ? text : "..." + text.substr(text.size() - max_bytes);
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

}  // namespace

ServerKind default_server_kind() {
  return env_or("CORRAL_TEST_SERVER", "corral") == "zookeeper" ? ServerKind::zookeeper : ServerKind::corral;
}

std::string corral_server_binary() { return env_or("CORRAL_SERVER_BIN", CORRAL_SERVER_BIN); }

TestServer::TestServer(ServerOptions options) : options_(std::move(options)), dir_("corral-server") {
  std::filesystem::create_directories(data_dir());
}

TestServer::~TestServer() { process_.reset(); }

void TestServer::write_config() const {
  std::map<std::string, std::string> keys = {
      {"tickTime", std::to_string(options_.tick_time_ms)},
      {"minSessionTimeout", std::to_string(options_.min_session_timeout_ms)},
      {"maxSessionTimeout", std::to_string(options_.max_session_timeout_ms)},
      {"4lw.commands.whitelist", "*"},
  };
  if (is_corral()) {
    keys["znode.container.checkIntervalMs"] = std::to_string(options_.container_check_interval_ms);
    keys["preAllocSize"] = "1024";  // KB: keeps the many small test logs small
  }
  for (const auto& [k, v] : options_.extra) keys[k] = v;
  keys["dataDir"] = data_dir().string();
  keys["clientPort"] = std::to_string(port_);
  keys["clientPortAddress"] = "127.0.0.1";
  std::ofstream out(config_path(), std::ios::trunc);
  for (const auto& [k, v] : keys) out << k << "=" << v << "\n";
  if (!out) throw std::runtime_error("cannot write " + config_path().string());
}

std::vector<std::string> TestServer::command() const {
  if (is_corral()) return {corral_server_binary(), config_path().string()};
  // Apache ZooKeeper from the Debian package; system properties for what
  // zoo.cfg cannot set, no admin server (it would want port 8080).
  std::vector<std::string> cmd = {
      env_or("JAVA", "/usr/bin/java"),
      "-Xmx256m",
      "-Dzookeeper.admin.enableServer=false",
      "-Dzookeeper.extendedTypesEnabled=true",
      "-Dznode.container.checkIntervalMs=" + std::to_string(options_.container_check_interval_ms),
      "-Dorg.slf4j.simpleLogger.showDateTime=true",
  };
  if (auto it = options_.extra.find("jute.maxbuffer"); it != options_.extra.end()) {
    cmd.push_back("-Djute.maxbuffer=" + it->second);
  }
  cmd.insert(cmd.end(), {"-cp",
                         env_or("ZOOKEEPER_CLASSPATH",
                                "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"),
                         "org.apache.zookeeper.server.ZooKeeperServerMain", config_path().string()});
  return cmd;
}

bool TestServer::launch_and_wait(milliseconds timeout, std::string& why) {
  write_config();
  const std::size_t log_before = log().size();
  process_ = std::make_unique<Process>(command(), log_path());
  const Deadline deadline(timeout);
  for (;;) {
    if (!process_->alive()) {
      why = "the server " + describe_wait_status(*process_->status()) + "; its log:\n" + tail(log().substr(log_before));
      return false;
    }
    if (auto answer = four_letter_word(port_, "ruok", std::chrono::milliseconds(1000)); answer && *answer == "imok") {
      // ZooKeeper answers ruok before its request pipeline is up (requests
      // then get "ZooKeeperServer not running"); srvr tells when it serves.
      if (is_corral()) return true;
      if (auto srvr = four_letter_word(port_, "srvr", std::chrono::milliseconds(1000));
          srvr && srvr->find("Mode: ") != std::string::npos) {
        return true;
      }
    }
    if (deadline.expired()) {
      process_->kill();
      why = "the server did not answer ruok on " + host_port() + " within " + std::to_string(timeout.count()) +
            " ms; its log:\n" + tail(log().substr(log_before));
      if (log().find("Address already in use") != std::string::npos) why += "\n(Address already in use)";
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
}

void TestServer::start(milliseconds timeout) {
  if (process_ && process_->alive()) throw std::logic_error("TestServer::start: already running");
  const bool first = port_ == 0;
  const Deadline deadline(timeout);
  std::string why;
  for (int attempt = 0;; ++attempt) {
    if (first) port_ = pick_free_port();
    if (launch_and_wait(deadline.remaining(), why)) return;
    const bool port_taken = why.find("Address already in use") != std::string::npos;
    // A first start tries other ports; a restart waits for its own to come free.
    if (!port_taken || deadline.expired() || (first && attempt >= 20)) break;
    if (!first) std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error(why);
}

void TestServer::kill9() {
  if (process_) process_->kill();
}

std::optional<int> TestServer::stop(milliseconds timeout) {
  if (!process_) return std::nullopt;
  process_->signal(SIGTERM);
  auto status = process_->wait(timeout);
  if (!status) process_->kill();
  return status;
}

void TestServer::restart() {
  kill9();
  start();
}

bool TestServer::alive() { return process_ && process_->alive(); }

pid_t TestServer::pid() const { return process_ ? process_->pid() : -1; }

std::string TestServer::log() const {
  std::ifstream in(log_path(), std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::size_t TestServer::count_log_lines(std::string_view needle) const {
  std::istringstream in(log());
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

bool TestServer::wait_for_log(std::string_view needle, std::size_t count, milliseconds timeout) const {
  return wait_until([&] { return count_log_lines(needle) >= count; }, timeout, 10ms);
}

std::string TestServer::four_letter(std::string_view word) const { return four_letter_word(port_, word).value_or(""); }

}  // namespace corral::test
