// Configuration with a ready znode: publish and snapshot, readers in other
// fibers and processes that never see two publications mixed while a writer
// publishes fast (in one multi and in steps), followers whose generations
// only increase, concurrent writers, a writer that died half-way, and a
// follower that survives a server restart — against corral-server and
// Apache ZooKeeper 3.8.
#include <fstream>
#include <random>
#include <sstream>

#include "corral/recipes/configuration.h"
#include "tests/client/client_fixture.h"
#include "tests/recipes/worker.h"
#include "tests/support/temp_dir.h"

namespace corral::test {
namespace {

using recipes::ConfigSnapshot;
using recipes::Configuration;
using recipes::ConfigValues;

// Publication `p` of the mixing test: every value says p; the set of keys
// changes with p (so creates, sets and deletes all happen), and values are
// long enough that a small max_multi_bytes writes them in steps.
ConfigValues publication(uint64_t p, bool last = false) {
  ConfigValues v;
  const std::string value = std::to_string(p) + ":" + std::string(40, 'x');
  for (int k = 0; k < 8; ++k) {
    if ((p + static_cast<uint64_t>(k)) % 5 == 0) continue;
    v["key" + std::to_string(k)] = value;
  }
  if (last) v["end"] = value;
  return v;
}

// Empty when `s` is one publication of the mixing test: every value names
// the same publication p and the keys are exactly p's; otherwise what is
// wrong. (A publication whose reply was lost is done again under the next
// generation, so values carry p, not the generation.)
std::string check_unmixed(const ConfigSnapshot& s) {
  if (s.values.empty()) return "no values";
  const std::string& first = s.values.begin()->second;
  const std::string p_text = first.substr(0, first.find(':'));
  uint64_t p = 0;
  try {
    p = std::stoull(p_text);
  } catch (const std::exception&) {
    return "a value without a publication number: " + first;
  }
  for (const auto& [key, value] : s.values) {
    if (value != first) return "publication " + p_text + " has " + key + "=" + value.substr(0, value.find(':'));
  }
  auto want = publication(p, s.values.contains("end"));
  if (want != s.values) return "publication " + p_text + " with another publication's keys";
  return {};
}

// args: hosts path
// Until it sees the publication with "end": one fiber reads snapshots in a
// loop, another follows with a listener. Exits 0 when every snapshot was
// unmixed and the listener's generations strictly increased.
CORRAL_RECIPE_WORKER(config_reader) {
  Runtime rt;
  int status = 0;
  rt.run([&] {
    ClientOptions o;
    o.connect_string = args.at(0);
    o.session_timeout = std::chrono::seconds(10);
    Client reader_client(rt, o), follower_client(rt, o);
    reader_client.connect(std::chrono::seconds(10));
    follower_client.connect(std::chrono::seconds(10));
    const auto deadline = Clock::now() + std::chrono::seconds(40);
    int snapshots = 0, heard = 0;
    uint64_t last_heard = 0;
    bool follower_done = false;
    Configuration follower(follower_client, args.at(1));
    follower.add_listener([&](const ConfigSnapshot& s) {
      ++heard;
      if (const auto bad = check_unmixed(s); !bad.empty()) {
        std::fprintf(stderr, "listener: mixed: %s\n", bad.c_str());
        status = 1;
      }
      if (s.generation <= last_heard) {
        std::fprintf(stderr, "listener: generation %llu after %llu\n", static_cast<unsigned long long>(s.generation),
                     static_cast<unsigned long long>(last_heard));
        status = 1;
      }
      last_heard = s.generation;
      if (s.values.contains("end")) follower_done = true;
    });
    follower.start();
    Configuration reader(reader_client, args.at(1));
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pace(0, 1000);
    while (true) {
      std::error_code ec;
      const auto s = reader.snapshot(deadline, ec);
      if (ec) {
        std::fprintf(stderr, "snapshot: %s\n", ec.message().c_str());
        status = 1;
        break;
      }
      ++snapshots;
      if (const auto bad = check_unmixed(s); !bad.empty()) {
        std::fprintf(stderr, "snapshot: mixed: %s\n", bad.c_str());
        status = 1;
      }
      if (s.values.contains("end")) break;
      // Pace the loop a little (0-1 ms, random) so that readers interleave
      // with the writer instead of crowding it out on a loaded machine.
      boost::this_fiber::sleep_for(std::chrono::microseconds(pace(rng)));
    }
    if (!follower.wait_until([&](const auto&) { return follower_done; }, deadline)) {
      std::fprintf(stderr, "the follower never saw the last publication\n");
      status = 1;
    }
    follower.close();
    std::printf("%d snapshots, %d publications heard\n", snapshots, heard);
  });
  return status;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ConfigurationTest : public ClientTest {};

TEST_P(ConfigurationTest, PublishAndSnapshot) {
  with_client([&](Runtime&, Client& c) {
    const std::string path = at("app/config");
    Configuration config(c, path);
    std::error_code ec;
    // Nothing published yet: a snapshot waits for ready, until its deadline.
    config.snapshot(Clock::now() + 100ms, ec);
    EXPECT_ZK(ec, Error::operationTimeout);

    EXPECT_EQ(config.publish({{"db", "10.0.0.7:5432"}, {"pool", "32"}}), 1u);
    auto s = config.snapshot();
    EXPECT_EQ(s.generation, 1u);
    EXPECT_EQ(s.values, (ConfigValues{{"db", "10.0.0.7:5432"}, {"pool", "32"}}));
    EXPECT_EQ(s.get("pool"), "32");
    EXPECT_FALSE(s.get("nope"));
    EXPECT_EQ(c.get(path + "/ready").data, "1");
    EXPECT_EQ(c.get(path).data, "1");

    // Keys not in a publication go; binary values are fine.
    const std::string bytes("\0\x01\xff", 3);
    EXPECT_EQ(config.publish({{"db", "10.0.0.8:5432"}, {"blob", bytes}}), 2u);
    s = config.snapshot();
    EXPECT_EQ(s.generation, 2u);
    EXPECT_EQ(s.values, (ConfigValues{{"db", "10.0.0.8:5432"}, {"blob", bytes}}));
    EXPECT_FALSE(c.exists(path + "/pool").has_value());

    // "ready" and names with a slash are no keys.
    config.publish({{"ready", "x"}}, Clock::now() + 5s, ec);
    EXPECT_ZK(ec, Error::badArguments);
    config.publish({{"a/b", "x"}}, Clock::now() + 5s, ec);
    EXPECT_ZK(ec, Error::badArguments);
    EXPECT_EQ(config.snapshot().generation, 2u);
  });
}

// A change too big for one multi is written in steps (claim, keys, ready);
// readers see it only once ready is back.
TEST_P(ConfigurationTest, ABigChangeIsWrittenInStepsBehindReady) {
  with_client([&](Runtime&, Client& c) {
    const std::string path = at("config");
    Configuration writer(c, path, {.max_multi_bytes = 300});
    ConfigValues big;
    for (int k = 0; k < 40; ++k) big["k" + std::to_string(k)] = std::string(100, static_cast<char>('a' + k % 26));
    EXPECT_EQ(writer.publish(big), 1u);
    Configuration reader(c, path);
    const auto s = reader.snapshot();
    EXPECT_EQ(s.generation, 1u);
    EXPECT_EQ(s.values, big);
    big.erase("k3");
    big["k4"] = "changed";
    EXPECT_EQ(writer.publish(big), 2u);
    EXPECT_EQ(reader.snapshot().values, big);
  });
}

// One writer publishes 80 generations as fast as it can, alternating one
// multi and stepwise writes; readers in two other processes and in fibers of
// this one read snapshots in a loop and follow with listeners. No snapshot
// ever mixes two publications; followers' generations strictly increase.
TEST_P(ConfigurationTest, ReadersNeverSeeAMixOfTwoPublications) {
  constexpr uint64_t generations = 80;
  TempDir dir("corral-configuration");
  const std::string path = at("config");
  with_client([&](Runtime& rt, Client& c) {
    Configuration whole(c, path), stepwise(c, path, {.max_multi_bytes = 200});
    ASSERT_EQ(whole.publish(publication(1)), 1u);
    std::vector<std::unique_ptr<Process>> workers;
    for (int w = 0; w < 2; ++w) {
      workers.push_back(spawn_worker("config_reader", {server().host_port(), path},
                                     dir.path() / ("reader" + std::to_string(w) + ".log")));
    }
    // Readers here too, on their own clients.
    auto rc = connect(rt), fc = connect(rt);
    ASSERT_TRUE(rc && fc);
    bool writing = true;
    int snapshots = 0;
    std::vector<std::string> problems;
    boost::fibers::fiber reader_fiber([&] {
      Configuration reader(*rc, path);
      while (writing) {
        std::error_code ec;
        const auto s = reader.snapshot(Clock::now() + 10s, ec);
        if (ec) {
          problems.push_back("snapshot: " + ec.message());
          return;
        }
        ++snapshots;
        if (auto bad = check_unmixed(s); !bad.empty()) problems.push_back(bad);
        boost::this_fiber::sleep_for(std::chrono::microseconds(snapshots % 5 * 250));  // pace, as the workers do
      }
    });
    std::vector<uint64_t> heard;
    Configuration follower(*fc, path);
    follower.add_listener([&](const ConfigSnapshot& s) {
      heard.push_back(s.generation);
      if (auto bad = check_unmixed(s); !bad.empty()) problems.push_back("listener: " + bad);
    });
    follower.start();

    std::vector<std::string> states;
    c.add_state_listener([&](SessionState st) { states.emplace_back(to_string(st)); });
    const auto start = Clock::now();
    uint64_t last = 1;
    for (uint64_t p = 2; p <= generations; ++p) {
      Configuration& w = p % 2 ? stepwise : whole;
      std::error_code ec;
      const uint64_t g = w.publish(publication(p, p == generations), Clock::now() + 20s, ec);
      EXPECT_FALSE(ec) << ec.message();
      // Only a lost reply (a publication done again) skips a generation.
      EXPECT_TRUE(g == last + 1 || (g > last && !states.empty()))
          << "publication " << p << " got generation " << g << " after " << last;
      last = g;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    writing = false;
    reader_fiber.join();
    EXPECT_TRUE(follower.wait_until([&](const auto& now) { return now && now->generation == last; },
                                    Clock::now() + default_timeout));
    follower.close();
    for (std::size_t w = 0; w < workers.size(); ++w) {
      const auto status = workers[w]->wait(40s);
      ASSERT_TRUE(status) << "reader " << w << " still running";
      EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
          << describe_wait_status(*status) << "\n"
          << slurp(dir.path() / ("reader" + std::to_string(w) + ".log"));
      const auto log = slurp(dir.path() / ("reader" + std::to_string(w) + ".log"));
      std::printf("[ figures  ] reader process %zu: %s", w, log.c_str());
    }
    EXPECT_TRUE(problems.empty()) << problems.front();
    EXPECT_TRUE(std::is_sorted(heard.begin(), heard.end()));
    EXPECT_EQ(std::adjacent_find(heard.begin(), heard.end()), heard.end()) << "a generation heard twice";
    ASSERT_FALSE(heard.empty());
    EXPECT_EQ(heard.back(), last);
    std::printf("[ figures  ] %s: %llu publications in %.2f s; %d snapshots read meanwhile in-process, %zu heard\n",
                kind_name(kind()).c_str(), static_cast<unsigned long long>(generations - 1), seconds, snapshots,
                heard.size());
  });
}

// Two writers publish concurrently: they take turns (the one overtaken starts
// again), every publication they were told about is a distinct generation,
// and what readers see is always one writer's whole set.
TEST_P(ConfigurationTest, ConcurrentWritersTakeTurns) {
  with_client([&](Runtime& rt, Client& c) {
    const std::string path = at("config");
    auto c2 = connect(rt);
    ASSERT_TRUE(c2);
    std::vector<uint64_t> gens;
    std::vector<std::string> problems;
    const auto t0 = Clock::now();
    const auto ms = [&] { return std::to_string((Clock::now() - t0) / 1ms) + " ms: "; };
    c.add_state_listener([&](SessionState st) { problems.push_back(ms() + "c " + std::string(to_string(st))); });
    c2->add_state_listener([&](SessionState st) { problems.push_back(ms() + "c2 " + std::string(to_string(st))); });
    auto write = [&](Client& client, std::string who, std::size_t max_multi) {
      Configuration w(client, path, {.max_multi_bytes = max_multi});
      for (int i = 0; i < 25; ++i) {
        ConfigValues v;
        for (int k = 0; k < 6; ++k) v["k" + std::to_string(k)] = who + std::to_string(i) + std::string(30, '.');
        std::error_code ec;
        gens.push_back(w.publish(v, Clock::now() + 10s, ec));
        if (ec) problems.push_back(ms() + who + ": " + ec.message());
      }
    };
    boost::fibers::fiber a([&] { write(c, "A", 150); });
    boost::fibers::fiber b([&] { write(*c2, "B", 256 * 1024); });
    Configuration reader(c, path);
    bool done = false;
    boost::fibers::fiber r([&] {
      while (!done) {
        std::error_code ec;
        const auto s = reader.snapshot(Clock::now() + 10s, ec);
        if (ec) {
          problems.push_back(ms() + "snapshot: " + ec.message());
          return;
        }
        const std::string first = s.values.begin()->second;
        for (const auto& [k, v] : s.values) {
          if (v != first) problems.push_back("mixed: " + first + " and " + v);
        }
      }
    });
    a.join();
    b.join();
    done = true;
    r.join();
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    EXPECT_TRUE(problems.empty()) << all;
    std::sort(gens.begin(), gens.end());
    EXPECT_EQ(std::adjacent_find(gens.begin(), gens.end()), gens.end()) << "two publications got one generation";
    EXPECT_EQ(reader.snapshot().generation, gens.back());
  });
}

// A writer that died between removing ready and creating it again leaves no
// ready: readers wait (and time out), followers keep the last snapshot, and
// the next publication repairs it.
TEST_P(ConfigurationTest, AWriterThatDiedHalfWayLeavesTheLastSnapshotInForce) {
  with_client([&](Runtime& rt, Client& c) {
    const std::string path = at("config");
    Configuration writer(c, path);
    writer.publish({{"a", "1"}, {"b", "1"}});
    auto fc = connect(rt);
    ASSERT_TRUE(fc);
    std::vector<uint64_t> heard;
    Configuration follower(*fc, path);
    follower.add_listener([&](const ConfigSnapshot& s) { heard.push_back(s.generation); });
    follower.start();
    ASSERT_TRUE(follower.wait_until([](const auto& now) { return now && now->generation == 1; },
                                    Clock::now() + default_timeout));
    // The dead writer's steps (1) and half of (2): claim, ready gone, one key changed.
    Transaction claim;
    claim.set(path, "2", c.get(path).stat.version).remove(path + "/ready");
    c.multi(claim);
    c.set(path + "/a", "2");
    std::error_code ec;
    writer.snapshot(Clock::now() + 150ms, ec);
    EXPECT_ZK(ec, Error::operationTimeout);
    EXPECT_EQ(follower.current()->values, (ConfigValues{{"a", "1"}, {"b", "1"}}));
    // The next writer starts from the claimed generation.
    EXPECT_EQ(writer.publish({{"a", "3"}, {"b", "3"}}), 3u);
    ASSERT_TRUE(follower.wait_until([](const auto& now) { return now && now->generation == 3; },
                                    Clock::now() + default_timeout));
    EXPECT_EQ(follower.current()->values, (ConfigValues{{"a", "3"}, {"b", "3"}}));
    EXPECT_EQ(heard, (std::vector<uint64_t>{1, 3}));
  });
}

// The follower's server is restarted: its session resumes, the watch comes
// back, what was published meanwhile is read.
TEST_P(ConfigurationTest, AFollowerSurvivesAServerRestart) {
  ServerOptions so;
  so.kind = kind();
  TestServer own(so);
  own.start(kind() == ServerKind::zookeeper ? 60s : default_timeout);
  run_fibers([&](Runtime& rt) {
    auto o = options();
    o.connect_string = own.host_port();
    o.session_timeout = 20s;
    auto fc = connect(rt, o);
    ASSERT_TRUE(fc);
    std::vector<uint64_t> heard;
    Configuration follower(*fc, "/app/config");
    follower.add_listener([&](const ConfigSnapshot& s) { heard.push_back(s.generation); });
    follower.start();
    {
      auto wc = connect(rt, o);
      ASSERT_TRUE(wc);
      Configuration writer(*wc, "/app/config");
      writer.publish({{"mode", "one"}});
      ASSERT_TRUE(follower.wait_until([](const auto& now) { return now && now->generation == 1; },
                                      Clock::now() + default_timeout));
    }
    own.restart();
    auto wc = connect(rt, o);
    ASSERT_TRUE(wc);
    Configuration writer(*wc, "/app/config");
    EXPECT_EQ(writer.publish({{"mode", "two"}}), 2u);
    ASSERT_TRUE(follower.wait_until([](const auto& now) { return now && now->generation == 2; }, Clock::now() + 30s))
        << "follower state " << to_string(fc->state());
    EXPECT_EQ(follower.current()->values, (ConfigValues{{"mode", "two"}}));
    EXPECT_EQ(follower.snapshot().generation, 2u);
    EXPECT_EQ(heard, (std::vector<uint64_t>{1, 2}));
    follower.close();
  });
}

CORRAL_CLIENT_SUITE(ConfigurationTest);

}  // namespace
}  // namespace corral::test
