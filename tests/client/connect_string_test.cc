// Connect strings ("host:port,...[/chroot]") and chroot path translation.
// Pure: no sockets, no fibers.
#include "client/connect_string.h"

#include <gtest/gtest.h>

#include <string>

namespace corral {
namespace {

ConnectString parse_ok(std::string_view text) {
  std::string error;
  auto cs = parse_connect_string(text, error);
  EXPECT_TRUE(cs.has_value()) << "'" << text << "': " << error;
  EXPECT_TRUE(!cs || error.empty()) << error;
  return cs.value_or(ConnectString{});
}

std::string parse_error(std::string_view text) {
  std::string error;
  auto cs = parse_connect_string(text, error);
  EXPECT_FALSE(cs.has_value()) << "'" << text << "' should not parse";
  EXPECT_FALSE(error.empty()) << "'" << text << "': no reason given";
  return error;
}

TEST(ConnectString, OneHostWithPort) {
  const auto cs = parse_ok("127.0.0.1:2182");
  ASSERT_EQ(cs.hosts.size(), 1u);
  EXPECT_EQ(cs.hosts[0], (HostPort{"127.0.0.1", 2182}));
  EXPECT_EQ(cs.chroot, "");
}

TEST(ConnectString, SeveralHostsKeepTheirOrderAndAMissingPortIs2181) {
  const auto cs = parse_ok("zk1:2001,zk2,zk3.example.com:2003");
  ASSERT_EQ(cs.hosts.size(), 3u);
  EXPECT_EQ(cs.hosts[0], (HostPort{"zk1", 2001}));
  EXPECT_EQ(cs.hosts[1], (HostPort{"zk2", 2181}));
  EXPECT_EQ(cs.hosts[2], (HostPort{"zk3.example.com", 2003}));
}

TEST(ConnectString, SpacesAroundHostsAndEmptyItemsAreIgnored) {
  const auto cs = parse_ok(" a:1 , b:2,,c:3,");
  ASSERT_EQ(cs.hosts.size(), 3u);
  EXPECT_EQ(cs.hosts[0], (HostPort{"a", 1}));
  EXPECT_EQ(cs.hosts[1], (HostPort{"b", 2}));
  EXPECT_EQ(cs.hosts[2], (HostPort{"c", 3}));
}

TEST(ConnectString, Ipv6AddressesAreWrittenInBrackets) {
  const auto cs = parse_ok("[::1]:2190,[fe80::1%eth0],[2001:db8::7]:65535");
  ASSERT_EQ(cs.hosts.size(), 3u);
  EXPECT_EQ(cs.hosts[0], (HostPort{"::1", 2190}));
  EXPECT_EQ(cs.hosts[1], (HostPort{"fe80::1%eth0", 2181}));
  EXPECT_EQ(cs.hosts[2], (HostPort{"2001:db8::7", 65535}));
}

TEST(ConnectString, ChrootFollowsTheLastHost) {
  auto cs = parse_ok("a:1,b:2/app/tenant");
  ASSERT_EQ(cs.hosts.size(), 2u);
  EXPECT_EQ(cs.hosts[1], (HostPort{"b", 2}));
  EXPECT_EQ(cs.chroot, "/app/tenant");

  cs = parse_ok("[::1]:7/x");
  ASSERT_EQ(cs.hosts.size(), 1u);
  EXPECT_EQ(cs.hosts[0], (HostPort{"::1", 7}));
  EXPECT_EQ(cs.chroot, "/x");

  cs = parse_ok("host/svc");  // default port, then the chroot
  EXPECT_EQ(cs.hosts[0], (HostPort{"host", 2181}));
  EXPECT_EQ(cs.chroot, "/svc");
}

TEST(ConnectString, ARootChrootIsNoChroot) {
  EXPECT_EQ(parse_ok("a:1/").chroot, "");
  EXPECT_EQ(parse_ok("a:1").chroot, "");
}

TEST(ConnectString, NoHostsIsAnError) {
  parse_error("");
  parse_error(",,");
  parse_error("/chroot-only");
  parse_error("  ");
}

TEST(ConnectString, BadPortsAreErrors) {
  parse_error("a:");
  parse_error("a:x");
  parse_error("a:12x");
  parse_error("a:0");
  parse_error("a:65536");
  parse_error("a:-1");
  parse_error("a:1,b:99999");
  parse_error("[::1]:");
}

TEST(ConnectString, MalformedHostsAreErrors) {
  parse_error(":2181");
  parse_error("[::1");
  parse_error("[::1]2181");
  parse_error("[]:2181");
  // An IPv6 address needs its brackets: without them the port is ambiguous.
  parse_error("::1");
  parse_error("fe80::1:2181");
}

TEST(ConnectString, InvalidChrootsAreErrors) {
  parse_error("a:1/app//x");
  parse_error("a:1/app/./x");
  parse_error("a:1/app/../x");
}

TEST(ChrootPaths, WithoutAChrootPathsPassUnchanged) {
  EXPECT_EQ(to_server_path("", "/"), "/");
  EXPECT_EQ(to_server_path("", "/a/b"), "/a/b");
  EXPECT_EQ(to_client_path("", "/"), "/");
  EXPECT_EQ(to_client_path("", "/a/b"), "/a/b");
}

TEST(ChrootPaths, ClientPathsArePrefixedForTheServer) {
  EXPECT_EQ(to_server_path("/app", "/"), "/app");
  EXPECT_EQ(to_server_path("/app", "/a"), "/app/a");
  EXPECT_EQ(to_server_path("/app/t1", "/a/b"), "/app/t1/a/b");
}

TEST(ChrootPaths, ServerPathsLoseThePrefixForTheClient) {
  EXPECT_EQ(to_client_path("/app", "/app"), "/");
  EXPECT_EQ(to_client_path("/app", "/app/a"), "/a");
  EXPECT_EQ(to_client_path("/app/t1", "/app/t1/a/b"), "/a/b");
  // A name that merely starts with the chroot is not under it.
  EXPECT_EQ(to_client_path("/app", "/apple"), "/apple");
}

TEST(ChrootPaths, RoundTrip) {
  for (const char* chroot : {"", "/c", "/c/d"}) {
    for (const char* path : {"/", "/x", "/x/y/z", "/c"}) {
      EXPECT_EQ(to_client_path(chroot, to_server_path(chroot, path)), path) << chroot << " " << path;
    }
  }
}

}  // namespace
}  // namespace corral
