// A replicated ensemble on loopback as child processes: corral-server (the
// default) or, as the reference, Apache ZooKeeper 3.8 from the Debian package
// (QuorumPeerMain), for what a single server cannot show: elections,
// replication, a client moving to another server, servers crashing.
//
// Every port (client, quorum, election) is picked at run time, every node has
// its own temporary dataDir with its myid, and the processes die with the
// object (or with the test process). Both kinds read the same zoo.cfg; keys
// that ZooKeeper does not know become "zookeeper."-prefixed system properties
// (QuorumPeerConfig does this), which is how extendedTypesEnabled=true and
// admin.enableServer=false reach it, as the Debian launcher's zoo.cfg would.
//
//   TestEnsemble e(3);                 // corral, or CORRAL_TEST_SERVER=zookeeper
//   e.start(60s);                      // every node serves (srvr names a mode)
//   int l = e.leader(); e.kill9(l);    // crash the leader
//   e.restart(l, 30s);                 // same ports and dataDir
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"
#include "tests/support/wait.h"

namespace corral::test {

class TestEnsemble {
 public:
  // `extra`: further zoo.cfg keys (they override the defaults). The last
  // `observers` of the `size` nodes are observers (":observer" in every
  // server line, peerType=observer in their own zoo.cfg).
  explicit TestEnsemble(int size = 3, ServerKind kind = default_server_kind(),
                        std::map<std::string, std::string> extra = {}, int observers = 0);
  ~TestEnsemble();
  TestEnsemble(const TestEnsemble&) = delete;
  TestEnsemble& operator=(const TestEnsemble&) = delete;

  // Starts every node and waits until each serves clients (its "srvr" answer
  // names a mode: leader or follower). Throws with the logs' ends if not.
  void start(milliseconds timeout);
  int size() const { return static_cast<int>(nodes_.size()); }
  ServerKind kind() const { return kind_; }
  bool is_corral() const { return kind_ == ServerKind::corral; }

  // "127.0.0.1:p1,127.0.0.1:p2,..."
  std::string connect_string() const;
  // "127.0.0.1:p" of node i.
  std::string host_port(int i) const;
  uint16_t client_port(int i) const { return nodes_[i].client_port; }
  void kill9(int i);
  // SIGSTOP / SIGCONT: a node that is alive but silent (a partition, a GC
  // pause). pause() returns once every thread of the node has stopped.
  void pause(int i);
  void resume(int i);
  // Starts a node that is not running (and does not wait).
  void launch(int i);
  // Waits until node i serves clients; throws with the logs' ends if not.
  void wait_serving(int i, milliseconds timeout);
  // launch(i), then wait_serving(i).
  void launch_and_wait(int i, milliseconds timeout);
  // kill9(i) if running, then start it again (same ports, same dataDir) and
  // wait until it serves.
  void restart(int i, milliseconds timeout);
  // The node whose mode is "leader", or -1.
  int leader() const;
  // Waits until a leader serves and every running node serves; the leader or -1.
  int wait_for_leader(milliseconds timeout) const;
  bool alive(int i);
  // "leader", "follower", "observer", or "" when the node does not serve.
  std::string mode(int i) const;
  // A four-letter word's answer from node i ("" if none).
  std::string four_letter(int i, const std::string& word) const;
  // The one node holding a connection of session `id` ("cons"); -1 if none
  // or several do (a connection the client left is not closed yet).
  int node_with_session(int64_t id) const;
  std::string log(int i) const;
  // The ends of every node's log, for a failed test.
  std::string logs_tail(std::size_t bytes_per_node = 3000) const;
  std::filesystem::path data_dir(int i) const { return nodes_[i].dir->path() / "data"; }

 private:
  struct Node {
    int myid = 0;
    uint16_t client_port = 0;
    uint16_t quorum_port = 0;
    uint16_t election_port = 0;
    std::unique_ptr<TempDir> dir;
    std::unique_ptr<Process> process;
  };
  void write_config(const Node& node) const;
  void wait_serving(int i, const Deadline& deadline);
  std::string name() const;

  bool is_observer(int i) const { return i >= size() - observers_; }

  ServerKind kind_;
  std::map<std::string, std::string> extra_;
  int observers_ = 0;
  std::vector<Node> nodes_;
};

}  // namespace corral::test
