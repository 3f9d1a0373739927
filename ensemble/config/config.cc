// zoo.cfg semantics: which keys exist, their defaults and their checks, after
// ZooKeeper 3.8's QuorumPeerConfig, QuorumPeer.QuorumServer, ZooKeeperServer,
// FourLetterCommands and the system properties its other classes read.
#include "ensemble/config/config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

namespace corral::ensemble {
namespace {

// ---------------------------------------------------------------------------
// Small text helpers

// Java's String.trim(): drops every character <= ' ' at both ends.
std::string_view trim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Appends `c`, with a control character written as an escape so a message
// stays one printable line.
void append_escaped(std::string& out, unsigned char c) {
  if (c == '\n') {
    out += "\\n";
  } else if (c == '\r') {
    out += "\\r";
  } else if (c == '\t') {
    out += "\\t";
  } else if (c < ' ' || c == 0x7f) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  } else {
    out += static_cast<char>(c);
  }
}

// A value for a message: quoted, control characters escaped, long ones cut.
std::string quote(std::string_view s) {
  constexpr std::size_t max_shown = 60;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') out += '\\';
    append_escaped(out, c);
  }
  if (s.size() > max_shown) out += "...";
  out += '"';
  return out;
}

// "1 voting member", "3 voting members".
std::string voting_members_text(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " voting member" : " voting members");
}

// Keys, paths and values can hold control characters (written as escapes in
// the file); a message must stay one printable line.
std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) append_escaped(out, static_cast<unsigned char>(ch));
  return out;
}

std::string join_ids(const std::vector<std::uint32_t>& ids) {
  std::string out;
  for (std::uint32_t id : ids) {
    if (!out.empty()) out += ", ";
    out += std::to_string(id);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Strict value parsers

// An optional sign and decimal digits (or 0x/0X and hex digits when allowed),
// nothing else, within int64. Java's Integer.parseInt also takes a '+'.
std::optional<std::int64_t> parse_int64(std::string_view s, bool allow_hex = false) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (allow_hex && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  constexpr std::uint64_t max_pos = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (magnitude > max_pos + 1) return std::nullopt;
    if (magnitude == max_pos + 1) return std::numeric_limits<std::int64_t>::min();
    return -static_cast<std::int64_t>(magnitude);
  }
  if (magnitude > max_pos) return std::nullopt;
  return static_cast<std::int64_t>(magnitude);
}

std::optional<bool> parse_bool(std::string_view s) {
  std::string v = lower(s);
  if (v == "true" || v == "yes") return true;
  if (v == "false" || v == "no") return false;
  return std::nullopt;
}

// ZooKeeper's Time.parseTimeInterval for autopurge.purgeInterval: a bare
// number is hours; otherwise a ms, s, m, h or d suffix (any case).
std::optional<std::int64_t> parse_interval_ms(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t unit = 3'600'000;
  std::string_view digits = s;
  char last = s.back();
  if (last < '0' || last > '9') {
    std::string suffix_ms = lower(s.size() >= 2 ? s.substr(s.size() - 2) : s);
    if (suffix_ms == "ms") {
      unit = 1;
      digits = s.substr(0, s.size() - 2);
    } else {
      switch (last) {
        case 's':
        case 'S': unit = 1000; break;
        case 'm':
        case 'M': unit = 60'000; break;
        case 'h':
        case 'H': unit = 3'600'000; break;
        case 'd':
        case 'D': unit = 86'400'000; break;
        default: return std::nullopt;
      }
      digits = s.substr(0, s.size() - 1);
    }
  }
  auto n = parse_int64(digits);
  if (!n) return std::nullopt;
  // Keep well inside int64 after multiplying (about 290 million years of hours).
  if (*n > std::numeric_limits<std::int64_t>::max() / unit || *n < std::numeric_limits<std::int64_t>::min() / unit) {
    return std::nullopt;
  }
  return *n * unit;
}

bool is_base64(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  return true;
}

bool is_wildcard_host(std::string_view host) { return host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0"; }

// ---------------------------------------------------------------------------
// Key names

// Every key Corral reads, with the spellings it accepts. ZooKeeper reads some
// settings as "zookeeper.X" system properties, which zoo.cfg sets by writing
// "X"; both spellings are accepted here and are the same key (the later wins).
struct KeyName {
  std::string_view spelling;
  std::string_view canonical;
};

constexpr KeyName known_keys[] = {
    {"tickTime", "tickTime"},
    {"initLimit", "initLimit"},
    {"syncLimit", "syncLimit"},
    {"dataDir", "dataDir"},
    {"dataLogDir", "dataLogDir"},
    {"clientPort", "clientPort"},
    {"clientPortAddress", "clientPortAddress"},
    {"maxClientCnxns", "maxClientCnxns"},
    {"minSessionTimeout", "minSessionTimeout"},
    {"maxSessionTimeout", "maxSessionTimeout"},
    {"snapCount", "snapCount"},
    {"zookeeper.snapCount", "snapCount"},
    {"autopurge.snapRetainCount", "autopurge.snapRetainCount"},
    {"autopurge.purgeInterval", "autopurge.purgeInterval"},
    {"4lw.commands.whitelist", "4lw.commands.whitelist"},
    {"zookeeper.4lw.commands.whitelist", "4lw.commands.whitelist"},
    {"jute.maxbuffer", "jute.maxbuffer"},
    {"zookeeper.jute.maxbuffer", "jute.maxbuffer"},
    {"DigestAuthenticationProvider.superDigest", "DigestAuthenticationProvider.superDigest"},
    {"zookeeper.DigestAuthenticationProvider.superDigest", "DigestAuthenticationProvider.superDigest"},
    {"extendedTypesEnabled", "extendedTypesEnabled"},
    {"zookeeper.extendedTypesEnabled", "extendedTypesEnabled"},
    {"znode.container.checkIntervalMs", "znode.container.checkIntervalMs"},
    {"zookeeper.znode.container.checkIntervalMs", "znode.container.checkIntervalMs"},
    {"znode.container.maxPerMinute", "znode.container.maxPerMinute"},
    {"zookeeper.znode.container.maxPerMinute", "znode.container.maxPerMinute"},
    {"globalOutstandingLimit", "globalOutstandingLimit"},
    {"zookeeper.globalOutstandingLimit", "globalOutstandingLimit"},
    {"preAllocSize", "preAllocSize"},
    {"zookeeper.preAllocSize", "preAllocSize"},
    {"forceSync", "forceSync"},
    {"zookeeper.forceSync", "forceSync"},
    {"standaloneEnabled", "standaloneEnabled"},
    {"electionAlg", "electionAlg"},
    {"quorumListenOnAllIPs", "quorumListenOnAllIPs"},
    {"peerType", "peerType"},
};

// ZooKeeper options Corral does not implement: warned about, then ignored.
constexpr std::string_view unsupported_keys[] = {
    "secureClientPort",
    "secureClientPortAddress",
    "observerMasterPort",
    "clientPortListenBacklog",
    "connectToLearnerMasterLimit",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "syncEnabled",
    "reconfigEnabled",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
    "quorum.cnxn.threads.size",
    "oraclePath",
    "skipACL",
    "serverCnxnFactory",
    "maxCnxns",
    "leaderServes",
    "cnxTimeout",
    "electionPortBindRetry",
    "fsync.warningthresholdms",
    "txnLogSizeLimitInKb",
    "snapSizeLimitInKb",
    "commitLogCount",
    "maxResponseCacheSize",
    "maxGetChildrenResponseCacheSize",
    "digest.enabled",
    "closeSessionTxn.enabled",
    "audit.enable",
    "snapshot.trust.empty",
    "learner.asyncSending",
    "learner.closeSocketAsync",
    "leader.closeSocketAsync",
    "flushDelay",
    "maxWriteQueuePollTime",
    "maxBatchSize",
    "requestThrottleLimit",
    "requestThrottleStallTime",
    "requestThrottleDropStale",
    "connection_throttle_tokens",
    "enforceQuota",
    "emulate353TTLNodes",
    "ssl.quorum.hostnameVerification",
};
constexpr std::string_view unsupported_prefixes[] = {
    "metricsProvider.", "multiAddress.",  "quorum.auth.", "jvm.pause.", "admin.",    "ssl.",
    "authProvider.",    "zookeeper.ssl.", "netty.",       "sasl.",      "kerberos.", "secure",
};

std::optional<std::string_view> canonical_key(std::string_view key) {
  for (const KeyName& k : known_keys) {
    if (k.spelling == key) return k.canonical;
  }
  return std::nullopt;
}

bool is_unsupported_key(std::string_view key) {
  if (starts_with(key, "zookeeper.")) key.remove_prefix(10);
  for (std::string_view k : unsupported_keys) {
    if (k == key) return true;
  }
  for (std::string_view p : unsupported_prefixes) {
    if (starts_with(key, p)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// The parser

struct Entry {
  std::string key;    // trimmed, as written
  std::string value;  // trimmed
  int line = 0;
};

// Thrown inside the parser only, caught by parse_config(): the one error line.
struct Failure {
  std::string message;
};

class Parser {
 public:
  Parser(std::string_view source, const MyIdReader& read_myid) : source_(source), read_myid_(read_myid) {}

  ConfigResult run(std::string_view text) {
    ConfigResult result;
    try {
      parse(text);
      validate();
      result.config = std::move(cfg_);
    } catch (const Failure& f) {
      result.error = one_line(f.message);
    }
    // File order; warnings about the file as a whole come last.
    std::stable_sort(warnings_.begin(), warnings_.end(), [](const auto& a, const auto& b) {
      return (a.first == 0 ? INT_MAX : a.first) < (b.first == 0 ? INT_MAX : b.first);
    });
    for (auto& w : warnings_) result.warnings.push_back(one_line(w.second));
    return result;
  }

 private:
  // "zoo.cfg:7: " or "zoo.cfg: ".
  std::string at(int line) const {
    std::string out(source_);
    if (line > 0) out += ":" + std::to_string(line);
    return out + ": ";
  }
  [[noreturn]] void fail(int line, const std::string& message) const { throw Failure{at(line) + message}; }
  void warn(int line, const std::string& message) { warnings_.emplace_back(line, at(line) + message); }

  // -- phase 1: read every entry --------------------------------------------

  void parse(std::string_view text) {
    PropertiesResult props = parse_properties(text);
    if (!props.error.empty()) fail(props.error_line, props.error);

    // Later duplicates override earlier ones, as in java.util.Properties. Keys
    // with several spellings count as one key, and so do server.1 and server.01.
    std::vector<Entry> entries;
    std::map<std::string, std::size_t> last_by_key;  // key identity -> index in entries
    for (const Property& p : props.properties) {
      Entry e{std::string(trim(p.key)), std::string(trim(p.value)), p.line};
      std::string identity = e.key;
      if (auto c = canonical_key(e.key)) {
        identity = std::string(*c);
      } else if (starts_with(e.key, "server.")) {
        if (auto id = parse_int64(std::string_view(e.key).substr(7))) identity = "server." + std::to_string(*id);
      }
      auto [it, inserted] = last_by_key.try_emplace(identity, entries.size());
      if (!inserted) {
        Entry& earlier = entries[it->second];
        warn(e.line, "'" + e.key + "' set again; this value overrides line " + std::to_string(earlier.line));
        earlier.line = -1;  // superseded
        it->second = entries.size();
      }
      entries.push_back(std::move(e));
    }
    for (const Entry& e : entries) {
      if (e.line >= 0) apply(e);
    }
  }

  void apply(const Entry& e) {
    const std::string& v = e.value;
    std::optional<std::string_view> key = canonical_key(e.key);
    if (!key) {
      if (starts_with(e.key, "server.")) return parse_server(e);
      if (e.key == "dynamicConfigFile") {
        fail(e.line, "dynamicConfigFile is not supported; put the server.N lines in this file");
      }
      if (starts_with(e.key, "group.") || starts_with(e.key, "weight.")) {
        fail(e.line, "hierarchical quorums (" + e.key + ") are not supported");
      }
      if (is_unsupported_key(e.key)) {
        warn(e.line, "ZooKeeper option '" + e.key + "' is not supported by Corral; ignored");
      } else {
        warn(e.line, "unknown key '" + e.key + "' ignored");
      }
      return;
    }
    lines_[std::string(*key)] = e.line;

    if (*key == "tickTime") {
      cfg_.tick_time_ms = int_in(e, 1, INT_MAX, "a positive integer (milliseconds)");
    } else if (*key == "initLimit") {
      cfg_.init_limit = int_in(e, 1, INT_MAX, "a positive integer (ticks)");
    } else if (*key == "syncLimit") {
      cfg_.sync_limit = int_in(e, 1, INT_MAX, "a positive integer (ticks)");
    } else if (*key == "dataDir") {
      if (v.empty()) fail(e.line, "dataDir must not be empty");
      cfg_.data_dir = v;
    } else if (*key == "dataLogDir") {
      if (v.empty()) fail(e.line, "dataLogDir must not be empty");
      cfg_.data_log_dir = v;
    } else if (*key == "clientPort") {
      client_port_ = static_cast<std::uint16_t>(int_in(e, 1, 65535, "a port number (1..65535)"));
    } else if (*key == "clientPortAddress") {
      std::string_view host = v;
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
      if (host.empty()) fail(e.line, "clientPortAddress must not be empty");
      client_port_address_ = std::string(host);
    } else if (*key == "maxClientCnxns") {
      cfg_.max_client_cnxns = int_in(e, 0, INT_MAX, "a non-negative integer (0 = unlimited)");
    } else if (*key == "minSessionTimeout") {
      min_session_ = int_in(e, 1, INT_MAX, "a positive integer (milliseconds)");
    } else if (*key == "maxSessionTimeout") {
      max_session_ = int_in(e, 1, INT_MAX, "a positive integer (milliseconds)");
    } else if (*key == "snapCount") {
      int n = int_in(e, INT_MIN, INT_MAX, "an integer", true);
      if (n < 2) {
        warn(e.line, "snapCount " + std::to_string(n) + " is below 2; using 2");
        n = 2;
      }
      cfg_.snap_count = n;
    } else if (*key == "autopurge.snapRetainCount") {
      int n = int_in(e, INT_MIN, INT_MAX, "an integer");
      if (n < 3) {
        warn(e.line, "autopurge.snapRetainCount " + std::to_string(n) + " is below the minimum 3; using 3");
        n = 3;
      }
      cfg_.snap_retain_count = n;
    } else if (*key == "autopurge.purgeInterval") {
      auto ms = parse_interval_ms(v);
      if (!ms) {
        fail(e.line,
             e.key + " must be a whole number of hours, or a number with a ms, s, m, h or d suffix, got " + quote(v));
      }
      if (*ms < 0) {
        warn(e.line, "autopurge.purgeInterval is negative; the purge task is off");
        *ms = 0;
      }
      cfg_.purge_interval = std::chrono::milliseconds(*ms);
    } else if (*key == "4lw.commands.whitelist") {
      parse_whitelist(e);
    } else if (*key == "jute.maxbuffer") {
      cfg_.jute_max_buffer = int_in(e, 1, INT_MAX, "a positive integer (bytes)", true);
    } else if (*key == "DigestAuthenticationProvider.superDigest") {
      std::size_t colon = v.find(':');
      if (!v.empty() &&
          (colon == std::string::npos || colon == 0 || !is_base64(std::string_view(v).substr(colon + 1)))) {
        // The value is a password hash: keep it out of the message.
        fail(e.line, e.key + " must have the form user:base64digest (as printed by DigestAuthenticationProvider)");
      }
      cfg_.super_digest = v;
    } else if (*key == "extendedTypesEnabled") {
      cfg_.extended_types_enabled = bool_of(e);
    } else if (*key == "znode.container.checkIntervalMs") {
      cfg_.container_check_interval_ms = int_in(e, 1, INT_MAX, "a positive integer (milliseconds)", true);
    } else if (*key == "znode.container.maxPerMinute") {
      cfg_.container_max_per_minute = int_in(e, 1, INT_MAX, "a positive integer", true);
    } else if (*key == "globalOutstandingLimit") {
      cfg_.global_outstanding_limit = int_in(e, 1, INT_MAX, "a positive integer", true);
    } else if (*key == "preAllocSize") {
      auto n = parse_int64(v);
      if (!n || *n < 0 || *n > std::numeric_limits<std::int64_t>::max() / 1024) {
        fail(e.line, e.key + " must be a non-negative integer (KB), got " + quote(v));
      }
      cfg_.pre_alloc_size_kb = *n;
    } else if (*key == "forceSync") {
      cfg_.force_sync = bool_of(e);
      if (!cfg_.force_sync) {
        warn(e.line,
             "WARNING: forceSync is off: the transaction log is not fsynced, so acknowledged "
             "writes can be lost on power failure or an OS crash");
      }
    } else if (*key == "standaloneEnabled") {
      cfg_.standalone_enabled = bool_of(e);
    } else if (*key == "electionAlg") {
      int n = int_in(e, INT_MIN, INT_MAX, "an integer");
      if (n != 3)
        fail(e.line, "electionAlg " + std::to_string(n) + " is not supported; only 3 (fast leader election) is");
      cfg_.election_alg = n;
    } else if (*key == "quorumListenOnAllIPs") {
      cfg_.quorum_listen_on_all_ips = bool_of(e);
    } else if (*key == "peerType") {
      std::string t = lower(v);
      if (t == "participant") {
        cfg_.peer_type = PeerRole::participant;
      } else if (t == "observer") {
        cfg_.peer_type = PeerRole::observer;
      } else {
        fail(e.line, "peerType must be participant or observer, got " + quote(v));
      }
    }
  }

  int int_in(const Entry& e, std::int64_t min, std::int64_t max, const std::string& what,
             bool allow_hex = false) const {
    auto n = parse_int64(e.value, allow_hex);
    if (!n || *n < min || *n > max) fail(e.line, e.key + " must be " + what + ", got " + quote(e.value));
    return static_cast<int>(*n);
  }

  bool bool_of(const Entry& e) const {
    auto b = parse_bool(e.value);
    if (!b) fail(e.line, e.key + " must be true or false (or yes/no), got " + quote(e.value));
    return *b;
  }

  void parse_whitelist(const Entry& e) {
    std::set<std::string, std::less<>> words;
    std::string_view rest = e.value;
    while (true) {
      std::size_t comma = rest.find(',');
      std::string_view word = trim(rest.substr(0, comma));
      if (word == "*") {
        words.insert(supported_four_letter_words.begin(), supported_four_letter_words.end());
        break;  // as in ZooKeeper, "*" ends the list
      }
      if (!word.empty()) {
        auto& all = supported_four_letter_words;
        if (std::find(all.begin(), all.end(), word) != all.end()) {
          words.insert(std::string(word));
        } else {
          warn(e.line, e.key + ": unknown four-letter word '" + std::string(word) + "' ignored");
        }
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    words.insert("srvr");  // ZooKeeper always enables it: zkServer.sh status needs it
    cfg_.four_letter_words = std::move(words);
  }

  // server.N=host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]
  void parse_server(const Entry& e) {
    const std::string name = e.key;
    auto id = parse_int64(std::string_view(e.key).substr(7));
    if (!id || *id < 1 || *id > 254) {
      fail(e.line, "server id in '" + e.key + "' must be an integer 1..254 (the top byte of session ids)");
    }
    const std::string form = name +
                             " must look like host:quorumPort:electionPort[:participant|observer]"
                             "[;[clientHost:]clientPort], got " +
                             quote(e.value);

    Peer p;
    p.id = static_cast<std::uint32_t>(*id);
    p.line = e.line;

    std::vector<std::string_view> sections = split(e.value, ';');
    while (!sections.empty() && trim(sections.back()).empty()) sections.pop_back();  // like Java's split
    if (sections.empty() || sections.size() > 3) fail(e.line, form);

    std::string_view server_part = trim(sections[0]);
    if (server_part.find('|') != std::string_view::npos) {
      fail(e.line, name + ": multiple addresses ('|') are not supported");
    }
    std::vector<std::string_view> parts;
    if (!host_and_ports(server_part, parts) || parts.size() < 3 || parts.size() > 4) fail(e.line, form);
    p.quorum.host = std::string(parts[0]);
    p.election.host = p.quorum.host;
    if (p.quorum.host.empty()) fail(e.line, name + ": the host is empty; " + form);
    p.quorum.port = port_of(e, parts[1], "quorum port");
    p.election.port = port_of(e, parts[2], "election port");
    if (parts.size() == 4) {
      std::string t = lower(parts[3]);
      if (t == "participant") {
        p.role = PeerRole::participant;
      } else if (t == "observer") {
        p.role = PeerRole::observer;
      } else {
        fail(e.line, name + ": the role must be participant or observer, got " + quote(parts[3]));
      }
    }
    if (p.quorum.port == p.election.port) {
      fail(e.line,
           name + ": the quorum and election ports must differ (both are " + std::to_string(p.quorum.port) + ")");
    }

    if (sections.size() >= 2 && !trim(sections[1]).empty()) {
      std::vector<std::string_view> cparts;
      if (!host_and_ports(trim(sections[1]), cparts) || cparts.empty() || cparts.size() > 2) fail(e.line, form);
      Endpoint client;
      client.host = cparts.size() == 2 ? std::string(cparts[0]) : "0.0.0.0";
      if (client.host.empty()) fail(e.line, name + ": the client host is empty; " + form);
      client.port = port_of(e, cparts.back(), "client port");
      p.client = std::move(client);
    }
    if (sections.size() == 3 && !trim(sections[2]).empty()) {
      warn(e.line, name + ": the secure client address is not supported by Corral; ignored");
    }
    cfg_.peers.push_back(std::move(p));
  }

  static std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (true) {
      std::size_t at = s.find(sep);
      out.push_back(s.substr(0, at));
      if (at == std::string_view::npos) return out;
      s.remove_prefix(at + 1);
    }
  }

  // ZooKeeper's ConfigUtils.getHostAndPort: "[v6]:a:b" or "host:a:b", split at ':'.
  static bool host_and_ports(std::string_view s, std::vector<std::string_view>& parts) {
    parts.clear();
    if (!s.empty() && s.front() == '[') {
      std::size_t close = s.find(']');
      if (close == std::string_view::npos) return false;
      parts.push_back(s.substr(1, close - 1));
      std::string_view rest = s.substr(close + 1);
      if (rest.empty()) return true;
      if (rest.front() != ':') return false;
      for (std::string_view x : split(rest.substr(1), ':')) parts.push_back(trim(x));
      return true;
    }
    for (std::string_view x : split(s, ':')) parts.push_back(trim(x));
    return true;
  }

  std::uint16_t port_of(const Entry& e, std::string_view s, const char* what) const {
    auto n = parse_int64(s);
    if (!n || *n < 1 || *n > 65535) {
      fail(e.line, e.key + ": the " + std::string(what) + " must be 1..65535, got " + quote(s));
    }
    return static_cast<std::uint16_t>(*n);
  }

  int line_of(const std::string& key) const {
    auto it = lines_.find(key);
    return it == lines_.end() ? 0 : it->second;
  }

  // -- phase 2: checks across keys, in ZooKeeper's order ---------------------

  void validate() {
    if (cfg_.data_dir.empty()) fail(0, "dataDir is not set");
    if (cfg_.data_log_dir.empty()) cfg_.data_log_dir = cfg_.data_dir;

    if (client_port_address_ && !client_port_) {
      fail(line_of("clientPortAddress"), "clientPortAddress is set but clientPort is not set");
    }

    session_timeouts();
    servers();
    my_id();
    client_address();
    peer_type();

    if (!cfg_.is_standalone()) {
      const std::string why =
          "; it is required when the ensemble has " + voting_members_text(cfg_.voting_members().size());
      if (cfg_.init_limit == 0) fail(0, "initLimit is not set" + why);
      if (cfg_.sync_limit == 0) fail(0, "syncLimit is not set" + why);
    }
  }

  void session_timeouts() {
    const std::int64_t tick = cfg_.tick_time_ms;
    const std::int64_t min = min_session_ ? *min_session_ : 2 * tick;
    const std::int64_t max = max_session_ ? *max_session_ : 20 * tick;
    if (max > INT_MAX || min > INT_MAX) {
      fail(line_of("tickTime"), "tickTime " + std::to_string(tick) +
                                    " is too large: the default session timeouts (2 and 20 ticks) overflow; "
                                    "set minSessionTimeout and maxSessionTimeout");
    }
    if (min > max) {
      auto show = [](std::int64_t value, bool explicit_value, const char* dflt) {
        return std::to_string(value) + (explicit_value ? "" : std::string(" (default ") + dflt + ")");
      };
      fail(line_of(min_session_ ? "minSessionTimeout" : "maxSessionTimeout"),
           "minSessionTimeout " + show(min, min_session_.has_value(), "2*tickTime") +
               " must not be larger than maxSessionTimeout " + show(max, max_session_.has_value(), "20*tickTime"));
    }
    cfg_.min_session_timeout_ms = static_cast<int>(min);
    cfg_.max_session_timeout_ms = static_cast<int>(max);
  }

  void servers() {
    std::vector<Peer>& peers = cfg_.peers;
    // No two endpoints may share a host:port. A client address on the
    // wildcard host is not compared: each server binds it on its own machine.
    struct Use {
      std::uint32_t id;
      const char* what;
    };
    std::map<std::pair<std::string, std::uint16_t>, Use> used;
    auto claim = [&](const Peer& p, const Endpoint& ep, const char* what) {
      auto [it, inserted] = used.try_emplace({lower(ep.host), ep.port}, Use{p.id, what});
      if (!inserted) {
        const Use& other = it->second;
        fail(p.line, "server." + std::to_string(p.id) + ": " + what + " address " + ep.to_string() +
                         " is already the " + other.what + " address of server." + std::to_string(other.id));
      }
    };
    for (const Peer& p : peers) {  // file order: the later line is the one reported
      claim(p, p.quorum, "quorum");
      claim(p, p.election, "election");
      if (p.client && !is_wildcard_host(p.client->host)) claim(p, *p.client, "client");
    }
    std::sort(peers.begin(), peers.end(), [](const Peer& a, const Peer& b) { return a.id < b.id; });

    if (peers.empty()) {
      if (!cfg_.standalone_enabled) {
        fail(line_of("standaloneEnabled"),
             "standaloneEnabled is false, so at least one server.N participant is required");
      }
      return;
    }
    const std::size_t voters = cfg_.voting_members().size();
    const std::size_t observers = peers.size() - voters;
    if (voters == 0) {
      fail(0, "at least one server.N line must be a participant; all " + std::to_string(observers) + " are observers");
    }
    if (voters == 1 && cfg_.standalone_enabled) {
      if (observers > 0) {
        fail(0,
             "observers need a quorum, but only one server.N line is a participant "
             "(set standaloneEnabled=false to run a one-member quorum)");
      }
      warn(peers.front().line, "only one server.N line: running standalone");
      return;
    }
    if (voters <= 2) {
      warn(0, voting_members_text(voters) + ": no server failure will be tolerated; use at least 3");
    } else if (voters % 2 == 0) {
      warn(0, voting_members_text(voters) + ": an odd number tolerates the same failures with fewer servers");
    }
  }

  void my_id() {
    if (cfg_.peers.empty()) return;
    std::string path = cfg_.data_dir;
    if (path.back() != '/') path += '/';
    path += "myid";

    std::vector<std::uint32_t> ids;
    for (const Peer& p : cfg_.peers) ids.push_back(p.id);

    std::optional<std::string> content = read_myid_ ? read_myid_(cfg_.data_dir) : std::nullopt;
    if (!content) {
      if (cfg_.is_standalone()) return;
      throw Failure{"myid file " + path + " is missing or unreadable; it must hold this server's id, one of " +
                    join_ids(ids) + " (the N of its server.N line in " + std::string(source_) + ")"};
    }
    std::string_view text = trim(*content);
    auto id = parse_int64(text);
    if (!id || *id < 1 || *id > 254) {
      throw Failure{path + ": myid must hold this server's id, one of " + join_ids(ids) + ", got " + quote(text)};
    }
    if (!cfg_.peer(static_cast<std::uint32_t>(*id))) {
      throw Failure{path + ": myid is " + std::to_string(*id) + " but " + std::string(source_) + " has no server." +
                    std::to_string(*id) + " line (servers: " + join_ids(ids) + ")"};
    }
    cfg_.my_id = static_cast<std::uint32_t>(*id);
  }

  void client_address() {
    const Peer* me = cfg_.me();
    std::optional<Endpoint> from_keys;
    if (client_port_) from_keys = Endpoint{client_port_address_.value_or("0.0.0.0"), *client_port_};

    if (me && me->client) {
      if (from_keys) {
        bool conflict =
            is_wildcard_host(from_keys->host) ? from_keys->port != me->client->port : !(*from_keys == *me->client);
        if (conflict) {
          fail(me->line, "the client address of server." + std::to_string(me->id) + " (this server) is " +
                             me->client->to_string() + " but clientPortAddress/clientPort say " +
                             from_keys->to_string());
        }
      }
      cfg_.client_address = *me->client;
    } else if (from_keys) {
      cfg_.client_address = *from_keys;
    } else {
      fail(0, "clientPort is not set");
    }

    // The client port must not be one of this server's own quorum ports.
    if (me && !cfg_.is_standalone()) {
      const Endpoint& c = cfg_.client_address;
      for (const Endpoint* ep : {&me->quorum, &me->election}) {
        bool same_host = is_wildcard_host(c.host) || lower(c.host) == lower(ep->host);
        if (same_host && c.port == ep->port) {
          fail(line_of("clientPort") ? line_of("clientPort") : me->line,
               "client port " + std::to_string(c.port) + " is also a quorum/election port of server." +
                   std::to_string(me->id) + " (this server)");
        }
      }
    }
  }

  void peer_type() {
    const Peer* me = cfg_.me();
    if (!me) return;
    if (lines_.count("peerType") && me->role != cfg_.peer_type) {
      warn(line_of("peerType"), "peerType " + std::string(to_string(cfg_.peer_type)) + " disagrees with server." +
                                    std::to_string(me->id) + ", which is " + std::string(to_string(me->role)) +
                                    "; using " + std::string(to_string(me->role)));
    }
    cfg_.peer_type = me->role;
  }

  std::string_view source_;
  const MyIdReader& read_myid_;
  ServerConfig cfg_;
  std::vector<std::pair<int, std::string>> warnings_;  // (line, message)
  std::map<std::string, int> lines_;                   // canonical key -> line of the value in force
  std::optional<std::uint16_t> client_port_;
  std::optional<std::string> client_port_address_;
  std::optional<int> min_session_;
  std::optional<int> max_session_;
};

}  // namespace

// ---------------------------------------------------------------------------
// ServerConfig helpers

std::string_view to_string(PeerRole role) noexcept { return role == PeerRole::observer ? "observer" : "participant"; }

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool ServerConfig::is_standalone() const {
  std::size_t voters = voting_members().size();
  if (voters == 0) return true;
  return standalone_enabled && voters == 1;
}

const Peer* ServerConfig::peer(std::uint32_t id) const {
  for (const Peer& p : peers) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Peer* ServerConfig::me() const { return my_id == 0 ? nullptr : peer(my_id); }

std::vector<std::uint32_t> ServerConfig::voting_members() const {
  std::vector<std::uint32_t> ids;
  for (const Peer& p : peers) {
    if (p.role == PeerRole::participant) ids.push_back(p.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::uint32_t> ServerConfig::observers() const {
  std::vector<std::uint32_t> ids;
  for (const Peer& p : peers) {
    if (p.role == PeerRole::observer) ids.push_back(p.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::size_t ServerConfig::quorum_size() const {
  if (is_standalone()) return 1;
  return voting_members().size() / 2 + 1;
}

bool ServerConfig::four_letter_word_enabled(std::string_view word) const {
  return four_letter_words.find(word) != four_letter_words.end();
}

// ---------------------------------------------------------------------------
// Entry points

ConfigResult parse_config(std::string_view text, std::string_view source, const MyIdReader& read_myid) {
  return Parser(source, read_myid).run(text);
}

std::optional<std::string> read_myid_file(const std::string& data_dir) {
  std::string path = data_dir;
  if (path.empty() || path.back() != '/') path += '/';
  path += "myid";
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return content.str();
}

ConfigResult load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigResult r;
    r.error = path + ": cannot open: " + std::strerror(errno);
    return r;
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    ConfigResult r;
    r.error = path + ": cannot read: " + std::strerror(errno);
    return r;
  }
  return parse_config(content.str(), path, read_myid_file);
}

}  // namespace corral::ensemble
