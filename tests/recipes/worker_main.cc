#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "tests/recipes/worker.h"

namespace corral::test {

std::map<std::string, WorkerFn>& worker_registry() {
  static std::map<std::string, WorkerFn> registry;
  return registry;
}

std::unique_ptr<Process> spawn_worker(const std::string& name, const std::vector<std::string>& args,
                                      const std::filesystem::path& log) {
  std::vector<std::string> argv{std::filesystem::read_symlink("/proc/self/exe").string(), "--corral-worker=" + name};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<Process>(argv, log);
}

}  // namespace corral::test

int main(int argc, char** argv) {
  constexpr const char* flag = "--corral-worker=";
  if (argc >= 2 && std::strncmp(argv[1], flag, std::strlen(flag)) == 0) {
    const std::string name = argv[1] + std::strlen(flag);
    const auto& registry = corral::test::worker_registry();
    const auto it = registry.find(name);
    if (it == registry.end()) {
      std::fprintf(stderr, "no worker named '%s'\n", name.c_str());
      return 2;
    }
    return it->second(std::vector<std::string>(argv + 2, argv + argc));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
