// Preparer: PrepRequestProcessor's checks, in its order, against the tree
// plus every prepped-but-unapplied txn; multi atomicity; closeSession.
#include "ensemble/core/prep.h"

#include <gtest/gtest.h>

#include <climits>
#include <deque>
#include <string>
#include <vector>

#include "core_test_util.h"

namespace corral::ensemble {
namespace {

using namespace coretest;
using wire::CreateMode;
using wire::OpCode;
namespace perms = wire::perms;

constexpr const char* alice_digest = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";  // alice:secret
constexpr int64_t S = 0x1000000000001;                                      // our session
constexpr int64_t T = 0x1000000000002;                                      // another session

Error code(const PrepResult& r) {
  if (std::holds_alternative<proto::Txn>(r)) return Error::ok;
  if (const auto* e = std::get_if<Error>(&r)) return *e;
  return Error::apiError;  // a MultiFailure where a single error was expected
}

class Prep : public ::testing::Test {
 protected:
  DataTree tree;
  Preparer prep{tree};
  AuthIds ids{{"ip", "127.0.0.1"}};
  int64_t next_zxid = 1;
  int64_t now = 5000;
  int64_t session = S;
  bool extended = true;
  std::deque<proto::Txn> unapplied;

  PrepContext ctx() { return PrepContext{session, 77, next_zxid, now, &ids, extended}; }

  // Keeps a successful txn for apply_all(); every success takes a zxid.
  PrepResult keep(PrepResult r) {
    if (auto* t = std::get_if<proto::Txn>(&r)) {
      EXPECT_EQ(t->zxid(), next_zxid);
      unapplied.push_back(*t);
      ++next_zxid;
    }
    return r;
  }

  PrepResult create(const std::string& path, CreateMode mode = CreateMode::persistent,
                    const wire::AclList& acl = open_acl(), const std::string& data = "", int64_t ttl = -1,
                    OpCode op = OpCode::create) {
    return keep(prep.create(ctx(), op, wire::CreateTTLRequest{path, data, acl, static_cast<int32_t>(mode), ttl}));
  }
  PrepResult create_flags(const std::string& path, int32_t flags, int64_t ttl = -1, OpCode op = OpCode::create,
                          const wire::AclList& acl = open_acl()) {
    return keep(prep.create(ctx(), op, wire::CreateTTLRequest{path, "", acl, flags, ttl}));
  }
  PrepResult del(const std::string& path, int32_t version = -1) {
    return keep(prep.remove(ctx(), wire::DeleteRequest{path, version}));
  }
  PrepResult set(const std::string& path, const std::string& data, int32_t version = -1) {
    return keep(prep.set_data(ctx(), wire::SetDataRequest{path, data, version}));
  }
  PrepResult set_acl(const std::string& path, const wire::AclList& acl, int32_t version = -1) {
    return keep(prep.set_acl(ctx(), wire::SetACLRequest{path, acl, version}));
  }
  PrepResult check(const std::string& path, int32_t version) {
    return keep(prep.check(ctx(), wire::CheckVersionRequest{path, version}));
  }
  PrepResult multi(std::vector<wire::MultiOp> ops) {
    return keep(prep.multi(ctx(), wire::MultiRequest{std::move(ops)}));
  }

  // The storage role: every kept txn becomes durable and is applied in order.
  void apply_all() {
    while (!unapplied.empty()) {
      const proto::Txn t = unapplied.front();
      unapplied.pop_front();
      std::vector<OpResult> results;
      std::vector<WatchTrigger> triggers;
      tree.apply(t, results, triggers);
      for (const auto& r : results) EXPECT_EQ(r.err, Error::ok) << t.DebugString();
      prep.applied(t.zxid());
    }
    EXPECT_EQ(prep.pending_count(), 0u);
  }

  // Puts a node straight into the tree (as a snapshot load would).
  void put(const std::string& path, const wire::AclList& acl = open_acl(), int64_t owner = 0, int32_t version = 0,
           int32_t cversion = 0, int32_t aversion = 0) {
    wire::Stat s;
    s.version = version;
    s.cversion = cversion;
    s.aversion = aversion;
    s.ephemeralOwner = owner;
    ASSERT_TRUE(tree.load_node(NodeImage{path, "", &acl, s})) << path;
  }

  static std::string created_path(const PrepResult& r) {
    const auto* t = std::get_if<proto::Txn>(&r);
    if (!t || t->ops_size() != 1 || !t->ops(0).has_create()) return "<no create>";
    return t->ops(0).create().path();
  }
};

// ---- create ----------------------------------------------------------------

TEST_F(Prep, CreateTxnCarriesEveryDecision) {
  ids.push_back({"digest", alice_digest});
  const auto r = create("/a", CreateMode::persistent, {{perms::all, {"auth", ""}}}, "data");
  ASSERT_EQ(code(r), Error::ok);
  const auto& t = std::get<proto::Txn>(r);
  EXPECT_EQ(t.zxid(), 1);
  EXPECT_EQ(t.session_id(), S);
  EXPECT_EQ(t.cxid(), 77);
  EXPECT_EQ(t.time_ms(), 5000);
  ASSERT_EQ(t.ops_size(), 1);
  const auto& c = t.ops(0).create();
  EXPECT_EQ(c.path(), "/a");
  EXPECT_EQ(c.data(), "data");
  ASSERT_EQ(c.acl_size(), 1);  // "auth" expanded to the caller's digest id
  EXPECT_EQ(c.acl(0).scheme(), "digest");
  EXPECT_EQ(c.acl(0).id(), alice_digest);
  EXPECT_EQ(c.acl(0).perms(), perms::all);
  EXPECT_EQ(c.ephemeral_owner(), 0);
  EXPECT_EQ(c.parent_cversion(), 1);
  EXPECT_EQ(prep.pending_count(), 2u);  // the node and its parent
  apply_all();
  EXPECT_EQ(stat_of(tree, "/a").czxid, 1);
  EXPECT_EQ(stat_of(tree, "/a").ctime, 5000);
}

TEST_F(Prep, CreateOwnerByMode) {
  const auto owner = [](const PrepResult& r) { return std::get<proto::Txn>(r).ops(0).create().ephemeral_owner(); };
  EXPECT_EQ(owner(create("/p")), 0);
  EXPECT_EQ(owner(create("/e", CreateMode::ephemeral)), S);
  EXPECT_EQ(owner(create("/es-", CreateMode::ephemeralSequential)), S);
  EXPECT_EQ(owner(create("/ps-", CreateMode::persistentSequential)), 0);
  EXPECT_EQ(owner(create("/c1", CreateMode::container, open_acl(), "", -1, OpCode::createContainer)),
            wire::container_owner);
  EXPECT_EQ(owner(create("/t", CreateMode::persistentWithTtl, open_acl(), "", 1234, OpCode::createTTL)),
            wire::ttl_owner(1234));
  EXPECT_EQ(owner(create("/ts-", CreateMode::persistentSequentialWithTtl, open_acl(), "", 99, OpCode::createTTL)),
            wire::ttl_owner(99));
  apply_all();
  EXPECT_EQ(tree.containers().size(), 1u);
  EXPECT_EQ(tree.ttl_nodes().size(), 2u);
  EXPECT_EQ(tree.ephemerals_of(S).size(), 2u);
}

TEST_F(Prep, CreateBadFlagsAndTtl) {
  EXPECT_EQ(code(create_flags("/a", 7)), Error::badArguments);
  EXPECT_EQ(code(create_flags("/a", -1)), Error::badArguments);
  // validateTTL: TTL modes need 0 < ttl <= 2^40-1; other modes need ttl < 0.
  EXPECT_EQ(code(create_flags("/a", 5, 0, OpCode::createTTL)), Error::badArguments);
  EXPECT_EQ(code(create_flags("/a", 5, -1, OpCode::createTTL)), Error::badArguments);
  EXPECT_EQ(code(create_flags("/a", 5, wire::max_ttl_ms + 1, OpCode::createTTL)), Error::badArguments);
  EXPECT_EQ(code(create_flags("/a", 0, 100, OpCode::createTTL)), Error::badArguments);
  EXPECT_EQ(code(create_flags("/a", 1, 0, OpCode::createTTL)), Error::badArguments);
  EXPECT_EQ(code(create_flags("/max", 5, wire::max_ttl_ms, OpCode::createTTL)), Error::ok);
  EXPECT_EQ(prep.pending_count(), 2u);
}

TEST_F(Prep, TtlRefusedAsUnimplementedWhenExtendedTypesAreOff) {
  extended = false;
  // UNIMPLEMENTED comes first: before the ttl value, the path and the ACL.
  EXPECT_EQ(code(create_flags("/a", 5, 100, OpCode::createTTL)), Error::unimplemented);
  EXPECT_EQ(code(create_flags("/a", 6, 0, OpCode::createTTL)), Error::unimplemented);
  EXPECT_EQ(code(create_flags("bad", 5, 100, OpCode::createTTL, {})), Error::unimplemented);
  // Containers are not TTL nodes.
  EXPECT_EQ(code(create("/c", CreateMode::container, open_acl(), "", -1, OpCode::createContainer)), Error::ok);
}

TEST_F(Prep, CreateChecksInZooKeepersOrder) {
  put("/ro", read_acl());
  put("/ro/kid");
  put("/open");
  const wire::AclList none;
  // 1. validatePathForCreate: a slash and no NUL (BADARGUMENTS before INVALIDACL).
  EXPECT_EQ(code(create("noslash", CreateMode::persistent, none)), Error::badArguments);
  EXPECT_EQ(code(create(std::string("/a\0b", 4), CreateMode::persistent, none)), Error::badArguments);
  // 2. fixupACL (INVALIDACL before NONODE).
  EXPECT_EQ(code(create("/missing/x", CreateMode::persistent, none)), Error::invalidAcl);
  EXPECT_EQ(code(create("/open/x", CreateMode::persistent, {{perms::all, {"digest", "bad"}}})), Error::invalidAcl);
  // 3. the parent exists (NONODE before NOAUTH and before path validation).
  EXPECT_EQ(code(create("/missing/x")), Error::noNode);
  EXPECT_EQ(code(create("relative/x")), Error::noNode);
  EXPECT_EQ(code(create("/open//x")), Error::noNode);  // parent "/open/" does not exist
  // 4. CREATE permission on the parent (NOAUTH before BADARGUMENTS and NODEEXISTS).
  EXPECT_EQ(code(create("/ro/x")), Error::noAuth);
  EXPECT_EQ(code(create("/ro/kid")), Error::noAuth);
  EXPECT_EQ(code(create("/ro/.")), Error::noAuth);
  // 5. validatePath on the final name.
  EXPECT_EQ(code(create("/open/")), Error::badArguments);
  EXPECT_EQ(code(create("/open/.")), Error::badArguments);
  EXPECT_EQ(code(create("/open/..")), Error::badArguments);
  EXPECT_EQ(code(create("/open/\x01")), Error::badArguments);
  EXPECT_EQ(code(create("/open/\xef\xbf\xbf")), Error::badArguments);
  // 6. NODEEXISTS.
  EXPECT_EQ(code(create("/open")), Error::nodeExists);
  EXPECT_EQ(code(create("/")), Error::nodeExists);
  EXPECT_EQ(code(create("/zookeeper")), Error::nodeExists);
  EXPECT_EQ(code(create("/zookeeper/config")), Error::nodeExists);
  EXPECT_EQ(prep.pending_count(), 0u);
  EXPECT_TRUE(unapplied.empty());
}

TEST_F(Prep, NoChildrenForEphemeralsComesAfterNodeExists) {
  put("/eph", open_acl(), T);
  put("/eph/kid");  // impossible through prep, possible in a snapshot
  EXPECT_EQ(code(create("/eph/kid")), Error::nodeExists);
  EXPECT_EQ(code(create("/eph/other")), Error::noChildrenForEphemerals);
  EXPECT_EQ(code(create("/eph/s-", CreateMode::persistentSequential)), Error::noChildrenForEphemerals);
  EXPECT_EQ(code(create("/eph/e", CreateMode::ephemeral)), Error::noChildrenForEphemerals);
  // Containers and TTL nodes are not ephemeral parents.
  put("/c", open_acl(), wire::container_owner);
  put("/t", open_acl(), wire::ttl_owner(1000));
  EXPECT_EQ(code(create("/c/x")), Error::ok);
  EXPECT_EQ(code(create("/t/x")), Error::ok);
}

TEST_F(Prep, SuperAndDigestIdsPassTheParentAcl) {
  put("/alice", digest_acl(perms::create, alice_digest));
  EXPECT_EQ(code(create("/alice/x")), Error::noAuth);
  ids.push_back({"digest", alice_digest});
  EXPECT_EQ(code(create("/alice/x")), Error::ok);
  ids = {{"super", ""}};
  put("/locked", world_acl(0));
  EXPECT_EQ(code(create("/locked/x")), Error::ok);
}

// ---- sequential names --------------------------------------------------------

TEST_F(Prep, SequentialNamesFollowTheParentsCversion) {
  ASSERT_EQ(code(create("/q")), Error::ok);
  // Pipelined: the second sees the first's pending cversion.
  EXPECT_EQ(created_path(create("/q/n-", CreateMode::persistentSequential)), "/q/n-0000000000");
  EXPECT_EQ(created_path(create("/q/n-", CreateMode::ephemeralSequential)), "/q/n-0000000001");
  EXPECT_EQ(code(create("/q/plain")), Error::ok);  // any create counts
  EXPECT_EQ(created_path(create("/q/n-", CreateMode::persistentSequential)), "/q/n-0000000003");
  apply_all();
  EXPECT_EQ(tree.children(tree.lookup("/q")),
            (std::vector<std::string>{"n-0000000000", "n-0000000001", "plain", "n-0000000003"}));
  // Deletes do not change the stored cversion: numbers are never reused.
  EXPECT_EQ(code(del("/q/n-0000000003")), Error::ok);
  EXPECT_EQ(code(del("/q/n-0000000000")), Error::ok);
  EXPECT_EQ(created_path(create("/q/n-", CreateMode::persistentSequential)), "/q/n-0000000004");
  apply_all();
  EXPECT_EQ(created_path(create("/q/", CreateMode::persistentSequential)), "/q/0000000005");
  EXPECT_EQ(created_path(create("/", CreateMode::persistentSequential)), "/0000000001");
  apply_all();
  EXPECT_EQ(stat_of(tree, "/q").cversion, 2 * 6 - 4);  // as a client sees it
}

TEST_F(Prep, SequentialNameFromASnapshotsCversion) {
  put("/q", open_acl(), 0, 0, 41);
  EXPECT_EQ(created_path(create("/q/x", CreateMode::persistentSequential)), "/q/x0000000041");
  EXPECT_EQ(std::get<proto::Txn>(create("/q/y")).ops(0).create().parent_cversion(), 43);
}

TEST_F(Prep, SequentialCversionWrapsLikeJavaInt) {
  put("/q", open_acl(), 0, 0, INT32_MAX);
  const auto r = create("/q/x", CreateMode::persistentSequential);
  EXPECT_EQ(created_path(r), "/q/x2147483647");
  EXPECT_EQ(std::get<proto::Txn>(r).ops(0).create().parent_cversion(), INT32_MIN);
  EXPECT_EQ(created_path(create("/q/x", CreateMode::persistentSequential)), "/q/x-2147483648");
}

TEST_F(Prep, SequentialNameThatExistsIsNodeExists) {
  put("/q", open_acl(), 0, 0, 3);
  put("/q/x0000000003");
  EXPECT_EQ(code(create("/q/x", CreateMode::persistentSequential)), Error::nodeExists);
}

// ---- pipelined writes ---------------------------------------------------------

TEST_F(Prep, DependentWritesBeforeEitherIsApplied) {
  const auto a = create("/a", CreateMode::persistent, open_acl(), "1");
  const auto b = create("/a/b");
  ASSERT_EQ(code(a), Error::ok);
  ASSERT_EQ(code(b), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(b).ops(0).create().parent_cversion(), 1);
  // setData versions chain through pending state.
  const auto s1 = set("/a", "2", 0);
  ASSERT_EQ(code(s1), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(s1).ops(0).set_data().version(), 1);
  EXPECT_EQ(code(set("/a", "x", 0)), Error::badVersion);
  const auto s2 = set("/a", "3", 1);
  ASSERT_EQ(code(s2), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(s2).ops(0).set_data().version(), 2);
  EXPECT_EQ(code(del("/a")), Error::notEmpty);  // the pending child counts
  EXPECT_EQ(code(check("/a/b", 0)), Error::ok);
  EXPECT_EQ(code(del("/a/b")), Error::ok);
  EXPECT_EQ(code(create("/a/b/c")), Error::noNode);  // its parent is pending deletion
  EXPECT_EQ(code(check("/a/b", -1)), Error::noNode);
  EXPECT_EQ(code(del("/a", 1)), Error::badVersion);
  EXPECT_EQ(code(del("/a", 2)), Error::ok);
  EXPECT_EQ(code(set("/a", "x")), Error::noNode);
  ASSERT_EQ(code(create("/a")), Error::ok);  // again, a new node
  apply_all();
  EXPECT_EQ(stat_of(tree, "/a").version, 0);
  EXPECT_EQ(stat_of(tree, "/a").czxid, 8);
  EXPECT_EQ(tree.lookup("/a/b"), no_node);
}

TEST_F(Prep, PendingEphemeralAndAclAreSeen) {
  ASSERT_EQ(code(create("/e", CreateMode::ephemeral)), Error::ok);
  EXPECT_EQ(code(create("/e/c")), Error::noChildrenForEphemerals);
  ASSERT_EQ(code(create("/a")), Error::ok);
  ASSERT_EQ(code(set_acl("/a", read_acl())), Error::ok);
  EXPECT_EQ(code(create("/a/x")), Error::noAuth);
  EXPECT_EQ(code(set("/a", "x")), Error::noAuth);
  apply_all();
  EXPECT_EQ(tree.acl(tree.lookup("/a")), read_acl());
}

TEST_F(Prep, AppliedDropsOnlyRecordsThatAreNoLongerAhead) {
  ASSERT_EQ(code(create("/a")), Error::ok);  // zxid 1: "/" and "/a"
  ASSERT_EQ(code(create("/b")), Error::ok);  // zxid 2: "/" again and "/b"
  EXPECT_EQ(prep.pending_count(), 3u);
  std::vector<OpResult> results;
  std::vector<WatchTrigger> triggers;
  tree.apply(unapplied.front(), results, triggers);
  unapplied.pop_front();
  prep.applied(1);
  // "/a" went; "/" stays, for zxid 2 is still ahead of the tree; "/b" stays.
  EXPECT_EQ(prep.pending_count(), 2u);
  EXPECT_EQ(code(create("/b")), Error::nodeExists);
  EXPECT_EQ(created_path(create("/s", CreateMode::persistentSequential)), "/s0000000002");
  apply_all();
  EXPECT_EQ(prep.pending_count(), 0u);
  prep.applied(1000);  // nothing to drop is fine
}

// ---- delete ------------------------------------------------------------------------

TEST_F(Prep, DeleteChecksInZooKeepersOrder) {
  put("/nodel", world_acl(perms::all & ~perms::remove));
  put("/nodel/kid");
  put("/p");
  put("/p/full", open_acl(), 0, 3);
  put("/p/full/kid");
  put("/p/leaf", open_acl(), 0, 5);
  // getParentPathAndValidate: a slash, no NUL, not one of the special paths.
  for (const char* p : {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "noslash"}) {
    EXPECT_EQ(code(del(p)), Error::badArguments) << p;
  }
  EXPECT_EQ(code(del(std::string("/p/leaf\0", 8))), Error::badArguments);
  // The parent first: NONODE, then DELETE permission on it (even for a child that is not there).
  EXPECT_EQ(code(del("/none/x")), Error::noNode);
  EXPECT_EQ(code(del("/nodel/kid")), Error::noAuth);
  EXPECT_EQ(code(del("/nodel/ghost")), Error::noAuth);
  // Then the node: NONODE, BADVERSION, NOTEMPTY.
  EXPECT_EQ(code(del("/p/ghost")), Error::noNode);
  EXPECT_EQ(code(del("/p/leaf/")), Error::noNode);  // not validated as a path: just not found
  EXPECT_EQ(code(del("/p/full", 4)), Error::badVersion);
  EXPECT_EQ(code(del("/p/full", 3)), Error::notEmpty);
  EXPECT_EQ(code(del("/p/full")), Error::notEmpty);
  EXPECT_EQ(code(del("/p/leaf", 4)), Error::badVersion);
  EXPECT_EQ(prep.pending_count(), 0u);
  const auto ok = del("/p/leaf", 5);
  ASSERT_EQ(code(ok), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(ok).ops(0).delete_().path(), "/p/leaf");
  EXPECT_EQ(code(del("/p/leaf")), Error::noNode);
  apply_all();
  EXPECT_EQ(tree.lookup("/p/leaf"), no_node);
  EXPECT_EQ(stat_of(tree, "/p").pzxid, 1);
}

TEST_F(Prep, DeleteAnySessionsEphemeral) {
  put("/e", open_acl(), T);
  EXPECT_EQ(code(del("/e")), Error::ok);
  apply_all();
  EXPECT_TRUE(tree.ephemerals_of(T).empty());
}

// ---- setData, setACL, check ----------------------------------------------------------

TEST_F(Prep, SetDataChecksInZooKeepersOrder) {
  put("/ro", read_acl(), 0, 4);
  put("/a", open_acl(), 0, 4);
  EXPECT_EQ(code(set("relative", "x")), Error::badArguments);
  EXPECT_EQ(code(set("/a/", "x")), Error::badArguments);
  EXPECT_EQ(code(set("/", "x", 7)), Error::badVersion);  // the root is a node like any other
  EXPECT_EQ(code(set("/nope", "x")), Error::noNode);
  EXPECT_EQ(code(set("/ro", "x", 9)), Error::noAuth);  // NOAUTH before BADVERSION
  EXPECT_EQ(code(set("/a", "x", 3)), Error::badVersion);
  const auto r = set("/a", "x", 4);
  ASSERT_EQ(code(r), Error::ok);
  const auto& sd = std::get<proto::Txn>(r).ops(0).set_data();
  EXPECT_EQ(sd.path(), "/a");
  EXPECT_EQ(sd.data(), "x");
  EXPECT_EQ(sd.version(), 5);
}

TEST_F(Prep, VersionWrapsAndSkipsMinusOne) {
  put("/max", open_acl(), 0, INT32_MAX);
  put("/m2", open_acl(), 0, -2);
  const auto wrap = set("/max", "x", INT32_MAX);
  ASSERT_EQ(code(wrap), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(wrap).ops(0).set_data().version(), INT32_MIN);
  // -1 would mean "any version" to clients, so the next version after -2 is 0
  // (ZOOKEEPER-4743; ZooKeeper 3.8.6 itself still hands out -1 here).
  const auto skip = set("/m2", "x", -2);
  ASSERT_EQ(code(skip), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(skip).ops(0).set_data().version(), 0);
}

TEST_F(Prep, SetAclChecksInZooKeepersOrder) {
  put("/noadmin", world_acl(perms::all & ~perms::admin), 0, 0, 0, 2);
  put("/a", open_acl(), 0, 0, 0, 2);
  EXPECT_EQ(code(set_acl("bad", {})), Error::badArguments);
  EXPECT_EQ(code(set_acl("/nope", {})), Error::invalidAcl);  // fixupACL before the lookup
  EXPECT_EQ(code(set_acl("/nope", {{perms::all, {"auth", ""}}})), Error::invalidAcl);
  EXPECT_EQ(code(set_acl("/nope", read_acl())), Error::noNode);
  EXPECT_EQ(code(set_acl("/noadmin", read_acl(), 7)), Error::noAuth);
  EXPECT_EQ(code(set_acl("/a", read_acl(), 1)), Error::badVersion);  // the aversion, not the version
  ids.push_back({"digest", alice_digest});
  const auto r = set_acl("/a", {{perms::read, {"auth", ""}}, {perms::read, {"auth", ""}}}, 2);
  ASSERT_EQ(code(r), Error::ok);
  const auto& sa = std::get<proto::Txn>(r).ops(0).set_acl();
  EXPECT_EQ(sa.aversion(), 3);
  ASSERT_EQ(sa.acl_size(), 1);
  EXPECT_EQ(sa.acl(0).id(), alice_digest);
  apply_all();
  EXPECT_EQ(stat_of(tree, "/a").aversion, 3);
  EXPECT_EQ(tree.acl(tree.lookup("/a")), digest_acl(perms::read, alice_digest));
}

TEST_F(Prep, ConfigNodeIsReadOnlyExceptForSuper) {
  EXPECT_EQ(code(set("/zookeeper/config", "x")), Error::noAuth);
  EXPECT_EQ(code(set_acl("/zookeeper/config", open_acl())), Error::noAuth);
  ids = {{"super", ""}};
  EXPECT_EQ(code(set_acl("/zookeeper/config", open_acl(), 0)), Error::badVersion);  // its aversion is -1
  const auto r = set_acl("/zookeeper/config", open_acl(), -1);
  ASSERT_EQ(code(r), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(r).ops(0).set_acl().aversion(), 0);
}

TEST_F(Prep, CheckChecksInZooKeepersOrder) {
  put("/secret", world_acl(perms::write), 0, 3);
  put("/a", open_acl(), 0, 3);
  EXPECT_EQ(code(check("a", 3)), Error::badArguments);
  EXPECT_EQ(code(check("/nope", 3)), Error::noNode);
  EXPECT_EQ(code(check("/secret", 9)), Error::noAuth);  // READ is needed
  EXPECT_EQ(code(check("/a", 2)), Error::badVersion);
  const auto r = check("/a", 3);
  ASSERT_EQ(code(r), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(r).ops(0).check().path(), "/a");
  EXPECT_EQ(code(check("/a", -1)), Error::ok);
  apply_all();
  EXPECT_EQ(stat_of(tree, "/a").version, 3);  // a check changes nothing
}

// ---- multi ------------------------------------------------------------------------------

wire::MultiOp op_create(std::string path, int32_t flags = 0) {
  wire::MultiOp op;
  op.type = OpCode::create;
  op.path = std::move(path);
  op.acl = open_acl();
  op.flags = flags;
  return op;
}
wire::MultiOp op_of(OpCode type, std::string path, int32_t version = -1, std::string data = "") {
  wire::MultiOp op;
  op.type = type;
  op.path = std::move(path);
  op.version = version;
  op.data = std::move(data);
  return op;
}

TEST_F(Prep, MultiIsOneTxnWhoseOpsSeeEachOther) {
  const auto r = multi({op_create("/m"), op_create("/m/s-", 2), op_of(OpCode::setData, "/m", 0, "d"),
                        op_of(OpCode::check, "/m", 1), op_create("/m/x"), op_of(OpCode::remove, "/m/x", 0)});
  ASSERT_EQ(code(r), Error::ok);
  const auto& t = std::get<proto::Txn>(r);
  EXPECT_EQ(t.zxid(), 1);
  ASSERT_EQ(t.ops_size(), 6);
  EXPECT_EQ(t.ops(1).create().path(), "/m/s-0000000000");
  EXPECT_EQ(t.ops(2).set_data().version(), 1);
  EXPECT_EQ(t.ops(4).create().parent_cversion(), 2);
  EXPECT_TRUE(t.ops(5).has_delete_());
  // Later requests see the multi's outcome before it is applied.
  EXPECT_EQ(code(set("/m", "e", 1)), Error::ok);
  EXPECT_EQ(code(create("/m/x")), Error::ok);
  apply_all();
  EXPECT_EQ(tree.children(tree.lookup("/m")), (std::vector<std::string>{"s-0000000000", "x"}));
}

TEST_F(Prep, FailedMultiReportsEveryOpAndLeavesNoTrace) {
  ASSERT_EQ(code(create("/exists")), Error::ok);
  const auto pending_before = prep.pending_count();
  const auto r =
      prep.multi(ctx(), wire::MultiRequest{{op_create("/x"), op_create("/x/y"), op_of(OpCode::setData, "/nope", -1),
                                            op_create("/z"), op_of(OpCode::remove, "/exists")}});
  const auto* failure = std::get_if<MultiFailure>(&r);
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->codes, (std::vector<Error>{Error::ok, Error::ok, Error::noNode, Error::runtimeInconsistency,
                                                Error::runtimeInconsistency}));
  EXPECT_EQ(prep.pending_count(), pending_before);
  // Nothing of it is visible to later requests.
  EXPECT_EQ(code(create("/x/y")), Error::noNode);
  EXPECT_EQ(code(create("/x")), Error::ok);
  EXPECT_EQ(code(del("/exists")), Error::ok);
  EXPECT_EQ(unapplied[1].zxid(), 2);  // the failed multi took no zxid
  apply_all();
}

TEST_F(Prep, MultiFailureCodesForEachKindOfOp) {
  put("/a", open_acl(), 0, 2);
  put("/a/kid");
  const auto codes = [&](std::vector<wire::MultiOp> ops) {
    const auto r = prep.multi(ctx(), wire::MultiRequest{std::move(ops)});
    const auto* f = std::get_if<MultiFailure>(&r);
    return f ? f->codes : std::vector<Error>{};
  };
  EXPECT_EQ(codes({op_of(OpCode::check, "/a", 1), op_create("/b")}),
            (std::vector<Error>{Error::badVersion, Error::runtimeInconsistency}));
  EXPECT_EQ(codes({op_create("/b"), op_of(OpCode::remove, "/a")}), (std::vector<Error>{Error::ok, Error::notEmpty}));
  EXPECT_EQ(codes({op_create("/a")}), (std::vector<Error>{Error::nodeExists}));
  EXPECT_EQ(codes({op_create("/b"), op_create("/b")}), (std::vector<Error>{Error::ok, Error::nodeExists}));
  EXPECT_EQ(codes({op_create("/b", 9)}), (std::vector<Error>{Error::badArguments}));
  EXPECT_EQ(codes({op_of(OpCode::remove, "/a/kid"), op_of(OpCode::remove, "/a/kid")}),
            (std::vector<Error>{Error::ok, Error::noNode}));
  EXPECT_EQ(prep.pending_count(), 0u);
}

TEST_F(Prep, EmptyMultiIsAnEmptyTxn) {
  const auto r = multi({});
  ASSERT_EQ(code(r), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(r).ops_size(), 0);
  apply_all();
}

// ---- sessions and containers --------------------------------------------------------------

TEST_F(Prep, CloseSessionCollectsCommittedAndPendingEphemerals) {
  put("/p");
  put("/p/e1", open_acl(), S);
  put("/p/e2", open_acl(), S);
  put("/t1", open_acl(), T);
  ASSERT_EQ(code(create("/p/e3", CreateMode::ephemeral)), Error::ok);  // pending create
  ASSERT_EQ(code(del("/p/e1")), Error::ok);                            // pending delete
  session = 0;  // expiry is decided by the server, not the session
  const auto t = prep.close_session(ctx(), S);
  EXPECT_EQ(t.zxid(), next_zxid);
  ASSERT_EQ(t.ops_size(), 1);
  const auto& close = t.ops(0).close_session();
  EXPECT_EQ(close.session_id(), S);
  EXPECT_EQ(std::vector<std::string>(close.paths_to_delete().begin(), close.paths_to_delete().end()),
            (std::vector<std::string>{"/p/e2", "/p/e3"}));
  keep(t);
  // The doomed nodes are gone for later requests, and their parent is emptied.
  EXPECT_EQ(code(check("/p/e2", -1)), Error::noNode);
  EXPECT_EQ(code(create("/p/e2")), Error::ok);
  apply_all();
  EXPECT_TRUE(tree.ephemerals_of(S).empty());
  EXPECT_EQ(tree.ephemerals_of(T), (std::vector<std::string>{"/t1"}));
  EXPECT_EQ(tree.children(tree.lookup("/p")), (std::vector<std::string>{"e2"}));
  EXPECT_EQ(stat_of(tree, "/p/e2").ephemeralOwner, 0);
}

TEST_F(Prep, CloseSessionSparesAPathAnotherSessionTookOver) {
  // S's /leader is deleted and T creates its own /leader, all still pending:
  // ZooKeeper's walk over the outstanding changes drops /leader from S's list.
  put("/leader", open_acl(), S);
  put("/x", open_acl(), S);
  ASSERT_EQ(code(del("/leader")), Error::ok);
  ASSERT_EQ(code(del("/x")), Error::ok);
  session = T;
  ASSERT_EQ(code(create("/leader", CreateMode::ephemeral)), Error::ok);
  ASSERT_EQ(code(create("/x")), Error::ok);  // persistent this time
  session = 0;
  const auto t = prep.close_session(ctx(), S);
  EXPECT_EQ(t.ops(0).close_session().paths_to_delete_size(), 0);
  keep(t);
  apply_all();
  EXPECT_EQ(tree.ephemerals_of(T), (std::vector<std::string>{"/leader"}));
  EXPECT_NE(tree.lookup("/x"), no_node);
}

TEST_F(Prep, CreateSessionTxn) {
  session = 0;
  const auto t = prep.create_session(ctx(), 0x42, 30000, std::string(16, 'p'));
  EXPECT_EQ(t.zxid(), 1);
  ASSERT_EQ(t.ops_size(), 1);
  EXPECT_EQ(t.ops(0).create_session().session_id(), 0x42);
  EXPECT_EQ(t.ops(0).create_session().timeout_ms(), 30000);
  EXPECT_EQ(t.ops(0).create_session().password(), std::string(16, 'p'));
  EXPECT_EQ(prep.pending_count(), 0u);
}

TEST_F(Prep, ContainerRemovalIgnoresAclsButNotContent) {
  put("/ro", read_acl());
  put("/ro/c", read_acl(), wire::container_owner);
  put("/c2", open_acl(), wire::container_owner);
  put("/c2/kid");
  put("/t", open_acl(), wire::ttl_owner(10));
  put("/plain");
  put("/eph", open_acl(), S);
  const auto rm = [&](const std::string& p) { return keep(prep.remove_container(ctx(), p)); };
  const auto r = rm("/ro/c");
  ASSERT_EQ(code(r), Error::ok);
  EXPECT_EQ(std::get<proto::Txn>(r).ops(0).delete_().path(), "/ro/c");
  EXPECT_EQ(code(rm("/ro/c")), Error::noNode);  // already pending
  EXPECT_EQ(code(rm("/c2")), Error::notEmpty);
  EXPECT_EQ(code(rm("/t")), Error::ok);
  EXPECT_EQ(code(rm("/plain")), Error::badVersion);
  EXPECT_EQ(code(rm("/eph")), Error::badVersion);
  EXPECT_EQ(code(rm("/zookeeper")), Error::badArguments);
  apply_all();
  EXPECT_TRUE(tree.ttl_nodes().empty());
  EXPECT_EQ(tree.containers().size(), 1u);
}

}  // namespace
}  // namespace corral::ensemble
