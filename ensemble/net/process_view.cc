#include "ensemble/net/process_view.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ensemble/net/wall_clock.h"

namespace corral::ensemble {

namespace {

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t open_fds() {
  std::error_code ec;
  uint64_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

void fill_process_view(ServerView& view, const DataStore& store, const ClientFrontEnd& front) {
  view.now_ms = wall_ms();
  view.data_dir_bytes = store.data_dir_bytes();
  view.log_dir_bytes = store.log_dir_bytes();
  view.open_fds = open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) view.max_fds = limit.rlim_cur;
  view.rss_bytes = resident_bytes();
  view.remote_address = [&front](uint64_t conn) { return front.remote_address(conn); };
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  view.environment = {{"host.name", host},
                      {"os.name", "Linux"},
                      {"user.dir", std::filesystem::current_path().string()},
                      {"corral.pid", std::to_string(getpid())}};
}

}  // namespace corral::ensemble
