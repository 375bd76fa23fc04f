#include "core/utf8.h"

#include <gtest/gtest.h>

namespace agendasync {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, AcceptsWellFormedTextAtEveryLength) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ASCII\n\t"));
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9"));                   // U+00E9
  EXPECT_TRUE(valid_utf8("\xE2\x82\xAC"));                  // U+20AC
  EXPECT_TRUE(valid_utf8("\xED\x9F\xBF"));                  // U+D7FF, just below the surrogates
  EXPECT_TRUE(valid_utf8("\xEE\x80\x80"));                  // U+E000, just above them
  EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80"));              // U+1F600
  EXPECT_TRUE(valid_utf8("\xF4\x8F\xBF\xBF"));              // U+10FFFF, the last code point
  EXPECT_TRUE(valid_utf8(std::string("nul\0inside", 10)));  // U+0000 is valid UTF-8
}

TEST(Utf8, RefusesOverlongForms) {
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));  // '/' in two bytes
  EXPECT_FALSE(valid_utf8("\xC1\xBF"));
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));      // '/' in three bytes
  EXPECT_FALSE(valid_utf8("\xE0\x9F\xBF"));      // U+07FF in three bytes
  EXPECT_FALSE(valid_utf8("\xF0\x80\x80\xAF"));  // '/' in four bytes
  EXPECT_FALSE(valid_utf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
}

TEST(Utf8, RefusesSurrogates) {
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(valid_utf8("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(valid_utf8("\xED\xA0\xBD\xED\xB8\x80"));  // CESU-8 pair for U+1F600
}

TEST(Utf8, RefusesCodePointsAboveTheUnicodeRange) {
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(valid_utf8("\xF8\x88\x80\x80\x80"));  // old five-byte form
  EXPECT_FALSE(valid_utf8("\xFF"));
}

TEST(Utf8, RefusesTruncatedAndStraySequences) {
  EXPECT_FALSE(valid_utf8("caf\xC3"));          // cut after the lead byte
  EXPECT_FALSE(valid_utf8("\xE2\x82"));         // three-byte sequence cut short
  EXPECT_FALSE(valid_utf8("\xF0\x9F\x98"));     // four-byte sequence cut short
  EXPECT_FALSE(valid_utf8("\x80"));             // lone continuation byte
  EXPECT_FALSE(valid_utf8("\xC3 x"));           // lead byte followed by ASCII
  EXPECT_FALSE(valid_utf8("Caf\xE9 Latin-1"));  // the usual culprit: Latin-1 text
}

TEST(Utf8, FirstInvalidNamesTheOffset) {
  EXPECT_EQ(first_invalid_utf8("ok"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("Caf\xE9"), 3u);
  EXPECT_EQ(first_invalid_utf8("\xC3\xA9\xFF"), 2u);
}

TEST(Utf8, RepairLeavesValidTextAlone) {
  EXPECT_EQ(repair_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  std::string text = "fine";
  EXPECT_FALSE(repair_utf8_in_place(text));
  EXPECT_EQ(text, "fine");
}

TEST(Utf8, RepairReplacesEachMaximalSubpartWithOneReplacementCharacter) {
  EXPECT_EQ(repair_utf8("Caf\xE9"), "Caf" + kFffd);
  // A truncated sequence is one maximal subpart: one U+FFFD, and the next character survives.
  EXPECT_EQ(repair_utf8("\xF0\x9F\x98x"), kFffd + "x");
  EXPECT_EQ(repair_utf8("\xE2\x82"), kFffd);
  // Bytes that can never start a sequence are replaced one by one (Unicode's example).
  EXPECT_EQ(repair_utf8("\xC0\xAF"), kFffd + kFffd);
  EXPECT_EQ(repair_utf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(repair_utf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);
  EXPECT_EQ(repair_utf8("a\x80\x80z"), "a" + kFffd + kFffd + "z");
  std::string text = "x\xFFy";
  EXPECT_TRUE(repair_utf8_in_place(text));
  EXPECT_EQ(text, "x" + kFffd + "y");
  EXPECT_TRUE(valid_utf8(repair_utf8("\xF8\x88\x80\x80\x80\xC3")));
}

}  // namespace
}  // namespace agendasync
