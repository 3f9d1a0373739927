// "host:port,host:port[/chroot]", as every ZooKeeper client accepts it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral {

struct HostPort {
  std::string host;  // an IPv6 address without its brackets
  uint16_t port = 2181;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

struct ConnectString {
  std::vector<HostPort> hosts;
  std::string chroot;  // "" or a valid absolute path without trailing slash
};

// Parses a connect string; nullopt with `error` set when it is malformed.
// A missing port means 2181; "[::1]:2181" is how IPv6 hosts are written.
std::optional<ConnectString> parse_connect_string(std::string_view text, std::string& error);

// Path translation for a chroot: what the server sees and what the user sees.
std::string to_server_path(std::string_view chroot, std::string_view path);
std::string to_client_path(std::string_view chroot, std::string_view server_path);

}  // namespace corral
