#include <gtest/gtest.h>

#include "corral/wire/frame.h"

namespace corral::wire {
namespace {

TEST(FrameDecoder, SplitsConcatenatedFrames) {
  std::string stream;
  append_frame(stream, "hello");
  append_frame(stream, "");
  append_frame(stream, std::string(70000, 'x'));
  FrameDecoder d;
  std::string_view f;
  // Feed one byte at a time for the first frames, then the rest at once.
  std::size_t fed = 0;
  for (; fed < 9; ++fed) {
    EXPECT_EQ(d.next(f), FrameDecoder::Status::need_more);
    d.append(stream.substr(fed, 1));
  }
  ASSERT_EQ(d.next(f), FrameDecoder::Status::frame);
  EXPECT_EQ(f, "hello");
  d.append(std::string_view(stream).substr(fed));
  ASSERT_EQ(d.next(f), FrameDecoder::Status::frame);
  EXPECT_EQ(f, "");
  ASSERT_EQ(d.next(f), FrameDecoder::Status::frame);
  EXPECT_EQ(f.size(), 70000u);
  EXPECT_EQ(d.next(f), FrameDecoder::Status::need_more);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, RejectsOversizedAndNegativeLengths) {
  FrameDecoder d(100);
  d.append(std::string("\0\0\0\x65", 4));  // 101
  std::string_view f;
  EXPECT_EQ(d.next(f), FrameDecoder::Status::bad_length);
  EXPECT_EQ(d.bad_length(), 101);
  FrameDecoder n(100);
  n.append(std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(n.next(f), FrameDecoder::Status::bad_length);
  EXPECT_EQ(n.bad_length(), -1);
}

TEST(FrameDecoder, AcceptsFrameOfExactlyTheMaximum) {
  FrameDecoder d(8);
  std::string s;
  append_frame(s, "12345678");
  d.append(s);
  std::string_view f;
  ASSERT_EQ(d.next(f), FrameDecoder::Status::frame);
  EXPECT_EQ(f, "12345678");
}

TEST(FrameDecoder, PeekSeesFourLetterWords) {
  FrameDecoder d;
  d.append("ruok");
  EXPECT_EQ(d.peek_length(), 0x72756f6b);
}

TEST(FrameDecoder, PrepareAndCommitReadDirectly) {
  FrameDecoder d;
  std::string s;
  append_frame(s, "abc");
  auto space = d.prepare(s.size());
  ASSERT_GE(space.size(), s.size());
  std::copy(s.begin(), s.end(), space.begin());
  d.commit(s.size());
  std::string_view f;
  ASSERT_EQ(d.next(f), FrameDecoder::Status::frame);
  EXPECT_EQ(f, "abc");
}

}  // namespace
}  // namespace corral::wire
