#include <gtest/gtest.h>

#include "corral/wire/error.h"
#include "corral/wire/records.h"

namespace corral::wire {
namespace {

template <class T>
T round_trip(const T& in) {
  const std::string bytes = encode_to_string(in);
  T out{};
  JuteReader r(bytes);
  decode(r, out);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
  return out;
}

Stat sample_stat() {
  return Stat{0x100000001, 0x100000002, 1700000000000, 1700000000001, 3, 4, 5, 0x7fffffffffffffff, 100, 2, -9};
}

TEST(JuteCodec, IntegersAreBigEndian) {
  std::string out;
  JuteWriter w(out);
  w.i32(0x01020304);
  w.i64(-2);
  w.boolean(true);
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\xff\xff\xff\xff\xff\xff\xff\xfe\x01", 13));
}

TEST(JuteCodec, StringsAndBuffersAreLengthPrefixed) {
  EXPECT_EQ(encode_to_string(PathRecord{"/ab"}), std::string("\0\0\0\x03/ab", 7));
  EXPECT_EQ(encode_to_string(PathRecord{""}), std::string("\0\0\0\0", 4));
}

TEST(JuteCodec, NullBufferReadsAsEmpty) {
  const std::string bytes("\xff\xff\xff\xff", 4);
  PathRecord p{"x"};
  ASSERT_TRUE(decode_from(bytes, p));
  EXPECT_EQ(p.path, "");
}

TEST(JuteCodec, RecordsRoundTrip) {
  EXPECT_EQ(round_trip(sample_stat()), sample_stat());
  const Acl acl{perms::all, Id{"digest", "user:abc="}};
  EXPECT_EQ(round_trip(CreateRequest{"/a/b", std::string("\0data", 5), {acl}, 3}),
            (CreateRequest{"/a/b", std::string("\0data", 5), {acl}, 3}));
  EXPECT_EQ(round_trip(CreateTTLRequest{"/t", "x", {acl}, 5, 1000}), (CreateTTLRequest{"/t", "x", {acl}, 5, 1000}));
  EXPECT_EQ(round_trip(GetChildren2Response{{"a", "b", "c"}, sample_stat()}),
            (GetChildren2Response{{"a", "b", "c"}, sample_stat()}));
  EXPECT_EQ(round_trip(SetWatches2{7, {"/d"}, {"/e"}, {"/c"}, {"/p"}, {"/r"}}),
            (SetWatches2{7, {"/d"}, {"/e"}, {"/c"}, {"/p"}, {"/r"}}));
  EXPECT_EQ(round_trip(ReplyHeader{-1, -1, -101}), (ReplyHeader{-1, -1, -101}));
  EXPECT_EQ(round_trip(WatcherEvent{4, 3, "/x"}), (WatcherEvent{4, 3, "/x"}));
  EXPECT_EQ(round_trip(ConnectResponse{0, 30000, 42, std::string(16, 'p'), false}),
            (ConnectResponse{0, 30000, 42, std::string(16, 'p'), false}));
}

TEST(JuteCodec, StatIsSixtyEightBytes) { EXPECT_EQ(encode_to_string(sample_stat()).size(), 68u); }

TEST(JuteCodec, ConnectRequestWithAndWithoutReadOnlyFlag) {
  ConnectRequest with{0, 5, 30000, 0, std::string(16, '\0'), true, true};
  EXPECT_EQ(round_trip(with), with);
  ConnectRequest without = with;
  without.has_read_only = false;
  without.readOnly = false;
  const std::string bytes = encode_to_string(without);
  EXPECT_EQ(bytes.size(), encode_to_string(with).size() - 1);
  ConnectRequest decoded;
  ASSERT_TRUE(decode_from(bytes, decoded));
  EXPECT_FALSE(decoded.has_read_only);
  EXPECT_FALSE(decoded.readOnly);
}

TEST(JuteCodec, MultiRequestRoundTrip) {
  MultiRequest m;
  m.ops.push_back({OpCode::create, "/a", "d", {Acl{31, Id{"world", "anyone"}}}, 2, -1, -1});
  m.ops.push_back({OpCode::createTTL, "/t", "", {Acl{31, Id{"world", "anyone"}}}, 5, 99, -1});
  m.ops.push_back({OpCode::remove, "/b", "", {}, 0, -1, 7});
  m.ops.push_back({OpCode::setData, "/c", "v", {}, 0, -1, 2});
  m.ops.push_back({OpCode::check, "/d", "", {}, 0, -1, 0});
  EXPECT_EQ(round_trip(m), m);
}

TEST(JuteCodec, MultiResponseRoundTrip) {
  MultiResponse m;
  m.results.push_back({OpCode::create, 0, "/a0000000001", "", {}, {}});
  m.results.push_back({OpCode::create2, 0, "/b", "", sample_stat(), {}});
  m.results.push_back({OpCode::remove, 0, "", "", {}, {}});
  m.results.push_back({OpCode::setData, 0, "", "", sample_stat(), {}});
  m.results.push_back({OpCode::getData, 0, "", "bytes", sample_stat(), {}});
  m.results.push_back({OpCode::getChildren, 0, "", "", {}, {"x", "y"}});
  m.results.push_back({OpCode::error, -101, "", "", {}, {}});
  EXPECT_EQ(round_trip(m), m);
}

TEST(JuteCodec, MultiRequestWithUnknownOpIsMalformed) {
  std::string bytes;
  JuteWriter w(bytes);
  encode(w, MultiHeader{static_cast<int32_t>(OpCode::sync), false, -1});
  encode(w, PathRecord{"/a"});
  encode(w, MultiHeader{-1, true, -1});
  MultiRequest m;
  EXPECT_FALSE(decode_from(bytes, m));
}

TEST(JuteCodec, TruncatedInputFailsWithoutThrowing) {
  const std::string full = encode_to_string(GetChildren2Response{{"a", "bb"}, sample_stat()});
  for (std::size_t n = 0; n < full.size(); ++n) {
    GetChildren2Response r;
    EXPECT_FALSE(decode_from(std::string_view(full).substr(0, n), r)) << n;
  }
}

TEST(JuteCodec, HugeVectorLengthIsRefusedBeforeAllocating) {
  std::string bytes("\x7f\xff\xff\xff", 4);  // 2^31-1 strings claimed, none present
  StringListResponse r;
  EXPECT_FALSE(decode_from(bytes, r));
  std::string buffer(
      "\x7f\xff\xff\xff"
      "abc",
      7);
  PathRecord p;
  EXPECT_FALSE(decode_from(buffer, p));
  std::string negative("\xff\xff\xff\xfe", 4);
  EXPECT_FALSE(decode_from(negative, p));
}

TEST(ErrorCodes, CategoryNamesZooKeeperCodes) {
  const std::error_code ec = Error::noNode;
  EXPECT_EQ(ec.value(), -101);
  EXPECT_EQ(ec.message(), "NONODE");
  EXPECT_STREQ(ec.category().name(), "zookeeper");
  EXPECT_EQ(std::error_code(-999, zookeeper_category()).message(), "UNKNOWN(-999)");
}

TEST(Protocol, TtlOwnerEncoding) {
  EXPECT_EQ(ttl_owner(1000), static_cast<int64_t>(0xff000000000003e8ull));
  EXPECT_TRUE(is_ttl_owner(ttl_owner(max_ttl_ms)));
  EXPECT_EQ(ttl_of_owner(ttl_owner(12345)), 12345);
  EXPECT_FALSE(is_ttl_owner(container_owner));
  EXPECT_FALSE(is_ttl_owner(0x0100000000000001));
}

}  // namespace
}  // namespace corral::wire
