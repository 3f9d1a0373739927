// Snapshots and autopurge: with a small snapCount the server snapshots as it
// goes; autopurge keeps only the newest snapRetainCount snapshots and the log
// segments replay still needs, and a restart from what is left has every write.
#include <filesystem>
#include <string>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

// Files in the server's corral-1 directory whose name starts with `prefix`.
std::size_t count_files(const std::filesystem::path& dir, std::string_view prefix) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix) && !name.ends_with(".tmp")) ++n;
  }
  return n;
}

class PurgeTest : public ServerTest {
 protected:
  void configure(ServerOptions& o) override {
    o.extra["snapCount"] = "40";
    o.extra["autopurge.snapRetainCount"] = "3";
    o.extra["autopurge.purgeInterval"] = "300ms";
  }
};

TEST_F(PurgeTest, KeepsTheNewestSnapshotsAndRestartsFromThem) {
  if (!is_corral()) GTEST_SKIP() << "Corral's on-disk layout";
  const auto dir = server().data_dir() / "corral-1";
  auto c = connect();
  ASSERT_EQ(c->create("/p"), ZOK);
  for (int i = 0; i < 400; ++i) ASSERT_EQ(c->create("/p/n" + std::to_string(i), std::to_string(i)), ZOK);

  // Enough txns for ten snapshots; the purge task trims them to three, and
  // the log to the segments a replay from the oldest of those still needs
  // (one per snapshot, as each snapshot rolls the log, plus the open one).
  ASSERT_TRUE(wait_until([&] { return count_files(dir, "snapshot.") == 3 && count_files(dir, "log.") <= 5; },
                         std::chrono::seconds(20)))
      << count_files(dir, "snapshot.") << " snapshots, " << count_files(dir, "log.") << " log segments";

  c.reset();
  server().kill9();
  server().start();
  auto d = connect();
  for (int i = 0; i < 400; ++i) {
    std::string data;
    ASSERT_EQ(d->get("/p/n" + std::to_string(i), &data), ZOK) << i;
    ASSERT_EQ(data, std::to_string(i));
  }
}

}  // namespace
}  // namespace corral::test
