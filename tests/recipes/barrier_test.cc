// Barrier (DistributedBarrier): waiters block while the node exists and all
// return when it goes; timeouts; an ephemeral barrier opens when its setter's
// session ends; a cut connection keeps a waiter waiting — against
// corral-server and Apache ZooKeeper 3.8.
#include "corral/recipes/barrier.h"
#include "tests/client/client_fixture.h"
#include "tests/support/tcp_proxy.h"

namespace corral::test {
namespace {

using recipes::Barrier;

class BarrierTest : public ClientTest {};

TEST_P(BarrierTest, WaitersReturnWhenTheBarrierIsRemoved) {
  with_client([&](Runtime& rt, Client& c) {
    Barrier gate(c, at("jobs/gate"));  // parents made as containers
    gate.set_barrier();
    gate.set_barrier();  // already set: fine
    EXPECT_TRUE(c.exists(at("jobs/gate")).has_value());
    std::vector<std::unique_ptr<Client>> clients;
    int released = 0;
    std::vector<boost::fibers::fiber> waiters;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(connect(rt));
      waiters.emplace_back([&, i] {
        Barrier b(*clients[static_cast<std::size_t>(i)], at("jobs/gate"));
        if (b.wait_on_barrier_for(10s)) ++released;
      });
    }
    // Nobody passes while it is set.
    Barrier probe(c, at("jobs/gate"));
    EXPECT_FALSE(probe.wait_on_barrier_for(100ms));
    EXPECT_EQ(released, 0);
    gate.remove_barrier();
    for (auto& w : waiters) w.join();
    EXPECT_EQ(released, 3);
    gate.remove_barrier();  // already gone: fine
    EXPECT_TRUE(gate.wait_on_barrier_for(0ms));
  });
}

TEST_P(BarrierTest, AWaitTimesOutWithItsErrorCode) {
  with_client([&](Runtime&, Client& c) {
    Barrier gate(c, at("gate"));
    std::error_code ec;
    gate.set_barrier(Clock::now() + 5s, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_TRUE(gate.is_set(ec));
    const auto start = Clock::now();
    EXPECT_FALSE(gate.wait_on_barrier(Clock::now() + 200ms, ec));
    EXPECT_ZK(ec, Error::operationTimeout);
    EXPECT_GE(Clock::now() - start, 200ms);
  });
}

TEST_P(BarrierTest, AnEphemeralBarrierOpensWhenItsSetterGoes) {
  with_client([&](Runtime& rt, Client& c) {
    auto setter = connect(rt);
    Barrier gate(*setter, at("gate"), {.ephemeral = true});
    gate.set_barrier();
    Barrier waiter(c, at("gate"));
    bool released = false;
    boost::fibers::fiber w([&] { released = waiter.wait_on_barrier_for(10s); });
    EXPECT_FALSE(waiter.wait_on_barrier_for(50ms));
    setter->close();
    w.join();
    EXPECT_TRUE(released);
  });
}

TEST_P(BarrierTest, AWaiterCutOffKeepsWaitingAndSeesTheRemovalAfterTheReconnect) {
  with_client([&](Runtime& rt, Client& c) {
    TcpProxy proxy(server().port());
    auto o = options();
    o.connect_string = proxy.host_port();
    auto cut = connect(rt, o);
    ASSERT_TRUE(cut);
    Barrier gate(c, at("gate"));
    gate.set_barrier();
    Barrier waiter(*cut, at("gate"));
    bool released = false;
    boost::fibers::fiber w([&] { released = waiter.wait_on_barrier_for(20s); });
    boost::this_fiber::yield();
    ASSERT_TRUE(cut_off(proxy, *cut));
    gate.remove_barrier();
    EXPECT_FALSE(released);
    proxy.set_refusing(false);
    w.join();
    EXPECT_TRUE(released);
  });
}

CORRAL_CLIENT_SUITE(BarrierTest);

}  // namespace
}  // namespace corral::test
