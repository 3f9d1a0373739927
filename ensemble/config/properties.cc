// The java.util.Properties.load() grammar, as ZooKeeper reads zoo.cfg:
//   * lines end at \n, \r or \r\n; leading blanks (space, tab, form feed) are skipped;
//   * a line whose first non-blank character is '#' or '!' is a comment;
//   * a line ending in an odd number of backslashes continues on the next line,
//     whose leading blanks are dropped (comment lines never continue);
//   * the key ends at the first unescaped '=', ':' or blank; blanks around the
//     separator are skipped and a blank-separated key may still be followed by
//     one '=' or ':';
//   * escapes: \t \n \r \f, \uXXXX, and a backslash before any other character
//     stands for that character.
#include <cstdint>
#include <string>
#include <string_view>

#include "ensemble/config/config.h"

namespace corral::ensemble {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Reads the four hex digits after "\u" at s[i..]; -1 if they are not there.
std::int32_t read_u_escape(std::string_view s, std::size_t i) {
  if (i + 4 > s.size()) return -1;
  std::int32_t v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    int d = hex_digit(s[i + k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Resolves escapes; false on a malformed \uXXXX.
bool unescape(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == in.size()) break;  // a lone trailing backslash stands for nothing
    c = in[i];
    switch (c) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        std::int32_t unit = read_u_escape(in, i + 1);
        if (unit < 0) return false;
        i += 4;
        std::uint32_t cp = static_cast<std::uint32_t>(unit);
        // Java strings are UTF-16: join a surrogate pair written as two escapes.
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 2 < in.size() && in[i + 1] == '\\' && in[i + 2] == 'u') {
          std::int32_t low = read_u_escape(in, i + 3);
          if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<std::uint32_t>(low) - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default: out += c; break;
    }
  }
  return true;
}

}  // namespace

PropertiesResult parse_properties(std::string_view text) {
  PropertiesResult result;
  std::size_t i = 0;
  int line = 1;
  const std::size_t n = text.size();

  while (i < n) {
    const int start_line = line;
    std::string logical;
    bool first = true;
    bool entry = true;
    for (;;) {
      while (i < n && is_blank(text[i])) ++i;
      const std::size_t begin = i;
      while (i < n && text[i] != '\n' && text[i] != '\r') ++i;
      std::string_view phys = text.substr(begin, i - begin);
      const bool terminated = i < n;
      if (terminated) {
        i += (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') ? 2 : 1;
        ++line;
      }
      if (first && (phys.empty() || phys.front() == '#' || phys.front() == '!')) {
        entry = false;  // blank line or comment
        break;
      }
      first = false;
      std::size_t backslashes = 0;
      while (backslashes < phys.size() && phys[phys.size() - 1 - backslashes] == '\\') ++backslashes;
      if (backslashes % 2 == 1) {
        logical.append(phys.substr(0, phys.size() - 1));
        if (!terminated) break;
        continue;
      }
      logical.append(phys);
      break;
    }
    if (!entry) continue;

    // Split into key and value.
    const std::size_t len = logical.size();
    std::size_t key_end = len;
    std::size_t value_start = len;
    bool has_separator = false;
    bool escaped = false;
    for (std::size_t p = 0; p < len; ++p) {
      char c = logical[p];
      if (escaped) {
        escaped = false;
        continue;
      }
      if (c == '\\') {
        escaped = true;
      } else if (c == '=' || c == ':') {
        key_end = p;
        value_start = p + 1;
        has_separator = true;
        break;
      } else if (is_blank(c)) {
        key_end = p;
        value_start = p + 1;
        break;
      }
    }
    while (value_start < len) {
      char c = logical[value_start];
      if (!is_blank(c)) {
        if (has_separator || (c != '=' && c != ':')) break;
        has_separator = true;
      }
      ++value_start;
    }

    Property prop;
    prop.line = start_line;
    if (!unescape(std::string_view(logical).substr(0, key_end), prop.key) ||
        !unescape(std::string_view(logical).substr(value_start), prop.value)) {
      result.error = "malformed \\uXXXX escape (a \\u must be followed by four hex digits)";
      result.error_line = start_line;
      return result;
    }
    result.properties.push_back(std::move(prop));
  }
  return result;
}

}  // namespace corral::ensemble
