// Crash recovery: kill -9 while a stream of writes is in flight, restart on the
// same dataDir, and every write the server acknowledged is there, with no gap
// before it (writes of one session are durable in order). Also sessions,
// ephemerals, sequence counters, ACLs and containers across a crash, and a
// clean SIGTERM shutdown.
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

namespace w = corral::wire;

std::string padded(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08d", i);
  return buf;
}

// Asynchronous writes from one C client, at most `window` in flight, each
// remembered with its result code.
class WriteStream {
 public:
  enum class Kind { create, set };

  WriteStream(ZkClient& client, std::string path, Kind kind, int max, int window)
      : client_(client), path_(std::move(path)), kind_(kind), window_(window), slots_(static_cast<std::size_t>(max)) {
    for (std::size_t i = 0; i < slots_.size(); ++i) slots_[i] = Slot{this, static_cast<int>(i), kPending};
  }

  // Issues writes in order until `stop()` says so or all are issued; returns
  // how many were issued. `stop` is asked after each write is sent.
  template <class Stop>
  int run(Stop&& stop) {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, default_timeout, [&] { return issued_ - completed_ < window_; })) return issued_;
      }
      const std::string value = "value-" + std::to_string(i);
      int rc;
      if (kind_ == Kind::create) {
        const std::string path = path_ + "/n" + padded(static_cast<int>(i));
        rc = zoo_acreate(client_.get(), path.c_str(), value.data(), static_cast<int>(value.size()),
                         &ZOO_OPEN_ACL_UNSAFE, 0, &WriteStream::on_create, &slots_[i]);
      } else {
        rc = zoo_aset(client_.get(), path_.c_str(), value.data(), static_cast<int>(value.size()), -1,
                      &WriteStream::on_set, &slots_[i]);
      }
      if (rc != ZOK) break;  // the client is no longer connected
      {
        std::lock_guard lock(mutex_);
        ++issued_;
      }
      if (stop()) break;
    }
    std::lock_guard lock(mutex_);
    return issued_;
  }

  // Waits until every issued write has its answer (ZOK, or the connection loss).
  bool wait_all(milliseconds timeout = default_timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return completed_ == issued_; });
  }

  int acked() const {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  // Indices answered ZOK.
  std::vector<int> acked_indices() const {
    std::lock_guard lock(mutex_);
    std::vector<int> out;
    for (const auto& s : slots_) {
      if (s.rc == ZOK) out.push_back(s.index);
    }
    return out;
  }
  // The first error other than a lost connection, if any.
  int unexpected_error() const {
    std::lock_guard lock(mutex_);
    for (const auto& s : slots_) {
      if (s.rc != kPending && s.rc != ZOK && s.rc != ZCONNECTIONLOSS && s.rc != ZOPERATIONTIMEOUT) return s.rc;
    }
    return ZOK;
  }

 private:
  static constexpr int kPending = 1;
  struct Slot {
    WriteStream* self;
    int index;
    int rc;
  };

  void done(Slot& slot, int rc) {
    {
      std::lock_guard lock(mutex_);
      slot.rc = rc;
      ++completed_;
      if (rc == ZOK) ++acked_;
    }
    cv_.notify_all();
  }
  static void on_create(int rc, const char*, const void* data) {
    auto* slot = static_cast<Slot*>(const_cast<void*>(data));
    slot->self->done(*slot, rc);
  }
  static void on_set(int rc, const Stat*, const void* data) {
    auto* slot = static_cast<Slot*>(const_cast<void*>(data));
    slot->self->done(*slot, rc);
  }

  ZkClient& client_;
  const std::string path_;
  const Kind kind_;
  const int window_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  int issued_ = 0;
  int completed_ = 0;
  int acked_ = 0;
};

class CrashTest : public ServerTest {
 protected:
  // Streams creates under `dir`, kills the server once `kill_after` are
  // acknowledged, and returns the acknowledged indices.
  std::vector<int> creates_until_crash(const std::string& dir, int kill_after, int max = 20000, int window = 200) {
    auto writer = connect();
    EXPECT_EQ(writer->create(dir), ZOK);
    WriteStream stream(*writer, dir, WriteStream::Kind::create, max, window);
    bool killed = false;
    stream.run([&] {
      if (stream.acked() < kill_after) return false;
      server().kill9();  // with up to `window` writes in flight
      killed = true;
      return true;
    });
    EXPECT_TRUE(killed) << "the stream ended before " << kill_after << " writes were acknowledged";
    if (!killed) server().kill9();
    EXPECT_TRUE(stream.wait_all()) << "writes still unanswered after the crash";
    EXPECT_EQ(stream.unexpected_error(), ZOK);
    return stream.acked_indices();
  }

  // After a restart: every acknowledged create of `dir` is there with its
  // data, and what is there is a prefix of the stream (no gaps).
  void expect_durable(ZkClient& c, const std::string& dir, const std::vector<int>& acked) {
    std::vector<std::string> kids;
    ASSERT_EQ(c.children(dir, &kids), ZOK);
    std::set<int> present;
    for (const auto& k : kids) present.insert(std::stoi(k.substr(1)));
    for (int i : acked) {
      ASSERT_TRUE(present.count(i)) << "acknowledged create " << i << " of " << dir << " was lost";
    }
    if (!present.empty()) {
      EXPECT_EQ(*present.rbegin() + 1, static_cast<int>(present.size())) << "a gap in the recovered stream";
    }
    // And the data of each acknowledged one (a sample of at most 500).
    const std::size_t step = std::max<std::size_t>(1, acked.size() / 500);
    for (std::size_t k = 0; k < acked.size(); k += step) {
      const int i = acked[k];
      std::string data;
      ASSERT_EQ(c.get(dir + "/n" + padded(i), &data), ZOK);
      EXPECT_EQ(data, "value-" + std::to_string(i));
    }
  }
};

TEST_F(CrashTest, EveryAcknowledgedCreateSurvivesKill9) {
  const auto acked = creates_until_crash("/crash", 1000);
  ASSERT_GE(acked.size(), 1000u);
  server().start();
  auto c = connect();
  ASSERT_NO_FATAL_FAILURE(expect_durable(*c, "/crash", acked));
  // The server goes on from there: new writes get larger zxids.
  Stat before{};
  ASSERT_EQ(c->exists("/crash/n" + padded(acked.back()), &before), ZOK);
  ASSERT_EQ(c->create("/after"), ZOK);
  Stat after{};
  ASSERT_EQ(c->exists("/after", &after), ZOK);
  EXPECT_GT(after.czxid, before.czxid);
}

class CrashWithSnapshotsTest : public CrashTest {
 protected:
  // Snapshots every few dozen txns, so crashes land around snapshot writes.
  void configure(ServerOptions& o) override { o.extra["snapCount"] = "60"; }
};

TEST_F(CrashWithSnapshotsTest, AcknowledgedWritesSurviveRepeatedCrashes) {
  std::vector<std::vector<int>> rounds;
  for (int round = 0; round < 3; ++round) {
    const std::string dir = "/round" + std::to_string(round);
    rounds.push_back(creates_until_crash(dir, 300 + 150 * round));
    server().start();
    auto c = connect();
    for (int r = 0; r <= round; ++r) {
      SCOPED_TRACE("after crash " + std::to_string(round) + ", writes of round " + std::to_string(r));
      ASSERT_NO_FATAL_FAILURE(expect_durable(*c, "/round" + std::to_string(r), rounds[static_cast<std::size_t>(r)]));
    }
  }
}

TEST_F(CrashWithSnapshotsTest, AcknowledgedSetDataSurvivesKill9) {
  auto writer = connect();
  ASSERT_EQ(writer->create("/counter", "value--1"), ZOK);
  WriteStream stream(*writer, "/counter", WriteStream::Kind::set, 20000, 100);
  stream.run([&] {
    if (stream.acked() < 800) return false;
    server().kill9();
    return true;
  });
  ASSERT_TRUE(stream.wait_all());
  EXPECT_EQ(stream.unexpected_error(), ZOK);
  const auto acked = stream.acked_indices();
  ASSERT_GE(acked.size(), 800u);
  writer.reset();

  server().start();
  auto c = connect();
  std::string data;
  Stat st{};
  ASSERT_EQ(c->get("/counter", &data, &st), ZOK);
  // The i-th set wrote "value-i" as version i+1: the recovered node is the
  // result of a prefix of the sets, at least as long as the acknowledged ones.
  ASSERT_TRUE(data.starts_with("value-")) << data;
  const int last = std::stoi(data.substr(6));
  EXPECT_GE(last, acked.back());
  EXPECT_EQ(st.version, last + 1);
}

TEST_F(CrashTest, SessionsAndEphemeralsAfterACrash) {
  auto watcher_before = connect();
  RawSession::Options short_lived;
  short_lived.timeout_ms = 600;
  auto gone = raw(short_lived);
  ASSERT_EQ(
      gone->call(w::OpCode::create, w::CreateRequest{"/gone", "", {{w::perms::all, {"world", "anyone"}}}, 1}).err(),
      Error::ok);
  RawSession::Options long_lived;
  long_lived.timeout_ms = 20000;
  auto back = raw(long_lived);
  ASSERT_EQ(
      back->call(w::OpCode::create, w::CreateRequest{"/back", "", {{w::perms::all, {"world", "anyone"}}}, 1}).err(),
      Error::ok);
  RawSession::Options resume_back;
  resume_back.session_id = back->session_id();
  resume_back.password = back->password();
  resume_back.last_zxid_seen = back->last_zxid();
  gone.reset();
  back.reset();
  watcher_before.reset();

  server().restart();
  auto c = connect();
  // Both sessions were restored; the one that comes back keeps its ephemeral.
  auto again = raw(resume_back);
  ASSERT_EQ(again->session_id(), resume_back.session_id) << "the session did not survive the crash";
  EXPECT_EQ(c->exists("/back"), ZOK);
  // The one that does not come back expires, and its ephemeral goes.
  EXPECT_TRUE(wait_until([&] { return c->exists("/gone") == ZNONODE; })) << "/gone outlived its session";
  ASSERT_TRUE(again->ping());
  EXPECT_EQ(c->exists("/back"), ZOK);
  // Closing it now removes the other.
  ASSERT_EQ(again->call_raw(w::OpCode::closeSession, {}).err(), Error::ok);
  EXPECT_EQ(c->exists("/back"), ZNONODE);
}

TEST_F(CrashTest, SequenceCountersAclsAndContainersSurviveACrash) {
  auto c = connect();
  ASSERT_EQ(c->create("/seq"), ZOK);
  std::string p;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c->create("/seq/s-", "", ZOO_PERSISTENT_SEQUENTIAL, &p), ZOK);
  ASSERT_EQ(c->remove(p), ZOK);
  ASSERT_EQ(c->add_auth("digest", "alice:secret"), ZOK);
  ASSERT_EQ(c->create("/private", "p", 0, nullptr, &ZOO_CREATOR_ALL_ACL), ZOK);
  ASSERT_EQ(c->create("/box", "", ZOO_CONTAINER), ZOK);
  ASSERT_EQ(c->create("/box/kid"), ZOK);
  c.reset();

  server().restart();
  c = connect();
  ASSERT_EQ(c->create("/seq/s-", "", ZOO_PERSISTENT_SEQUENTIAL, &p), ZOK);
  EXPECT_EQ(p, "/seq/s-0000000003");
  std::string data;
  EXPECT_EQ(c->get("/private", &data), ZNOAUTH);
  ASSERT_EQ(c->add_auth("digest", "alice:secret"), ZOK);
  EXPECT_EQ(c->get("/private", &data), ZOK);
  // Still a container: it goes with its last child.
  ASSERT_EQ(c->remove("/box/kid"), ZOK);
  EXPECT_TRUE(wait_until([&] { return c->exists("/box") == ZNONODE; }));
}

TEST_F(CrashTest, CleanShutdownOnSigtermKeepsEverything) {
  auto c = connect();
  for (int i = 0; i < 50; ++i) ASSERT_EQ(c->create("/k" + std::to_string(i), std::to_string(i)), ZOK);
  c.reset();
  const auto status = server().stop();
  ASSERT_TRUE(status.has_value()) << "the server did not exit on SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && (WEXITSTATUS(*status) == 0 || !is_corral())) << describe_wait_status(*status);
  server().start();
  c = connect();
  for (int i = 0; i < 50; ++i) {
    std::string data;
    ASSERT_EQ(c->get("/k" + std::to_string(i), &data), ZOK);
    EXPECT_EQ(data, std::to_string(i));
  }
}

TEST_F(CrashTest, ACrashBeforeAnyWriteRecoversAnEmptyTree) {
  server().restart();
  server().restart();
  auto c = connect();
  std::vector<std::string> kids;
  ASSERT_EQ(c->children("/", &kids), ZOK);
  EXPECT_EQ(kids, std::vector<std::string>{"zookeeper"});
  ASSERT_EQ(c->create("/first"), ZOK);
}

}  // namespace
}  // namespace corral::test
