// The connection life of corral::Client against corral-server and Apache
// ZooKeeper: state events in order, a dropped connection resumed with the same
// session, watches re-registered with setWatches2 (changes made while the
// client was away fire on reconnect), a server killed and restarted on the
// same port, and session expiry.
//
// To keep a client away from a server that keeps running, the client talks to
// the server through a TcpProxy that the test closes. A session is expired
// deterministically the way Curator's KillSession does it: another connection
// resumes it with the same id and password and closes it.
#include <algorithm>

#include "tests/client/client_fixture.h"
#include "tests/support/tcp_proxy.h"

namespace corral::test {
namespace {

class ClientSessionTest : public ClientTest {
 protected:
  // A client with a state listener, connected through `proxy`.
  std::unique_ptr<Client> connect_via(Runtime& rt, TcpProxy& proxy, EventLog& log,
                                      std::chrono::milliseconds timeout = 10s) {
    auto o = options();
    o.connect_string = proxy.host_port();
    o.session_timeout = timeout;
    auto c = std::make_unique<Client>(rt, o);
    c->add_state_listener(log.listener());
    std::error_code ec;
    c->connect(default_timeout, ec);
    if (ec) {
      ADD_FAILURE() << "connect via proxy: " << ec.message();
      return nullptr;
    }
    return c;
  }

  // Ends a session from another connection (the client that owns it must be away).
  void close_session_from_elsewhere(Runtime& rt, int64_t id, const std::string& password) {
    auto o = options();
    o.session_id = id;
    o.session_password = password;
    auto closer = connect(rt, o);
    ASSERT_TRUE(closer);
    ASSERT_EQ(closer->session_id(), id) << "did not resume the session";
    closer->close();
  }
};
CORRAL_CLIENT_SUITE(ClientSessionTest);

TEST_P(ClientSessionTest, ADroppedConnectionResumesTheSessionWithItsWatches) {
  with_client([&](Runtime& rt, Client& writer) {
    EventLog log;
    auto o = options();
    auto c = std::make_unique<Client>(rt, o);
    c->add_state_listener(log.listener());
    c->connect();
    const int64_t id = c->session_id();
    c->create(at("eph"), "", {.mode = CreateMode::ephemeral});
    writer.create(at("n"), "0");
    c->get(at("n"), log.watcher("data"));

    c->drop_connection();
    ASSERT_TRUE(log.wait_for("state reconnected")) << log.dump();
    EXPECT_EQ(log.with_prefix("state"), (std::vector<std::string>{"state connecting", "state connected",
                                                                  "state suspended", "state reconnected"}));
    EXPECT_EQ(c->session_id(), id);
    EXPECT_EQ(c->state(), SessionState::reconnected);
    EXPECT_TRUE(writer.exists(at("eph")).has_value());

    // The watch was re-registered before any later request.
    c->sync(at("n"));
    writer.set(at("n"), "1");
    ASSERT_TRUE(log.wait_for("data NodeDataChanged " + at("n"))) << log.dump();
    EXPECT_EQ(c->get(at("n")).data, "1");
  });
}

TEST_P(ClientSessionTest, CredentialsAreSentAgainAfterAReconnect) {
  with_client([&](Runtime& rt, Client&) {
    EventLog log;
    auto c = std::make_unique<Client>(rt, options());
    c->add_state_listener(log.listener());
    c->connect();
    c->add_auth("digest", "carol:pw");
    c->create(at("carols"), "hers", {.acl = creator_all_acl()});
    c->drop_connection();
    ASSERT_TRUE(log.wait_for("state reconnected")) << log.dump();
    std::error_code ec;
    EXPECT_EQ(c->get(at("carols"), {}, ec).data, "hers") << ec.message();
    const auto ids = c->who_am_i(ec);
    EXPECT_NE(std::find(ids.begin(), ids.end(), wire::ClientInfo{"digest", "carol"}), ids.end());
  });
}

// More watches than fit in one packet the server accepts (jute.maxbuffer,
// 1 MiB): ZooKeeper's own client splits setWatches into packets of at most
// 128 KiB, so must we, or the server drops every reconnection.
TEST_P(ClientSessionTest, ThousandsOfWatchesAreReRegistered) {
  with_client([&](Runtime& rt, Client& writer) {
    EventLog log;
    auto c = std::make_unique<Client>(rt, options());
    c->add_state_listener(log.listener());
    c->connect();
    constexpr int n = 8000;
    const std::string pad(120, 'p');
    std::vector<std::string> paths;
    std::vector<boost::fibers::future<Result<std::optional<Stat>>>> pending;
    for (int i = 0; i < n; ++i) {
      paths.push_back(at(pad + std::to_string(i)));
      pending.push_back(c->async_exists(paths.back(), log.watcher("w")));
    }
    for (auto& f : pending) ASSERT_FALSE(f.get().error);

    c->drop_connection();
    ASSERT_TRUE(log.wait_for("state reconnected")) << log.dump();
    std::error_code ec;
    c->sync(base(), ec);
    EXPECT_FALSE(ec) << ec.message();
    writer.create(paths[0], "");
    writer.create(paths[n - 1], "");
    EXPECT_TRUE(log.wait_for("w NodeCreated " + paths[0])) << log.dump();
    EXPECT_TRUE(log.wait_for("w NodeCreated " + paths[n - 1])) << log.dump();
    EXPECT_EQ(log.with_prefix("state"),
              (std::vector<std::string>{"state connecting", "state connected", "state suspended", "state reconnected"}))
        << "the connection did not stay up";
  });
}

TEST_P(ClientSessionTest, ChangesMadeWhileAwayFireOnReconnect) {
  with_client([&](Runtime& rt, Client& writer) {
    TcpProxy proxy(server().port());
    EventLog log;
    auto c = connect_via(rt, proxy, log);
    ASSERT_TRUE(c);
    const int64_t id = c->session_id();
    writer.create(at("data"), "0");
    writer.create(at("parent"), "");
    writer.create(at("gone"), "");
    writer.create(at("same"), "");
    c->get(at("data"), log.watcher("data"));
    c->exists(at("born"), log.watcher("exist"));
    c->children(at("parent"), log.watcher("child"));
    c->get(at("gone"), log.watcher("gone"));
    c->get(at("same"), log.watcher("same"));
    c->add_watch(at("persist"), wire::AddWatchMode::persistent, log.watcher("persist"));

    proxy.set_refusing(true);
    proxy.drop_all();
    ASSERT_TRUE(log.wait_for("state suspended")) << log.dump();
    writer.set(at("data"), "1");
    writer.create(at("born"), "");
    writer.create(at("parent/kid"), "");
    writer.remove(at("gone"));
    writer.create(at("persist"), "");
    proxy.set_refusing(false);

    ASSERT_TRUE(log.wait_for("state reconnected")) << log.dump();
    EXPECT_EQ(c->session_id(), id);
    for (const std::string& e : {"data NodeDataChanged " + at("data"), "exist NodeCreated " + at("born"),
                                 "child NodeChildrenChanged " + at("parent"), "gone NodeDeleted " + at("gone")}) {
      EXPECT_TRUE(log.wait_for(e)) << e << " " << log.dump();
    }
    c->sync(base());
    EXPECT_TRUE(c->exists(at("same")).has_value());
    EXPECT_TRUE(log.with_prefix("same").empty()) << "an unchanged node fired: " << log.dump();
    // A persistent watch is re-armed, but (as in ZooKeeper) reports no missed changes.
    EXPECT_TRUE(log.with_prefix("persist").empty()) << log.dump();

    writer.set(at("same"), "x");
    writer.set(at("persist"), "x");
    EXPECT_TRUE(log.wait_for("same NodeDataChanged " + at("same"))) << log.dump();
    EXPECT_TRUE(log.wait_for("persist NodeDataChanged " + at("persist"))) << log.dump();
    EXPECT_EQ(log.with_prefix("state"), (std::vector<std::string>{"state connecting", "state connected",
                                                                  "state suspended", "state reconnected"}));
  });
}

TEST_P(ClientSessionTest, RequestsDuringAnOutageFailWithConnectionLoss) {
  with_client([&](Runtime& rt, Client& writer) {
    TcpProxy proxy(server().port());
    EventLog log;
    auto c = connect_via(rt, proxy, log);
    ASSERT_TRUE(c);
    writer.create(at("n"), "v");
    proxy.set_refusing(true);
    proxy.drop_all();
    ASSERT_TRUE(log.wait_for("state suspended")) << log.dump();

    // While no server can be reached a call ends with connectionLoss instead of
    // waiting for a server to come back.
    auto pending = c->async_get(at("n"));
    ASSERT_EQ(pending.wait_for(default_timeout), boost::fibers::future_status::ready)
        << "a call made while disconnected never completed";
    EXPECT_ZK(pending.get().error, Error::connectionLoss);

    proxy.set_refusing(false);
    ASSERT_TRUE(log.wait_for("state reconnected")) << log.dump();
    EXPECT_EQ(c->get(at("n")).data, "v");
  });
}

TEST_P(ClientSessionTest, AnExpiredSessionIsReportedAndANewOneCanStart) {
  with_client([&](Runtime& rt, Client& writer) {
    TcpProxy proxy(server().port());
    EventLog log;
    auto c = connect_via(rt, proxy, log);
    ASSERT_TRUE(c);
    const int64_t id = c->session_id();
    c->create(at("eph"), "", {.mode = CreateMode::ephemeral});
    c->get(at("eph"), log.watcher("w"));
    writer.create(at("n"), "");
    c->children(at("n"), log.watcher("c"));

    proxy.set_refusing(true);
    proxy.drop_all();
    ASSERT_TRUE(log.wait_for("state suspended")) << log.dump();
    close_session_from_elsewhere(rt, id, c->session_password());
    EXPECT_FALSE(writer.exists(at("eph")).has_value()) << "the session's ephemerals outlived it";
    proxy.set_refusing(false);

    ASSERT_TRUE(log.wait_for("state expired")) << log.dump();
    EXPECT_EQ(c->state(), SessionState::expired);
    // Every watcher hears of the expiry once; the node's deletion is not reported.
    ASSERT_TRUE(log.wait_for("w None Expired")) << log.dump();
    ASSERT_TRUE(log.wait_for("c None Expired")) << log.dump();
    EXPECT_TRUE(log.with_prefix("w NodeDeleted").empty()) << log.dump();

    std::error_code ec;
    c->get(at("n"), {}, ec);
    EXPECT_ZK(ec, Error::sessionExpired);
    c->create(at("x"), "", {}, ec);
    EXPECT_ZK(ec, Error::sessionExpired);
    auto f = c->async_exists(at("n"));
    EXPECT_ZK(f.get().error, Error::sessionExpired);
    c->connect(default_timeout, ec);
    EXPECT_ZK(ec, Error::sessionExpired) << "connect() does not silently start a new session";

    c->reconnect_new_session(default_timeout, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(c->state(), SessionState::connected);
    EXPECT_NE(c->session_id(), id);
    EXPECT_FALSE(c->exists(at("eph")).has_value());
    c->create(at("eph"), "", {.mode = CreateMode::ephemeral});
    EXPECT_EQ(writer.exists(at("eph"))->ephemeralOwner, c->session_id());
    EXPECT_EQ(log.with_prefix("state"),
              (std::vector<std::string>{"state connecting", "state connected", "state suspended", "state expired",
                                        "state connecting", "state connected"}));
  });
}

TEST_P(ClientSessionTest, RenewExpiredSessionStartsANewOneByItself) {
  with_client([&](Runtime& rt, Client& writer) {
    TcpProxy proxy(server().port());
    EventLog log;
    auto o = options();
    o.connect_string = proxy.host_port();
    o.renew_expired_session = true;
    auto c = std::make_unique<Client>(rt, o);
    c->add_state_listener(log.listener());
    c->connect();
    const int64_t id = c->session_id();
    c->create(at("eph"), "", {.mode = CreateMode::ephemeral});

    proxy.set_refusing(true);
    proxy.drop_all();
    ASSERT_TRUE(log.wait_for("state suspended")) << log.dump();
    close_session_from_elsewhere(rt, id, c->session_password());
    proxy.set_refusing(false);

    ASSERT_TRUE(fiber_wait_until([&] { return log.with_prefix("state").size() >= 6; })) << log.dump();
    EXPECT_EQ(log.with_prefix("state"),
              (std::vector<std::string>{"state connecting", "state connected", "state suspended", "state expired",
                                        "state connecting", "state connected"}));
    EXPECT_NE(c->session_id(), id);
    EXPECT_FALSE(writer.exists(at("eph")).has_value());
    c->create(at("eph"), "", {.mode = CreateMode::ephemeral});
    EXPECT_EQ(writer.exists(at("eph"))->ephemeralOwner, c->session_id());
  });
}

TEST_P(ClientSessionTest, CloseEndsTheSessionAndLaterCallsFail) {
  with_client([&](Runtime& rt, Client& writer) {
    EventLog log;
    auto c = std::make_unique<Client>(rt, options());
    c->add_state_listener(log.listener());
    c->connect();
    c->create(at("eph"), "", {.mode = CreateMode::ephemeral});
    c->get(at("eph"), log.watcher("w"));
    c->close();
    EXPECT_EQ(c->state(), SessionState::closed);
    EXPECT_FALSE(writer.exists(at("eph")).has_value());
    std::error_code ec;
    c->get(at("eph"), {}, ec);
    EXPECT_ZK(ec, Error::connectionLoss);
    ASSERT_TRUE(log.wait_for("state closed")) << log.dump();
    c->close();  // idempotent
    EXPECT_EQ(log.with_prefix("state").size(), 3u) << log.dump();
  });
}

// A server of this test's own, killed (SIGKILL) and restarted on the same
// port and dataDir: the session and its ephemerals survive the restart.
TEST_P(ClientSessionTest, TheSessionSurvivesAServerRestart) {
  ServerOptions so;
  so.kind = kind();
  TestServer own(so);
  own.start(kind() == ServerKind::zookeeper ? 60s : default_timeout);
  run_fibers([&](Runtime& rt) {
    EventLog log;
    ClientOptions o;
    o.connect_string = own.host_port();
    o.session_timeout = 15s;
    auto c = std::make_unique<Client>(rt, o);
    c->add_state_listener(log.listener());
    c->connect();
    const int64_t id = c->session_id();
    c->create("/eph", "", {.mode = CreateMode::ephemeral});
    c->create("/n", "0");
    c->get("/n", log.watcher("data"));
    c->children("/", log.watcher("root"));

    own.kill9();
    ASSERT_TRUE(log.wait_for("state suspended")) << log.dump();
    // With no server to reach, a call ends with connectionLoss rather than
    // waiting for the server to come back.
    auto pending = c->async_get("/n");
    ASSERT_EQ(pending.wait_for(default_timeout), boost::fibers::future_status::ready)
        << "a call made while the server was down never completed";
    EXPECT_ZK(pending.get().error, Error::connectionLoss);
    own.start(kind() == ServerKind::zookeeper ? 60s : default_timeout);
    ASSERT_TRUE(log.wait_for("state reconnected", 30s)) << log.dump();
    EXPECT_EQ(c->session_id(), id);
    EXPECT_TRUE(c->exists("/eph").has_value()) << "the ephemeral did not survive the restart";

    ClientOptions wo;
    wo.connect_string = own.host_port();
    Client writer(rt, wo);
    writer.connect();
    writer.set("/n", "1");
    writer.create("/kid", "");
    EXPECT_TRUE(log.wait_for("data NodeDataChanged /n")) << log.dump();
    EXPECT_TRUE(log.wait_for("root NodeChildrenChanged /")) << log.dump();
    EXPECT_EQ(log.with_prefix("state"), (std::vector<std::string>{"state connecting", "state connected",
                                                                  "state suspended", "state reconnected"}));
  });
  if (HasFailure()) print_log_tail(own);
}

}  // namespace
}  // namespace corral::test
