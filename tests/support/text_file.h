// Reading what processes under test wrote: whole files, and their lines.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace corral::test {

// The file's bytes ("" if it cannot be read).
std::string read_file(const std::filesystem::path& path);
// `text` cut at '\n' (a last line without one counts; no empty last line).
std::vector<std::string> lines(const std::string& text);
// How many lines of `text` are exactly `line`.
std::size_t count_lines(const std::string& text, const std::string& line);

}  // namespace corral::test
