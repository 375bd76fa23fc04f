// The shared decoder and the UTF-8 check, with the values that broke cpp-httplib's req.params:
// OData expressions holding `=` and `$`, literal or percent-encoded.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "web/query.h"
#include "web/utf8.h"

namespace agendasync::web {
namespace {

using Params = QueryParams;

TEST(ParseQuery, ValueKeepsEveryEqualsSignAfterTheFirst) {
  // Graph's documented form for a single-value extended property, sent unencoded.
  auto params = parse_query(
      "$expand=singleValueExtendedProperties($filter=id eq 'String "
      "{66f5a359-4659-4830-9070-00047ec6ac6e} Name X')&$select=subject");
  EXPECT_EQ(params, (Params{{"$expand",
                             "singleValueExtendedProperties($filter=id eq 'String "
                             "{66f5a359-4659-4830-9070-00047ec6ac6e} Name X')"},
                            {"$select", "subject"}}));
}

TEST(ParseQuery, EncodedAndLiteralFormsDecodeAlike) {
  auto literal = parse_query("$filter=a eq 'x=y'");
  auto encoded = parse_query("%24filter=a%20eq%20%27x%3Dy%27");
  auto plus = parse_query("%24filter=a+eq+'x%3dy'");
  EXPECT_EQ(literal, (Params{{"$filter", "a eq 'x=y'"}}));
  EXPECT_EQ(encoded, literal);
  EXPECT_EQ(plus, literal);
}

TEST(ParseQuery, AmpersandAndPlusInsideValuesNeedEscapes) {
  EXPECT_EQ(parse_query("q=a%26b%2Bc+d"), (Params{{"q", "a&b+c d"}}));
  EXPECT_EQ(parse_query("q=a&b"), (Params{{"q", "a"}, {"b", ""}}));
}

TEST(ParseQuery, EmptyPiecesRepeatsAndBareNames) {
  EXPECT_EQ(parse_query(""), Params{});
  EXPECT_EQ(parse_query("&&a=1&&a=2&flag&=v&"),
            (Params{{"a", "1"}, {"a", "2"}, {"flag", ""}, {"", "v"}}));
  EXPECT_EQ(parse_query("a="), (Params{{"a", ""}}));
}

TEST(PercentDecode, BrokenEscapesStayAsWritten) {
  EXPECT_EQ(percent_decode("100%", false), "100%");
  EXPECT_EQ(percent_decode("%4", false), "%4");
  EXPECT_EQ(percent_decode("%zz%41", false), "%zzA");
  EXPECT_EQ(percent_decode("a+b", false), "a+b") << "in a path + is a plus";
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%FF%fe", false), "\xFF\xFE");
  EXPECT_EQ(percent_decode("%00", false), std::string(1, '\0'));
}

TEST(PercentEncode, RoundTripsEveryByte) {
  std::string all;
  for (int byte = 0; byte < 256; ++byte) all.push_back(static_cast<char>(byte));
  auto encoded = percent_encode(all);
  EXPECT_EQ(encoded.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%"),
            std::string::npos);
  EXPECT_EQ(percent_decode(encoded, true), all);
  EXPECT_EQ(parse_query("v=" + percent_encode("x=y&z $+")), (Params{{"v", "x=y&z $+"}}));
}

TEST(SplitTarget, CutsAtTheFirstQuestionMark) {
  auto target = split_target("/v1.0/me/events?$filter=a eq '?'&b=1");
  EXPECT_EQ(target.path, "/v1.0/me/events");
  EXPECT_EQ(target.query, "$filter=a eq '?'&b=1");
  auto bare = split_target("/healthz");
  EXPECT_EQ(bare.path, "/healthz");
  EXPECT_TRUE(bare.query.empty());
  EXPECT_EQ(split_target("/x?").query, "");
}

TEST(Utf8, AcceptsWellFormedText) {
  for (const char* text : {"", "plain ascii", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x93\x85",
                           "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF"}) {
    EXPECT_TRUE(is_valid_utf8(text)) << text;
  }
  EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3))) << "NUL is a character";
}

TEST(Utf8, RefusesMalformedText) {
  for (const char* text : {
           "\xFF\xFE",          // the bytes of the activity-type bug
           "\x80",              // a continuation byte alone
           "caf\xC3",           // truncated at the end
           "\xC3\x28",          // a lead byte followed by ASCII
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong, 3 bytes
           "\xF0\x80\x80\xAF",  // overlong, 4 bytes
           "\xED\xA0\x80",      // U+D800, a surrogate
           "\xF4\x90\x80\x80",  // above U+10FFFF
           "\xF5\x80\x80\x80",  // lead byte out of range
           "\xE2\x82",          // truncated
           "ok\xE2\x28\xA1",    // bad second byte
       }) {
    EXPECT_FALSE(is_valid_utf8(text)) << ::testing::PrintToString(std::string(text));
  }
}

// The router checks bodies itself, but the JSON parser is the second line: verify it refuses
// invalid UTF-8 inside strings too (it does, "ill-formed UTF-8 byte").
TEST(Utf8, NlohmannRefusesInvalidUtf8InJsonStrings) {
  EXPECT_TRUE(nlohmann::json::parse("{\"name\":\"\xFF\xFE\"}", nullptr, false).is_discarded());
  EXPECT_TRUE(nlohmann::json::parse("{\"name\":\"\xED\xA0\x80\"}", nullptr, false).is_discarded());
  EXPECT_FALSE(nlohmann::json::parse("{\"name\":\"caf\xC3\xA9\"}", nullptr, false).is_discarded());
}

}  // namespace
}  // namespace agendasync::web
