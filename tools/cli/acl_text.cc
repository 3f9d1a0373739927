#include "tools/cli/acl_text.h"

#include <cstdio>
#include <ctime>

#include "corral/wire/protocol.h"

namespace corral::cli {

namespace {
std::optional<int32_t> parse_perms(std::string_view text) {
  int32_t perms = 0;
  for (char c : text) {
    switch (c) {
      case 'r': perms |= wire::perms::read; break;
      case 'w': perms |= wire::perms::write; break;
      case 'c': perms |= wire::perms::create; break;
      case 'd': perms |= wire::perms::remove; break;
      case 'a': perms |= wire::perms::admin; break;
      default: return std::nullopt;
    }
  }
  return perms;
}

std::string format_time(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}
}  // namespace

std::optional<wire::AclList> parse_acl(std::string_view text, std::string& error) {
  wire::AclList out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    // scheme:id:perms, where the id may itself contain ':' (digest user:hash).
    const auto first = item.find(':');
    const auto last = item.rfind(':');
    if (first == std::string_view::npos || first == last) {
      error = "invalid ACL entry '" + std::string(item) + "' (want scheme:id:perms)";
      return std::nullopt;
    }
    const auto perms = parse_perms(item.substr(last + 1));
    if (!perms) {
      error = "invalid permissions in '" + std::string(item) + "' (want letters of cdrwa)";
      return std::nullopt;
    }
    out.push_back(wire::Acl{
        *perms, wire::Id{std::string(item.substr(0, first)), std::string(item.substr(first + 1, last - first - 1))}});
  }
  if (out.empty()) {
    error = "empty ACL";
    return std::nullopt;
  }
  return out;
}

std::string format_perms(int32_t perms) {
  std::string out;
  if (perms & wire::perms::create) out += 'c';
  if (perms & wire::perms::remove) out += 'd';
  if (perms & wire::perms::read) out += 'r';
  if (perms & wire::perms::write) out += 'w';
  if (perms & wire::perms::admin) out += 'a';
  return out;
}

std::string format_acl(const wire::AclList& acl) {
  std::string out;
  for (const auto& a : acl) out += "'" + a.id.scheme + ",'" + a.id.id + "\n: " + format_perms(a.perms) + "\n";
  return out;
}

std::string format_stat(const wire::Stat& s) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "cZxid = 0x%llx\nctime = %s\nmZxid = 0x%llx\nmtime = %s\npZxid = 0x%llx\ncversion = %d\n"
                "dataVersion = %d\naclVersion = %d\nephemeralOwner = 0x%llx\ndataLength = %d\nnumChildren = %d\n",
                static_cast<unsigned long long>(s.czxid), format_time(s.ctime).c_str(),
                static_cast<unsigned long long>(s.mzxid), format_time(s.mtime).c_str(),
                static_cast<unsigned long long>(s.pzxid), s.cversion, s.version, s.aversion,
                static_cast<unsigned long long>(s.ephemeralOwner), s.dataLength, s.numChildren);
  return buf;
}

}  // namespace corral::cli
