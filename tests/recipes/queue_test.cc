// Queue and PriorityQueue (DistributedQueue, DistributedPriorityQueue): each
// item delivered exactly once to many consumers in many processes, FIFO and
// priority order, timeouts, peek and batches, Curator's item encoding, lost
// replies and an expired session, and a long queue — against corral-server
// and Apache ZooKeeper 3.8.
#include <algorithm>
#include <climits>
#include <fstream>
#include <set>
#include <sstream>

#include "corral/recipes/queue.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wire_tap.h"

namespace corral::test {
namespace {

// Smaller workloads under AddressSanitizer (CI runs the suite in both builds).
#if defined(__SANITIZE_ADDRESS__)
constexpr int scale = 4;
#else
constexpr int scale = 1;
#endif

using recipes::PriorityQueue;
using recipes::Queue;

// args: hosts path first count mode(single|all)
CORRAL_RECIPE_WORKER(q_producer) {
  Runtime rt;
  int status = 0;
  rt.run([&] {
    try {
      auto c = connect_client(rt, args.at(0));
      Queue q(*c, args.at(1));
      const int first = std::stoi(args.at(2)), count = std::stoi(args.at(3));
      std::vector<std::string> chunk;
      for (int n = first; n < first + count; ++n) {
        if (args.at(4) == "single") {
          q.put(std::to_string(n));
          continue;
        }
        chunk.push_back(std::to_string(n));
        if (chunk.size() == 50 || n + 1 == first + count) {
          q.put_all(chunk);
          chunk.clear();
        }
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "producer: %s\n", e.what());
      status = 1;
    }
  });
  return status;
}

// args: hosts path fibers out_file
// Each fiber (its own client and queue; even ones take one at a time, odd ones
// in batches of 7) takes until it sees "stop"; every item taken is written to
// out_file, one line each.
CORRAL_RECIPE_WORKER(q_consumer) {
  Runtime rt;
  int status = 0;
  std::vector<std::string> taken;
  rt.run([&] {
    std::vector<boost::fibers::fiber> fibers;
    for (int f = 0; f < std::stoi(args.at(2)); ++f) {
      fibers.emplace_back([&, f] {
        try {
          auto c = connect_client(rt, args.at(0));
          Queue q(*c, args.at(1));
          for (bool stop = false; !stop;) {
            std::vector<std::string> got;
            if (f % 2 == 0) {
              if (auto item = q.take(std::chrono::seconds(30))) got.push_back(*item);
            } else {
              got = q.take_batch(7, std::chrono::seconds(30));
            }
            if (got.empty()) throw std::runtime_error("no item within 30 s");
            for (auto& item : got) {
              if (item == "stop") {
                stop = true;
              } else {
                taken.push_back(item);
              }
            }
          }
        } catch (const std::exception& e) {
          std::fprintf(stderr, "consumer %d: %s\n", f, e.what());
          status = 1;
        }
      });
    }
    for (auto& f : fibers) f.join();
  });
  std::ofstream out(args.at(3), std::ios::app);
  for (const auto& t : taken) out << t << '\n';
  return status;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> numbers(int first, int count) {
  std::vector<std::string> out;
  for (int n = first; n < first + count; ++n) out.push_back(std::to_string(n));
  return out;
}

class QueueTest : public ClientTest {
 protected:
  // What is in the queue, as a reader sees it.
  std::vector<std::string> contents(Client& c, const std::string& path) {
    auto kids = c.children(path).names;
    std::erase_if(kids, [](const std::string& n) { return !n.starts_with("queue-"); });
    std::sort(kids.begin(), kids.end());
    std::vector<std::string> out;
    for (const auto& k : kids) {
      auto items = recipes::QueueBase::decode_items(c.get(path + "/" + k).data);
      EXPECT_TRUE(items) << k;
      if (items) out.insert(out.end(), items->begin(), items->end());
    }
    return out;
  }
};

TEST_P(QueueTest, CuratorsItemEnvelopeAndPriorityText) {
  const std::string e = recipes::QueueBase::encode_item("hi");
  EXPECT_EQ(e, std::string("\x00\x01\x00\x01\x01\x00\x00\x00\x02hi\x02", 12));
  EXPECT_EQ(recipes::QueueBase::decode_items(e), std::vector<std::string>{"hi"});
  EXPECT_EQ(recipes::QueueBase::decode_items(std::string("\x00\x01\x00\x01\x02", 5)), std::vector<std::string>{});
  EXPECT_FALSE(recipes::QueueBase::decode_items("plain bytes"));
  EXPECT_FALSE(recipes::QueueBase::decode_items(std::string("\x00\x01\x00\x01\x01\x00\x00\x00\x09hi\x02", 12)));
  EXPECT_EQ(recipes::QueueBase::priority_text(0), "100000000");
  EXPECT_EQ(recipes::QueueBase::priority_text(10), "10000000A");
  EXPECT_EQ(recipes::QueueBase::priority_text(-1), "0FFFFFFFF");
  EXPECT_EQ(recipes::QueueBase::priority_text(INT_MIN), "080000000");
}

TEST_P(QueueTest, OneConsumerTakesInFifoOrder) {
  with_client([&](Runtime&, Client& c) {
    Queue q(c, at("q"));
    for (int n = 0; n < 30; ++n) q.put(std::to_string(n));
    q.put_all(numbers(30, 70));
    EXPECT_EQ(q.size(), 100u);
    std::vector<std::string> got;
    for (int n = 0; n < 100; ++n) {
      auto item = q.take(5s);
      ASSERT_TRUE(item);
      got.push_back(*item);
    }
    EXPECT_EQ(got, numbers(0, 100));
    EXPECT_EQ(q.size(), 0u);
    EXPECT_FALSE(q.poll());
  });
}

TEST_P(QueueTest, PeekBatchesAndSize) {
  with_client([&](Runtime&, Client& c) {
    Queue q(c, at("q"));
    EXPECT_FALSE(q.peek());
    q.put_all(numbers(0, 12));
    EXPECT_EQ(q.peek(), "0");
    EXPECT_EQ(q.peek(), "0");  // still there
    EXPECT_EQ(q.size(), 12u);
    EXPECT_EQ(q.take_batch(5, 5s), numbers(0, 5));
    EXPECT_EQ(q.peek(), "5");
    EXPECT_EQ(q.take_batch(100, 5s), numbers(5, 7));
    EXPECT_EQ(q.size(), 0u);
    std::error_code ec;
    EXPECT_TRUE(q.take_batch(3, Clock::now() + 50ms, ec).empty());
    EXPECT_ZK(ec, Error::operationTimeout);
  });
}

TEST_P(QueueTest, TakeWaitsForAPutAndTimesOutOnAnEmptyQueue) {
  with_client([&](Runtime& rt, Client& c) {
    Queue q(c, at("q"));
    std::error_code ec;
    const auto start = Clock::now();
    EXPECT_FALSE(q.take(Clock::now() + 200ms, ec));
    EXPECT_ZK(ec, Error::operationTimeout);
    EXPECT_GE(Clock::now() - start, 200ms);
    EXPECT_FALSE(q.take(50ms));

    auto c2 = connect(rt);
    Queue producer(*c2, at("q"));
    std::optional<std::string> got;
    boost::fibers::fiber taker([&] { got = q.take(10s); });
    boost::this_fiber::yield();  // the taker lists the empty queue (it passes either way)
    producer.put("late");
    taker.join();
    EXPECT_EQ(got, "late");
  });
}

TEST_P(QueueTest, PriorityQueueTakesLowestPriorityFirstThenArrival) {
  with_client([&](Runtime&, Client& c) {
    PriorityQueue q(c, at("pq"));
    q.put("a", 5);
    q.put("b", -3);
    q.put("c", 0);
    q.put("d", 5);
    q.put("e", -3);
    q.put("f", INT_MIN);
    q.put("g", INT_MAX);
    q.put_all({"h", "i"}, 1);
    const std::vector<std::string> expected{"f", "b", "e", "c", "h", "i", "a", "d", "g"};
    // A put that sorts first is seen by the next take (strict by default).
    EXPECT_EQ(q.take(5s), "f");
    q.put("urgent", -100);
    std::vector<std::string> got;
    while (auto item = q.poll()) got.push_back(*item);
    EXPECT_EQ(got, (std::vector<std::string>{"urgent", "b", "e", "c", "h", "i", "a", "d", "g"}));
    // Curator's names: queue-<priority text><sequence>.
    q.put("x", 10);
    const auto names = c.children(at("pq")).names;
    EXPECT_EQ(std::count_if(names.begin(), names.end(),
                            [](const std::string& n) { return n.starts_with("queue-10000000A"); }),
              1);
  });
}

// Items written the way a Curator process writes them: several items in one
// node (putMulti) are taken by one consumer and returned one by one; data
// that is not Curator's envelope comes back as it is; foreign nodes are left.
TEST_P(QueueTest, ReadsWhatCuratorWrites) {
  with_client([&](Runtime&, Client& c) {
    const std::string path = at("q");
    c.create(path);
    std::string multi("\x00\x01\x00\x01", 4);
    for (std::string item : {"one", "two", "three"}) {
      multi.push_back('\x01');
      multi.append(std::string("\x00\x00\x00", 3)).push_back(static_cast<char>(item.size()));
      multi.append(item);
    }
    multi.push_back('\x02');
    c.create(path + "/queue-", multi, {.mode = CreateMode::persistentSequential});
    c.create(path + "/queue-", "raw", {.mode = CreateMode::persistentSequential});
    c.create(path + "/foreign", "");
    Queue q(c, path);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.peek(), "one");
    EXPECT_EQ(q.take(1s), "one");
    EXPECT_EQ(q.size(), 1u);  // the whole node went to us
    EXPECT_EQ(q.take(1s), "two");
    EXPECT_EQ(q.take_batch(5, 1s), (std::vector<std::string>{"three"}));
    EXPECT_EQ(q.take(1s), "raw");
    EXPECT_FALSE(q.poll());
    EXPECT_TRUE(c.exists(path + "/foreign").has_value());
  });
}

// 2 producer processes put 3000 numbered items (a quarter under ASan) while 3 consumer processes of
// 2 consumers each take them; the union of what the consumers took is
// exactly the set put, each item once.
TEST_P(QueueTest, ManyConsumersInManyProcessesTakeEachItemExactlyOnce) {
  constexpr int per_producer = 1500 / scale;
  TempDir dir("corral-queue");
  const std::string path = at("q");
  const auto out = dir.path() / "taken.txt";
  std::vector<std::unique_ptr<Process>> consumers, producers;
  for (int w = 0; w < 3; ++w) {
    consumers.push_back(spawn_worker("q_consumer", {server().host_port(), path, "2", out.string()},
                                     dir.path() / ("consumer" + std::to_string(w) + ".log")));
  }
  producers.push_back(spawn_worker("q_producer",
                                   {server().host_port(), path, "0", std::to_string(per_producer), "single"},
                                   dir.path() / "producer0.log"));
  producers.push_back(spawn_worker(
      "q_producer", {server().host_port(), path, std::to_string(per_producer), std::to_string(per_producer), "all"},
      dir.path() / "producer1.log"));
  const auto start = Clock::now();
  for (std::size_t p = 0; p < producers.size(); ++p) {
    const auto status = producers[p]->wait(60s);
    ASSERT_TRUE(status) << "producer " << p << " still running";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << describe_wait_status(*status) << slurp(dir.path() / ("producer" + std::to_string(p) + ".log"));
  }
  with_client([&](Runtime&, Client& c) {
    Queue q(c, path);
    q.put_all(std::vector<std::string>(6 * 8, "stop"));  // after every numbered item; batches may take several
  });
  for (std::size_t w = 0; w < consumers.size(); ++w) {
    const auto status = consumers[w]->wait(60s);
    ASSERT_TRUE(status) << "consumer " << w << " still running";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << describe_wait_status(*status) << slurp(dir.path() / ("consumer" + std::to_string(w) + ".log"));
  }
  const auto elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::multiset<int> taken;
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);) taken.insert(std::stoi(line));
  std::set<int> distinct(taken.begin(), taken.end());
  EXPECT_EQ(taken.size(), distinct.size()) << "an item was taken twice";
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(2 * per_producer)) << "items went missing";
  if (!distinct.empty()) {
    EXPECT_EQ(*distinct.begin(), 0);
    EXPECT_EQ(*distinct.rbegin(), 2 * per_producer - 1);
  }
  std::printf("[ figures  ] %d items through 6 consumers in 3 processes: %.2f s\n", 2 * per_producer, elapsed);
}

// Puts and takes through a connection that keeps being dropped: lost replies
// are resolved by the receipt, so nothing is doubled or lost.
TEST_P(QueueTest, DroppedConnectionsNeitherDoubleNorLoseItems) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto o = options();
    o.connect_string = proxy.host_port();
    auto cut = connect(rt, o);
    ASSERT_TRUE(cut);
    const std::string path = at("q");
    constexpr int count = 200;
    bool done = false;
    int drops = 0;
    // Generous deadlines: under ASan on a loaded machine a reconnect after
    // each drop can take seconds. The chaos fiber is stopped and joined on
    // every path out of this scope (a failed ASSERT included).
    JoiningFiber chaos(
        [&] {
          while (!done) {
            boost::this_fiber::sleep_for(7ms);
            proxy.drop_all();
            ++drops;
            fiber_wait_until(
                [&] {
                  return done || cut->state() == SessionState::connected || cut->state() == SessionState::reconnected;
                },
                60s);
          }
        },
        [&] { done = true; });
    Queue q(*cut, path);
    for (int n = 0; n < count; ++n) {
      std::error_code ec;
      q.put(std::to_string(n), Clock::now() + 60s, ec);
      ASSERT_FALSE(ec) << n << ": " << ec.message();
    }
    EXPECT_EQ(contents(c, path), numbers(0, count)) << "a put was doubled or lost";
    std::vector<std::string> got;
    while (static_cast<int>(got.size()) < count) {
      std::error_code ec;
      auto items = q.take_batch(got.size() % 2 ? 1 : 3, Clock::now() + 60s, ec);
      ASSERT_FALSE(ec) << ec.message();
      got.insert(got.end(), items.begin(), items.end());
    }
    EXPECT_EQ(got, numbers(0, count)) << "a take was doubled or lost";
    chaos.join();
    // The last drop may not have been noticed yet: size() fails with
    // connectionLoss like any read then (the throwing form would unwind a
    // fiber's stack, which ASan misreads).
    std::size_t left = SIZE_MAX;
    EXPECT_TRUE(fiber_wait_until(
        [&] {
          std::error_code ec;
          left = q.size(ec);
          return !ec;
        },
        60s));
    EXPECT_EQ(left, 0u);
    std::printf("[ figures  ] %d connection drops, %llu replies lost and resolved by the receipt\n", drops,
                static_cast<unsigned long long>(q.lost_replies()));
  });
}

// A put and a take whose replies never come back (the server applied them;
// the tap swallows the answers, then cuts the connection): the receipt says
// they were applied, so the item is queued once and delivered once.
TEST_P(QueueTest, ALostReplyIsResolvedByTheReceipt) {
  with_client([&](Runtime& rt, Client& c) {
    WireTap tap(server().port());
    auto o = options();
    o.connect_string = tap.host_port();
    auto tapped = connect(rt, o);
    ASSERT_TRUE(tapped);
    const std::string path = at("q");
    Queue q(*tapped, path);
    q.put("first");  // the receipt is made: the next put is one multi

    tap.set_swallow_replies(true);
    std::error_code ec = Error::operationTimeout;
    boost::fibers::fiber putter([&] { q.put("second", Clock::now() + 10s, ec); });
    ASSERT_TRUE(fiber_wait_until([&] { return tap.swallowed() >= 1; }));
    tap.set_swallow_replies(false);
    tap.drop_all();
    putter.join();
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(q.lost_replies(), 1u);
    EXPECT_EQ(contents(c, path), (std::vector<std::string>{"first", "second"})) << "the put was doubled or lost";

    tap.set_swallow_replies(true);
    std::optional<std::string> got;
    boost::fibers::fiber taker([&] { got = q.take(Clock::now() + 10s, ec); });
    ASSERT_TRUE(fiber_wait_until([&] { return tap.swallowed() >= 2; }));
    tap.set_swallow_replies(false);
    tap.drop_all();
    taker.join();
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(got, "first");
    EXPECT_EQ(contents(c, path), (std::vector<std::string>{"second"}));
    EXPECT_EQ(q.take(5s), "second");
    EXPECT_FALSE(q.poll());
  });
}

// The cost of waiting: consumers waiting on an empty queue each hold one
// child watch, so a put into it reaches every one of them (one notification
// each), each lists again, and one takes the item. Counted on the wire: the
// notifications and listings stay proportional to waiters x puts (printed).
TEST_P(QueueTest, WaitingConsumersCostOneNotificationEachPerPut) {
  with_client([&](Runtime& rt, Client& c) {
    WireTap tap(server().port());
    auto o = options();
    o.connect_string = tap.host_port();
    constexpr int consumers = 4;
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < consumers; ++i) {
      clients.push_back(connect(rt, o));
      ASSERT_TRUE(clients.back());
    }
    const std::string path = at("q");
    c.create(path);
    // Each object's receipt is a child of the queue too: make them first
    // (each poll lists once and its watch hears the next consumer's receipt).
    std::vector<std::unique_ptr<Queue>> queues;
    for (int i = 0; i < consumers; ++i) {
      queues.push_back(std::make_unique<Queue>(*clients[static_cast<std::size_t>(i)], path));
      EXPECT_FALSE(queues.back()->poll());
    }
    ASSERT_TRUE(fiber_wait_until([&] { return tap.notifications() == consumers - 1; }));
    const int polled = tap.requests(wire::OpCode::getChildren2);
    std::vector<std::string> got;
    std::vector<boost::fibers::fiber> fibers;
    for (int i = 0; i < consumers; ++i) {
      fibers.emplace_back([&, i] {
        if (auto item = queues[static_cast<std::size_t>(i)]->take(20s)) got.push_back(*item);
      });
    }
    // Waiting on the empty queue: one listing (and its child watch) each.
    ASSERT_TRUE(fiber_wait_until([&] { return tap.requests(wire::OpCode::getChildren2) == polled + consumers; }));
    const int listings = tap.requests(wire::OpCode::getChildren2);
    Queue producer(c, path);
    producer.put("first");
    ASSERT_TRUE(fiber_wait_until([&] { return got.size() == 1; }));
    // Every waiter heard the put (the one child watch each of them holds).
    ASSERT_TRUE(fiber_wait_until([&] { return tap.notifications() >= 2 * consumers - 1; }));
    for (int n = 1; n < consumers; ++n) producer.put(std::to_string(n));
    for (auto& f : fibers) f.join();
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"1", "2", "3", "first"}));
    const int notifications = tap.notifications() - (consumers - 1);
    const int relistings = tap.requests(wire::OpCode::getChildren2) - listings;
    EXPECT_LE(notifications, 3 * consumers * consumers);
    EXPECT_LE(relistings, 3 * consumers * consumers);
    std::printf(
        "[ figures  ] %s: %d waiting consumers, %d puts: %d notifications, %d listings after the first, "
        "%d getData, %d multi\n",
        kind_name(kind()).c_str(), consumers, consumers, notifications, relistings, tap.requests(wire::OpCode::getData),
        tap.requests(wire::OpCode::multi));
  });
}

// A consumer's session expires: its call fails with sessionExpired, and the
// same object works on the client's next session.
TEST_P(QueueTest, AnExpiredSessionFailsTheCallAndTheObjectWorksAgain) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto o = options();
    o.connect_string = proxy.host_port();
    auto cut = connect(rt, o);
    ASSERT_TRUE(cut);
    const std::string path = at("q");
    Queue q(*cut, path), producer(c, path);
    producer.put_all({"a", "b"});
    EXPECT_EQ(q.take(5s), "a");
    ASSERT_TRUE(cut_off(proxy, *cut));
    expire_session(rt, *cut);
    proxy.set_refusing(false);
    std::error_code ec;
    EXPECT_FALSE(q.take(Clock::now() + 10s, ec));
    EXPECT_ZK(ec, Error::sessionExpired);
    cut->reconnect_new_session(default_timeout, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(q.take(5s), "b");
    q.put("c");
    EXPECT_EQ(producer.take(5s), "c");
  });
}

// 20,000 items (a quarter under ASan): one listing, then batches; a sanity check of the cost per
// item (printed, not asserted).
TEST_P(QueueTest, ALongQueueIsTakenWithoutListingPerItem) {
  with_client([&](Runtime&, Client& c) {
    constexpr int count = 20000 / scale, singles = 500 / scale;
    Queue q(c, at("long"));
    auto t0 = Clock::now();
    q.put_all(numbers(0, count));
    const double put_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<std::string> got;
    got.reserve(count);
    t0 = Clock::now();
    for (int n = 0; n < singles; ++n) {
      auto item = q.take(5s);
      ASSERT_TRUE(item);
      got.push_back(std::move(*item));
    }
    const double single_s = std::chrono::duration<double>(Clock::now() - t0).count();
    t0 = Clock::now();
    while (static_cast<int>(got.size()) < count) {
      auto items = q.take_batch(100, 5s);
      ASSERT_FALSE(items.empty());
      got.insert(got.end(), items.begin(), items.end());
    }
    const double batch_s = std::chrono::duration<double>(Clock::now() - t0).count();
    EXPECT_EQ(got, numbers(0, count));
    EXPECT_EQ(q.size(), 0u);
    std::printf("[ figures  ] %s: put_all %d: %.0f/s; take: %.0f/s; take_batch(100): %.0f/s\n",
                kind_name(kind()).c_str(), count, count / put_s, singles / single_s, (count - singles) / batch_s);
  });
}

CORRAL_CLIENT_SUITE(QueueTest);

}  // namespace
}  // namespace corral::test
