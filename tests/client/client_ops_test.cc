// corral::Client against corral-server and against Apache ZooKeeper 3.8: every
// operation, the node types, ACLs and authentication, chroot, pipelining.
// The same expectations hold for both servers; a difference is a bug in one.
#include <algorithm>
#include <set>

#include "tests/client/client_fixture.h"
#include "tests/support/digest.h"

namespace corral::test {
namespace {

using wire::OpCode;

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class ClientOpsTest : public ClientTest {};
CORRAL_CLIENT_SUITE(ClientOpsTest);

TEST_P(ClientOpsTest, CreateGetSetRemove) {
  with_client([&](Runtime&, Client& c) {
    const std::string p = at("node");
    const auto created = c.create(p, "v0");
    EXPECT_EQ(created.path, p);
    EXPECT_EQ(created.stat.version, 0);
    EXPECT_EQ(created.stat.dataLength, 2);
    EXPECT_EQ(created.stat.ephemeralOwner, 0);
    EXPECT_GT(created.stat.czxid, 0);
    EXPECT_EQ(created.stat.czxid, created.stat.mzxid);

    auto got = c.get(p);
    EXPECT_EQ(got.data, "v0");
    EXPECT_EQ(got.stat, created.stat);

    const Stat s1 = c.set(p, "v1", 0);
    EXPECT_EQ(s1.version, 1);
    EXPECT_GT(s1.mzxid, created.stat.mzxid);
    EXPECT_EQ(s1.czxid, created.stat.czxid);
    EXPECT_EQ(c.get(p).data, "v1");
    EXPECT_EQ(c.set(p, "v2").version, 2) << "version -1 matches any";

    std::error_code ec;
    c.set(p, "stale", 1, ec);
    EXPECT_ZK(ec, Error::badVersion);
    EXPECT_EQ(c.get(p).data, "v2");

    const auto st = c.exists(p);
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->version, 2);

    c.remove(p, 1, ec);
    EXPECT_ZK(ec, Error::badVersion);
    c.remove(p, 2, ec);
    EXPECT_FALSE(ec) << ec.message();

    EXPECT_FALSE(c.exists(p).has_value());
    c.get(p, {}, ec);
    EXPECT_ZK(ec, Error::noNode);
    c.set(p, "x", -1, ec);
    EXPECT_ZK(ec, Error::noNode);
    c.remove(p, -1, ec);
    EXPECT_ZK(ec, Error::noNode);
  });
}

TEST_P(ClientOpsTest, CreateErrors) {
  with_client([&](Runtime&, Client& c) {
    std::error_code ec;
    c.create(at("dup"), "");
    c.create(at("dup"), "", {}, ec);
    EXPECT_ZK(ec, Error::nodeExists);
    c.create(at("missing/child"), "", {}, ec);
    EXPECT_ZK(ec, Error::noNode);

    c.create(at("dup/kid"), "");
    c.remove(at("dup"), -1, ec);
    EXPECT_ZK(ec, Error::notEmpty);

    // Refused by the client before anything is sent.
    for (const char* bad : {"", "no-slash", "/trailing/", "/a//b", "/a/./b", "/a/../b"}) {
      c.create(bad, "", {}, ec);
      EXPECT_ZK(ec, Error::badArguments) << "'" << bad << "'";
      c.get(bad, {}, ec);
      EXPECT_ZK(ec, Error::badArguments) << "'" << bad << "'";
    }
    // The client stays usable.
    EXPECT_TRUE(c.exists(at("dup")).has_value());
  });
}

TEST_P(ClientOpsTest, EmptyAndLargeData) {
  with_client([&](Runtime&, Client& c) {
    c.create(at("empty"), "");
    EXPECT_EQ(c.get(at("empty")).data, "");
    EXPECT_EQ(c.get(at("empty")).stat.dataLength, 0);
    std::string big(512 * 1024, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
    c.create(at("big"), big);
    const auto got = c.get(at("big"));
    EXPECT_EQ(got.stat.dataLength, static_cast<int32_t>(big.size()));
    EXPECT_TRUE(got.data == big);
  });
}

TEST_P(ClientOpsTest, SequentialNodesCountPerParent) {
  with_client([&](Runtime&, Client& c) {
    const auto a = c.create(at("s-"), "", {.mode = CreateMode::persistentSequential});
    const auto b = c.create(at("s-"), "", {.mode = CreateMode::persistentSequential});
    const auto e = c.create(at("e-"), "", {.mode = CreateMode::ephemeralSequential});
    EXPECT_EQ(a.path, at("s-0000000000"));
    EXPECT_EQ(b.path, at("s-0000000001"));
    EXPECT_EQ(e.path, at("e-0000000002")) << "one counter per parent, shared by every name";
    EXPECT_EQ(e.stat.ephemeralOwner, c.session_id());
    // The counter counts the parent's creations; the cversion clients see
    // counts deletions too.
    c.remove(b.path);
    EXPECT_EQ(c.exists(base())->cversion, 4);
    EXPECT_EQ(c.create(at("s-"), "", {.mode = CreateMode::persistentSequential}).path, at("s-0000000003"));
    EXPECT_EQ(c.exists(base())->cversion, 5);
    EXPECT_EQ(sorted(c.children(base()).names),
              (std::vector<std::string>{"e-0000000002", "s-0000000000", "s-0000000003"}));
  });
}

TEST_P(ClientOpsTest, EphemeralsBelongToTheirSession) {
  with_client([&](Runtime& rt, Client& c) {
    auto other = connect(rt);
    ASSERT_TRUE(other);
    const auto eph = c.create(at("eph"), "mine", {.mode = CreateMode::ephemeral});
    EXPECT_EQ(eph.stat.ephemeralOwner, c.session_id());
    EXPECT_EQ(other->exists(at("eph"))->ephemeralOwner, c.session_id());
    other->create(at("theirs"), "", {.mode = CreateMode::ephemeral});

    std::error_code ec;
    c.create(at("eph/child"), "", {}, ec);
    EXPECT_ZK(ec, Error::noChildrenForEphemerals);

    EXPECT_EQ(c.ephemerals(base()), (std::vector<std::string>{at("eph")}));
    EXPECT_EQ(other->ephemerals(base()), (std::vector<std::string>{at("theirs")}));
    EXPECT_EQ(c.ephemerals(at("e")), (std::vector<std::string>{at("eph")})) << "a prefix, not a parent";
    EXPECT_TRUE(c.ephemerals(at("x")).empty());
    const auto all = c.ephemerals("/");
    EXPECT_NE(std::find(all.begin(), all.end(), at("eph")), all.end());

    other->close();
    EXPECT_FALSE(c.exists(at("theirs")).has_value()) << "close() ends the session and its ephemerals at once";
    EXPECT_TRUE(c.exists(at("eph")).has_value());
  });
}

TEST_P(ClientOpsTest, ContainersGoWhenTheirLastChildGoes) {
  with_client([&](Runtime&, Client& c) {
    const auto box = c.create(at("box"), "", {.container = true});
    EXPECT_EQ(box.path, at("box"));
    EXPECT_EQ(box.stat.ephemeralOwner, 0) << "clients see 0 as a container's owner";
    EXPECT_EQ(c.exists(at("box"))->ephemeralOwner, 0);
    c.create(at("box/item"), "");
    c.remove(at("box/item"));
    EXPECT_TRUE(fiber_wait_until([&] { return !c.exists(at("box")).has_value(); }))
        << "the empty container was never removed";

    // A container that never had a child stays.
    c.create(at("never-used"), "", {.container = true});
    c.create(at("sentinel"), "", {.container = true});
    c.create(at("sentinel/x"), "");
    c.remove(at("sentinel/x"));
    ASSERT_TRUE(fiber_wait_until([&] { return !c.exists(at("sentinel")).has_value(); }));
    EXPECT_TRUE(c.exists(at("never-used")).has_value());
  });
}

TEST_P(ClientOpsTest, TtlNodesExpireWhenUntouchedAndChildless) {
  with_client([&](Runtime&, Client& c) {
    const auto t = c.create(at("ttl"), "x", {.mode = CreateMode::persistentWithTtl, .ttl_ms = 300});
    EXPECT_EQ(t.path, at("ttl"));
    EXPECT_EQ(t.stat.ephemeralOwner, 0) << "clients see 0 as a TTL node's owner";
    const auto ts = c.create(at("ttl-"), "", {.mode = CreateMode::persistentSequentialWithTtl, .ttl_ms = 300});
    EXPECT_EQ(ts.path, at("ttl-0000000001"));
    // With a child it stays (for as long as the child does).
    const auto parent = c.create(at("ttl-parent"), "", {.mode = CreateMode::persistentWithTtl, .ttl_ms = 300});
    c.create(at("ttl-parent/child"), "");

    EXPECT_TRUE(fiber_wait_until([&] { return !c.exists(t.path) && !c.exists(ts.path); })) << "TTL nodes never expired";
    EXPECT_TRUE(c.exists(parent.path).has_value());

    std::error_code ec;
    c.create(at("bad-ttl"), "", {.mode = CreateMode::persistentWithTtl, .ttl_ms = 0}, ec);
    EXPECT_ZK(ec, Error::badArguments);
    c.create(at("bad-ttl"), "", {.mode = CreateMode::persistentWithTtl, .ttl_ms = wire::max_ttl_ms + 1}, ec);
    EXPECT_ZK(ec, Error::badArguments);
    EXPECT_FALSE(c.exists(at("bad-ttl")).has_value());
  });
}

TEST_P(ClientOpsTest, ChildrenAndTheirCount) {
  with_client([&](Runtime&, Client& c) {
    c.create(at("p"), "");
    for (const char* n : {"c", "a", "b"}) c.create(at("p/") + n, "");
    c.create(at("p/a/deep"), "");
    c.create(at("p/a/deep/deeper"), "");

    const auto ch = c.children(at("p"));
    EXPECT_EQ(sorted(ch.names), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(ch.stat.numChildren, 3);
    EXPECT_EQ(ch.stat.cversion, 3);
    EXPECT_EQ(ch.stat, *c.exists(at("p")));
    EXPECT_TRUE(c.children(at("p/b")).names.empty());

    EXPECT_EQ(c.all_children_number(at("p")), 5);
    EXPECT_EQ(c.all_children_number(at("p/a")), 2);
    EXPECT_EQ(c.all_children_number(at("p/b")), 0);

    std::error_code ec;
    c.children(at("nope"), {}, ec);
    EXPECT_ZK(ec, Error::noNode);
    c.all_children_number(at("nope"), ec);
    EXPECT_ZK(ec, Error::noNode);
  });
}

TEST_P(ClientOpsTest, SyncAndCheck) {
  with_client([&](Runtime& rt, Client& c) {
    auto writer = connect(rt);
    ASSERT_TRUE(writer);
    writer->create(at("n"), "");
    writer->set(at("n"), "after");
    c.sync(at("n"));
    EXPECT_EQ(c.get(at("n")).data, "after");
    c.sync("/");

    std::error_code ec;
    c.sync("bad", ec);
    EXPECT_ZK(ec, Error::badArguments);

    c.check(at("n"), 1, ec);
    EXPECT_FALSE(ec) << ec.message();
    c.check(at("n"), 0, ec);
    EXPECT_ZK(ec, Error::badVersion);
    c.check(at("nope"), 0, ec);
    EXPECT_ZK(ec, Error::noNode);
  });
}

TEST_P(ClientOpsTest, MultiAppliesEveryOpOrNone) {
  with_client([&](Runtime&, Client& c) {
    Transaction ok;
    ok.create(at("m"), "one")
        .create(at("m/seq-"), "", {.mode = CreateMode::persistentSequential})
        .set(at("m"), "two", 0)
        .check(at("m"), 1)
        .create(at("gone"), "")
        .remove(at("gone"), 0);
    const auto results = c.multi(ok);
    ASSERT_EQ(results.size(), 6u);
    // Apache ZooKeeper 3.8 turns every create of a multi into a plain create
    // (MultiOperationRecord reads it as Op.create), so its result is "create"
    // with the path only; corral-server answers create2 with the stat. Both
    // decode; the path is what a caller relies on.
    for (int i : {0, 1, 4}) {
      EXPECT_TRUE(results[i].type == OpCode::create || results[i].type == OpCode::create2) << i;
      if (results[i].type == OpCode::create2) {
        EXPECT_GT(results[i].stat.czxid, 0) << i;
      }
    }
    EXPECT_EQ(results[0].path, at("m"));
    EXPECT_EQ(results[1].path, at("m/seq-0000000000"));
    EXPECT_EQ(results[4].path, at("gone"));
    EXPECT_EQ(results[2].type, OpCode::setData);
    EXPECT_EQ(results[2].stat.version, 1);
    EXPECT_EQ(results[2].stat.mzxid, c.exists(at("m/seq-0000000000"))->czxid) << "one txn, one zxid";
    EXPECT_EQ(results[3].type, OpCode::check);
    EXPECT_EQ(results[5].type, OpCode::remove);
    EXPECT_EQ(c.get(at("m")).data, "two");
    EXPECT_FALSE(c.exists(at("gone")).has_value());

    Transaction bad;
    bad.create(at("x"), "").set(at("m"), "three", 0).create(at("y"), "");
    std::error_code ec;
    const auto failed = c.multi(bad, ec);
    EXPECT_ZK(ec, Error::badVersion);
    ASSERT_EQ(failed.size(), 3u);
    for (const auto& r : failed) EXPECT_EQ(r.type, OpCode::error);
    EXPECT_EQ(failed[0].err, 0) << "ops before the failing one report ok";
    EXPECT_EQ(failed[1].err, static_cast<int32_t>(Error::badVersion));
    EXPECT_EQ(failed[2].err, static_cast<int32_t>(Error::runtimeInconsistency));
    EXPECT_FALSE(c.exists(at("x")).has_value()) << "a failed multi applied an op";
    EXPECT_EQ(c.get(at("m")).data, "two");

    // Ops see the effects of the ops before them in the same multi.
    Transaction chained;
    chained.create(at("z"), "").create(at("z/1"), "").remove(at("z/1")).remove(at("z"));
    c.multi(chained, ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(c.exists(at("z")).has_value());

    c.multi(Transaction{}, ec);
    EXPECT_FALSE(ec) << "an empty multi is fine: " << ec.message();
  });
}

TEST_P(ClientOpsTest, MultiReadAnswersEachOp) {
  with_client([&](Runtime&, Client& c) {
    c.create(at("r"), "data-r");
    c.create(at("r/k1"), "");
    c.create(at("r/k2"), "");
    std::error_code ec;
    const auto results = c.multi_read({at("r"), at("missing")}, {at("r"), at("missing")}, ec);
    EXPECT_FALSE(ec) << "per-op errors do not fail the multiRead: " << ec.message();
    ASSERT_EQ(results.size(), 4u);
    EXPECT_EQ(results[0].type, OpCode::getData);
    EXPECT_EQ(results[0].data, "data-r");
    EXPECT_EQ(results[0].stat.numChildren, 2);
    EXPECT_EQ(results[1].type, OpCode::error);
    EXPECT_EQ(results[1].err, static_cast<int32_t>(Error::noNode));
    EXPECT_EQ(results[2].type, OpCode::getChildren);
    EXPECT_EQ(sorted(results[2].children), (std::vector<std::string>{"k1", "k2"}));
    EXPECT_EQ(results[3].type, OpCode::error);
    EXPECT_EQ(results[3].err, static_cast<int32_t>(Error::noNode));
  });
}

// One error model, two call forms: the throwing form throws std::system_error
// carrying the same code the error_code form reports (caught inside a fiber).
TEST_P(ClientOpsTest, ThrowingFormsThrowTheCode) {
  with_client([&](Runtime&, Client& c) {
    const auto code_of = [](auto&& call) -> std::error_code {
      try {
        call();
      } catch (const std::system_error& e) {
        return e.code();
      }
      return {};
    };
    EXPECT_ZK(code_of([&] { c.get(at("missing")); }), Error::noNode);
    EXPECT_ZK(code_of([&] { c.remove(at("missing")); }), Error::noNode);
    c.create(at("x"), "");
    EXPECT_ZK(code_of([&] { c.create(at("x")); }), Error::nodeExists);
    EXPECT_ZK(code_of([&] { c.set(at("x"), "", 7); }), Error::badVersion);
    EXPECT_ZK(code_of([&] { c.children("bad"); }), Error::badArguments);
    EXPECT_EQ(code_of([&] { c.exists(at("missing")); }), std::error_code()) << "no node is not an error for exists";
    std::error_code ec = Error::noNode;
    EXPECT_STREQ(ec.category().name(), zookeeper_category().name());
    EXPECT_FALSE(ec.message().empty());
  });
}

TEST_P(ClientOpsTest, AsyncFormsReturnFiberFutures) {
  with_client([&](Runtime&, Client& c) {
    auto created = c.async_create(at("a"), "1");
    auto got = c.async_get(at("a"));
    auto set = c.async_set(at("a"), "2");
    auto ex = c.async_exists(at("a"));
    auto ch = c.async_children(base());
    Transaction t;
    t.check(at("a"), 1);
    auto multi = c.async_multi(t);
    auto removed = c.async_remove(at("a"));
    auto missing = c.async_get(at("a"));

    EXPECT_EQ(created.get().value.path, at("a"));
    EXPECT_EQ(got.get().value.data, "1");
    EXPECT_EQ(set.get().value.version, 1);
    auto exr = ex.get();
    ASSERT_TRUE(exr.value.has_value());
    EXPECT_EQ(exr.value->version, 1);
    EXPECT_EQ(ch.get().value.names, (std::vector<std::string>{"a"}));
    EXPECT_FALSE(multi.get().error);
    EXPECT_FALSE(removed.get().error);
    EXPECT_ZK(missing.get().error, Error::noNode);
  });
}

TEST_P(ClientOpsTest, PipelinesThousandsOfRequestsInOrder) {
  with_client([&](Runtime&, Client& c) {
    constexpr int n = 3000;
    c.create(at("q"), "");
    std::vector<boost::fibers::future<Result<Created>>> creates;
    creates.reserve(n);
    for (int i = 0; i < n; ++i) {
      creates.push_back(c.async_create(at("q/n-"), std::to_string(i), {.mode = CreateMode::persistentSequential}));
    }
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
      auto r = creates[i].get();
      ASSERT_FALSE(r.error) << i << ": " << r.error.message();
      // The sequence number is the order in which the server applied them.
      char expected[16];
      std::snprintf(expected, sizeof expected, "n-%010d", i);
      ASSERT_EQ(r.value.path, at("q/") + expected);
      names.push_back(r.value.path);
    }
    std::vector<boost::fibers::future<Result<NodeData>>> gets;
    for (const auto& p : names) gets.push_back(c.async_get(p));
    for (int i = 0; i < n; ++i) ASSERT_EQ(gets[i].get().value.data, std::to_string(i));
    EXPECT_EQ(c.all_children_number(at("q")), n);

    std::vector<boost::fibers::future<Result<Empty>>> removes;
    for (const auto& p : names) removes.push_back(c.async_remove(p));
    for (auto& f : removes) ASSERT_FALSE(f.get().error);
    EXPECT_EQ(c.children(at("q")).stat.numChildren, 0);
  });
}

TEST_P(ClientOpsTest, ManyFibersShareOneConnection) {
  with_client([&](Runtime&, Client& c) {
    constexpr int fibers = 50, each = 40;
    c.create(at("f"), "");
    std::vector<boost::fibers::fiber> workers;
    int failures = 0;
    for (int f = 0; f < fibers; ++f) {
      workers.emplace_back([&, f] {
        const std::string p = at("f/") + std::to_string(f);
        std::error_code ec;
        c.create(p, "0", {}, ec);
        if (ec) ++failures;
        for (int i = 1; i <= each; ++i) {
          const Stat s = c.set(p, std::to_string(i), i - 1, ec);
          if (ec || s.version != i) ++failures;
          if (c.get(p, {}, ec).data != std::to_string(i) || ec) ++failures;
        }
      });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(c.all_children_number(at("f")), fibers);
  });
}

TEST_P(ClientOpsTest, AclsAreReadAndWritten) {
  with_client([&](Runtime&, Client& c) {
    c.create(at("acl"), "x");
    auto got = c.get_acl(at("acl"));
    EXPECT_EQ(got.acl, open_acl());
    EXPECT_EQ(got.stat.aversion, 0);

    std::error_code ec;
    c.set_acl(at("acl"), read_acl(), 1, ec);
    EXPECT_ZK(ec, Error::badVersion);
    const Stat s = c.set_acl(at("acl"), read_acl(), 0);
    EXPECT_EQ(s.aversion, 1);
    EXPECT_EQ(s.version, 0) << "the data version is another counter";
    EXPECT_EQ(c.get_acl(at("acl")).acl, read_acl());
    EXPECT_EQ(c.get_acl(at("acl")).stat.aversion, 1);

    // Read-only for everyone: reads work, writes are refused.
    EXPECT_EQ(c.get(at("acl")).data, "x");
    c.set(at("acl"), "y", -1, ec);
    EXPECT_ZK(ec, Error::noAuth);
    c.create(at("acl/child"), "", {}, ec);
    EXPECT_ZK(ec, Error::noAuth);
    c.set_acl(at("acl"), open_acl(), 0, ec);
    EXPECT_ZK(ec, Error::noAuth) << "no ADMIN permission (checked before the version)";

    // Malformed ACLs.
    c.create(at("bad-acl"), "", {.acl = {}}, ec);
    EXPECT_ZK(ec, Error::invalidAcl);
    c.create(at("bad-acl"), "", {.acl = {{wire::perms::all, {"nosuchscheme", "x"}}}}, ec);
    EXPECT_ZK(ec, Error::invalidAcl);
    c.create(at("bad-acl"), "", {.acl = creator_all_acl()}, ec);
    EXPECT_ZK(ec, Error::invalidAcl) << "auth ids need an authenticated client";
    EXPECT_FALSE(c.exists(at("bad-acl")).has_value());

    c.get_acl(at("nope"), ec);
    EXPECT_ZK(ec, Error::noNode);
  });
}

TEST_P(ClientOpsTest, DigestAuthAndTheCreatorAcl) {
  with_client([&](Runtime& rt, Client& alice) {
    auto nobody = connect(rt);
    auto bob = connect(rt);
    auto alice2 = connect(rt);
    ASSERT_TRUE(nobody && bob && alice2);
    alice.add_auth("digest", "alice:secret");
    bob->add_auth("digest", "bob:hunter2");
    alice2->add_auth("digest", "alice:secret");

    // whoAmI is a (scheme, user) list: the ip id, and the digest user.
    auto has = [&](const std::vector<wire::ClientInfo>& infos, const std::string& scheme, const std::string& user) {
      return std::find(infos.begin(), infos.end(), wire::ClientInfo{scheme, user}) != infos.end();
    };
    std::error_code ec;
    auto alice_ids = alice.who_am_i(ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(has(alice_ids, "digest", "alice"));
    EXPECT_TRUE(has(alice_ids, "ip", "127.0.0.1"));
    auto nobody_ids = nobody->who_am_i(ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(has(nobody_ids, "ip", "127.0.0.1"));
    EXPECT_EQ(nobody_ids.size(), 1u);

    alice.create(at("private"), "secret data", {.acl = creator_all_acl()});
    const auto acl = alice.get_acl(at("private")).acl;
    ASSERT_EQ(acl.size(), 1u);
    EXPECT_EQ(acl[0].perms, wire::perms::all);
    EXPECT_EQ(acl[0].id, (wire::Id{"digest", digest_id("alice", "secret")}));

    EXPECT_EQ(alice2->get(at("private")).data, "secret data") << "same credentials, another session";
    nobody->get(at("private"), {}, ec);
    EXPECT_ZK(ec, Error::noAuth);
    bob->get(at("private"), {}, ec);
    EXPECT_ZK(ec, Error::noAuth);
    bob->set(at("private"), "mine now", -1, ec);
    EXPECT_ZK(ec, Error::noAuth);
    bob->remove(at("private"), -1, ec);
    EXPECT_FALSE(ec) << "delete needs DELETE on the parent, which is open: " << ec.message();

    // An explicit digest id grants bob read and nothing else.
    const AclList bob_reads{{wire::perms::read, {"digest", digest_id("bob", "hunter2")}},
                            {wire::perms::all, {"digest", digest_id("alice", "secret")}}};
    alice.create(at("shared"), "s", {.acl = bob_reads});
    EXPECT_EQ(bob->get(at("shared")).data, "s");
    bob->set(at("shared"), "t", -1, ec);
    EXPECT_ZK(ec, Error::noAuth);
    alice.set(at("shared"), "t");
    nobody->get(at("shared"), {}, ec);
    EXPECT_ZK(ec, Error::noAuth);
  });
}

// ZooKeeper 3.8 answers exists (and sets its watch) without looking at the
// node's ACL (FinalRequestProcessor, OpCode.exists).
TEST_P(ClientOpsTest, ExistsNeedsNoPermission) {
  with_client([&](Runtime& rt, Client& owner) {
    auto nobody = connect(rt);
    ASSERT_TRUE(nobody);
    owner.add_auth("digest", "owner:pw");
    owner.create(at("locked"), "", {.acl = creator_all_acl()});
    std::error_code ec;
    nobody->get(at("locked"), {}, ec);
    EXPECT_ZK(ec, Error::noAuth);
    const auto st = nobody->exists(at("locked"), {}, ec);
    if (is_corral() && ec == Error::noAuth) {
      GTEST_SKIP() << "known corral-server deviation: exists on a node without READ permission answers NOAUTH "
                      "(ensemble/core/reads.cc, exists()); ZooKeeper 3.8 answers the stat";
    }
    EXPECT_FALSE(ec) << ec.message();
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->version, 0);
  });
}

TEST_P(ClientOpsTest, UnknownAuthSchemeFailsTheClient) {
  with_client([&](Runtime& rt, Client&) {
    EventLog log;  // outlives the client, which tells it of its end
    auto c = connect(rt);
    ASSERT_TRUE(c);
    c->add_state_listener(log.listener());
    std::error_code ec;
    c->add_auth("nosuchscheme", "whatever", ec);
    EXPECT_ZK(ec, Error::authFailed);
    EXPECT_TRUE(log.wait_for("state auth-failed")) << log.dump();
    EXPECT_EQ(c->state(), SessionState::authFailed);
    c->get("/", {}, ec);
    EXPECT_ZK(ec, Error::authFailed);
  });
}

TEST_P(ClientOpsTest, SessionTimeoutIsNegotiatedWithinTheServersBounds) {
  run_fibers([&](Runtime& rt) {
    auto o = options();
    o.session_timeout = 50ms;  // below minSessionTimeout (200)
    auto low = connect(rt, o);
    o.session_timeout = 120s;  // above maxSessionTimeout (30000)
    auto high = connect(rt, o);
    ASSERT_TRUE(low && high);
    EXPECT_EQ(low->negotiated_timeout(), 200ms);
    EXPECT_EQ(high->negotiated_timeout(), 30000ms);
    EXPECT_NE(low->session_id(), high->session_id());
    EXPECT_EQ(low->session_password().size(), 16u);
    EXPECT_EQ(low->state(), SessionState::connected);
  });
}

TEST_P(ClientOpsTest, ChrootTranslatesEveryPath) {
  with_client([&](Runtime& rt, Client& root) {
    root.create(at("jail"), "jail-data");
    auto c = connect(rt, at("jail"));
    ASSERT_TRUE(c);
    EventLog log;

    EXPECT_EQ(c->get("/").data, "jail-data");
    const auto created = c->create("/a", "1");
    EXPECT_EQ(created.path, "/a");
    EXPECT_TRUE(root.exists(at("jail/a")).has_value());
    EXPECT_EQ(c->create("/seq-", "", {.mode = CreateMode::persistentSequential}).path, "/seq-0000000001");
    EXPECT_EQ(c->create("/eph", "", {.mode = CreateMode::ephemeral}).path, "/eph");
    EXPECT_EQ(c->ephemerals("/"), (std::vector<std::string>{"/eph"}));
    EXPECT_EQ(sorted(c->children("/").names), (std::vector<std::string>{"a", "eph", "seq-0000000001"}));
    EXPECT_EQ(c->all_children_number("/"), 3);

    Transaction t;
    t.create("/m", "").create("/m/s-", "", {.mode = CreateMode::persistentSequential}).set("/a", "2");
    const auto results = c->multi(t);
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[0].path, "/m");
    EXPECT_EQ(results[1].path, "/m/s-0000000000");
    std::error_code ec;
    const auto reads = c->multi_read({"/a"}, {"/m"}, ec);
    ASSERT_EQ(reads.size(), 2u);
    EXPECT_EQ(reads[0].data, "2");
    EXPECT_EQ(reads[1].children, (std::vector<std::string>{"s-0000000000"}));

    // Watch events name client paths.
    c->get("/a", log.watcher("data"));
    c->exists("/new", log.watcher("exist"));
    c->children("/m", log.watcher("child"));
    c->add_watch("/", wire::AddWatchMode::persistentRecursive, log.watcher("rec"));
    root.set(at("jail/a"), "3");
    root.create(at("jail/new"), "");
    root.create(at("jail/m/k"), "");
    ASSERT_TRUE(log.wait_for("child NodeChildrenChanged /m")) << log.dump();
    EXPECT_TRUE(log.contains("data NodeDataChanged /a")) << log.dump();
    EXPECT_TRUE(log.contains("exist NodeCreated /new")) << log.dump();
    EXPECT_TRUE(log.contains("rec NodeDataChanged /a")) << log.dump();
    EXPECT_TRUE(log.contains("rec NodeCreated /new")) << log.dump();
    EXPECT_TRUE(log.contains("rec NodeCreated /m/k")) << log.dump();
    // Changes outside the chroot are not seen.
    root.create(at("outside"), "");
    root.set(at("jail"), "changed");
    ASSERT_TRUE(log.wait_for("rec NodeDataChanged /")) << log.dump();
    EXPECT_EQ(log.with_prefix("rec").size(), 4u) << log.dump();
  });
}

}  // namespace
}  // namespace corral::test
