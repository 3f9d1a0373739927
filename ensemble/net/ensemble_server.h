// corral-server as one server of a replicated ensemble: the shell around
// QuorumPeer (election, Zab, ServerCore), like StandaloneServer is the shell
// around a lone ServerCore.
//
// One io_context thread owns everything: the client front end, the election
// port (every server keeps one outgoing link per other server for its votes
// and reads the votes of others on the links they open), the quorum port
// (a leader accepts its learners here; a learner opens one link to its
// leader), the data store, and a timer that ticks the peer. Every input goes
// to the peer, then drive() carries out the peer's effects in order.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "corral/asio.h"
#include "ensemble/config/config.h"
#include "ensemble/core/quorum/quorum_peer.h"
#include "ensemble/core/server_core.h"
#include "ensemble/net/client_front_end.h"
#include "ensemble/net/data_store.h"
#include "ensemble/net/peer_link.h"

namespace corral::ensemble {

class EnsembleServer {
 public:
  explicit EnsembleServer(ServerConfig config);

  // Loads the replica and the epoch files. Throws on unrecoverable storage errors.
  void recover();
  // Binds the client, election and quorum ports; throws if it cannot.
  void listen();
  // Serves until SIGTERM/SIGINT.
  void run();

 private:
  using PeerId = quorum::PeerId;

  void drive();
  void carry_out(quorum::ZabEffect& e);
  void send_vote(std::optional<PeerId> to, const proto::Notification& n);
  void accept_election();
  void accept_quorum();
  void on_election_link(const std::shared_ptr<PeerLink>& link);
  void on_quorum_link(const std::shared_ptr<PeerLink>& link);
  void connect_quorum(PeerId peer);
  void drop_quorum(PeerId peer);
  void drop_all_quorum();
  void stream_snapshot(PeerId peer);
  void reload();
  void on_synced(int64_t zxid);
  void after_input();
  std::string on_four_letter_word(std::string_view word);
  void schedule_tick();

  ServerConfig config_;
  ServerCore core_;
  asio::io_context io_;
  DataStore store_;
  ClientFrontEnd front_;
  std::optional<quorum::QuorumPeer> peer_;
  std::map<PeerId, asio::ip::tcp::endpoint> election_endpoints_;
  std::map<PeerId, asio::ip::tcp::endpoint> quorum_endpoints_;
  asio::ip::tcp::acceptor election_acceptor_;
  asio::ip::tcp::acceptor quorum_acceptor_;
  std::map<PeerId, std::shared_ptr<PeerLink>> votes_out_;  // our votes to each server
  std::vector<std::weak_ptr<PeerLink>> votes_in_;          // others' votes to us (closed at shutdown)
  std::vector<std::weak_ptr<PeerLink>> accepted_quorum_;   // learners' links, also before their Hello
  std::map<PeerId, std::shared_ptr<PeerLink>> quorum_;     // leader: its learners; learner: its leader
  std::string snapshot_in_;                                // chunks of the leader's snapshot so far
  asio::signal_set signals_;
  asio::steady_timer tick_timer_;
  bool serving_ = false;
  bool driving_ = false;
  bool stopping_ = false;
};

}  // namespace corral::ensemble
