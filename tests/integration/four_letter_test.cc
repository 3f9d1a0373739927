// The four-letter words on the client port: ZooKeeper's texts and key names,
// reporting what the clients actually did.
#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

std::string hex(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// "key\tvalue" (mntr) or "key=value" (conf, envi) lines as a map.
std::map<std::string, std::string> pairs(const std::string& text, char sep) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(sep);
    if (at != std::string::npos) out[line.substr(0, at)] = line.substr(at + 1);
  }
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class FourLetterTest : public ServerTest {
 protected:
  // ZooKeeper's DataTree keeps the root under both "" and "/", and its node
  // count (srvr, mntr) counts it twice; Corral counts the nodes there are.
  std::size_t root_alias() const { return is_corral() ? 0 : 1; }
};

TEST_F(FourLetterTest, RuokAndIsro) {
  EXPECT_EQ(server().four_letter("ruok"), "imok");
  EXPECT_EQ(server().four_letter("isro"), "rw");
}

TEST_F(FourLetterTest, SrvrAndStatDescribeTheServer) {
  auto c = connect();
  ASSERT_EQ(c->create("/one"), ZOK);
  ASSERT_EQ(c->create("/two"), ZOK);
  const std::string srvr = server().four_letter("srvr");
  EXPECT_TRUE(contains(srvr, "Zookeeper version: ")) << srvr;
  EXPECT_TRUE(contains(srvr, "Latency min/avg/max: ")) << srvr;
  EXPECT_TRUE(contains(srvr, "Received: ")) << srvr;
  EXPECT_TRUE(contains(srvr, "Sent: ")) << srvr;
  EXPECT_TRUE(contains(srvr, "Outstanding: 0\n")) << srvr;
  EXPECT_TRUE(contains(srvr, "Zxid: 0x")) << srvr;
  EXPECT_TRUE(contains(srvr, "Mode: standalone\n")) << srvr;
  // "/", /zookeeper and its children, /one, /two.
  Stat st{};
  std::vector<std::string> kids;
  ASSERT_EQ(c->children2("/zookeeper", &kids, &st), ZOK);
  EXPECT_TRUE(contains(srvr, "Node count: " + std::to_string(4 + kids.size() + root_alias()) + "\n")) << srvr;
  EXPECT_FALSE(contains(srvr, "Clients:"));

  const std::string stat = server().four_letter("stat");
  EXPECT_TRUE(contains(stat, "Clients:\n")) << stat;
  EXPECT_TRUE(contains(stat, " /127.0.0.1:")) << stat;  // remote address with its port
  EXPECT_TRUE(contains(stat, "(queued=")) << stat;
  EXPECT_TRUE(contains(stat, "Mode: standalone\n")) << stat;
}

TEST_F(FourLetterTest, MntrReportsCountsUnderZooKeepersKeys) {
  auto c = connect();
  ASSERT_EQ(c->create("/m", "12345"), ZOK);
  ASSERT_EQ(c->create("/m/e1", "", ZOO_EPHEMERAL), ZOK);
  ASSERT_EQ(c->create("/m/e2", "", ZOO_EPHEMERAL), ZOK);
  std::string data;
  ASSERT_EQ(c->get("/m", &data, nullptr, true), ZOK);
  const auto m = pairs(server().four_letter("mntr"), '\t');
  for (const char* key :
       {"zk_version", "zk_server_state", "zk_avg_latency", "zk_max_latency", "zk_min_latency", "zk_packets_received",
        "zk_packets_sent", "zk_num_alive_connections", "zk_outstanding_requests", "zk_znode_count", "zk_watch_count",
        "zk_ephemerals_count", "zk_approximate_data_size", "zk_open_file_descriptor_count",
        "zk_max_file_descriptor_count"}) {
    EXPECT_TRUE(m.count(key)) << "mntr lacks " << key;
  }
  EXPECT_EQ(m.at("zk_server_state"), "standalone");
  EXPECT_EQ(m.at("zk_ephemerals_count"), "2");
  EXPECT_EQ(m.at("zk_watch_count"), "1");
  EXPECT_EQ(m.at("zk_outstanding_requests"), "0");
  // The C client's connection (the mntr connection itself may count too).
  EXPECT_GE(std::stoi(m.at("zk_num_alive_connections")), 1);
  Stat st{};
  std::vector<std::string> kids;
  ASSERT_EQ(c->children2("/zookeeper", &kids, &st), ZOK);
  EXPECT_EQ(m.at("zk_znode_count"), std::to_string(2 + kids.size() + 3 + root_alias()));
}

TEST_F(FourLetterTest, ConfShowsTheConfiguration) {
  const auto conf = pairs(server().four_letter("conf"), '=');
  EXPECT_EQ(conf.at("clientPort"), std::to_string(server().port()));
  EXPECT_EQ(conf.at("tickTime"), "100");
  EXPECT_EQ(conf.at("minSessionTimeout"), "200");
  EXPECT_EQ(conf.at("maxSessionTimeout"), "30000");
  EXPECT_EQ(conf.at("maxClientCnxns"), "60");
  EXPECT_TRUE(conf.count("dataDir"));
  EXPECT_TRUE(conf.count("dataLogDir"));
}

TEST_F(FourLetterTest, ConsListsConnectionsWithTheirSessions) {
  auto c = connect();
  std::string data;
  ASSERT_EQ(c->get("/zookeeper", &data), ZOK);
  const std::string cons = server().four_letter("cons");
  EXPECT_TRUE(contains(cons, "sid=" + hex(c->session_id()))) << cons;
  EXPECT_TRUE(contains(cons, " /127.0.0.1:")) << cons;
  EXPECT_TRUE(contains(cons, "lop=")) << cons;
  // crst resets the counters.
  EXPECT_EQ(server().four_letter("crst"), "Connection stats reset.\n");
  EXPECT_EQ(server().four_letter("srst"), "Server stats reset.\n");
}

TEST_F(FourLetterTest, WatchWordsShowWhoWatchesWhat) {
  auto a = connect();
  auto b = connect();
  ASSERT_EQ(a->create("/w1"), ZOK);
  ASSERT_EQ(a->create("/w2"), ZOK);
  std::string data;
  ASSERT_EQ(a->get("/w1", &data, nullptr, true), ZOK);
  ASSERT_EQ(b->get("/w1", &data, nullptr, true), ZOK);
  ASSERT_EQ(b->exists("/w2", nullptr, true), ZOK);

  const std::string wchs = server().four_letter("wchs");
  EXPECT_TRUE(contains(wchs, "2 connections watching 2 paths\n")) << wchs;
  EXPECT_TRUE(contains(wchs, "Total watches:3")) << wchs;

  const std::string wchc = server().four_letter("wchc");
  EXPECT_TRUE(contains(wchc, hex(a->session_id()) + "\n\t/w1\n")) << wchc;
  EXPECT_TRUE(contains(wchc, hex(b->session_id()) + "\n")) << wchc;
  EXPECT_TRUE(contains(wchc, "\t/w2\n")) << wchc;

  const std::string wchp = server().four_letter("wchp");
  EXPECT_TRUE(contains(wchp, "/w2\n\t" + hex(b->session_id()) + "\n")) << wchp;
  EXPECT_TRUE(contains(wchp, "/w1\n")) << wchp;
  EXPECT_TRUE(contains(wchp, "\t" + hex(a->session_id()) + "\n")) << wchp;
}

TEST_F(FourLetterTest, DumpListsSessionsAndTheirEphemerals) {
  auto c = connect();
  ASSERT_EQ(c->create("/eph", "", ZOO_EPHEMERAL), ZOK);
  const std::string dump = server().four_letter("dump");
  EXPECT_TRUE(contains(dump, "SessionTracker dump:")) << dump;
  EXPECT_TRUE(contains(dump, "ephemeral nodes dump:")) << dump;
  EXPECT_TRUE(contains(dump, hex(c->session_id()) + ":\n\t/eph\n")) << dump;
}

TEST_F(FourLetterTest, EnviAndDirs) {
  const std::string envi = server().four_letter("envi");
  EXPECT_TRUE(envi.starts_with("Environment:\n")) << envi;
  EXPECT_TRUE(contains(envi, "zookeeper.version=")) << envi;
  const std::string dirs = server().four_letter("dirs");
  EXPECT_TRUE(contains(dirs, "datadir_size: ")) << dirs;
  EXPECT_TRUE(contains(dirs, "logdir_size: ")) << dirs;
}

TEST_F(FourLetterTest, AnUnknownWordIsABadFrameLengthAndCostsOnlyItsConnection) {
  // "abcd" is no command: read as a frame length it is far over jute.maxbuffer.
  EXPECT_EQ(four_letter_word(server().port(), "abcd").value_or("<timeout>"), "");
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

class FourLetterWhitelistTest : public ServerTest {
 protected:
  void configure(ServerOptions& o) override { o.extra["4lw.commands.whitelist"] = "ruok, conf"; }
};

TEST_F(FourLetterWhitelistTest, WordsOutsideTheWhitelistAreRefused) {
  EXPECT_EQ(server().four_letter("ruok"), "imok");
  EXPECT_TRUE(contains(server().four_letter("conf"), "clientPort="));
  EXPECT_EQ(server().four_letter("mntr"), "mntr is not executed because it is not in the whitelist.\n");
  EXPECT_EQ(server().four_letter("dump"), "dump is not executed because it is not in the whitelist.\n");
  // srvr is always enabled.
  EXPECT_TRUE(contains(server().four_letter("srvr"), "Mode: standalone"));
}

}  // namespace
}  // namespace corral::test
