#include "tests/support/text_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace corral::test {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = text.find('\n', at);
    out.push_back(text.substr(at, end == std::string::npos ? std::string::npos : end - at));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return out;
}

std::size_t count_lines(const std::string& text, const std::string& line) {
  const auto all = lines(text);
  return static_cast<std::size_t>(std::count(all.begin(), all.end(), line));
}

}  // namespace corral::test
