// JsonText writes what nlohmann::json::dump() writes for the same values, byte for byte.
#include "store/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace agendasync::store {
namespace {

std::string written(std::string_view text) {
  JsonText out;
  out.string(text);
  return out.take();
}

TEST(JsonText, EveryAsciiByteIsEscapedAsDumpEscapesIt) {
  for (int c = 0; c < 0x80; ++c) {
    const std::string text = std::string("a") + static_cast<char>(c) + "b";
    EXPECT_EQ(written(text), nlohmann::json(text).dump()) << "byte " << c;
  }
}

TEST(JsonText, Utf8IsCopiedAsDumpCopiesIt) {
  for (const std::string text :
       {"", "—", "✓ done", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xef\xbf\xbf",
        "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "emoji \xf0\x9f\x98\x80 and \"quotes\"\n"}) {
    EXPECT_EQ(written(text), nlohmann::json(text).dump()) << text;
  }
}

TEST(JsonText, InvalidUtf8IsRefusedAsDumpRefusesIt) {
  // Overlong, a surrogate, above U+10FFFF, a lone continuation byte, a cut sequence.
  for (const std::string text : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x80",
                                 "\xe2\x9c", "\xf5\x80\x80\x80", "x\xff"}) {
    EXPECT_THROW(nlohmann::json(text).dump(), nlohmann::json::type_error) << "the reference";
    EXPECT_THROW(written(text), nlohmann::json::type_error);
  }
}

TEST(JsonText, ContainersNumbersAndLiteralsAreWrittenAsDumpWritesThem) {
  JsonText out;
  out.begin_object();
  out.key("a");
  out.begin_array();
  out.number(0);
  out.number(-1);
  out.number(INT64_MIN);
  out.number(INT64_MAX);
  out.begin_object();
  out.end_object();
  out.begin_array();
  out.end_array();
  out.null();
  out.boolean(true);
  out.boolean(false);
  out.end_array();
  out.key("b");
  out.begin_object();
  out.key("c");
  out.string("d");
  out.end_object();
  out.key("e");
  out.begin_array();
  out.end_array();
  out.end_object();
  nlohmann::json reference = {{"a",
                               {0, -1, INT64_MIN, INT64_MAX, nlohmann::json::object(),
                                nlohmann::json::array(), nullptr, true, false}},
                              {"b", {{"c", "d"}}},
                              {"e", nlohmann::json::array()}};
  EXPECT_EQ(out.take(), reference.dump());
}

}  // namespace
}  // namespace agendasync::store
