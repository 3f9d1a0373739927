#include "corral/recipes/read_write_lock.h"

#include <algorithm>

namespace corral::recipes {

namespace {

bool is_writer(std::string_view name) { return name.find(ReadWriteLock::write_name) != std::string_view::npos; }
bool is_reader(std::string_view name) { return name.find(ReadWriteLock::read_name) != std::string_view::npos; }

// Curator's SortingLockInternalsDriver.fixForSorting: the text after the
// reader's name, then after the writer's.
std::string_view read_write_key(std::string_view name) {
  return sort_key(sort_key(name, ReadWriteLock::read_name), ReadWriteLock::write_name);
}

std::string_view child_name(std::string_view path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

std::vector<std::string> sorted_read_write_queue(std::vector<std::string> children) {
  std::erase_if(children, [](const std::string& c) { return !is_reader(c) && !is_writer(c); });
  std::stable_sort(children.begin(), children.end(),
                   [](const std::string& a, const std::string& b) { return read_write_key(a) < read_write_key(b); });
  return children;
}

ReadWriteLock::ReadWriteLock(Client& client, std::string path)
    : write_(
          client, path, std::string(write_name),
          [this](const std::vector<std::string>& sorted, std::size_t ours, int) -> LockVerdict {
            if (ours == 0) return {.holds = true};
            // Our own read node ahead of us: we would wait for ourselves.
            if (read_.held_by_this_fiber()) {
              const std::string held = read_.our_path();  // `mine` views into it
              const std::string_view mine = child_name(held);
              if (std::find(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(ours), mine) !=
                  sorted.begin() + static_cast<std::ptrdiff_t>(ours)) {
                return {.fail = std::make_error_code(std::errc::resource_deadlock_would_occur)};
              }
            }
            return {.holds = false, .watch = sorted[ours - 1]};
          },
          sorted_read_write_queue),
      read_(
          client, std::move(path), std::string(read_name),
          [this](const std::vector<std::string>& sorted, std::size_t ours, int) -> LockVerdict {
            if (write_.held_by_this_fiber()) return {.holds = true};
            for (std::size_t i = ours; i-- > 0;) {
              if (is_writer(sorted[i])) return {.holds = false, .watch = sorted[i]};
            }
            return {.holds = true};
          },
          sorted_read_write_queue,
          // Read-after-write: sort next to the writer we hold.
          [this]() -> std::string {
            if (!write_.held_by_this_fiber()) return {};
            return std::string(sort_key(child_name(write_.our_path()), write_name));
          }) {}

}  // namespace corral::recipes
