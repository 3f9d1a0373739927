// The core is pure (docs/ARCHITECTURE.md §3): no sockets, files, threads or clock. This
// reads the core's sources and refuses the headers and calls that would
// bring any of them in.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

TEST(CorePurity, NoIoThreadsOrClockInTheCore) {
  const std::filesystem::path dir = CORRAL_CORE_SOURCE_DIR;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  const char* forbidden[] = {
      "<thread>",     "<mutex>",       "<condition_variable>", "<future>",         "<chrono>",      "<ctime>",
      "<fstream>",    "<unistd.h>",    "<sys/socket.h>",       "<netinet/",        "<arpa/inet.h>", "<boost/asio",
      "<boost/fiber", "<filesystem>",  "std::chrono::",        "std::this_thread", "time(nullptr)", "random_device",
      "fopen(",       "std::ifstream", "std::ofstream"};
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {  // quorum/ too
    const auto ext = entry.path().extension();
    if (ext != ".h" && ext != ".cc") continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    for (const char* f : forbidden) EXPECT_EQ(s.find(f), std::string::npos) << entry.path().filename() << " uses " << f;
  }
  EXPECT_GE(files, 20);  // the core and quorum/ are read, not an empty directory
}

}  // namespace
