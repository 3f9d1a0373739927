// Pipelining: thousands of requests in flight on one connection, answered in
// the order they were sent, each read seeing the writes sent before it.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

namespace w = corral::wire;

// Records the order in which completions run and what each saw.
class Completions {
 public:
  explicit Completions(std::size_t n) : slots_(n) {
    for (std::size_t i = 0; i < n; ++i) {
      slots_[i].self = this;
      slots_[i].index = static_cast<int>(i);
    }
  }
  void* data(std::size_t i) { return &slots_[i]; }

  static void on_data(int rc, const char* value, int len, const Stat*, const void* data) {
    auto* s = static_cast<Slot*>(const_cast<void*>(data));
    s->self->done(*s, rc, value && len > 0 ? std::string(value, static_cast<std::size_t>(len)) : std::string());
  }
  static void on_stat(int rc, const Stat*, const void* data) {
    auto* s = static_cast<Slot*>(const_cast<void*>(data));
    s->self->done(*s, rc, {});
  }
  static void on_string(int rc, const char* value, const void* data) {
    auto* s = static_cast<Slot*>(const_cast<void*>(data));
    s->self->done(*s, rc, value ? value : "");
  }

  bool wait_all(std::size_t n, milliseconds timeout = default_timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return order_.size() >= n; });
  }
  std::vector<int> order() const {
    std::lock_guard lock(mutex_);
    return order_;
  }
  int rc(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return slots_[i].rc;
  }
  std::string value(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return slots_[i].value;
  }

 private:
  struct Slot {
    Completions* self = nullptr;
    int index = 0;
    int rc = 1;
    std::string value;
  };
  void done(Slot& s, int rc, std::string value) {
    {
      std::lock_guard lock(mutex_);
      s.rc = rc;
      s.value = std::move(value);
      order_.push_back(s.index);
    }
    cv_.notify_all();
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  std::vector<int> order_;
};

bool ascending(const std::vector<int>& order) {
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (order[i] != static_cast<int>(i)) return false;
  }
  return true;
}

class PipelineTest : public ServerTest {};

TEST_F(PipelineTest, ThousandsOfAsyncReadsCompleteInOrder) {
  auto c = connect();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(c->create("/r" + std::to_string(i), "data-" + std::to_string(i)), ZOK);
  constexpr std::size_t n = 5000;
  Completions done(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string path = "/r" + std::to_string(i % 10);
    ASSERT_EQ(zoo_aget(c->get(), path.c_str(), 0, &Completions::on_data, done.data(i)), ZOK);
  }
  ASSERT_TRUE(done.wait_all(n)) << done.order().size() << " of " << n << " answered";
  EXPECT_TRUE(ascending(done.order())) << "completions out of order";
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(done.rc(i), ZOK) << i;
    ASSERT_EQ(done.value(i), "data-" + std::to_string(i % 10)) << i;
  }
}

TEST_F(PipelineTest, PipelinedReadsSeeTheWritesSentBeforeThem) {
  auto c = connect();
  ASSERT_EQ(c->create("/p", "start"), ZOK);
  constexpr std::size_t rounds = 2000;
  Completions done(2 * rounds + 2);
  for (std::size_t i = 0; i < rounds; ++i) {
    const std::string v = "v" + std::to_string(i);
    ASSERT_EQ(
        zoo_aset(c->get(), "/p", v.data(), static_cast<int>(v.size()), -1, &Completions::on_stat, done.data(2 * i)),
        ZOK);
    ASSERT_EQ(zoo_aget(c->get(), "/p", 0, &Completions::on_data, done.data(2 * i + 1)), ZOK);
  }
  // A failing write in the middle of the stream is answered in its turn too.
  ASSERT_EQ(zoo_acreate(c->get(), "/p", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, &Completions::on_string, done.data(2 * rounds)),
            ZOK);
  ASSERT_EQ(zoo_aget(c->get(), "/p", 0, &Completions::on_data, done.data(2 * rounds + 1)), ZOK);
  ASSERT_TRUE(done.wait_all(2 * rounds + 2));
  EXPECT_TRUE(ascending(done.order())) << "completions out of order";
  for (std::size_t i = 0; i < rounds; ++i) {
    ASSERT_EQ(done.rc(2 * i), ZOK);
    ASSERT_EQ(done.rc(2 * i + 1), ZOK);
    ASSERT_EQ(done.value(2 * i + 1), "v" + std::to_string(i)) << "read " << i << " missed the write before it";
  }
  EXPECT_EQ(done.rc(2 * rounds), ZNODEEXISTS);
  EXPECT_EQ(done.value(2 * rounds + 1), "v" + std::to_string(rounds - 1));
}

TEST_F(PipelineTest, ManyClientsPipelineCreatesAtOnce) {
  constexpr int clients = 4;
  constexpr std::size_t per_client = 1500;
  std::vector<std::unique_ptr<ZkClient>> cs;
  std::vector<std::unique_ptr<Completions>> dones;
  for (int k = 0; k < clients; ++k) {
    cs.push_back(connect());
    dones.push_back(std::make_unique<Completions>(per_client));
    ASSERT_EQ(cs.back()->create("/c" + std::to_string(k)), ZOK);
  }
  for (std::size_t i = 0; i < per_client; ++i) {
    for (int k = 0; k < clients; ++k) {
      const std::string path = "/c" + std::to_string(k) + "/n-";
      ASSERT_EQ(
          zoo_acreate(cs[static_cast<std::size_t>(k)]->get(), path.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE,
                      ZOO_PERSISTENT_SEQUENTIAL, &Completions::on_string, dones[static_cast<std::size_t>(k)]->data(i)),
          ZOK);
    }
  }
  for (int k = 0; k < clients; ++k) {
    auto& done = *dones[static_cast<std::size_t>(k)];
    ASSERT_TRUE(done.wait_all(per_client));
    EXPECT_TRUE(ascending(done.order())) << "client " << k;
    // Each client's sequence numbers follow its own issue order.
    for (std::size_t i = 0; i < per_client; ++i) {
      char want[64];
      std::snprintf(want, sizeof want, "/c%d/n-%010zu", k, i);
      ASSERT_EQ(done.value(i), want);
    }
  }
  auto check = connect();
  for (int k = 0; k < clients; ++k) {
    Stat st{};
    ASSERT_EQ(check->exists("/c" + std::to_string(k), &st), ZOK);
    EXPECT_EQ(st.numChildren, static_cast<int>(per_client));
  }
}

TEST_F(PipelineTest, RawBurstOfTenThousandRequestsIsAnsweredInOrder) {
  auto s = raw();
  ASSERT_EQ(s->call(w::OpCode::create, w::CreateRequest{"/b", "x", {{w::perms::all, {"world", "anyone"}}}, 0}).err(),
            Error::ok);
  // One write of all the frames: creates, reads, and refused writes mixed.
  constexpr int n = 10000;
  std::string burst;
  std::vector<int32_t> xids;
  for (int i = 0; i < n; ++i) {
    const int32_t xid = 1000 + i;
    xids.push_back(xid);
    switch (i % 4) {
      case 0:
        burst += request_frame(xid, w::OpCode::create,
                               w::encode_to_string(w::CreateRequest{
                                   "/b/" + std::to_string(i), "", {{w::perms::all, {"world", "anyone"}}}, 0}));
        break;
      case 1:
        burst += request_frame(xid, w::OpCode::exists,
                               w::encode_to_string(w::ExistsRequest{"/b/" + std::to_string(i - 1), false}));
        break;
      case 2:
        burst +=
            request_frame(xid, w::OpCode::create,
                          w::encode_to_string(w::CreateRequest{"/b", "", {{w::perms::all, {"world", "anyone"}}}, 0}));
        break;
      default:
        burst += request_frame(xid, w::OpCode::getData, w::encode_to_string(w::GetDataRequest{"/b", false}));
        break;
    }
  }
  // Write from a helper thread while replies are read here, so neither side's
  // socket buffer can fill up and stall the other.
  std::thread writer([&] { s->connection().send_bytes(burst); });
  std::vector<Reply> replies;
  for (int i = 0; i < n; ++i) {
    auto r = s->read_reply();
    if (!r) break;
    replies.push_back(std::move(*r));
  }
  writer.join();
  ASSERT_EQ(replies.size(), static_cast<std::size_t>(n)) << (s->closed() ? "the server closed the connection" : "");
  int64_t last_zxid = 0;
  for (int i = 0; i < n; ++i) {
    const Reply& r = replies[static_cast<std::size_t>(i)];
    ASSERT_EQ(r.header.xid, xids[static_cast<std::size_t>(i)]) << "reply " << i << " out of order";
    const Error want = i % 4 == 2 ? Error::nodeExists : Error::ok;
    ASSERT_EQ(r.err(), want) << "request " << i;
    ASSERT_GE(r.header.zxid, last_zxid);
    last_zxid = r.header.zxid;
  }
}

// globalOutstandingLimit: with a limit far below the burst, the server stops
// reading from the client while the log catches up, and resumes; every write
// is still answered, in order, and applied.
class ThrottledPipelineTest : public ServerTest {
 protected:
  void configure(ServerOptions& o) override { o.extra["globalOutstandingLimit"] = "8"; }
};

TEST_F(ThrottledPipelineTest, ABurstFarOverTheLimitIsAnsweredInOrder) {
  auto s = raw();
  ASSERT_EQ(s->call(w::OpCode::create, w::CreateRequest{"/t", "", {{w::perms::all, {"world", "anyone"}}}, 0}).err(),
            Error::ok);
  constexpr int n = 2000;
  std::string burst;
  for (int i = 0; i < n; ++i) {
    burst += request_frame(5000 + i, w::OpCode::create,
                           w::encode_to_string(w::CreateRequest{
                               "/t/" + std::to_string(i), "", {{w::perms::all, {"world", "anyone"}}}, 0}));
  }
  std::thread writer([&] { s->connection().send_bytes(burst); });
  int answered = 0;
  for (int i = 0; i < n; ++i) {
    auto r = s->read_reply();
    if (!r) break;
    EXPECT_EQ(r->header.xid, 5000 + i);
    EXPECT_EQ(r->err(), Error::ok);
    ++answered;
  }
  writer.join();
  ASSERT_EQ(answered, n);
  auto c = connect();
  std::vector<std::string> kids;
  ASSERT_EQ(c->children("/t", &kids), ZOK);
  EXPECT_EQ(kids.size(), static_cast<std::size_t>(n));
  expect_serving();
}

}  // namespace
}  // namespace corral::test
