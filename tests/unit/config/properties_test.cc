// The java.util.Properties grammar zoo.cfg is written in.
#include <gtest/gtest.h>

#include "ensemble/config/config.h"

namespace corral::ensemble {
namespace {

std::vector<Property> props(std::string_view text) {
  PropertiesResult r = parse_properties(text);
  EXPECT_EQ(r.error, "");
  return r.properties;
}

TEST(Properties, Separators) {
  auto p = props(
      "a=1\n"
      "b: 2\n"
      "c 3\n"
      "d = 4\n"
      "e\t:\t5\n"
      "f    =   6   \n"
      "g:=7\n"
      "h = = 8\n"
      "i\n"
      "j=\n"
      "k=a=b:c d\n");
  ASSERT_EQ(p.size(), 11u);
  EXPECT_EQ(p[0].key, "a");
  EXPECT_EQ(p[0].value, "1");
  EXPECT_EQ(p[1].key, "b");
  EXPECT_EQ(p[1].value, "2");
  EXPECT_EQ(p[2].key, "c");
  EXPECT_EQ(p[2].value, "3");
  EXPECT_EQ(p[3].key, "d");
  EXPECT_EQ(p[3].value, "4");
  EXPECT_EQ(p[4].key, "e");
  EXPECT_EQ(p[4].value, "5");
  EXPECT_EQ(p[5].key, "f");
  EXPECT_EQ(p[5].value, "6   ");  // Properties keeps trailing blanks; zoo.cfg trims them later
  EXPECT_EQ(p[6].key, "g");
  EXPECT_EQ(p[6].value, "=7");  // only one separator is eaten
  EXPECT_EQ(p[7].key, "h");
  EXPECT_EQ(p[7].value, "= 8");
  EXPECT_EQ(p[8].key, "i");
  EXPECT_EQ(p[8].value, "");
  EXPECT_EQ(p[9].key, "j");
  EXPECT_EQ(p[9].value, "");
  EXPECT_EQ(p[10].key, "k");
  EXPECT_EQ(p[10].value, "a=b:c d");
}

TEST(Properties, CommentsBlankLinesAndLineNumbers) {
  auto p = props(
      "# comment\n"
      "! another = comment\n"
      "\n"
      "   \t\n"
      "   # indented comment\n"
      "  key = value # not a comment\n"
      "x=1\r\n"
      "y=2\r"
      "z=3");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].key, "key");
  EXPECT_EQ(p[0].value, "value # not a comment");
  EXPECT_EQ(p[0].line, 6);
  EXPECT_EQ(p[1].line, 7);
  EXPECT_EQ(p[2].key, "y");
  EXPECT_EQ(p[2].line, 8);
  EXPECT_EQ(p[3].key, "z");
  EXPECT_EQ(p[3].value, "3");
  EXPECT_EQ(p[3].line, 9);
}

TEST(Properties, ContinuationLines) {
  auto p = props(
      "list = a,\\\n"
      "       b,\\\n"
      "       c\n"
      "# comment ends with backslash \\\n"
      "two=backslashes\\\\\n"
      "next=1\n"
      "last=end\\");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].key, "list");
  EXPECT_EQ(p[0].value, "a,b,c");
  EXPECT_EQ(p[0].line, 1);
  EXPECT_EQ(p[1].key, "two");
  EXPECT_EQ(p[1].value, "backslashes\\");
  EXPECT_EQ(p[1].line, 5);
  EXPECT_EQ(p[2].key, "next");
  EXPECT_EQ(p[2].line, 6);
  EXPECT_EQ(p[3].value, "end");
}

TEST(Properties, Escapes) {
  auto p = props(
      "a\\ b=c\\td\n"
      "k\\=ey=v\\:x\n"
      "u=\\u0041\\u00e9\\u20ac\n"
      "pair=\\ud83d\\ude00\n"
      "path=C:\\\\data\\zk\n");
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].key, "a b");
  EXPECT_EQ(p[0].value, "c\td");
  EXPECT_EQ(p[1].key, "k=ey");
  EXPECT_EQ(p[1].value, "v:x");
  EXPECT_EQ(p[2].value, "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(p[3].value, "\xf0\x9f\x98\x80");
  EXPECT_EQ(p[4].value, "C:\\datazk");  // as Java reads it: use forward slashes in zoo.cfg
}

TEST(Properties, MalformedUnicodeEscapeIsAnError) {
  PropertiesResult r = parse_properties("a=1\nb=\\u12x4\n");
  EXPECT_EQ(r.error_line, 2);
  EXPECT_NE(r.error.find("\\uXXXX"), std::string::npos) << r.error;
}

TEST(Properties, DuplicatesAreKeptInOrder) {
  auto p = props("a=1\na=2\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].value, "1");
  EXPECT_EQ(p[1].value, "2");
}

TEST(Properties, EmptyInput) {
  EXPECT_TRUE(props("").empty());
  EXPECT_TRUE(props("\n\n# only comments\n").empty());
}

}  // namespace
}  // namespace corral::ensemble
