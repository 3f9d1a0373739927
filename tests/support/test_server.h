// A server under test as a child process: the real corral-server binary (the
// default) or, as a reference for what ZooKeeper itself does, Apache ZooKeeper
// 3.8 from the Debian package (ServerKind::zookeeper, or the environment
// variable CORRAL_TEST_SERVER=zookeeper for a whole suite). Either listens on a
// 127.0.0.1 port picked at run time and keeps its data in a fresh temporary
// directory.
//
//   TestServer server;              // a fresh dataDir, not running yet
//   server.start();                 // zoo.cfg written, process up, "ruok" answered "imok"
//   ... server.host_port() ...      // "127.0.0.1:<port>" for a client
//   server.kill9(); server.start(); // crash, then restart on the same port and dataDir
//
// The destructor SIGKILLs the process and removes the directory. start()
// retries with a new port when another process took the one picked (first start
// only: a restart keeps its port and retries the bind until its deadline).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace corral::test {

enum class ServerKind { corral, zookeeper };

// ServerKind::zookeeper if CORRAL_TEST_SERVER=zookeeper, else corral.
ServerKind default_server_kind();

// The corral-server binary the build made (CORRAL_SERVER_BIN, set by CMake),
// unless the environment variable CORRAL_SERVER_BIN names another.
std::string corral_server_binary();

struct ServerOptions {
  ServerKind kind = default_server_kind();
  int tick_time_ms = 100;
  // Clamp range of session timeouts; with the short tick above a client may
  // ask for a few hundred milliseconds when it wants to see an expiry.
  int min_session_timeout_ms = 200;
  int max_session_timeout_ms = 30000;
  // Empty containers and expired TTL nodes are looked for this often.
  int container_check_interval_ms = 100;
  // Further zoo.cfg keys; they override the ones above and the launcher's
  // defaults (dataDir, clientPort and clientPortAddress excepted).
  std::map<std::string, std::string> extra;
};

class TestServer {
 public:
  explicit TestServer(ServerOptions options = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // Writes zoo.cfg and starts the process; returns once "ruok" is answered
  // "imok". Throws (with the end of the server's log) if the server exits or
  // does not answer within `timeout`.
  void start(milliseconds timeout = default_timeout);
  // SIGKILL and reap: a crash. The dataDir stays.
  void kill9();
  // SIGTERM and wait for the exit: the wait status, or nullopt if it was
  // still running at the deadline (it is then SIGKILLed).
  std::optional<int> stop(milliseconds timeout = default_timeout);
  // kill9() then start(): same port, same dataDir.
  void restart();
  bool alive();
  pid_t pid() const;
  ServerKind kind() const { return options_.kind; }
  bool is_corral() const { return options_.kind == ServerKind::corral; }

  uint16_t port() const { return port_; }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path data_dir() const { return dir_.path() / "data"; }
  std::filesystem::path config_path() const { return dir_.path() / "zoo.cfg"; }
  std::filesystem::path log_path() const { return dir_.path() / "server.log"; }
  // Changes take effect at the next start().
  ServerOptions& options() { return options_; }

  // Everything the server wrote to stdout and stderr so far, over all its runs.
  std::string log() const;
  // The number of lines of log() that contain `needle`.
  std::size_t count_log_lines(std::string_view needle) const;
  // Waits until at least `count` lines of the log contain `needle`.
  bool wait_for_log(std::string_view needle, std::size_t count = 1, milliseconds timeout = default_timeout) const;
  // A four-letter word's answer ("" if there was none).
  std::string four_letter(std::string_view word) const;

  // Leave the directory (data, zoo.cfg, server.log) behind for a post-mortem.
  void keep_directory() { dir_.keep(); }

 private:
  void write_config() const;
  std::vector<std::string> command() const;
  bool launch_and_wait(milliseconds timeout, std::string& why);

  ServerOptions options_;
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace corral::test
