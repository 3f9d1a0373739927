// ACL decisions as ZooKeeper makes them: DigestAuthenticationProvider,
// IPAuthenticationProvider, ZooKeeperServer.checkACL and
// PrepRequestProcessor.fixupACL; plus the interned ACL table.
#include "ensemble/core/acl.h"

#include <gtest/gtest.h>

#include "ensemble/core/acl_table.h"

namespace corral::ensemble {
namespace {

using wire::Acl;
using wire::AclList;
using wire::Id;
namespace perms = wire::perms;

// Independently computed: echo -n 'super:test' | openssl sha1 -binary | base64
// (also the value ZooKeeper's documentation gives for super:test).
constexpr const char* super_test_digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";
constexpr const char* alice_digest = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";  // alice:secret
constexpr const char* bob_digest = "bob:ikIaKsbtGweaHnb/jKn7OHqbunM=";      // bob:pw

TEST(Digest, MatchesZooKeepersGenerateDigest) {
  EXPECT_EQ(digest_of("super:test"), super_test_digest);
  EXPECT_EQ(digest_of("alice:secret"), alice_digest);
  EXPECT_EQ(digest_of("bob:pw"), bob_digest);
}

TEST(Digest, SplitsUserAtFirstColonButHashesEverything) {
  // generateDigest: idPassword.split(":", 2)[0] + ":" + base64(sha1(idPassword)).
  EXPECT_EQ(digest_of("u:p:q"), "u:VIgTKUjc2iscZoJn2UUrdGNNgW4=");
  EXPECT_EQ(digest_of("a:"), "a:faqErSBWcv9/lZW1ERCcDsnNQLg=");
  EXPECT_EQ(digest_of("user"), "user:Et6pb+wgWTVmq3VpLJlJWWgzrck=");
}

TEST(IpMatch, ExactV4) {
  EXPECT_TRUE(ip_matches("10.1.2.3", "10.1.2.3"));
  EXPECT_FALSE(ip_matches("10.1.2.4", "10.1.2.3"));
  EXPECT_TRUE(ip_matches("127.0.0.1", "127.0.0.1/32"));
}

TEST(IpMatch, CidrV4) {
  EXPECT_TRUE(ip_matches("10.200.3.4", "10.0.0.0/8"));
  EXPECT_FALSE(ip_matches("11.0.0.1", "10.0.0.0/8"));
  EXPECT_TRUE(ip_matches("192.168.7.9", "192.168.0.0/16"));
  EXPECT_FALSE(ip_matches("192.169.7.9", "192.168.0.0/16"));
  EXPECT_TRUE(ip_matches("192.168.1.200", "192.168.1.0/24"));
  EXPECT_TRUE(ip_matches("1.2.3.4", "9.9.9.9/0"));
  // Partial bytes: /30 keeps the top 6 bits of the last byte.
  EXPECT_TRUE(ip_matches("10.1.2.5", "10.1.2.4/30"));
  EXPECT_TRUE(ip_matches("10.1.2.7", "10.1.2.4/30"));
  EXPECT_FALSE(ip_matches("10.1.2.8", "10.1.2.4/30"));
  EXPECT_FALSE(ip_matches("10.1.2.3", "10.1.2.4/30"));
  // The expression's host bits are masked off too (upstream masks both sides).
  EXPECT_TRUE(ip_matches("10.9.9.9", "10.1.2.3/8"));
  EXPECT_TRUE(ip_matches("172.16.0.1", "172.31.255.255/12"));
  EXPECT_FALSE(ip_matches("172.32.0.1", "172.31.255.255/12"));
}

TEST(IpMatch, BadExpressionsNeverMatch) {
  EXPECT_FALSE(ip_matches("10.0.0.1", "10.0.0.1/33"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "10.0.0.1/-1"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "10.0.0.1/x"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "10.0.0.1/"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "10.0.0"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "10.0.0.256"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "10.0.0.1.5"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "localhost"));
  EXPECT_FALSE(ip_matches("10.0.0.1", ""));
  EXPECT_FALSE(ip_matches("not-an-ip", "10.0.0.0/8"));
}

TEST(IpMatch, V6) {
  EXPECT_TRUE(ip_matches("0:0:0:0:0:0:0:1", "::1"));
  EXPECT_TRUE(ip_matches("::1", "0:0:0:0:0:0:0:1"));
  EXPECT_FALSE(ip_matches("::2", "::1"));
  EXPECT_TRUE(ip_matches("2001:db8:0:0:0:0:0:1", "2001:db8::/32"));
  EXPECT_TRUE(ip_matches("2001:db8:ffff:1::7", "2001:db8::/32"));
  EXPECT_FALSE(ip_matches("2001:db9::1", "2001:db8::/32"));
  EXPECT_TRUE(ip_matches("fe80::1:2:3:4", "fe80::/64"));
  EXPECT_FALSE(ip_matches("fe80:0:0:1::4", "fe80::/64"));
  EXPECT_TRUE(ip_matches("2001:DB8::1", "2001:db8::1"));  // hex digits in either case
  EXPECT_TRUE(ip_matches("1::", "1:0:0:0:0:0:0:0"));
  EXPECT_TRUE(ip_matches("abcd::1", "::/0"));
  EXPECT_FALSE(ip_matches("::1", "::1/129"));
  EXPECT_FALSE(ip_matches("::1", "1::2::3"));        // two gaps
  EXPECT_FALSE(ip_matches("::1", "1:2:3:4:5:6:7"));  // too few groups
  EXPECT_FALSE(ip_matches("::1", "1:2:3:4:5:6:7::8"));
  EXPECT_FALSE(ip_matches("::1", "12345::1"));  // group too long
  // An IPv4 client never matches an IPv6 expression and vice versa.
  EXPECT_FALSE(ip_matches("10.0.0.1", "::/0"));
  EXPECT_FALSE(ip_matches("::1", "0.0.0.0/0"));
}

TEST(CheckAcl, EmptyAclAllowsEverything) {
  EXPECT_TRUE(acl_permits({}, perms::admin, {}));
  EXPECT_TRUE(acl_permits({}, perms::all, {{"ip", "1.2.3.4"}}));
}

TEST(CheckAcl, WorldAnyoneByPermissionBit) {
  const AclList acl{{perms::read | perms::write, {"world", "anyone"}}};
  EXPECT_TRUE(acl_permits(acl, perms::read, {}));
  EXPECT_TRUE(acl_permits(acl, perms::write, {}));
  EXPECT_FALSE(acl_permits(acl, perms::create, {}));
  EXPECT_FALSE(acl_permits(acl, perms::remove, {}));
  EXPECT_FALSE(acl_permits(acl, perms::admin, {}));
  // A request for several bits passes if any entry grants any of them (getACL asks READ|ADMIN).
  EXPECT_TRUE(acl_permits(acl, perms::read | perms::admin, {}));
  EXPECT_FALSE(acl_permits(AclList{{perms::admin, {"world", "anyone"}}}, perms::read, {}));
}

TEST(CheckAcl, WorldWithOtherIdIsNotAnyone) {
  const AclList acl{{perms::all, {"world", "someone"}}};
  EXPECT_FALSE(acl_permits(acl, perms::read, {{"world", "someone"}}));
}

TEST(CheckAcl, DigestMatchesExactly) {
  const AclList acl{{perms::read, {"digest", alice_digest}}};
  EXPECT_TRUE(acl_permits(acl, perms::read, {{"ip", "1.2.3.4"}, {"digest", alice_digest}}));
  EXPECT_FALSE(acl_permits(acl, perms::read, {{"digest", bob_digest}}));
  EXPECT_FALSE(acl_permits(acl, perms::write, {{"digest", alice_digest}}));
  EXPECT_FALSE(acl_permits(acl, perms::read, {{"ip", alice_digest}}));  // the scheme must match too
  EXPECT_FALSE(acl_permits(acl, perms::read, {}));
}

TEST(CheckAcl, IpMatchesByCidr) {
  const AclList acl{{perms::all, {"ip", "10.0.0.0/8"}}};
  EXPECT_TRUE(acl_permits(acl, perms::read, {{"ip", "10.4.5.6"}}));
  EXPECT_FALSE(acl_permits(acl, perms::read, {{"ip", "11.4.5.6"}}));
}

TEST(CheckAcl, SuperPassesEveryAcl) {
  const AclList acl{{perms::read, {"digest", alice_digest}}};
  EXPECT_TRUE(acl_permits(acl, perms::admin, {{"super", ""}}));
  EXPECT_TRUE(acl_permits(acl, perms::remove, {{"ip", "1.1.1.1"}, {"super", ""}}));
  EXPECT_TRUE(acl_permits({{0, {"world", "anyone"}}}, perms::read, {{"super", ""}}));
}

TEST(CheckAcl, LaterEntriesCount) {
  const AclList acl{{perms::read, {"world", "anyone"}}, {perms::all, {"digest", alice_digest}}};
  EXPECT_TRUE(acl_permits(acl, perms::write, {{"digest", alice_digest}}));
  EXPECT_FALSE(acl_permits(acl, perms::write, {{"digest", bob_digest}}));
}

TEST(FixupAcl, EmptyIsInvalid) { EXPECT_FALSE(fixup_acl({}, {}).has_value()); }

TEST(FixupAcl, WorldAnyoneKeptAndDuplicatesDropped) {
  const AclList open{{perms::all, {"world", "anyone"}}};
  const auto r = fixup_acl({open[0], open[0], {perms::read, {"world", "anyone"}}}, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (AclList{{perms::all, {"world", "anyone"}}, {perms::read, {"world", "anyone"}}}));
}

TEST(FixupAcl, AuthExpandsToEveryDigestIdOfTheCaller) {
  const AuthIds ids{{"ip", "10.0.0.1"}, {"digest", alice_digest}, {"digest", bob_digest}};
  const auto r = fixup_acl({{perms::read | perms::write, {"auth", ""}}}, ids);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (AclList{{perms::read | perms::write, {"digest", alice_digest}},
                         {perms::read | perms::write, {"digest", bob_digest}}}));
}

TEST(FixupAcl, AuthWithoutAnAuthenticatedIdIsInvalid) {
  // ip ids are not "authenticated" (IPAuthenticationProvider.isAuthenticated
  // is false) and "super" has no provider.
  EXPECT_FALSE(fixup_acl({{perms::all, {"auth", ""}}}, {}));
  EXPECT_FALSE(fixup_acl({{perms::all, {"auth", ""}}}, {{"ip", "127.0.0.1"}}));
  EXPECT_FALSE(fixup_acl({{perms::all, {"auth", ""}}}, {{"ip", "127.0.0.1"}, {"super", ""}}));
}

TEST(FixupAcl, DigestIdsAreValidatedAsJavaSplitsThem) {
  const auto ok = [](std::string id) { return fixup_acl({{perms::all, {"digest", id}}}, {}).has_value(); };
  EXPECT_TRUE(ok(alice_digest));
  EXPECT_TRUE(ok("u:h"));
  EXPECT_FALSE(ok("nohash"));
  EXPECT_FALSE(ok(""));
  EXPECT_FALSE(ok(":"));
  EXPECT_FALSE(ok("u:"));
  EXPECT_FALSE(ok("u::"));
  EXPECT_FALSE(ok("a:b:c"));
  EXPECT_FALSE(ok("a::b"));
  // id.split(":") keeps a leading empty part and drops trailing ones.
  EXPECT_TRUE(ok(":h"));
  EXPECT_TRUE(ok("u:h:"));
  EXPECT_TRUE(ok("u:h::"));
}

TEST(FixupAcl, IpIdsAreValidated) {
  const auto ok = [](std::string id) { return fixup_acl({{perms::all, {"ip", id}}}, {}).has_value(); };
  EXPECT_TRUE(ok("10.0.0.1"));
  EXPECT_TRUE(ok("10.0.0.0/8"));
  EXPECT_TRUE(ok("10.0.0.0/0"));
  EXPECT_TRUE(ok("10.0.0.0/32"));
  EXPECT_TRUE(ok("::1"));
  EXPECT_TRUE(ok("2001:db8::/48"));
  EXPECT_FALSE(ok("10.0.0.0/33"));
  EXPECT_FALSE(ok("10.0.0.0/x"));
  EXPECT_FALSE(ok("10.0.0"));
  EXPECT_FALSE(ok("300.0.0.1"));
  EXPECT_FALSE(ok("host.example.com"));
  EXPECT_FALSE(ok(""));
}

TEST(FixupAcl, UnknownSchemesAreInvalid) {
  for (const char* scheme : {"super", "sasl", "x509", "bogus", ""}) {
    EXPECT_FALSE(fixup_acl({{perms::all, {scheme, "x"}}}, {{"digest", alice_digest}})) << scheme;
  }
  EXPECT_FALSE(fixup_acl({{perms::all, {"world", "everyone"}}}, {}));
}

TEST(FixupAcl, OneBadEntrySpoilsTheList) {
  EXPECT_FALSE(fixup_acl({{perms::all, {"world", "anyone"}}, {perms::all, {"digest", "bad"}}}, {}));
}

TEST(FixupAcl, MixedListKeepsOrder) {
  const AuthIds ids{{"digest", alice_digest}};
  const auto r = fixup_acl(
      {{perms::read, {"world", "anyone"}}, {perms::all, {"auth", "ignored"}}, {perms::admin, {"ip", "10.0.0.0/8"}}},
      ids);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (AclList{{perms::read, {"world", "anyone"}},
                         {perms::all, {"digest", alice_digest}},
                         {perms::admin, {"ip", "10.0.0.0/8"}}}));
}

TEST(RedactDigests, HidesHashesOnly) {
  const AclList acl{{perms::all, {"digest", alice_digest}},
                    {perms::read, {"world", "anyone"}},
                    {perms::read, {"ip", "10.0.0.0/8"}},
                    {perms::read, {"digest", "u:h:extra"}}};
  EXPECT_EQ(redact_digests(acl), (AclList{{perms::all, {"digest", "alice:x"}},
                                          {perms::read, {"world", "anyone"}},
                                          {perms::read, {"ip", "10.0.0.0/8"}},
                                          {perms::read, {"digest", "u:x"}}}));
}

TEST(AclTable, InternsAndReleases) {
  AclTable t;
  const AclList a{{perms::all, {"world", "anyone"}}};
  const AclList b{{perms::read, {"world", "anyone"}}};
  const auto ra = t.acquire(a);
  EXPECT_EQ(t.acquire(a), ra);
  const auto rb = t.acquire(b);
  EXPECT_NE(ra, rb);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.get(ra), a);
  EXPECT_EQ(t.get(rb), b);
  t.release(ra);
  EXPECT_EQ(t.size(), 2u);  // still one use left
  t.release(ra);
  EXPECT_EQ(t.size(), 1u);
  const AclList c{{perms::admin, {"digest", alice_digest}}};
  const auto rc = t.acquire(c);
  EXPECT_EQ(rc, ra);  // the freed slot is reused
  EXPECT_EQ(t.get(rc), c);
  EXPECT_EQ(t.get(rb), b);
  // Order matters: a list is its entries in order.
  const AclList ab{a[0], b[0]};
  const AclList ba{b[0], a[0]};
  EXPECT_NE(t.acquire(ab), t.acquire(ba));
}

}  // namespace
}  // namespace corral::ensemble
