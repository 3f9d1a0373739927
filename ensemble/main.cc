// corral-server <zoo.cfg>: a ZooKeeper-protocol server.
#include <cstdio>
#include <exception>
#include <string>

#include "corral/version.h"
#include "ensemble/config/config.h"
#include "ensemble/net/ensemble_server.h"
#include "ensemble/net/standalone_server.h"

namespace {
constexpr const char* usage = "usage: corral-server <zoo.cfg>\n       corral-server --version | --help\n";
}

int main(int argc, char** argv) {
  const std::string first = argc > 1 ? argv[1] : "";
  if (argc == 2 && first == "--version") {
    std::printf("corral-server %s\n", CORRAL_VERSION);
    return 0;
  }
  if (argc == 2 && (first == "--help" || first == "-h")) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (argc != 2 || first.starts_with("-")) {
    std::fputs(usage, stderr);
    return 2;
  }
  const auto result = corral::ensemble::load_config(argv[1]);
  for (const auto& w : result.warnings) std::fprintf(stderr, "corral-server: warning: %s\n", w.c_str());
  if (!result) {
    std::fprintf(stderr, "corral-server: %s\n", result.error.c_str());
    return 1;
  }
  try {
    if (result.config->is_standalone()) {
      corral::ensemble::StandaloneServer server(*result.config);
      server.recover();
      server.listen();
      server.run();
    } else {
      corral::ensemble::EnsembleServer server(*result.config);
      server.recover();
      server.listen();
      server.run();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
