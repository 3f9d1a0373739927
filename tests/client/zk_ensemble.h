// A 3-node (or n-node) Apache ZooKeeper 3.8 ensemble on loopback, started by a
// test from the Debian package (QuorumPeerMain), for what a single server
// cannot show: a client moving to another server of the ensemble.
//
// Every port (client, quorum, election) is picked at run time, every node has
// its own temporary dataDir with its myid, and the processes die with the
// object (or with the test process). zoo.cfg keys that ZooKeeper does not know
// become "zookeeper."-prefixed system properties (QuorumPeerConfig does this),
// which is how extendedTypesEnabled=true and admin.enableServer=false are
// passed: the same as the Debian launcher's zoo.cfg would.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace corral::test {

class ZkEnsemble {
 public:
  explicit ZkEnsemble(int size = 3);
  ~ZkEnsemble();
  ZkEnsemble(const ZkEnsemble&) = delete;
  ZkEnsemble& operator=(const ZkEnsemble&) = delete;

  // Starts every node and waits until each serves clients (its "srvr" answer
  // names a mode: leader or follower). Throws with the logs' ends if not.
  void start(milliseconds timeout);
  int size() const { return static_cast<int>(nodes_.size()); }

  // "127.0.0.1:p1,127.0.0.1:p2,..."
  std::string connect_string() const;
  uint16_t client_port(int i) const { return nodes_[i].client_port; }
  void kill9(int i);
  // kill9(i) if running, then start it again (same ports, same dataDir) and
  // wait until it serves.
  void restart(int i, milliseconds timeout);
  // The node whose mode is "leader", or -1.
  int leader() const;
  bool alive(int i);
  // "leader", "follower", or "" when the node does not serve.
  std::string mode(int i) const;
  // The one node holding a connection of session `id` ("cons"); -1 if none
  // or several do (a connection the client left is not closed yet).
  int node_with_session(int64_t id) const;
  std::string log(int i) const;
  // The ends of every node's log, for a failed test.
  std::string logs_tail(std::size_t bytes_per_node = 3000) const;

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
  void launch(int i);
  void wait_serving(int i, const Deadline& deadline);

  std::vector<Node> nodes_;
};

}  // namespace corral::test
