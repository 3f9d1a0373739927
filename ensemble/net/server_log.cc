#include "ensemble/net/server_log.h"

#include <cstdio>
#include <ctime>

namespace corral::ensemble {

void log_line(const std::string& line) {
  const std::time_t t = std::time(nullptr);
  char stamp[32];
  std::tm local{};
  localtime_r(&t, &local);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
  std::fprintf(stderr, "%s corral-server: %s\n", stamp, line.c_str());
}

}  // namespace corral::ensemble
