#include "ensemble/core/acl.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

namespace corral::ensemble {

namespace {

std::string base64(const unsigned char* p, std::size_t n) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < n; i += 3) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < n) v |= uint32_t{p[i + 1]} << 8;
    if (i + 2 < n) v |= p[i + 2];
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? alphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < n ? alphabet[v & 63] : '=');
  }
  return out;
}

std::optional<std::vector<uint8_t>> parse_v4(std::string_view s) {
  std::vector<uint8_t> out;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    const auto end = part < 3 ? s.find('.', pos) : s.size();
    if (end == std::string_view::npos) return std::nullopt;
    const auto field = s.substr(pos, end - pos);
    int v = -1;
    const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
    if (field.empty() || ec != std::errc() || ptr != field.data() + field.size() || v < 0 || v > 255) {
      return std::nullopt;
    }
    out.push_back(static_cast<uint8_t>(v));
    pos = end + 1;
  }
  return out;
}

std::optional<std::vector<uint8_t>> parse_v6(std::string_view s) {
  const auto parse_groups = [](std::string_view part, std::vector<uint8_t>& out) {
    if (part.empty()) return true;
    std::size_t pos = 0;
    while (true) {
      const auto end = std::min(part.find(':', pos), part.size());
      const auto g = part.substr(pos, end - pos);
      unsigned v = 0;
      const auto [ptr, ec] = std::from_chars(g.data(), g.data() + g.size(), v, 16);
      if (g.empty() || g.size() > 4 || ec != std::errc() || ptr != g.data() + g.size()) return false;
      out.push_back(static_cast<uint8_t>(v >> 8));
      out.push_back(static_cast<uint8_t>(v));
      if (end == part.size()) return true;
      pos = end + 1;
    }
  };
  std::vector<uint8_t> head;
  std::vector<uint8_t> tail;
  const auto gap = s.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_groups(s, head) || head.size() != 16) return std::nullopt;
    return head;
  }
  if (s.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
  if (!parse_groups(s.substr(0, gap), head) || !parse_groups(s.substr(gap + 2), tail)) return std::nullopt;
  if (head.size() + tail.size() >= 16) return std::nullopt;
  head.resize(16 - tail.size(), 0);
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

std::optional<std::vector<uint8_t>> parse_address(std::string_view s) {
  if (s.find(':') != std::string_view::npos) return parse_v6(s);
  if (s.find('.') != std::string_view::npos) return parse_v4(s);
  return std::nullopt;
}

struct IpExpression {
  std::vector<uint8_t> address;
  int bits;
};

// "addr" or "addr/bits" as the ip scheme writes them.
std::optional<IpExpression> parse_ip_expression(std::string_view expression) {
  const auto slash = expression.find('/');
  auto addr = parse_address(expression.substr(0, slash));
  if (!addr) return std::nullopt;
  const int max_bits = static_cast<int>(addr->size() * 8);
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    const auto text = expression.substr(slash + 1);
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
    if (ec != std::errc() || ptr != text.data() + text.size() || bits < 0 || bits > max_bits) return std::nullopt;
  }
  return IpExpression{std::move(*addr), bits};
}

bool is_world_anyone(const wire::Id& id) { return id.scheme == "world" && id.id == "anyone"; }

// DigestAuthenticationProvider.isValid: id.split(":").length == 2. Java's
// split keeps a leading empty part but drops trailing ones, so ":h" and
// "u:h:" are valid while "u:" and "u:h:x" are not.
bool valid_digest_id(std::string_view id) {
  const auto end = id.find_last_not_of(':');
  if (end == std::string_view::npos) return false;
  const auto trimmed = id.substr(0, end + 1);
  return std::count(trimmed.begin(), trimmed.end(), ':') == 1;
}

}  // namespace

std::string digest_of(std::string_view user_password) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(user_password.data(), user_password.size(), md.data(), &len, EVP_sha1(), nullptr);
  const auto colon = user_password.find(':');
  return std::string(user_password.substr(0, colon)) + ":" + base64(md.data(), len);
}

bool ip_matches(std::string_view client_ip, std::string_view expression) {
  const auto acl = parse_ip_expression(expression);
  const auto addr = parse_address(client_ip);
  if (!acl || !addr || acl->address.size() != addr->size()) return false;
  for (std::size_t i = 0; i < addr->size(); ++i) {
    const int keep = std::clamp(acl->bits - static_cast<int>(i * 8), 0, 8);
    const auto mask = static_cast<uint8_t>(keep == 0 ? 0 : (0xff << (8 - keep)) & 0xff);
    if (((*addr)[i] & mask) != (acl->address[i] & mask)) return false;
  }
  return true;
}

bool acl_permits(const wire::AclList& acl, int32_t perm, const AuthIds& ids) {
  if (acl.empty()) return true;
  for (const auto& id : ids) {
    if (id.scheme == "super") return true;
  }
  for (const auto& a : acl) {
    if ((a.perms & perm) == 0) continue;
    if (is_world_anyone(a.id)) return true;
    for (const auto& id : ids) {
      if (id.scheme != a.id.scheme) continue;
      if (id.scheme == "digest" && id.id == a.id.id) return true;
      if (id.scheme == "ip" && ip_matches(id.id, a.id.id)) return true;
    }
  }
  return false;
}

std::optional<wire::AclList> fixup_acl(const wire::AclList& requested, const AuthIds& ids) {
  wire::AclList unique;
  for (const auto& a : requested) {
    if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(a);
  }
  if (unique.empty()) return std::nullopt;
  wire::AclList out;
  for (const auto& a : unique) {
    if (is_world_anyone(a.id)) {
      out.push_back(a);
    } else if (a.id.scheme == "auth") {
      // Expands to every identity whose scheme proves who the caller is (digest);
      // ip identities are not authenticated in ZooKeeper's sense.
      bool any = false;
      for (const auto& id : ids) {
        if (id.scheme == "digest") {
          out.push_back(wire::Acl{a.perms, id});
          any = true;
        }
      }
      if (!any) return std::nullopt;
    } else if (a.id.scheme == "digest") {
      if (!valid_digest_id(a.id.id)) return std::nullopt;
      out.push_back(a);
    } else if (a.id.scheme == "ip") {
      if (!parse_ip_expression(a.id.id)) return std::nullopt;
      out.push_back(a);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

wire::AclList redact_digests(const wire::AclList& acl) {
  wire::AclList out = acl;
  for (auto& a : out) {
    if (a.id.scheme == "digest") a.id.id = a.id.id.substr(0, a.id.id.find(':')) + ":x";
  }
  return out;
}

}  // namespace corral::ensemble
