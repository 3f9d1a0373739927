// PathUtils.validatePath, parent and base names (PathUtilsTest upstream).
#include "ensemble/core/path.h"

#include <gtest/gtest.h>

#include <string>

namespace corral::ensemble {
namespace {

// UTF-8 for one code point (no validity checks: tests build bad ones on purpose).
std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    s.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
  return s;
}

TEST(PathValidation, AcceptsWhatZooKeeperAccepts) {
  for (const std::string p : {"/", "/a", "/a/b/c", "/this is / a valid/path", "/name/with.period.", "/...", "/a..",
                              "/..a", "/.a", "/a.", "/a/.b/c", "/test ", "/test~", "/zookeeper", "/-_:@!$"}) {
    EXPECT_TRUE(is_valid_path(p)) << p;
    EXPECT_TRUE(path_problem(p).empty()) << p;
  }
}

TEST(PathValidation, RefusesStructuralProblems) {
  for (const std::string p : {"", "a", "not/valid", "a/", "/ends/with/slash/", "//", "/double//slash", "/a//", "/.",
                              "/./a", "/single/./period", "/a/.", "/..", "/../a", "/double/../period", "/a/.."}) {
    EXPECT_FALSE(is_valid_path(p)) << "'" << p << "'";
    EXPECT_FALSE(path_problem(p).empty()) << p;
  }
}

TEST(PathValidation, RefusesNulAnywhere) {
  EXPECT_FALSE(is_valid_path(std::string("/test\0", 6)));
  EXPECT_FALSE(is_valid_path(std::string("/a\0b", 4)));
  EXPECT_FALSE(is_valid_path(std::string("/\0", 2)));
}

TEST(PathValidation, RefusesControlCharacters) {
  for (uint32_t c = 1; c <= 0x1f; ++c) EXPECT_FALSE(is_valid_path("/test" + utf8(c))) << c;
  EXPECT_TRUE(is_valid_path("/test" + utf8(0x20)));
  EXPECT_TRUE(is_valid_path("/test" + utf8(0x7e)));
  for (uint32_t c = 0x7f; c <= 0x9f; ++c) EXPECT_FALSE(is_valid_path("/test" + utf8(c))) << std::hex << c;
  EXPECT_TRUE(is_valid_path("/test" + utf8(0xa0)));
  EXPECT_TRUE(is_valid_path("/test" + utf8(0xe9)));  // é
}

TEST(PathValidation, UnicodeRangesAsJavaSeesThem) {
  // Java's check works on UTF-16 chars: U+D800..U+F8FF and U+FFF0..U+FFFF are
  // refused, and anything beyond the BMP arrives as surrogates (refused too).
  EXPECT_TRUE(is_valid_path("/" + utf8(0x800)));
  EXPECT_TRUE(is_valid_path("/" + utf8(0x65e5) + utf8(0x672c)));  // 日本
  EXPECT_TRUE(is_valid_path("/" + utf8(0xd7ff)));
  EXPECT_FALSE(is_valid_path("/test" + utf8(0xd800)));
  EXPECT_FALSE(is_valid_path("/test" + utf8(0xdfff)));
  EXPECT_FALSE(is_valid_path("/test" + utf8(0xe000)));
  EXPECT_FALSE(is_valid_path("/test" + utf8(0xf8ff)));
  EXPECT_TRUE(is_valid_path("/test" + utf8(0xf900)));
  EXPECT_TRUE(is_valid_path("/test" + utf8(0xffef)));
  EXPECT_FALSE(is_valid_path("/test" + utf8(0xfff0)));
  EXPECT_FALSE(is_valid_path("/test" + utf8(0xfffd)));
  EXPECT_FALSE(is_valid_path("/test" + utf8(0xffff)));
  EXPECT_FALSE(is_valid_path("/test" + utf8(0x10000)));
  EXPECT_FALSE(is_valid_path("/smile" + utf8(0x1f600)));
  EXPECT_FALSE(is_valid_path("/" + utf8(0x10ffff)));
}

TEST(PathValidation, MalformedUtf8IsRefused) {
  // Java decodes these to U+FFFD, which is in the refused range.
  EXPECT_FALSE(is_valid_path("/a\x80"));                  // lone continuation byte
  EXPECT_FALSE(is_valid_path("/a\xc3"));                  // truncated 2-byte sequence
  EXPECT_FALSE(is_valid_path("/a\xc3/b"));                // truncated, followed by '/'
  EXPECT_FALSE(is_valid_path("/a\xe6\x97"));              // truncated 3-byte sequence
  EXPECT_FALSE(is_valid_path("/a\xc0\x80"));              // overlong NUL
  EXPECT_FALSE(is_valid_path("/a\xc1\xbf"));              // overlong '\x7f'
  EXPECT_FALSE(is_valid_path("/a\xe0\x80\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_path("/a\xf0\x80\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(is_valid_path("/a\xf8\x88\x80\x80\x80"));  // 5-byte form
  EXPECT_FALSE(is_valid_path("/a\xff"));
  EXPECT_FALSE(is_valid_path("/a\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(PathNames, ParentAndBase) {
  EXPECT_EQ(parent_path("/a"), "/");
  EXPECT_EQ(parent_path("/a/b"), "/a");
  EXPECT_EQ(parent_path("/a/b/c"), "/a/b");
  EXPECT_EQ(parent_path("/zookeeper/quota"), "/zookeeper");
  EXPECT_EQ(base_name("/a"), "a");
  EXPECT_EQ(base_name("/a/b"), "b");
  EXPECT_EQ(base_name("/a/b/node-0000000001"), "node-0000000001");
  EXPECT_EQ(base_name("/"), "");
  EXPECT_EQ(child_path("/", "a"), "/a");
  EXPECT_EQ(child_path("/a", "b"), "/a/b");
  EXPECT_EQ(child_path("/a/b", "c"), "/a/b/c");
  EXPECT_EQ(parent_path(child_path("/x/y", "z")), "/x/y");
}

}  // namespace
}  // namespace corral::ensemble
