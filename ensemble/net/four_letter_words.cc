#include "ensemble/net/four_letter_words.h"
#include "ensemble/core/hex.h"

#include <cstdio>
#include <map>
#include <sstream>

namespace corral::ensemble {

namespace {

std::string avg(int64_t total, uint64_t samples) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f",
                samples == 0 ? 0.0 : static_cast<double>(total) / static_cast<double>(samples));
  return buf;
}

void connection_line(std::ostream& out, const ServerView& v, const ConnectionStats& c, bool brief) {
  std::string remote = v.remote_address ? v.remote_address(c.id) : std::string();
  if (remote.empty()) remote = c.remote;
  out << " /" << remote << "[1](queued=" << c.queued << ",recved=" << c.received << ",sent=" << c.sent;
  if (!brief && c.session != 0) {
    out << ",sid=" << hex(c.session) << ",lop=" << c.last_op << ",est=" << c.established_ms << ",to=" << c.timeout_ms;
    if (c.last_cxid >= 0) out << ",lcxid=" << hex(c.last_cxid);
    out << ",lzxid=" << hex(c.last_zxid) << ",lresp=" << c.last_response_ms << ",llat=0,minlat=" << c.min_latency_ms
        << ",avglat=" << avg(c.total_latency_ms, c.latency_samples) << ",maxlat=" << c.max_latency_ms;
  }
  out << ")";
}

void server_stats(std::ostream& out, ServerView& v) {
  const ServerStats& s = v.core.stats();
  out << "Latency min/avg/max: " << s.min_latency_ms << "/" << avg(s.total_latency_ms, s.latency_samples) << "/"
      << s.max_latency_ms << "\n";
  out << "Received: " << s.packets_received << "\n";
  out << "Sent: " << s.packets_sent << "\n";
  out << "Connections: " << v.core.connection_stats().size() << "\n";
  out << "Outstanding: " << v.core.outstanding_txns() << "\n";
  out << "Zxid: " << hex(v.core.last_zxid()) << "\n";
  out << "Mode: " << v.mode << "\n";
  out << "Node count: " << v.core.tree().node_count() << "\n";
}

constexpr std::string_view not_serving = "This ZooKeeper instance is not currently serving requests\n";

std::string srvr_or_stat(ServerView& v, bool with_clients) {
  if (!v.serving) return std::string(not_serving);
  std::ostringstream out;
  out << "Zookeeper version: " << corral_version() << ", built on " << __DATE__ << "\n";
  if (with_clients) {
    out << "Clients:\n";
    for (const auto& c : v.core.connection_stats()) {
      connection_line(out, v, c, true);
      out << "\n";
    }
    out << "\n";
  }
  server_stats(out, v);
  return out.str();
}

std::string mntr(ServerView& v) {
  if (!v.serving) return std::string(not_serving);
  const ServerStats& s = v.core.stats();
  const auto& w = v.core.watches();
  std::ostringstream out;
  const auto kv = [&](std::string_view key, const auto& value) { out << "zk_" << key << "\t" << value << "\n"; };
  kv("version", std::string(corral_version()) + ", built on " + __DATE__);
  kv("server_state", v.mode);
  kv("avg_latency", avg(s.total_latency_ms, s.latency_samples));
  kv("max_latency", s.max_latency_ms);
  kv("min_latency", s.min_latency_ms);
  kv("packets_received", s.packets_received);
  kv("packets_sent", s.packets_sent);
  kv("num_alive_connections", v.core.connection_stats().size());
  kv("outstanding_requests", v.core.outstanding_txns());
  kv("znode_count", v.core.tree().node_count());
  kv("watch_count", w.watch_count());
  kv("ephemerals_count", v.core.tree().ephemeral_count());
  kv("approximate_data_size", v.core.tree().approximate_data_size());
  kv("open_file_descriptor_count", v.open_fds);
  kv("max_file_descriptor_count", v.max_fds);
  kv("global_sessions", v.core.session_count());
  kv("last_proposal_zxid", hex(v.core.last_zxid()));
  kv("resident_set_size_bytes", v.rss_bytes);
  if (v.leader) {
    kv("learners", v.leader->learners);
    kv("synced_followers", v.leader->synced_followers);
    kv("synced_non_voting_followers", 0);
    kv("synced_observers", v.leader->synced_observers);
  }
  return out.str();
}

std::string conf(ServerView& v) {
  const ServerConfig& c = v.config;
  std::ostringstream out;
  out << "clientPort=" << c.client_address.port << "\n";
  out << "secureClientPort=-1\n";
  out << "dataDir=" << c.data_dir << "/corral-1\n";
  out << "dataDirSize=" << v.data_dir_bytes << "\n";
  out << "dataLogDir=" << c.data_log_dir << "/corral-1\n";
  out << "dataLogSize=" << v.log_dir_bytes << "\n";
  out << "tickTime=" << c.tick_time_ms << "\n";
  out << "maxClientCnxns=" << c.max_client_cnxns << "\n";
  out << "minSessionTimeout=" << c.min_session_timeout_ms << "\n";
  out << "maxSessionTimeout=" << c.max_session_timeout_ms << "\n";
  out << "clientPortListenBacklog=-1\n";
  out << "serverId=" << c.my_id << "\n";
  return out.str();
}

std::string cons(ServerView& v) {
  std::ostringstream out;
  for (const auto& c : v.core.connection_stats()) {
    connection_line(out, v, c, false);
    out << "\n";
  }
  out << "\n";
  return out.str();
}

std::string envi(ServerView& v) {
  std::ostringstream out;
  out << "Environment:\n";
  out << "zookeeper.version=" << corral_version() << ", built on " << __DATE__ << "\n";
  for (const auto& [k, val] : v.environment) out << k << "=" << val << "\n";
  return out.str();
}

std::string wchs(ServerView& v) {
  const auto& w = v.core.watches();
  std::ostringstream out;
  out << w.watcher_count() << " connections watching " << w.watched_path_count() << " paths\n";
  out << "Total watches:" << w.watch_count() << "\n";
  return out.str();
}

std::string wchc(ServerView& v) {
  std::ostringstream out;
  for (const auto& [session, paths] : v.core.watches().by_watcher()) {
    out << hex(session) << "\n";
    for (const auto& p : paths) out << "\t" << p << "\n";
  }
  return out.str();
}

std::string wchp(ServerView& v) {
  std::ostringstream out;
  for (const auto& [path, sessions] : v.core.watches().by_path()) {
    out << path << "\n";
    for (auto s : sessions) out << "\t" << hex(s) << "\n";
  }
  return out.str();
}

std::string dump(ServerView& v) {
  std::ostringstream out;
  out << "SessionTracker dump:\n";
  out << "Global Sessions(" << v.core.session_count() << "):\n";
  v.core.for_each_session(
      [&](int64_t id, int32_t timeout, const std::string&) { out << hex(id) << "\t" << timeout << "ms\n"; });
  const auto& ephemerals = v.core.tree().ephemerals();
  std::map<int64_t, std::vector<std::string>> sorted;
  for (const auto& [session, ids] : ephemerals) sorted[session] = v.core.tree().ephemerals_of(session);
  out << "ephemeral nodes dump:\n";
  out << "Sessions with Ephemerals (" << sorted.size() << "):\n";
  for (const auto& [session, paths] : sorted) {
    out << hex(session) << ":\n";
    for (const auto& p : paths) out << "\t" << p << "\n";
  }
  return out.str();
}

}  // namespace

std::string_view corral_version() { return "3.8.0-corral"; }

std::optional<std::string> four_letter_word_of(int32_t first4) {
  const auto u = static_cast<uint32_t>(first4);
  std::string word{static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
                   static_cast<char>(u)};
  for (auto w : supported_four_letter_words) {
    if (w == word) return word;
  }
  return std::nullopt;
}

std::string four_letter_reply(std::string_view word, ServerView& v) {
  if (!v.config.four_letter_word_enabled(word)) {
    return std::string(word) + " is not executed because it is not in the whitelist.\n";
  }
  if (word == "ruok") return "imok";
  if (word == "srvr") return srvr_or_stat(v, false);
  if (word == "stat") return srvr_or_stat(v, true);
  if (word == "mntr") return mntr(v);
  if (word == "conf") return conf(v);
  if (word == "cons") return cons(v);
  if (word == "crst") {
    v.core.reset_stats();
    return "Connection stats reset.\n";
  }
  if (word == "srst") {
    v.core.reset_stats();
    return "Server stats reset.\n";
  }
  if (word == "envi") return envi(v);
  if (word == "wchs") return wchs(v);
  if (word == "wchc") return wchc(v);
  if (word == "wchp") return wchp(v);
  if (word == "dump") return dump(v);
  if (word == "isro") return "rw";
  if (word == "dirs") {
    return "datadir_size: " + std::to_string(v.data_dir_bytes) + "\nlogdir_size: " + std::to_string(v.log_dir_bytes) +
           "\n";
  }
  return std::string(word) + " is not a supported command.\n";
}

}  // namespace corral::ensemble
