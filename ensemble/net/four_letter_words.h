// The four-letter words on the client port (ruok, srvr, stat, mntr, ...), with
// ZooKeeper's texts and key names so existing runbooks and monitoring work.
// Pure: the shell gathers a ServerView and sends back the text.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/config/config.h"
#include "ensemble/core/server_core.h"

namespace corral::ensemble {

// Everything a four-letter word may report, gathered by the shell.
struct ServerView {
  const ServerConfig& config;
  ServerCore& core;  // non-const: crst/srst reset its counters
  std::string mode = "standalone";
  // False while an ensemble server has no working quorum: srvr, stat and mntr
  // then say so, as ZooKeeper does.
  bool serving = true;
  // A leader's learners: connected, and those synced and voting / observing.
  struct LeaderView {
    std::size_t learners = 0;
    std::size_t synced_followers = 0;
    std::size_t synced_observers = 0;
  };
  std::optional<LeaderView> leader{};
  int64_t now_ms = 0;
  uint64_t data_dir_bytes = 0;
  uint64_t log_dir_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;
  uint64_t rss_bytes = 0;
  std::vector<std::pair<std::string, std::string>> environment{};  // for envi
  // A connection's "ip:port" for cons/stat; empty if unknown (then the ip the
  // core knows is shown).
  std::function<std::string(uint64_t conn)> remote_address{};
};

// The 32-bit value of a four-letter word read as a frame length ("ruok" as a
// big-endian int), or nullopt if `first4` is not one of ours.
std::optional<std::string> four_letter_word_of(int32_t first4);

// The reply to `word` (already checked against supported words). A word the
// whitelist does not enable gets ZooKeeper's refusal text.
std::string four_letter_reply(std::string_view word, ServerView& view);

// "3.8.0-corral", the version every report prints.
std::string_view corral_version();

}  // namespace corral::ensemble
