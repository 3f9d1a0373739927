#include "corral/wire/path.h"

#include <cstdint>
#include <string>

namespace corral::wire {

namespace {

// Decodes one UTF-8 code point at `i`, advancing it; returns -1 on a
// malformed sequence (Java would have decoded it to U+FFFD, itself refused).
int32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i++]);
  if (b0 < 0x80) return b0;
  int extra = 0;
  int32_t cp = 0;
  if ((b0 & 0xe0) == 0xc0) {
    extra = 1;
    cp = b0 & 0x1f;
  } else if ((b0 & 0xf0) == 0xe0) {
    extra = 2;
    cp = b0 & 0x0f;
  } else if ((b0 & 0xf8) == 0xf0) {
    extra = 3;
    cp = b0 & 0x07;
  } else {
    return -1;
  }
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size()) return -1;
    const auto b = static_cast<unsigned char>(s[i++]);
    if ((b & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3f);
  }
  static constexpr int32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
  if (cp < min_for_length[extra]) return -1;  // overlong encoding
  return cp;
}

bool refused_code_point(int32_t c) {
  return c < 0 || (c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0;
}

}  // namespace

std::string_view path_problem(std::string_view path) {
  if (path.empty()) return "path length must be > 0";
  if (path[0] != '/') return "path must start with / character";
  if (path.size() == 1) return {};
  if (path.back() == '/') return "path must not end with / character";
  std::size_t i = 1;
  std::size_t component_start = 1;
  while (i <= path.size()) {
    if (i == path.size() || path[i] == '/') {
      const auto component = path.substr(component_start, i - component_start);
      if (component.empty()) return "empty node name specified";
      if (component == "." || component == "..") return "relative paths not allowed";
      component_start = i + 1;
      ++i;
      continue;
    }
    if (path[i] == '\0') return "null character not allowed";
    if (refused_code_point(next_code_point(path, i))) return "invalid character";
  }
  return {};
}

std::string_view parent_path(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

std::string_view base_name(std::string_view path) { return path.substr(path.rfind('/') + 1); }

std::string child_path(std::string_view parent, std::string_view name) {
  std::string out;
  out.reserve(parent.size() + 1 + name.size());
  out.append(parent);
  if (parent.size() != 1) out.push_back('/');
  out.append(name);
  return out;
}

}  // namespace corral::wire
