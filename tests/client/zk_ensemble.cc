#include "tests/client/zk_ensemble.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tests/support/net.h"

namespace corral::test {

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string hex(int64_t v) {
  std::ostringstream out;
  out << std::hex << static_cast<uint64_t>(v);
  return out.str();
}

}  // namespace

ZkEnsemble::ZkEnsemble(int size) {
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
    n.dir = std::make_unique<TempDir>("corral-zk-ensemble");
    std::filesystem::create_directories(n.dir->path() / "data");
    std::ofstream(n.dir->path() / "data" / "myid") << n.myid << "\n";
  }
}

ZkEnsemble::~ZkEnsemble() {
  for (auto& n : nodes_) n.process.reset();
}

void ZkEnsemble::write_config(const Node& node) const {
  std::ofstream out(node.dir->path() / "zoo.cfg", std::ios::trunc);
  out << "tickTime=200\n"
      << "initLimit=25\n"
      << "syncLimit=10\n"
      << "minSessionTimeout=400\n"
      << "maxSessionTimeout=30000\n"
      << "cnxTimeout=1000\n"
      << "dataDir=" << (node.dir->path() / "data").string() << "\n"
      << "clientPort=" << node.client_port << "\n"
      << "clientPortAddress=127.0.0.1\n"
      << "4lw.commands.whitelist=*\n"
      // Not ZooKeeper's own keys: become system properties zookeeper.<key>.
      << "admin.enableServer=false\n"
      << "extendedTypesEnabled=true\n";
  for (const auto& n : nodes_) {
    out << "server." << n.myid << "=127.0.0.1:" << n.quorum_port << ":" << n.election_port << "\n";
  }
  if (!out) throw std::runtime_error("cannot write zoo.cfg in " + node.dir->path().string());
}

void ZkEnsemble::launch(int i) {
  Node& n = nodes_[i];
  write_config(n);
  const std::vector<std::string> cmd = {
      env_or("JAVA", "/usr/bin/java"),
      "-Xmx128m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",  // starts faster; these servers carry little load
      "-Dorg.slf4j.simpleLogger.showDateTime=true",
      "-cp",
      env_or("ZOOKEEPER_CLASSPATH", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"),
      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
      (n.dir->path() / "zoo.cfg").string()};
  n.process = std::make_unique<Process>(cmd, n.dir->path() / "server.log");
}

void ZkEnsemble::wait_serving(int i, const Deadline& deadline) {
  for (;;) {
    if (!nodes_[i].process->alive()) {
      throw std::runtime_error("ZooKeeper node " + std::to_string(i + 1) + " " +
                               describe_wait_status(*nodes_[i].process->status()) + "\n" + logs_tail());
    }
    if (!mode(i).empty()) return;
    if (deadline.expired()) {
      throw std::runtime_error("ZooKeeper node " + std::to_string(i + 1) + " did not serve in time\n" + logs_tail());
    }
    std::this_thread::sleep_for(20ms);
  }
}

void ZkEnsemble::start(milliseconds timeout) {
  for (int i = 0; i < size(); ++i) launch(i);
  const Deadline deadline(timeout);
  for (int i = 0; i < size(); ++i) wait_serving(i, deadline);
}

void ZkEnsemble::restart(int i, milliseconds timeout) {
  kill9(i);
  launch(i);
  wait_serving(i, Deadline(timeout));
}

int ZkEnsemble::leader() const {
  for (int i = 0; i < size(); ++i) {
    if (mode(i) == "leader") return i;
  }
  return -1;
}

std::string ZkEnsemble::connect_string() const {
  std::string out;
  for (const auto& n : nodes_) {
    if (!out.empty()) out += ",";
    out += "127.0.0.1:" + std::to_string(n.client_port);
  }
  return out;
}

void ZkEnsemble::kill9(int i) {
  if (nodes_[i].process) nodes_[i].process->kill();
}

bool ZkEnsemble::alive(int i) { return nodes_[i].process && nodes_[i].process->alive(); }

std::string ZkEnsemble::mode(int i) const {
  const auto answer = four_letter_word(nodes_[i].client_port, "srvr", 1000ms);
  if (!answer) return "";
  for (const char* m : {"leader", "follower", "observer", "standalone"}) {
    if (answer->find(std::string("Mode: ") + m) != std::string::npos) return m;
  }
  return "";
}

int ZkEnsemble::node_with_session(int64_t id) const {
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

std::string ZkEnsemble::log(int i) const { return read_file(nodes_[i].dir->path() / "server.log"); }

std::string ZkEnsemble::logs_tail(std::size_t bytes) const {
  std::string out;
  for (int i = 0; i < size(); ++i) {
    const std::string l = log(i);
    out += "---- ZooKeeper node " + std::to_string(i + 1) + " (" + (nodes_[i].dir->path() / "server.log").string() +
           ") ----\n" + (l.size() > bytes ? l.substr(l.size() - bytes) : l) + "\n";
  }
  return out;
}

}  // namespace corral::test
