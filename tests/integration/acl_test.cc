// ACLs and authentication through the C client: getACL/setACL, denial for each
// permission, the digest and ip schemes, addAuth, and the super user.
#include <string>
#include <vector>

#include "tests/integration/fixture.h"

namespace corral::test {
namespace {

// An ACL_vector over owned storage, for zoo_create/zoo_set_acl.
class AclList {
 public:
  AclList& add(int32_t perms, std::string scheme, std::string id) {
    entries_.push_back({perms, std::move(scheme), std::move(id)});
    return *this;
  }
  ACL_vector* get() {
    raw_.clear();
    for (auto& e : entries_) raw_.push_back(ACL{e.perms, Id{e.scheme.data(), e.id.data()}});
    vec_ = ACL_vector{static_cast<int32_t>(raw_.size()), raw_.data()};
    return &vec_;
  }

 private:
  struct Entry {
    int32_t perms;
    std::string scheme;
    std::string id;
  };
  std::vector<Entry> entries_;
  std::vector<ACL> raw_;
  ACL_vector vec_{};
};

struct AclEntry {
  int32_t perms;
  std::string scheme;
  std::string id;
  friend bool operator==(const AclEntry&, const AclEntry&) = default;
};

std::ostream& operator<<(std::ostream& out, const AclEntry& e) {
  return out << e.perms << ":" << e.scheme << ":" << e.id;
}

int get_acl(ZkClient& c, const std::string& path, std::vector<AclEntry>* out, Stat* stat = nullptr) {
  ACL_vector v{};
  Stat st{};
  const int rc = zoo_get_acl(c.get(), path.c_str(), &v, &st);
  if (rc != ZOK) return rc;
  out->clear();
  for (int32_t i = 0; i < v.count; ++i) out->push_back({v.data[i].perms, v.data[i].id.scheme, v.data[i].id.id});
  deallocate_ACL_vector(&v);
  if (stat) *stat = st;
  return rc;
}

using Acls = std::vector<AclEntry>;

class AclTest : public ServerTest {};

TEST_F(AclTest, GetAclAndSetAclWithVersions) {
  auto c = connect();
  ASSERT_EQ(c->create("/n", "d"), ZOK);
  Acls acl;
  Stat st{};
  ASSERT_EQ(get_acl(*c, "/n", &acl, &st), ZOK);
  EXPECT_EQ(acl, (Acls{{ZOO_PERM_ALL, "world", "anyone"}}));
  EXPECT_EQ(st.aversion, 0);

  ASSERT_EQ(zoo_set_acl(c->get(), "/n", 0, &ZOO_READ_ACL_UNSAFE), ZOK);
  ASSERT_EQ(get_acl(*c, "/n", &acl, &st), ZOK);
  EXPECT_EQ(acl, (Acls{{ZOO_PERM_READ, "world", "anyone"}}));
  EXPECT_EQ(st.aversion, 1);
  EXPECT_EQ(st.version, 0);  // the data version is untouched

  // Now read-only for everyone: a stale version and a missing ADMIN both refuse.
  EXPECT_EQ(zoo_set_acl(c->get(), "/n", 0, &ZOO_OPEN_ACL_UNSAFE), ZNOAUTH);
  EXPECT_EQ(c->set("/n", "x"), ZNOAUTH);
  std::string data;
  EXPECT_EQ(c->get("/n", &data), ZOK);

  ASSERT_EQ(c->create("/v"), ZOK);
  EXPECT_EQ(zoo_set_acl(c->get(), "/v", 3, &ZOO_READ_ACL_UNSAFE), ZBADVERSION);
  EXPECT_EQ(zoo_set_acl(c->get(), "/none", -1, &ZOO_READ_ACL_UNSAFE), ZNONODE);
  EXPECT_EQ(get_acl(*c, "/none", &acl), ZNONODE);
}

TEST_F(AclTest, EachPermissionIsEnforced) {
  auto c = connect();
  AclList no_read, no_write, no_create, no_delete, no_admin;
  no_read.add(ZOO_PERM_ALL & ~ZOO_PERM_READ, "world", "anyone");
  no_write.add(ZOO_PERM_ALL & ~ZOO_PERM_WRITE, "world", "anyone");
  no_create.add(ZOO_PERM_ALL & ~ZOO_PERM_CREATE, "world", "anyone");
  no_delete.add(ZOO_PERM_ALL & ~ZOO_PERM_DELETE, "world", "anyone");
  no_admin.add(ZOO_PERM_ALL & ~ZOO_PERM_ADMIN, "world", "anyone");
  ASSERT_EQ(c->create("/no-read", "secret", 0, nullptr, no_read.get()), ZOK);
  ASSERT_EQ(c->create("/no-write", "w", 0, nullptr, no_write.get()), ZOK);
  ASSERT_EQ(c->create("/no-create", "", 0, nullptr, no_create.get()), ZOK);
  ASSERT_EQ(c->create("/no-delete", "", 0, nullptr, no_delete.get()), ZOK);
  ASSERT_EQ(c->create("/no-admin", "", 0, nullptr, no_admin.get()), ZOK);

  std::string data;
  std::vector<std::string> kids;
  EXPECT_EQ(c->get("/no-read", &data), ZNOAUTH);
  EXPECT_EQ(c->children("/no-read", &kids), ZNOAUTH);
  Stat st{};
  EXPECT_EQ(c->children2("/no-read", &kids, &st), ZNOAUTH);

  EXPECT_EQ(c->set("/no-write", "changed"), ZNOAUTH);
  ASSERT_EQ(c->get("/no-write", &data), ZOK);
  EXPECT_EQ(data, "w");

  EXPECT_EQ(c->create("/no-create/child"), ZNOAUTH);
  EXPECT_EQ(c->exists("/no-create/child"), ZNONODE);

  ASSERT_EQ(c->create("/no-delete/child"), ZOK);
  EXPECT_EQ(c->remove("/no-delete/child"), ZNOAUTH);
  EXPECT_EQ(c->exists("/no-delete/child"), ZOK);
  // DELETE is checked on the parent: a leaf without it may still go.
  ASSERT_EQ(c->create("/no-delete-leaf", "", 0, nullptr, no_delete.get()), ZOK);
  EXPECT_EQ(c->remove("/no-delete-leaf"), ZOK);

  EXPECT_EQ(zoo_set_acl(c->get(), "/no-admin", -1, &ZOO_OPEN_ACL_UNSAFE), ZNOAUTH);

  // A multi with one forbidden op fails as a whole.
  char buf[64];
  zoo_op_t ops[2];
  zoo_create_op_init(&ops[0], "/allowed", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
  zoo_set_op_init(&ops[1], "/no-write", "x", 1, -1, nullptr);
  zoo_op_result_t results[2];
  EXPECT_EQ(zoo_multi(c->get(), 2, ops, results), ZNOAUTH);
  EXPECT_EQ(c->exists("/allowed"), ZNONODE);
}

TEST_F(AclTest, GetAclNeedsReadOrAdminAndHidesDigestsWithoutAdmin) {
  auto c = connect();
  const std::string alice = digest_id("alice", "secret");
  AclList write_only, read_and_digest, admin_only;
  write_only.add(ZOO_PERM_WRITE, "world", "anyone");
  read_and_digest.add(ZOO_PERM_READ, "world", "anyone").add(ZOO_PERM_ALL, "digest", alice);
  admin_only.add(ZOO_PERM_ADMIN, "world", "anyone");
  ASSERT_EQ(c->create("/w", "", 0, nullptr, write_only.get()), ZOK);
  ASSERT_EQ(c->create("/r", "", 0, nullptr, read_and_digest.get()), ZOK);
  ASSERT_EQ(c->create("/a", "", 0, nullptr, admin_only.get()), ZOK);

  Acls acl;
  EXPECT_EQ(get_acl(*c, "/w", &acl), ZNOAUTH);
  ASSERT_EQ(get_acl(*c, "/a", &acl), ZOK);
  EXPECT_EQ(acl, (Acls{{ZOO_PERM_ADMIN, "world", "anyone"}}));
  // READ without ADMIN: the digest's hash is blanked out.
  ASSERT_EQ(get_acl(*c, "/r", &acl), ZOK);
  EXPECT_EQ(acl, (Acls{{ZOO_PERM_READ, "world", "anyone"}, {ZOO_PERM_ALL, "digest", "alice:x"}}));
  // With alice's credentials (ADMIN through the digest) the whole ACL shows.
  ASSERT_EQ(c->add_auth("digest", "alice:secret"), ZOK);
  ASSERT_EQ(get_acl(*c, "/r", &acl), ZOK);
  EXPECT_EQ(acl, (Acls{{ZOO_PERM_READ, "world", "anyone"}, {ZOO_PERM_ALL, "digest", alice}}));
}

TEST_F(AclTest, DigestAuthGrantsWhatTheAclSays) {
  auto alice = connect();
  ASSERT_EQ(alice->add_auth("digest", "alice:secret"), ZOK);
  // CREATOR_ALL_ACL: "auth" turns into the creator's digest id.
  ASSERT_EQ(alice->create("/alice", "hers", 0, nullptr, &ZOO_CREATOR_ALL_ACL), ZOK);
  Acls acl;
  ASSERT_EQ(get_acl(*alice, "/alice", &acl), ZOK);
  EXPECT_EQ(acl, (Acls{{ZOO_PERM_ALL, "digest", digest_id("alice", "secret")}}));

  auto nobody = connect();
  std::string data;
  EXPECT_EQ(nobody->get("/alice", &data), ZNOAUTH);
  EXPECT_EQ(nobody->set("/alice", "mine"), ZNOAUTH);

  auto impostor = connect();
  ASSERT_EQ(impostor->add_auth("digest", "alice:wrong"), ZOK);  // any digest is accepted; it just does not match
  EXPECT_EQ(impostor->get("/alice", &data), ZNOAUTH);

  auto again = connect();
  ASSERT_EQ(again->add_auth("digest", "bob:pw"), ZOK);
  ASSERT_EQ(again->add_auth("digest", "alice:secret"), ZOK);  // ids accumulate on a connection
  ASSERT_EQ(again->get("/alice", &data), ZOK);
  EXPECT_EQ(data, "hers");
  EXPECT_EQ(again->set("/alice", "still hers"), ZOK);

  // An explicit digest ACL, written by someone who does not hold it.
  AclList carol;
  carol.add(ZOO_PERM_READ, "digest", digest_id("carol", "pw"));
  ASSERT_EQ(nobody->create("/carol", "c", 0, nullptr, carol.get()), ZOK);
  EXPECT_EQ(nobody->get("/carol", &data), ZNOAUTH);
  ASSERT_EQ(nobody->add_auth("digest", "carol:pw"), ZOK);
  EXPECT_EQ(nobody->get("/carol", &data), ZOK);
}

TEST_F(AclTest, CreatorAclWithoutCredentialsIsInvalid) {
  auto c = connect();
  EXPECT_EQ(c->create("/mine", "", 0, nullptr, &ZOO_CREATOR_ALL_ACL), ZINVALIDACL);
  EXPECT_EQ(c->exists("/mine"), ZNONODE);
  AclList empty;
  EXPECT_EQ(c->create("/empty-acl", "", 0, nullptr, empty.get()), ZINVALIDACL);
  AclList bad_scheme;
  bad_scheme.add(ZOO_PERM_ALL, "nosuchscheme", "x");
  EXPECT_EQ(c->create("/bad-scheme", "", 0, nullptr, bad_scheme.get()), ZINVALIDACL);
  EXPECT_EQ(zoo_set_acl(c->get(), "/", -1, empty.get()), ZINVALIDACL);
}

TEST_F(AclTest, IpSchemeMatchesTheClientAddress) {
  auto c = connect();
  AclList here, elsewhere, subnet;
  here.add(ZOO_PERM_ALL, "ip", "127.0.0.1");
  elsewhere.add(ZOO_PERM_ALL, "ip", "10.1.2.3");
  subnet.add(ZOO_PERM_READ, "ip", "127.0.0.0/8");
  ASSERT_EQ(c->create("/here", "h", 0, nullptr, here.get()), ZOK);
  ASSERT_EQ(c->create("/elsewhere", "e", 0, nullptr, elsewhere.get()), ZOK);
  ASSERT_EQ(c->create("/subnet", "s", 0, nullptr, subnet.get()), ZOK);
  std::string data;
  EXPECT_EQ(c->get("/here", &data), ZOK);
  EXPECT_EQ(c->get("/elsewhere", &data), ZNOAUTH);
  EXPECT_EQ(c->get("/subnet", &data), ZOK);
  EXPECT_EQ(c->set("/subnet", "x"), ZNOAUTH);
}

TEST_F(AclTest, UnknownAuthSchemeFailsTheConnection) {
  auto c = connect();
  EXPECT_EQ(c->add_auth("nosuchscheme", "whatever"), ZAUTHFAILED);
  EXPECT_TRUE(c->wait_state(ZOO_AUTH_FAILED_STATE));
  ASSERT_NO_FATAL_FAILURE(expect_serving());
}

TEST_F(AclTest, ExistsDoesNotCheckTheAclAsIn38) {
  // ZooKeeper 3.8's exists reads the stat whatever the ACL says
  // (FinalRequestProcessor: "TODO we need to figure out the security requirement").
  auto c = connect();
  AclList none;
  none.add(ZOO_PERM_WRITE, "world", "anyone");
  ASSERT_EQ(c->create("/hidden", "1234", 0, nullptr, none.get()), ZOK);
  Stat st{};
  ASSERT_EQ(c->exists("/hidden", &st), ZOK);
  EXPECT_EQ(st.dataLength, 4);
}

class SuperDigestTest : public ServerTest {
 protected:
  void configure(ServerOptions& o) override {
    o.extra["DigestAuthenticationProvider.superDigest"] = digest_id("super", "letmein");
  }
};

TEST_F(SuperDigestTest, SuperUserPassesEveryAcl) {
  auto owner = connect();
  ASSERT_EQ(owner->add_auth("digest", "alice:secret"), ZOK);
  ASSERT_EQ(owner->create("/private", "p", 0, nullptr, &ZOO_CREATOR_ALL_ACL), ZOK);
  ASSERT_EQ(owner->create("/private/kid", "k", 0, nullptr, &ZOO_CREATOR_ALL_ACL), ZOK);

  auto stranger = connect();
  std::string data;
  EXPECT_EQ(stranger->get("/private", &data), ZNOAUTH);
  ASSERT_EQ(stranger->add_auth("digest", "super:wrong"), ZOK);
  EXPECT_EQ(stranger->get("/private", &data), ZNOAUTH);

  auto root = connect();
  ASSERT_EQ(root->add_auth("digest", "super:letmein"), ZOK);
  ASSERT_EQ(root->get("/private", &data), ZOK);
  EXPECT_EQ(data, "p");
  EXPECT_EQ(root->set("/private", "q"), ZOK);
  Acls acl;
  ASSERT_EQ(get_acl(*root, "/private", &acl), ZOK);
  EXPECT_EQ(acl, (Acls{{ZOO_PERM_ALL, "digest", digest_id("alice", "secret")}}));
  EXPECT_EQ(root->remove("/private/kid"), ZOK);
  EXPECT_EQ(zoo_set_acl(root->get(), "/private", -1, &ZOO_OPEN_ACL_UNSAFE), ZOK);
  EXPECT_EQ(stranger->get("/private", &data), ZOK);
  EXPECT_EQ(data, "q");
}

}  // namespace
}  // namespace corral::test
