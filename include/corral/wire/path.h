// ZooKeeper path rules (PathUtils.validatePath): absolute, no trailing slash,
// no empty, "." or ".." components, and none of the characters ZooKeeper
// refuses (controls, U+007F..U+009F, U+D800..U+F8FF, U+FFF0..U+FFFF, and
// anything outside the Basic Multilingual Plane, which Java sees as surrogates).
#pragma once

#include <string>
#include <string_view>

namespace corral::wire {

// Empty when `path` is valid, else the reason (for the log line).
std::string_view path_problem(std::string_view path);
inline bool is_valid_path(std::string_view path) { return path_problem(path).empty(); }

// "/a/b" -> "/a"; "/a" -> "/"; requires a valid non-root path.
std::string_view parent_path(std::string_view path);
// "/a/b" -> "b".
std::string_view base_name(std::string_view path);
// Joins a parent path and a child name.
std::string child_path(std::string_view parent, std::string_view name);

}  // namespace corral::wire
