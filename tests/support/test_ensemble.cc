#include "tests/support/test_ensemble.h"

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tests/support/net.h"
#include "tests/support/text_file.h"

namespace corral::test {

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string hex(int64_t v) {
  std::ostringstream out;
  out << std::hex << static_cast<uint64_t>(v);
  return out.str();
}

}  // namespace

TestEnsemble::TestEnsemble(int size, ServerKind kind, std::map<std::string, std::string> extra, int observers)
    : kind_(kind), extra_(std::move(extra)), observers_(observers) {
  std::set<uint16_t> used;
  const auto fresh_port = [&] {
    for (;;) {
      const uint16_t p = pick_free_port();
      if (used.insert(p).second) return p;
    }
  };
  nodes_.resize(static_cast<std::size_t>(size));
  for (int i = 0; i < size; ++i) {
    Node& n = nodes_[i];
    n.myid = i + 1;
    n.client_port = fresh_port();
    n.quorum_port = fresh_port();
    n.election_port = fresh_port();
    n.dir = std::make_unique<TempDir>(kind == ServerKind::corral ? "corral-ensemble" : "corral-zk-ensemble");
    std::filesystem::create_directories(n.dir->path() / "data");
    std::ofstream(n.dir->path() / "data" / "myid") << n.myid << "\n";
  }
}

TestEnsemble::~TestEnsemble() {
  for (auto& n : nodes_) n.process.reset();
}

void TestEnsemble::write_config(const Node& node) const {
  std::map<std::string, std::string> keys = {
      {"tickTime", "200"},
      {"initLimit", "25"},
      {"syncLimit", "10"},
      {"minSessionTimeout", "400"},
      {"maxSessionTimeout", "30000"},
      {"cnxTimeout", "1000"},
      {"4lw.commands.whitelist", "*"},
      // Not ZooKeeper's own keys: become system properties zookeeper.<key>.
      {"admin.enableServer", "false"},
      {"extendedTypesEnabled", "true"},
  };
  for (const auto& [k, v] : extra_) keys[k] = v;
  keys["dataDir"] = (node.dir->path() / "data").string();
  keys["clientPort"] = std::to_string(node.client_port);
  keys["clientPortAddress"] = "127.0.0.1";
  if (is_observer(node.myid - 1)) keys["peerType"] = "observer";
  std::ofstream out(node.dir->path() / "zoo.cfg", std::ios::trunc);
  for (const auto& [k, v] : keys) out << k << "=" << v << "\n";
  for (const auto& n : nodes_) {
    out << "server." << n.myid << "=127.0.0.1:" << n.quorum_port << ":" << n.election_port
        << (is_observer(n.myid - 1) ? ":observer" : "") << "\n";
  }
  if (!out) throw std::runtime_error("cannot write zoo.cfg in " + node.dir->path().string());
}

void TestEnsemble::launch(int i) {
  Node& n = nodes_[i];
  write_config(n);
  if (kind_ == ServerKind::corral) {
    n.process = std::make_unique<Process>(
        std::vector<std::string>{corral_server_binary(), (n.dir->path() / "zoo.cfg").string()},
        n.dir->path() / "server.log");
    return;
  }
  const std::vector<std::string> cmd = {
      env_or("JAVA", "/usr/bin/java"),
      "-Xmx128m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",  // starts faster; these servers carry little load
      "-Dorg.slf4j.simpleLogger.showDateTime=true",
      "-cp",
      env_or("ZOOKEEPER_CLASSPATH",
             "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"),
      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
      (n.dir->path() / "zoo.cfg").string()};
  n.process = std::make_unique<Process>(cmd, n.dir->path() / "server.log");
}

void TestEnsemble::wait_serving(int i, const Deadline& deadline) {
  for (;;) {
    if (!nodes_[i].process->alive()) {
      throw std::runtime_error(name() + " node " + std::to_string(i + 1) + " " +
                               describe_wait_status(*nodes_[i].process->status()) + "\n" + logs_tail());
    }
    if (!mode(i).empty()) return;
    if (deadline.expired()) {
      throw std::runtime_error(name() + " node " + std::to_string(i + 1) + " did not serve in time\n" + logs_tail());
    }
    std::this_thread::sleep_for(20ms);
  }
}

void TestEnsemble::start(milliseconds timeout) {
  for (int i = 0; i < size(); ++i) launch(i);
  const Deadline deadline(timeout);
  for (int i = 0; i < size(); ++i) wait_serving(i, deadline);
}

void TestEnsemble::restart(int i, milliseconds timeout) {
  kill9(i);
  launch_and_wait(i, timeout);
}

void TestEnsemble::wait_serving(int i, milliseconds timeout) { wait_serving(i, Deadline(timeout)); }

void TestEnsemble::launch_and_wait(int i, milliseconds timeout) {
  launch(i);
  wait_serving(i, Deadline(timeout));
}

void TestEnsemble::pause(int i) {
  if (!nodes_[i].process) return;
  nodes_[i].process->signal(SIGSTOP);
  // kill() returns before every thread has stopped; one still running may
  // read a message the test means it never to see.
  if (!wait_until([&] { return nodes_[i].process->stopped(); }, 30s)) {
    throw std::runtime_error(name() + " node " + std::to_string(i + 1) + " did not stop within 30 s of SIGSTOP");
  }
}

void TestEnsemble::resume(int i) {
  if (nodes_[i].process) nodes_[i].process->signal(SIGCONT);
}

int TestEnsemble::wait_for_leader(milliseconds timeout) const {
  int found = -1;
  auto* self = const_cast<TestEnsemble*>(this);
  wait_until(
      [&] {
        found = leader();
        if (found < 0) return false;
        for (int i = 0; i < size(); ++i) {
          if (self->alive(i) && mode(i).empty()) return false;
        }
        return true;
      },
      timeout);
  return found;
}

std::string TestEnsemble::name() const { return kind_ == ServerKind::corral ? "corral" : "ZooKeeper"; }

std::string TestEnsemble::host_port(int i) const { return "127.0.0.1:" + std::to_string(nodes_[i].client_port); }

std::string TestEnsemble::four_letter(int i, const std::string& word) const {
  return four_letter_word(nodes_[i].client_port, word, 1000ms).value_or("");
}

int TestEnsemble::leader() const {
  for (int i = 0; i < size(); ++i) {
    if (mode(i) == "leader") return i;
  }
  return -1;
}

std::string TestEnsemble::connect_string() const {
  std::string out;
  for (const auto& n : nodes_) {
    if (!out.empty()) out += ",";
    out += "127.0.0.1:" + std::to_string(n.client_port);
  }
  return out;
}

void TestEnsemble::kill9(int i) {
  if (nodes_[i].process) nodes_[i].process->kill();
}

bool TestEnsemble::alive(int i) { return nodes_[i].process && nodes_[i].process->alive(); }

std::string TestEnsemble::mode(int i) const {
  const auto answer = four_letter_word(nodes_[i].client_port, "srvr", 1000ms);
  if (!answer) return "";
  for (const char* m : {"leader", "follower", "observer", "standalone"}) {
    if (answer->find(std::string("Mode: ") + m) != std::string::npos) return m;
  }
  return "";
}

int TestEnsemble::node_with_session(int64_t id) const {
  const std::string needle = "sid=0x" + hex(id) + ",";
  int found = -1;
  for (int i = 0; i < size(); ++i) {
    const auto answer = four_letter_word(nodes_[i].client_port, "cons", 1000ms);
    if (answer && answer->find(needle) != std::string::npos) {
      if (found >= 0) return -1;  // an old connection not yet closed
      found = i;
    }
  }
  return found;
}

std::string TestEnsemble::log(int i) const { return read_file(nodes_[i].dir->path() / "server.log"); }

std::string TestEnsemble::logs_tail(std::size_t bytes) const {
  std::string out;
  for (int i = 0; i < size(); ++i) {
    const std::string l = log(i);
    out += "---- " + name() + " node " + std::to_string(i + 1) + " (" +
           (nodes_[i].dir->path() / "server.log").string() + ") ----\n" +
           (l.size() > bytes ? l.substr(l.size() - bytes) : l) + "\n";
  }
  return out;
}

}  // namespace corral::test
