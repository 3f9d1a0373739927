// zoo.cfg: the server's configuration, read the way Apache ZooKeeper 3.8 reads it.
//
// The file is a java.util.Properties file (`key=value`, `key: value` or
// `key value`; `#` and `!` comment lines; a trailing backslash continues a
// line; later duplicates override earlier ones). Keys and values are trimmed.
// Defaults and validation follow ZooKeeper's QuorumPeerConfig, with these
// deliberate differences, each reported to the operator:
//   * a key ZooKeeper would silently turn into a system property is an
//     "unknown key ... ignored" warning here;
//   * ZooKeeper options Corral does not implement are warned about and ignored,
//     except those whose absence would change the quorum (dynamicConfigFile,
//     group.N / weight.N, multi-address server lines), which are errors;
//   * numbers and booleans are parsed strictly (no trailing garbage, overflow
//     is an error), and bad values are errors where ZooKeeper sometimes falls
//     back to a default without a word;
//   * server ids must be 1..254: a session id carries the server id in its top
//     byte and TTL nodes (extended types) need the id to stay below 255.
//
// Parsing is pure: parse_config() takes the text and a callback that reads
// `<dataDir>/myid`. load_config() is the thin wrapper that reads real files.
// Bad input never throws: the result holds either a config or one error line
// ("zoo.cfg:7: tickTime must be a positive integer, got \"abc\"") that the
// server prints before exiting non-zero. Warnings are collected either way.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace corral::ensemble {

// The four-letter words Corral answers; `4lw.commands.whitelist=*` enables all.
inline constexpr std::array<std::string_view, 15> supported_four_letter_words = {
    "ruok", "srvr", "stat", "mntr", "conf", "cons", "crst", "srst",
    "envi", "wchs", "wchc", "wchp", "dump", "isro", "dirs"};

enum class PeerRole { participant, observer };
std::string_view to_string(PeerRole role) noexcept;

struct Endpoint {
  std::string host;  // as written (IPv6 without its brackets); never resolved here
  std::uint16_t port = 0;

  // "host:port", with brackets around an IPv6 host.
  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// One `server.N=host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]` line.
struct Peer {
  std::uint32_t id = 0;  // N, 1..254
  Endpoint quorum;       // where followers and observers reach this server when it leads
  Endpoint election;     // leader election
  PeerRole role = PeerRole::participant;
  // The client address after ';'. A bare port means host "0.0.0.0", as in ZooKeeper.
  std::optional<Endpoint> client;
  int line = 0;  // line of zoo.cfg it came from, for messages

  friend bool operator==(const Peer&, const Peer&) = default;
};

struct ServerConfig {
  // tickTime: the basic time unit in milliseconds (heartbeats, limits in ticks). Default 3000.
  int tick_time_ms = 3000;
  // initLimit: ticks a follower may take to connect and sync to a leader.
  // No default: required (> 0) when the ensemble has two or more voting members.
  int init_limit = 0;
  // syncLimit: ticks a follower may lag behind the leader. Required like initLimit.
  int sync_limit = 0;
  // dataDir: snapshots and the myid file. Required.
  std::string data_dir;
  // dataLogDir: the transaction log. Default: data_dir.
  std::string data_log_dir;
  // clientPortAddress:clientPort, or the client address of this server's
  // server.N line when it has one (the two must then agree). clientPort is
  // required (1..65535) unless that line gives it; the host defaults to 0.0.0.0.
  Endpoint client_address{"0.0.0.0", 0};
  // maxClientCnxns: concurrent connections per client IP. Default 60; 0 = unlimited.
  int max_client_cnxns = 60;
  // minSessionTimeout / maxSessionTimeout (ms): the range a client's requested
  // timeout is clamped to. Defaults 2*tickTime and 20*tickTime; min <= max.
  int min_session_timeout_ms = 6000;
  int max_session_timeout_ms = 60000;
  // snapCount (zookeeper.snapCount): txns between snapshots. Default 100000;
  // values below 2 are raised to 2 with a warning, as ZooKeeper does.
  int snap_count = 100000;
  // autopurge.snapRetainCount: snapshots (and their logs) kept by the purge
  // task. Default 3; values below 3 are raised to 3 with a warning, as ZooKeeper does.
  int snap_retain_count = 3;
  // autopurge.purgeInterval: how often the purge task runs. A bare number is
  // hours; suffixes ms/s/m/h/d are accepted as in ZooKeeper. Default 0 = off.
  std::chrono::milliseconds purge_interval{0};
  // 4lw.commands.whitelist (zookeeper.4lw.commands.whitelist): enabled
  // four-letter words, a comma list or `*` for all. As in ZooKeeper, "srvr" is
  // always enabled and is the only one when the key is absent.
  std::set<std::string, std::less<>> four_letter_words{"srvr"};
  // jute.maxbuffer (zookeeper.jute.maxbuffer): largest packet and znode data
  // size in bytes. Default 0xfffff = 1048575.
  int jute_max_buffer = 0xfffff;
  // DigestAuthenticationProvider.superDigest (also with a "zookeeper." prefix):
  // "user:base64(sha1(user:password))"; whoever authenticates with it bypasses
  // ACLs. Default empty = no super user.
  std::string super_digest;
  // extendedTypesEnabled (zookeeper.extendedTypesEnabled): TTL nodes.
  // Default TRUE in Corral (ZooKeeper's default is false) so TTL nodes work out
  // of the box; this is why server ids stop at 254.
  bool extended_types_enabled = true;
  // znode.container.checkIntervalMs (also with a "zookeeper." prefix): how
  // often empty containers and expired TTL nodes are looked for. Default 60000.
  int container_check_interval_ms = 60000;
  // znode.container.maxPerMinute (also with a "zookeeper." prefix): most
  // container/TTL deletions issued per minute. Default 10000.
  int container_max_per_minute = 10000;
  // globalOutstandingLimit (zookeeper.globalOutstandingLimit): queued requests
  // above which the server stops reading from clients. Default 1000.
  int global_outstanding_limit = 1000;
  // preAllocSize (zookeeper.preAllocSize): txn log files grow in steps of this
  // many KB. Default 65536 (64 MB); 0 = no preallocation.
  std::int64_t pre_alloc_size_kb = 65536;
  // forceSync (zookeeper.forceSync): fsync the txn log before acknowledging.
  // Default true. false ("no") risks losing acknowledged writes on power loss;
  // parsing it produces a loud warning.
  bool force_sync = true;
  // standaloneEnabled: with one voting member, run as a plain standalone server
  // (true) or as a one-member quorum (false). Default true.
  bool standalone_enabled = true;
  // electionAlg: only 3 (fast leader election) exists in ZooKeeper 3.8. Default 3.
  int election_alg = 3;
  // quorumListenOnAllIPs: bind quorum and election ports on 0.0.0.0 instead of
  // this server's own address. Default false.
  bool quorum_listen_on_all_ips = false;
  // peerType: participant or observer. Default participant. When this server
  // is in the server list, the list wins (with a warning if they disagree).
  PeerRole peer_type = PeerRole::participant;
  // server.N lines, sorted by id. Empty for a plain standalone config.
  std::vector<Peer> peers;
  // This server's id, from <dataDir>/myid. 0 when it was not needed (no
  // server.N lines, or a single one and no myid file).
  std::uint32_t my_id = 0;

  // True unless this server takes part in a quorum: no server.N lines, or one
  // voting member while standaloneEnabled is true (ZooKeeper's isDistributed()).
  bool is_standalone() const;
  // The peer with my_id, or nullptr.
  const Peer* me() const;
  // The peer with this id, or nullptr.
  const Peer* peer(std::uint32_t id) const;
  // Ids of the participants (voting members) and of the observers, ascending.
  std::vector<std::uint32_t> voting_members() const;
  std::vector<std::uint32_t> observers() const;
  // Votes needed for a majority: voting members / 2 + 1 (1 when standalone).
  std::size_t quorum_size() const;
  bool four_letter_word_enabled(std::string_view word) const;
  std::int64_t pre_alloc_size_bytes() const { return pre_alloc_size_kb * 1024; }
};

// What parse_config() and load_config() hand back.
struct ConfigResult {
  std::optional<ServerConfig> config;  // set on success
  std::string error;                   // one line, set on failure
  std::vector<std::string> warnings;   // "zoo.cfg:12: unknown key 'foo' ignored", in file order

  bool ok() const { return config.has_value(); }
  explicit operator bool() const { return ok(); }
};

// Reads `<data_dir>/myid`: the file's contents, or nullopt when it does not
// exist or cannot be read.
using MyIdReader = std::function<std::optional<std::string>(const std::string& data_dir)>;

// Parses zoo.cfg text. `source` names the file in messages ("zoo.cfg:7: ...").
// `read_myid` is called only when there are server.N lines; an empty function
// behaves like a missing myid file.
ConfigResult parse_config(std::string_view text, std::string_view source = "zoo.cfg", const MyIdReader& read_myid = {});

// Reads the file at `path` and parses it, reading myid from the file system.
// Messages name the file as `path`.
ConfigResult load_config(const std::string& path);

// The MyIdReader load_config() uses: reads the file `<data_dir>/myid`.
std::optional<std::string> read_myid_file(const std::string& data_dir);

// One key/value pair as java.util.Properties reads it (escapes resolved, key
// and value not yet trimmed of anything but the separator's whitespace).
struct Property {
  std::string key;
  std::string value;
  int line = 0;  // physical line the entry starts on, from 1
};

struct PropertiesResult {
  std::vector<Property> properties;  // in file order, duplicates kept
  std::string error;                 // empty on success (only a bad \uXXXX escape fails)
  int error_line = 0;
};

// The java.util.Properties.load() grammar, for parse_config() and its tests.
PropertiesResult parse_properties(std::string_view text);

}  // namespace corral::ensemble
