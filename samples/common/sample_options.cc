#include "samples/common/sample_options.h"

#include <signal.h>
#include <sys/time.h>

#include <ctime>

#include "corral/version.h"

namespace corral::samples {

std::atomic<bool> stop_requested{false};

Options::Options(int argc, char** argv, std::string_view usage) : usage_(usage) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("usage: %s\n", usage_.c_str());
      std::exit(0);
    }
    if (a == "--version") {
      const std::string_view program = argv[0];
      std::printf("%s %s\n", std::string(program.substr(program.rfind('/') + 1)).c_str(), CORRAL_VERSION);
      std::exit(0);
    }
    if (!a.starts_with("--") || a.size() < 3) fail("unexpected argument '" + a + "'");
    a = a.substr(2);
    if (i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--") {
      values_[a] = argv[++i];
    } else {
      values_[a] = "";
    }
  }
}

void Options::fail(const std::string& why) const {
  std::fprintf(stderr, "%s\nusage: %s\n", why.c_str(), usage_.c_str());
  std::exit(2);
}

std::string Options::get(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

long Options::number(const std::string& name, long fallback) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  char* end = nullptr;
  const long v = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0') fail("--" + name + " needs a number, not '" + it->second + "'");
  return v;
}

void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = [](int) { stop_requested = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void say(std::string_view name, const std::string& text) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  std::tm tm{};
  localtime_r(&tv.tv_sec, &tm);
  std::printf("%02d:%02d:%02d.%03ld %.*s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(tv.tv_usec / 1000),
              static_cast<int>(name.size()), name.data(), text.c_str());
  std::fflush(stdout);
}

}  // namespace corral::samples
