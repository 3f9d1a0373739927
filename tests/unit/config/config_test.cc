// zoo.cfg semantics: defaults, every key, overrides, validation messages,
// warnings, server lines and myid.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ensemble/config/config.h"

namespace corral::ensemble {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view minimal = "dataDir=/var/lib/zk\nclientPort=2181\n";

// Parses with a fake file system: `myid` is the content of <dataDir>/myid.
ConfigResult parse(std::string_view text, std::optional<std::string> myid = std::nullopt) {
  return parse_config(text, "zoo.cfg", [myid](const std::string&) { return myid; });
}

ServerConfig good(std::string_view text, std::optional<std::string> myid = std::nullopt) {
  ConfigResult r = parse(text, std::move(myid));
  EXPECT_TRUE(r.ok()) << r.error;
  return r.ok() ? *r.config : ServerConfig{};
}

std::string error(std::string_view text, std::optional<std::string> myid = std::nullopt) {
  ConfigResult r = parse(text, std::move(myid));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << "one line: " << r.error;
  return r.error;
}

std::string with_minimal(std::string_view extra) { return std::string(minimal) + std::string(extra); }

// A realistic three-server ensemble.
constexpr std::string_view three_servers =
    "# The number of milliseconds of each tick\n"
    "tickTime=2000\n"
    "initLimit=10\n"
    "syncLimit=5\n"
    "dataDir=/var/lib/zookeeper\n"
    "dataLogDir=/var/lib/zookeeper-log\n"
    "clientPort=2181\n"
    "maxClientCnxns=100\n"
    "autopurge.snapRetainCount=5\n"
    "autopurge.purgeInterval=24\n"
    "4lw.commands.whitelist=ruok, srvr, mntr, conf\n"
    "server.1=zk1.example.com:2888:3888\n"
    "server.2=zk2.example.com:2888:3888\n"
    "server.3=zk3.example.com:2888:3888\n";

// ---------------------------------------------------------------------------
// Defaults and keys

TEST(Config, Defaults) {
  ConfigResult r = parse(minimal);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.warnings.empty());
  const ServerConfig& c = *r.config;
  EXPECT_EQ(c.tick_time_ms, 3000);
  EXPECT_EQ(c.init_limit, 0);
  EXPECT_EQ(c.sync_limit, 0);
  EXPECT_EQ(c.data_dir, "/var/lib/zk");
  EXPECT_EQ(c.data_log_dir, "/var/lib/zk");
  EXPECT_EQ(c.client_address, (Endpoint{"0.0.0.0", 2181}));
  EXPECT_EQ(c.max_client_cnxns, 60);
  EXPECT_EQ(c.min_session_timeout_ms, 6000);
  EXPECT_EQ(c.max_session_timeout_ms, 60000);
  EXPECT_EQ(c.snap_count, 100000);
  EXPECT_EQ(c.snap_retain_count, 3);
  EXPECT_EQ(c.purge_interval.count(), 0);
  EXPECT_THAT(c.four_letter_words, ElementsAre("srvr"));
  EXPECT_EQ(c.jute_max_buffer, 1048575);
  EXPECT_EQ(c.super_digest, "");
  EXPECT_TRUE(c.extended_types_enabled);
  EXPECT_EQ(c.container_check_interval_ms, 60000);
  EXPECT_EQ(c.container_max_per_minute, 10000);
  EXPECT_EQ(c.global_outstanding_limit, 1000);
  EXPECT_EQ(c.pre_alloc_size_kb, 65536);
  EXPECT_EQ(c.pre_alloc_size_bytes(), 64 * 1024 * 1024);
  EXPECT_TRUE(c.force_sync);
  EXPECT_TRUE(c.standalone_enabled);
  EXPECT_EQ(c.election_alg, 3);
  EXPECT_FALSE(c.quorum_listen_on_all_ips);
  EXPECT_EQ(c.peer_type, PeerRole::participant);
  EXPECT_TRUE(c.peers.empty());
  EXPECT_EQ(c.my_id, 0u);
  EXPECT_TRUE(c.is_standalone());
  EXPECT_EQ(c.me(), nullptr);
  EXPECT_TRUE(c.voting_members().empty());
  EXPECT_EQ(c.quorum_size(), 1u);
}

TEST(Config, EveryKey) {
  ConfigResult r = parse(
      "tickTime=2000\n"
      "initLimit=10\n"
      "syncLimit=5\n"
      "dataDir=/data\n"
      "dataLogDir=/log\n"
      "clientPort=2182\n"
      "clientPortAddress=127.0.0.1\n"
      "maxClientCnxns=0\n"
      "minSessionTimeout=3000\n"
      "maxSessionTimeout=90000\n"
      "snapCount=5000\n"
      "autopurge.snapRetainCount=7\n"
      "autopurge.purgeInterval=2\n"
      "4lw.commands.whitelist=ruok,stat\n"
      "jute.maxbuffer=4194304\n"
      "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"
      "extendedTypesEnabled=false\n"
      "znode.container.checkIntervalMs=1000\n"
      "znode.container.maxPerMinute=500\n"
      "globalOutstandingLimit=2000\n"
      "preAllocSize=1024\n"
      "forceSync=yes\n"
      "standaloneEnabled=true\n"
      "electionAlg=3\n"
      "quorumListenOnAllIPs=true\n"
      "peerType=observer\n");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  const ServerConfig& c = *r.config;
  EXPECT_EQ(c.tick_time_ms, 2000);
  EXPECT_EQ(c.init_limit, 10);
  EXPECT_EQ(c.sync_limit, 5);
  EXPECT_EQ(c.data_dir, "/data");
  EXPECT_EQ(c.data_log_dir, "/log");
  EXPECT_EQ(c.client_address, (Endpoint{"127.0.0.1", 2182}));
  EXPECT_EQ(c.max_client_cnxns, 0);
  EXPECT_EQ(c.min_session_timeout_ms, 3000);
  EXPECT_EQ(c.max_session_timeout_ms, 90000);
  EXPECT_EQ(c.snap_count, 5000);
  EXPECT_EQ(c.snap_retain_count, 7);
  EXPECT_EQ(c.purge_interval, std::chrono::hours(2));
  EXPECT_THAT(c.four_letter_words, ElementsAre("ruok", "srvr", "stat"));
  EXPECT_EQ(c.jute_max_buffer, 4194304);
  EXPECT_EQ(c.super_digest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
  EXPECT_FALSE(c.extended_types_enabled);
  EXPECT_EQ(c.container_check_interval_ms, 1000);
  EXPECT_EQ(c.container_max_per_minute, 500);
  EXPECT_EQ(c.global_outstanding_limit, 2000);
  EXPECT_EQ(c.pre_alloc_size_kb, 1024);
  EXPECT_TRUE(c.force_sync);
  EXPECT_TRUE(c.standalone_enabled);
  EXPECT_EQ(c.election_alg, 3);
  EXPECT_TRUE(c.quorum_listen_on_all_ips);
  EXPECT_EQ(c.peer_type, PeerRole::observer);  // no server list to contradict it
}

TEST(Config, SystemPropertySpellings) {
  ServerConfig c =
      good(with_minimal("zookeeper.snapCount=10\n"
                        "zookeeper.4lw.commands.whitelist=mntr\n"
                        "zookeeper.jute.maxbuffer=0x200000\n"
                        "zookeeper.DigestAuthenticationProvider.superDigest=admin:abc+/=\n"
                        "zookeeper.extendedTypesEnabled=FALSE\n"
                        "zookeeper.znode.container.checkIntervalMs=5\n"
                        "zookeeper.znode.container.maxPerMinute=6\n"
                        "zookeeper.globalOutstandingLimit=7\n"
                        "zookeeper.preAllocSize=0\n"
                        "zookeeper.forceSync=true\n"));
  EXPECT_EQ(c.snap_count, 10);
  EXPECT_THAT(c.four_letter_words, ElementsAre("mntr", "srvr"));
  EXPECT_EQ(c.jute_max_buffer, 0x200000);
  EXPECT_EQ(c.super_digest, "admin:abc+/=");
  EXPECT_FALSE(c.extended_types_enabled);
  EXPECT_EQ(c.container_check_interval_ms, 5);
  EXPECT_EQ(c.container_max_per_minute, 6);
  EXPECT_EQ(c.global_outstanding_limit, 7);
  EXPECT_EQ(c.pre_alloc_size_kb, 0);
  EXPECT_TRUE(c.force_sync);
}

TEST(Config, SeparatorsCommentsAndWhitespace) {
  ServerConfig c = good(
      "# zoo.cfg\n"
      "! old style comment\n"
      "   tickTime : 2500   \n"
      "dataDir   /srv/zk  \n"
      "\tclientPort\t=\t2190\n"
      "\n");
  EXPECT_EQ(c.tick_time_ms, 2500);
  EXPECT_EQ(c.data_dir, "/srv/zk");
  EXPECT_EQ(c.client_address.port, 2190);
  EXPECT_EQ(c.min_session_timeout_ms, 5000);
  EXPECT_EQ(c.max_session_timeout_ms, 50000);
}

TEST(Config, LaterDuplicatesOverrideWithAWarning) {
  ConfigResult r = parse(
      "tickTime=abc\n"  // never parsed: overridden, as java.util.Properties would
      "dataDir=/a\n"
      "clientPort=2181\n"
      "tickTime=1000\n"
      "jute.maxbuffer=100\n"
      "zookeeper.jute.maxbuffer=200\n");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.config->tick_time_ms, 1000);
  EXPECT_EQ(r.config->jute_max_buffer, 200);
  EXPECT_THAT(r.warnings, ElementsAre("zoo.cfg:4: 'tickTime' set again; this value overrides line 1",
                                      "zoo.cfg:6: 'zookeeper.jute.maxbuffer' set again; this value overrides line 5"));
}

TEST(Config, SessionTimeoutDefaultsFollowTickTime) {
  ServerConfig c = good(with_minimal("tickTime=100\nminSessionTimeout=150\n"));
  EXPECT_EQ(c.min_session_timeout_ms, 150);
  EXPECT_EQ(c.max_session_timeout_ms, 2000);
  ServerConfig d = good(with_minimal("tickTime=100\nmaxSessionTimeout=100000\n"));
  EXPECT_EQ(d.min_session_timeout_ms, 200);
  EXPECT_EQ(d.max_session_timeout_ms, 100000);
}

TEST(Config, SnapCountsAreRaisedToZooKeepersMinimum) {
  ConfigResult r = parse(with_minimal("autopurge.snapRetainCount=1\nsnapCount=0\n"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.config->snap_retain_count, 3);
  EXPECT_EQ(r.config->snap_count, 2);
  EXPECT_THAT(r.warnings, ElementsAre("zoo.cfg:3: autopurge.snapRetainCount 1 is below the minimum 3; using 3",
                                      "zoo.cfg:4: snapCount 0 is below 2; using 2"));
}

TEST(Config, PurgeInterval) {
  EXPECT_EQ(good(with_minimal("autopurge.purgeInterval=24\n")).purge_interval, std::chrono::hours(24));
  EXPECT_EQ(good(with_minimal("autopurge.purgeInterval=90m\n")).purge_interval, std::chrono::minutes(90));
  EXPECT_EQ(good(with_minimal("autopurge.purgeInterval=1d\n")).purge_interval, std::chrono::hours(24));
  EXPECT_EQ(good(with_minimal("autopurge.purgeInterval=30s\n")).purge_interval, std::chrono::seconds(30));
  EXPECT_EQ(good(with_minimal("autopurge.purgeInterval=500ms\n")).purge_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(good(with_minimal("autopurge.purgeInterval=0\n")).purge_interval.count(), 0);
  ConfigResult neg = parse(with_minimal("autopurge.purgeInterval=-1\n"));
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ(neg.config->purge_interval.count(), 0);
  EXPECT_THAT(neg.warnings, ElementsAre(HasSubstr("purge task is off")));
  EXPECT_EQ(error(with_minimal("autopurge.purgeInterval=1w\n")),
            "zoo.cfg:3: autopurge.purgeInterval must be a whole number of hours, or a number with a ms, s, m, "
            "h or d suffix, got \"1w\"");
}

TEST(Config, ForceSyncOffWarnsLoudly) {
  ConfigResult r = parse(with_minimal("forceSync=no\n"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.config->force_sync);
  EXPECT_THAT(r.warnings, ElementsAre(HasSubstr("WARNING: forceSync is off")));
}

TEST(Config, Booleans) {
  for (std::string_view t : {"true", "TRUE", "yes", "Yes"}) {
    EXPECT_TRUE(good(with_minimal("quorumListenOnAllIPs=" + std::string(t) + "\n")).quorum_listen_on_all_ips) << t;
  }
  for (std::string_view f : {"false", "False", "no", "NO"}) {
    EXPECT_FALSE(good(with_minimal("extendedTypesEnabled=" + std::string(f) + "\n")).extended_types_enabled) << f;
  }
  EXPECT_EQ(error(with_minimal("standaloneEnabled=maybe\n")),
            "zoo.cfg:3: standaloneEnabled must be true or false (or yes/no), got \"maybe\"");
  EXPECT_THAT(error(with_minimal("forceSync=1\n")), HasSubstr("forceSync must be true or false"));
}

// ---------------------------------------------------------------------------
// 4lw.commands.whitelist

TEST(Config, WhitelistDefaultIsOnlySrvr) {
  ServerConfig c = good(minimal);
  EXPECT_TRUE(c.four_letter_word_enabled("srvr"));
  EXPECT_FALSE(c.four_letter_word_enabled("ruok"));
  EXPECT_FALSE(c.four_letter_word_enabled("stat"));
}

TEST(Config, WhitelistStarEnablesAll) {
  ServerConfig c = good(with_minimal("4lw.commands.whitelist=*\n"));
  EXPECT_EQ(c.four_letter_words.size(), supported_four_letter_words.size());
  for (std::string_view w : supported_four_letter_words) EXPECT_TRUE(c.four_letter_word_enabled(w)) << w;
  EXPECT_EQ(good(with_minimal("4lw.commands.whitelist=ruok, * \n")).four_letter_words.size(),
            supported_four_letter_words.size());
}

TEST(Config, WhitelistListAlwaysKeepsSrvrAndWarnsAboutUnknownWords) {
  ConfigResult r = parse(with_minimal("4lw.commands.whitelist= stat ,ruok,,RUOK, hash ,mntr\n"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_THAT(r.config->four_letter_words, ElementsAre("mntr", "ruok", "srvr", "stat"));
  EXPECT_THAT(r.warnings, ElementsAre("zoo.cfg:3: 4lw.commands.whitelist: unknown four-letter word 'RUOK' ignored",
                                      "zoo.cfg:3: 4lw.commands.whitelist: unknown four-letter word 'hash' ignored"));
  EXPECT_THAT(good(with_minimal("4lw.commands.whitelist=\n")).four_letter_words, ElementsAre("srvr"));
}

// ---------------------------------------------------------------------------
// Unknown and unsupported keys

TEST(Config, UnknownKeysAreWarnedAndIgnored) {
  ConfigResult r =
      parse(with_minimal("foo=bar\n"
                         "syncEnabled=true\n"
                         "metricsProvider.className=x\n"
                         "tickTime=2000\n"
                         "zookeeper.skipACL=yes\n"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_THAT(r.warnings,
              ElementsAre("zoo.cfg:3: unknown key 'foo' ignored",
                          "zoo.cfg:4: ZooKeeper option 'syncEnabled' is not supported by Corral; ignored",
                          "zoo.cfg:5: ZooKeeper option 'metricsProvider.className' is not supported by Corral; ignored",
                          "zoo.cfg:7: ZooKeeper option 'zookeeper.skipACL' is not supported by Corral; ignored"));
}

TEST(Config, OptionsThatWouldChangeTheQuorumAreErrors) {
  EXPECT_EQ(error(with_minimal("dynamicConfigFile=/etc/zk/zoo.cfg.dynamic\n")),
            "zoo.cfg:3: dynamicConfigFile is not supported; put the server.N lines in this file");
  EXPECT_EQ(error(with_minimal("group.1=1:2:3\n")), "zoo.cfg:3: hierarchical quorums (group.1) are not supported");
  EXPECT_THAT(error(with_minimal("weight.1=2\n")), HasSubstr("hierarchical quorums"));
}

// ---------------------------------------------------------------------------
// Validation errors of single keys

TEST(Config, BadIntegers) {
  EXPECT_EQ(error("tickTime=abc\n" + std::string(minimal)),
            "zoo.cfg:1: tickTime must be a positive integer (milliseconds), got \"abc\"");
  EXPECT_EQ(error(with_minimal("tickTime=2000ms\n")),
            "zoo.cfg:3: tickTime must be a positive integer (milliseconds), got \"2000ms\"");
  EXPECT_THAT(error(with_minimal("tickTime=0\n")), HasSubstr("tickTime must be a positive integer"));
  EXPECT_THAT(error(with_minimal("tickTime=-5\n")), HasSubstr("got \"-5\""));
  EXPECT_THAT(error(with_minimal("tickTime=2147483648\n")), HasSubstr("got \"2147483648\""));
  EXPECT_THAT(error(with_minimal("tickTime=99999999999999999999999\n")), HasSubstr("tickTime must be"));
  EXPECT_THAT(error(with_minimal("tickTime=2 000\n")), HasSubstr("tickTime must be"));
  EXPECT_THAT(error(with_minimal("tickTime=0x10\n")), HasSubstr("tickTime must be"));  // Integer.parseInt has no hex
  EXPECT_THAT(error(with_minimal("tickTime=\n")), HasSubstr("got \"\""));
  EXPECT_EQ(good(with_minimal("tickTime=+2000\n")).tick_time_ms, 2000);
  EXPECT_EQ(error(with_minimal("maxClientCnxns=-1\n")),
            "zoo.cfg:3: maxClientCnxns must be a non-negative integer (0 = unlimited), got \"-1\"");
  EXPECT_THAT(error(with_minimal("initLimit=ten\n")), HasSubstr("zoo.cfg:3: initLimit must be a positive integer"));
  EXPECT_THAT(error(with_minimal("syncLimit=0\n")), HasSubstr("zoo.cfg:3: syncLimit must be a positive integer"));
  EXPECT_THAT(error(with_minimal("jute.maxbuffer=1MB\n")), HasSubstr("jute.maxbuffer must be a positive integer"));
  EXPECT_THAT(error(with_minimal("jute.maxbuffer=0x\n")), HasSubstr("jute.maxbuffer must be"));
  EXPECT_THAT(error(with_minimal("preAllocSize=-1\n")), HasSubstr("preAllocSize must be a non-negative integer (KB)"));
  EXPECT_THAT(error(with_minimal("preAllocSize=9223372036854775807\n")), HasSubstr("preAllocSize must be"));
  EXPECT_THAT(error(with_minimal("znode.container.maxPerMinute=0\n")), HasSubstr("must be a positive integer"));
  EXPECT_THAT(error(with_minimal("globalOutstandingLimit=x\n")), HasSubstr("globalOutstandingLimit must be"));
  EXPECT_THAT(error(with_minimal("autopurge.snapRetainCount=3.5\n")), HasSubstr("snapRetainCount must be an integer"));
}

TEST(Config, MissingDataDir) {
  EXPECT_EQ(error("clientPort=2181\n"), "zoo.cfg: dataDir is not set");
  EXPECT_EQ(error("dataDir=\nclientPort=2181\n"), "zoo.cfg:1: dataDir must not be empty");
  EXPECT_EQ(error(""), "zoo.cfg: dataDir is not set");
}

TEST(Config, ClientPort) {
  EXPECT_EQ(error("dataDir=/d\n"), "zoo.cfg: clientPort is not set");
  EXPECT_EQ(error("dataDir=/d\nclientPort=0\n"), "zoo.cfg:2: clientPort must be a port number (1..65535), got \"0\"");
  EXPECT_THAT(error("dataDir=/d\nclientPort=65536\n"), HasSubstr("clientPort must be a port number"));
  EXPECT_EQ(good("dataDir=/d\nclientPort=65535\n").client_address.port, 65535);
  EXPECT_EQ(error("dataDir=/d\nclientPortAddress=10.0.0.1\n"),
            "zoo.cfg:2: clientPortAddress is set but clientPort is not set");
  EXPECT_EQ(good(with_minimal("clientPortAddress=[::1]\n")).client_address, (Endpoint{"::1", 2181}));
  EXPECT_EQ((Endpoint{"::1", 2181}).to_string(), "[::1]:2181");
}

TEST(Config, SessionTimeoutRange) {
  EXPECT_EQ(error(with_minimal("minSessionTimeout=10000\nmaxSessionTimeout=5000\n")),
            "zoo.cfg:3: minSessionTimeout 10000 must not be larger than maxSessionTimeout 5000");
  // The default maximum (20 ticks) counts too, as in ZooKeeper.
  EXPECT_EQ(error(with_minimal("minSessionTimeout=70000\n")),
            "zoo.cfg:3: minSessionTimeout 70000 must not be larger than maxSessionTimeout 60000 (default 20*tickTime)");
  EXPECT_EQ(error(with_minimal("maxSessionTimeout=1000\n")),
            "zoo.cfg:3: minSessionTimeout 6000 (default 2*tickTime) must not be larger than maxSessionTimeout 1000");
  EXPECT_EQ(good(with_minimal("minSessionTimeout=4000\nmaxSessionTimeout=4000\n")).max_session_timeout_ms, 4000);
  EXPECT_THAT(error(with_minimal("tickTime=200000000\n")), HasSubstr("tickTime 200000000 is too large"));
}

TEST(Config, OtherSingleKeyErrors) {
  EXPECT_EQ(error(with_minimal("electionAlg=1\n")),
            "zoo.cfg:3: electionAlg 1 is not supported; only 3 (fast leader election) is");
  EXPECT_EQ(error(with_minimal("peerType=leader\n")),
            "zoo.cfg:3: peerType must be participant or observer, got \"leader\"");
  EXPECT_EQ(good(with_minimal("peerType=OBSERVER\n")).peer_type, PeerRole::observer);
  std::string digest = error(with_minimal("DigestAuthenticationProvider.superDigest=secretvalue\n"));
  EXPECT_EQ(digest,
            "zoo.cfg:3: DigestAuthenticationProvider.superDigest must have the form user:base64digest "
            "(as printed by DigestAuthenticationProvider)");
  EXPECT_THAT(error(with_minimal("DigestAuthenticationProvider.superDigest=:abc\n")), HasSubstr("user:base64digest"));
  EXPECT_THAT(error(with_minimal("DigestAuthenticationProvider.superDigest=super:not base64!\n")),
              HasSubstr("user:base64digest"));
  EXPECT_THAT(error("dataDir=/d\nclientPort=2181\nx=\\u00zz\n"), HasSubstr("zoo.cfg:3: malformed \\uXXXX escape"));
}

TEST(Config, MessagesStayOnOneLine) {
  ConfigResult r = parse(with_minimal("a\\nb=1\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r.warnings, ElementsAre("zoo.cfg:3: unknown key 'a\\nb' ignored"));
  EXPECT_EQ(error(with_minimal("server.\\n1=a:1:2\n")),
            "zoo.cfg:3: server id in 'server.\\n1' must be an integer 1..254 (the top byte of session ids)");
  EXPECT_EQ(error("dataDir=/d\\u0001x\nclientPort=1\nserver.1=a:1:2\nserver.2=b:1:2\ninitLimit=1\nsyncLimit=1\n"),
            "myid file /d\\x01x/myid is missing or unreadable; it must hold this server's id, one of 1, 2 (the N of "
            "its server.N line in zoo.cfg)");
}

TEST(Config, MessagesNameTheSource) {
  ConfigResult r = parse_config("dataDir=/d\nclientPort=x\n", "/etc/zookeeper/conf/zoo.cfg");
  EXPECT_EQ(r.error, "/etc/zookeeper/conf/zoo.cfg:2: clientPort must be a port number (1..65535), got \"x\"");
  EXPECT_THAT(parse_config("dataDir=/d\nclientPort=1\nfoo=1\n", "my.cfg").warnings,
              ElementsAre("my.cfg:3: unknown key 'foo' ignored"));
}

// ---------------------------------------------------------------------------
// Ensembles

TEST(Ensemble, RealisticThreeServers) {
  ConfigResult r = parse(three_servers, "2\n");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  const ServerConfig& c = *r.config;
  EXPECT_FALSE(c.is_standalone());
  EXPECT_EQ(c.my_id, 2u);
  ASSERT_EQ(c.peers.size(), 3u);
  EXPECT_EQ(c.peers[0].id, 1u);
  EXPECT_EQ(c.peers[0].quorum, (Endpoint{"zk1.example.com", 2888}));
  EXPECT_EQ(c.peers[0].election, (Endpoint{"zk1.example.com", 3888}));
  EXPECT_EQ(c.peers[0].role, PeerRole::participant);
  EXPECT_FALSE(c.peers[0].client.has_value());
  EXPECT_EQ(c.peers[0].line, 12);
  ASSERT_NE(c.me(), nullptr);
  EXPECT_EQ(c.me()->quorum.host, "zk2.example.com");
  EXPECT_EQ(c.peer(3)->election.port, 3888);
  EXPECT_EQ(c.peer(4), nullptr);
  EXPECT_THAT(c.voting_members(), ElementsAre(1u, 2u, 3u));
  EXPECT_TRUE(c.observers().empty());
  EXPECT_EQ(c.quorum_size(), 2u);
  EXPECT_EQ(c.client_address, (Endpoint{"0.0.0.0", 2181}));
  EXPECT_EQ(c.tick_time_ms, 2000);
  EXPECT_EQ(c.init_limit, 10);
  EXPECT_EQ(c.sync_limit, 5);
  EXPECT_EQ(c.data_log_dir, "/var/lib/zookeeper-log");
  EXPECT_EQ(c.min_session_timeout_ms, 4000);
  EXPECT_EQ(c.max_session_timeout_ms, 40000);
  EXPECT_EQ(c.snap_retain_count, 5);
  EXPECT_EQ(c.purge_interval, std::chrono::hours(24));
  EXPECT_THAT(c.four_letter_words, ElementsAre("conf", "mntr", "ruok", "srvr"));
  EXPECT_EQ(c.peer_type, PeerRole::participant);
}

TEST(Ensemble, MyIdIsReadFromDataDir) {
  std::string asked;
  ConfigResult r = parse_config(three_servers, "zoo.cfg", [&](const std::string& dir) {
    asked = dir;
    return std::optional<std::string>(" \t3\r\n\n");
  });
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(asked, "/var/lib/zookeeper");
  EXPECT_EQ(r.config->my_id, 3u);
}

TEST(Ensemble, MyIdReaderIsNotCalledWithoutServerLines) {
  bool called = false;
  ConfigResult r = parse_config(minimal, "zoo.cfg", [&](const std::string&) {
    called = true;
    return std::optional<std::string>("1");
  });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(called);
  EXPECT_EQ(r.config->my_id, 0u);
}

TEST(Ensemble, MyIdErrors) {
  EXPECT_EQ(error(three_servers),
            "myid file /var/lib/zookeeper/myid is missing or unreadable; it must hold this server's id, one of "
            "1, 2, 3 (the N of its server.N line in zoo.cfg)");
  EXPECT_EQ(error(three_servers, "two\n"),
            "/var/lib/zookeeper/myid: myid must hold this server's id, one of 1, 2, 3, got \"two\"");
  EXPECT_THAT(error(three_servers, ""), HasSubstr("got \"\""));
  EXPECT_THAT(error(three_servers, "2 3"), HasSubstr("got \"2 3\""));
  EXPECT_THAT(error(three_servers, "0"), HasSubstr("myid must hold this server's id"));
  EXPECT_EQ(error(three_servers, "4"),
            "/var/lib/zookeeper/myid: myid is 4 but zoo.cfg has no server.4 line (servers: 1, 2, 3)");
  // An empty reader function behaves like a missing file.
  ConfigResult r = parse_config(three_servers, "zoo.cfg");
  EXPECT_THAT(r.error, HasSubstr("myid file /var/lib/zookeeper/myid is missing"));
}

TEST(Ensemble, InitAndSyncLimitsAreRequired) {
  const std::string servers = "server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n";
  EXPECT_EQ(error(with_minimal(servers), "1"),
            "zoo.cfg: initLimit is not set; it is required when the ensemble has 3 voting members");
  EXPECT_EQ(error(with_minimal("initLimit=5\n" + servers), "1"),
            "zoo.cfg: syncLimit is not set; it is required when the ensemble has 3 voting members");
  EXPECT_TRUE(parse(with_minimal("initLimit=5\nsyncLimit=2\n" + servers), "1").ok());
}

std::string quorum(std::string_view servers) {
  return "dataDir=/d\nclientPort=2181\ninitLimit=10\nsyncLimit=5\n" + std::string(servers);
}

TEST(Ensemble, ServerLineForms) {
  ConfigResult r = parse(quorum("server.1=10.0.0.1:2888:3888:participant;2181\n"
                                "server.2=[fe80::2]:2888:3888;10.0.0.2:2181\n"
                                "server.3 = 10.0.0.3:2888:3888:Observer\n"
                                "server.4=10.0.0.4:2888:3888\n"
                                "server.5=10.0.0.5:2888:3888;;2281\n"),
                         "2");
  ASSERT_TRUE(r.ok()) << r.error;
  const ServerConfig& c = *r.config;
  ASSERT_EQ(c.peers.size(), 5u);
  EXPECT_EQ(c.peers[0].client, (Endpoint{"0.0.0.0", 2181}));
  EXPECT_EQ(c.peers[1].quorum, (Endpoint{"fe80::2", 2888}));
  EXPECT_EQ(c.peers[1].quorum.to_string(), "[fe80::2]:2888");
  EXPECT_EQ(c.peers[1].client, (Endpoint{"10.0.0.2", 2181}));
  EXPECT_EQ(c.peers[2].role, PeerRole::observer);
  EXPECT_THAT(c.voting_members(), ElementsAre(1u, 2u, 4u, 5u));
  EXPECT_THAT(c.observers(), ElementsAre(3u));
  EXPECT_EQ(c.quorum_size(), 3u);
  // This server's client address comes from its own server line, as in ZooKeeper.
  EXPECT_EQ(c.client_address, (Endpoint{"10.0.0.2", 2181}));
  EXPECT_THAT(r.warnings,
              ElementsAre("zoo.cfg:9: server.5: the secure client address is not supported by Corral; ignored",
                          "zoo.cfg: 4 voting members: an odd number tolerates the same failures with "
                          "fewer servers"));
}

TEST(Ensemble, ClientPortMayComeOnlyFromTheServerLine) {
  ConfigResult r = parse(
      "dataDir=/d\ninitLimit=10\nsyncLimit=5\n"
      "server.1=a:2888:3888;2181\nserver.2=b:2888:3888;2181\nserver.3=c:2888:3888;2181\n",
      "3");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.config->client_address, (Endpoint{"0.0.0.0", 2181}));
}

TEST(Ensemble, ClientPortMustAgreeWithTheServerLine) {
  EXPECT_EQ(error(quorum("server.1=a:2888:3888;2182\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n"), "1"),
            "zoo.cfg:5: the client address of server.1 (this server) is 0.0.0.0:2182 but "
            "clientPortAddress/clientPort say 0.0.0.0:2181");
  EXPECT_THAT(error("dataDir=/d\nclientPort=2181\nclientPortAddress=10.0.0.9\ninitLimit=1\nsyncLimit=1\n"
                    "server.1=a:2888:3888;10.0.0.1:2181\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n",
                    "1"),
              HasSubstr("is 10.0.0.1:2181 but clientPortAddress/clientPort say 10.0.0.9:2181"));
  // A wildcard clientPortAddress only has to agree on the port.
  EXPECT_TRUE(
      parse(quorum("server.1=a:2888:3888;10.0.0.1:2181\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n"), "1").ok());
}

TEST(Ensemble, ClientPortMustNotBeAQuorumPort) {
  EXPECT_EQ(error("dataDir=/d\nclientPort=2888\ninitLimit=1\nsyncLimit=1\n"
                  "server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n",
                  "1"),
            "zoo.cfg:2: client port 2888 is also a quorum/election port of server.1 (this server)");
}

TEST(Ensemble, BadServerLines) {
  auto bad = [](std::string_view line) { return error(quorum(std::string(line) + "\nserver.9=z:1:2\n"), "9"); };
  const std::string form =
      " must look like host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort], got ";
  EXPECT_EQ(bad("server.1=zk1:2888"), "zoo.cfg:5: server.1" + form + "\"zk1:2888\"");
  EXPECT_EQ(bad("server.1=zk1"), "zoo.cfg:5: server.1" + form + "\"zk1\"");
  EXPECT_EQ(bad("server.1="), "zoo.cfg:5: server.1" + form + "\"\"");
  EXPECT_EQ(bad("server.1=zk1:1:2:observer:x"), "zoo.cfg:5: server.1" + form + "\"zk1:1:2:observer:x\"");
  EXPECT_EQ(bad("server.1=zk1:2888:3888;a:b:c"), "zoo.cfg:5: server.1" + form + "\"zk1:2888:3888;a:b:c\"");
  EXPECT_THAT(bad("server.1=[::1:2888:3888"), HasSubstr("server.1 must look like"));
  EXPECT_THAT(bad("server.1=:2888:3888"), HasSubstr("server.1: the host is empty"));
  EXPECT_EQ(bad("server.1=zk1:0:3888"), "zoo.cfg:5: server.1: the quorum port must be 1..65535, got \"0\"");
  EXPECT_EQ(bad("server.1=zk1:2888:65536"), "zoo.cfg:5: server.1: the election port must be 1..65535, got \"65536\"");
  EXPECT_EQ(bad("server.1=zk1:2888x:3888"), "zoo.cfg:5: server.1: the quorum port must be 1..65535, got \"2888x\"");
  EXPECT_EQ(bad("server.1=zk1:2888:3888;99999"),
            "zoo.cfg:5: server.1: the client port must be 1..65535, got \"99999\"");
  EXPECT_EQ(bad("server.1=zk1:2888:3888:leader"),
            "zoo.cfg:5: server.1: the role must be participant or observer, got \"leader\"");
  EXPECT_EQ(bad("server.1=zk1:2888:2888"),
            "zoo.cfg:5: server.1: the quorum and election ports must differ (both are 2888)");
  EXPECT_EQ(bad("server.1=zk1:2888:3888|zk1b:2888:3888"),
            "zoo.cfg:5: server.1: multiple addresses ('|') are not supported");
  EXPECT_EQ(bad("server.0=zk1:2888:3888"),
            "zoo.cfg:5: server id in 'server.0' must be an integer 1..254 (the top byte of session ids)");
  EXPECT_THAT(bad("server.255=zk1:2888:3888"), HasSubstr("server id in 'server.255' must be an integer 1..254"));
  EXPECT_THAT(bad("server.x=zk1:2888:3888"), HasSubstr("server id in 'server.x'"));
  EXPECT_THAT(bad("server.=zk1:2888:3888"), HasSubstr("server id in 'server.'"));
}

TEST(Ensemble, DuplicateAddresses) {
  EXPECT_EQ(error(quorum("server.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=ZK1:2888:3889\n"), "1"),
            "zoo.cfg:7: server.3: quorum address ZK1:2888 is already the quorum address of server.1");
  EXPECT_EQ(error(quorum("server.1=zk1:2888:3888\nserver.2=zk1:3888:4888\nserver.3=zk3:2888:3888\n"), "1"),
            "zoo.cfg:6: server.2: quorum address zk1:3888 is already the election address of server.1");
  EXPECT_THAT(error(quorum("server.1=h:2888:3888;h:2181\nserver.2=h:2181:3889\nserver.3=h:2890:3890\n"), "1"),
              HasSubstr("server.2: quorum address h:2181 is already the client address of server.1"));
  // Several servers on one host with distinct ports are fine (a test ensemble on loopback).
  EXPECT_TRUE(parse(quorum("server.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;2182\n"
                           "server.3=127.0.0.1:2890:3890;2183\n"),
                    "1")
                  .ok());
  // Wildcard client addresses are bound on each server's own machine: no conflict.
  EXPECT_TRUE(
      parse(quorum("server.1=a:2888:3888;2181\nserver.2=b:2888:3888;2181\nserver.3=c:2888:3888;2181\n"), "1").ok());
}

TEST(Ensemble, DuplicateServerIdsOverride) {
  ConfigResult r = parse(quorum("server.1=old:2888:3888\nserver.2=b:2888:3888\nserver.01=new:2888:3888\n"), "1");
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.config->peers.size(), 2u);
  EXPECT_EQ(r.config->peers[0].quorum.host, "new");
  EXPECT_THAT(r.warnings, ::testing::Contains("zoo.cfg:7: 'server.01' set again; this value overrides line 5"));
}

TEST(Ensemble, OneServerLineIsStandalone) {
  ConfigResult r = parse(with_minimal("server.1=localhost:2888:3888\n"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.config->is_standalone());
  EXPECT_EQ(r.config->my_id, 0u);
  EXPECT_EQ(r.config->quorum_size(), 1u);
  EXPECT_THAT(r.warnings, ElementsAre("zoo.cfg:3: only one server.N line: running standalone"));
  // With a myid file it is still checked and recorded.
  EXPECT_EQ(good(with_minimal("server.1=localhost:2888:3888\n"), "1").my_id, 1u);
  EXPECT_THAT(error(with_minimal("server.1=localhost:2888:3888\n"), "2"), HasSubstr("no server.2 line"));
}

TEST(Ensemble, StandaloneDisabled) {
  ConfigResult r = parse(quorum("standaloneEnabled=false\nserver.1=localhost:2888:3888\n"), "1");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.config->is_standalone());
  EXPECT_EQ(r.config->quorum_size(), 1u);
  EXPECT_EQ(error(with_minimal("standaloneEnabled=false\n")),
            "zoo.cfg:3: standaloneEnabled is false, so at least one server.N participant is required");
  EXPECT_THAT(error(with_minimal("standaloneEnabled=false\nserver.1=localhost:2888:3888\n"), "1"),
              HasSubstr("initLimit is not set"));
  EXPECT_THAT(error(with_minimal("standaloneEnabled=false\nserver.1=localhost:2888:3888\n")),
              HasSubstr("myid file /var/lib/zk/myid is missing"));
}

TEST(Ensemble, ParticipantsRequired) {
  EXPECT_EQ(error(quorum("server.1=a:2888:3888:observer\nserver.2=b:2888:3888:observer\n"), "1"),
            "zoo.cfg: at least one server.N line must be a participant; all 2 are observers");
  EXPECT_EQ(error(quorum("server.1=a:2888:3888\nserver.2=b:2888:3888:observer\n"), "1"),
            "zoo.cfg: observers need a quorum, but only one server.N line is a participant "
            "(set standaloneEnabled=false to run a one-member quorum)");
}

TEST(Ensemble, TwoVotersAreAllowedWithAWarning) {
  ConfigResult r = parse(quorum("server.1=a:2888:3888\nserver.2=b:2888:3888\n"), "1");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.config->quorum_size(), 2u);
  EXPECT_THAT(r.warnings,
              ElementsAre("zoo.cfg: 2 voting members: no server failure will be tolerated; use at least 3"));
}

TEST(Ensemble, PeerTypeFollowsTheServerList) {
  ConfigResult r = parse(quorum("peerType=participant\nserver.1=a:2888:3888\nserver.2=b:2888:3888\n"
                                "server.3=c:2888:3888\nserver.4=d:2888:3888:observer\n"),
                         "4");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.config->peer_type, PeerRole::observer);
  EXPECT_THAT(r.warnings, ElementsAre("zoo.cfg:5: peerType participant disagrees with server.4, which is observer; "
                                      "using observer"));
  ServerConfig c = good(quorum("server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888:observer\n"
                               "server.4=d:2888:3888\n"),
                        "3");
  EXPECT_EQ(c.peer_type, PeerRole::observer);
  EXPECT_EQ(c.quorum_size(), 2u);
}

TEST(Ensemble, AnyTruncationGivesAConfigOrOneErrorLine) {
  // Cut the realistic config at every byte, and flip each byte to a separator:
  // the parser must never crash and must answer with exactly one of the two.
  const std::string full(three_servers);
  for (std::size_t n = 0; n <= full.size(); ++n) {
    for (char c : {'\0', ':', '=', '\\', ';', '\n'}) {
      std::string text = full.substr(0, n);
      if (n < full.size()) text += c;
      ConfigResult r = parse(text, "2");
      EXPECT_NE(r.ok(), !r.error.empty()) << text;
      EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
    }
  }
}

// ---------------------------------------------------------------------------
// Files

TEST(LoadConfig, ReadsTheFileAndMyId) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("corral-config-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_TRUE(fs::create_directories(dir));
  const fs::path cfg = dir / "zoo.cfg";
  {
    std::ofstream out(cfg);
    out << "dataDir=" << dir.string() << "\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n"
        << "server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\nbogus=1\n";
  }
  {
    std::ofstream out(dir / "myid");
    out << "3\n";
  }
  ConfigResult r = load_config(cfg.string());
  ConfigResult missing = load_config((dir / "nope.cfg").string());
  std::optional<std::string> myid = read_myid_file(dir.string() + "/");
  fs::remove_all(dir);

  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.config->my_id, 3u);
  EXPECT_THAT(r.warnings, ElementsAre(cfg.string() + ":8: unknown key 'bogus' ignored"));
  EXPECT_EQ(myid, "3\n");
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.error, (dir / "nope.cfg").string() + ": cannot open: No such file or directory");
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace corral::ensemble
