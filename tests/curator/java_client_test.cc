// The official Java ZooKeeper client (JavaClientPeer.java on Debian's
// zookeeper.jar) against corral-server and Apache ZooKeeper 3.8: the client
// most ZooKeeper users (and every Curator application) run, which differs on
// the wire from the C client and ours. After a reconnect it re-registers its
// watches with SetWatches numbered like any other request, and drops the
// connection if the reply carries another xid.

#include "tests/client/client_fixture.h"
#include "tests/support/process.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/text_file.h"

namespace corral::test {
namespace {

class JavaClientTest : public ClientTest {
 protected:
  std::unique_ptr<Process> java(const std::vector<std::string>& args, const std::filesystem::path& log) {
    std::vector<std::string> argv{
        CORRAL_JAVA, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", CORRAL_CURATOR_CLASSPATH, "JavaClientPeer"};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Process>(argv, log);
  }
  TempDir dir_{"corral-java-client"};
};

// A Java client holding watches loses its socket: it reconnects once,
// resumes its session, re-registers its watches, and the data watch fires
// when the node changes afterwards.
TEST_P(JavaClientTest, WatchesSurviveADroppedConnectionWithOneReconnect) {
  with_client([&](Runtime&, Client& c) {
    const std::string path = at("watched");
    c.create(path, "before");
    TcpProxy proxy(server().port());
    const auto log = dir_.path() / "java.log";
    auto peer = java({"watch", proxy.host_port(), path}, log);
    ASSERT_TRUE(fiber_wait_until([&] { return read_file(log).find("watching") != std::string::npos; }, 120s))
        << read_file(log);
    proxy.drop_all();
    ASSERT_TRUE(fiber_wait_until([&] { return count_lines(read_file(log), "state SyncConnected") >= 2; }, 60s))
        << "never reconnected\n"
        << read_file(log);
    // Whether its SetWatches reaches the server before or after this change,
    // the watch fires (SetWatches reports changes since the client's zxid).
    c.set(path, "after");
    ASSERT_TRUE(fiber_wait_until([&] { return !peer->alive(); }, 120s)) << read_file(log);
    const std::string out = read_file(log);
    EXPECT_EQ(describe_wait_status(*peer->status()), describe_wait_status(0)) << out;
    EXPECT_EQ(count_lines(out, "event NodeDataChanged " + path), 1u) << out;
    EXPECT_EQ(count_lines(out, "data after"), 1u) << out;
    EXPECT_EQ(count_lines(out, "state Disconnected"), 1u) << "more than one reconnect\n" << out;
    EXPECT_EQ(count_lines(out, "connected 2"), 1u) << out;
    EXPECT_EQ(out.find("Xid out of order"), std::string::npos) << out;
  });
}

CORRAL_CLIENT_SUITE(JavaClientTest);

}  // namespace
}  // namespace corral::test
