#include "client/connect_string.h"

#include <charconv>

#include "corral/wire/path.h"

namespace corral {

std::optional<ConnectString> parse_connect_string(std::string_view text, std::string& error) {
  ConnectString out;
  const auto slash = text.find('/');
  std::string_view hosts = text.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view chroot = text.substr(slash);
    while (chroot.size() > 1 && chroot.back() == '/') chroot.remove_suffix(1);
    if (chroot != "/") out.chroot = std::string(chroot);
    if (!out.chroot.empty()) {
      if (const auto problem = wire::path_problem(out.chroot); !problem.empty()) {
        error = "invalid chroot '" + out.chroot + "': " + std::string(problem);
        return std::nullopt;
      }
    }
  }
  std::size_t pos = 0;
  while (pos <= hosts.size()) {
    auto end = hosts.find(',', pos);
    if (end == std::string_view::npos) end = hosts.size();
    std::string_view item = hosts.substr(pos, end - pos);
    pos = end + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    HostPort hp;
    std::string_view port_text;
    bool has_port = false;
    if (item.front() == '[') {
      const auto close = item.find(']');
      if (close == std::string_view::npos) {
        error = "unclosed '[' in '" + std::string(item) + "'";
        return std::nullopt;
      }
      hp.host = std::string(item.substr(1, close - 1));
      const auto rest = item.substr(close + 1);
      if (!rest.empty()) {
        if (rest.front() != ':') {
          error = "expected ':' after ']' in '" + std::string(item) + "'";
          return std::nullopt;
        }
        port_text = rest.substr(1);
        has_port = true;
      }
    } else {
      const auto colon = item.rfind(':');
      hp.host = std::string(item.substr(0, colon));
      if (hp.host.find(':') != std::string::npos) {
        error = "an IPv6 address needs brackets ([addr]:port) in '" + std::string(item) + "'";
        return std::nullopt;
      }
      if (colon != std::string_view::npos) {
        port_text = item.substr(colon + 1);
        has_port = true;
      }
    }
    if (hp.host.empty()) {
      error = "empty host in '" + std::string(item) + "'";
      return std::nullopt;
    }
    if (has_port) {
      unsigned port = 0;
      const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
      if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535) {
        error = "invalid port '" + std::string(port_text) + "' in '" + std::string(item) + "'";
        return std::nullopt;
      }
      hp.port = static_cast<uint16_t>(port);
    }
    out.hosts.push_back(std::move(hp));
  }
  if (out.hosts.empty()) {
    error = "no hosts in connect string '" + std::string(text) + "'";
    return std::nullopt;
  }
  return out;
}

std::string to_server_path(std::string_view chroot, std::string_view path) {
  if (chroot.empty()) return std::string(path);
  if (path == "/") return std::string(chroot);
  std::string out(chroot);
  out.append(path);
  return out;
}

std::string to_client_path(std::string_view chroot, std::string_view server_path) {
  if (chroot.empty()) return std::string(server_path);
  if (server_path == chroot) return "/";
  if (server_path.size() > chroot.size() && server_path.starts_with(chroot) && server_path[chroot.size()] == '/') {
    return std::string(server_path.substr(chroot.size()));
  }
  return std::string(server_path);
}

}  // namespace corral
