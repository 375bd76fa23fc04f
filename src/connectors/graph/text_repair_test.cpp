// Graph answers with bytes that are not UTF-8 (issue 13): nlohmann::json alone would refuse
// the whole answer; the side repairs it, syncs the item with U+FFFD and names the fields.
// exsim cannot serve such bytes over Graph (its JSON writer refuses them too), so the fake
// HttpClient answers with a raw body.
#include <gtest/gtest.h>

#include "connectors/graph/graph_side.h"
#include "connectors/graph/text_repair.h"
#include "net/testing/fake_http.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;
using namespace std::chrono;

constexpr const char* kBase = "https://graph.test/v1.0";
const std::string kFffd = "\xEF\xBF\xBD";

/// `text` with each placeholder replaced by raw bytes (json::dump cannot write them).
std::string with_bytes(std::string text,
                       const std::vector<std::pair<std::string, std::string>>& swaps) {
  for (const auto& [placeholder, bytes] : swaps) {
    text.replace(text.find(placeholder), placeholder.size(), bytes);
  }
  return text;
}

TEST(GraphTextRepair, ParseRepairingSaysWhetherItRepaired) {
  bool repaired = true;
  EXPECT_EQ(parse_repairing(R"({"a":"caf\u00e9"})", repaired)["a"], "caf\xC3\xA9");
  EXPECT_FALSE(repaired);
  EXPECT_EQ(parse_repairing("{\"a\":\"caf\xE9\"}", repaired)["a"], "caf" + kFffd);
  EXPECT_TRUE(repaired);
  EXPECT_TRUE(parse_repairing("{\"a\":", repaired).is_discarded());
}

TEST(GraphTextRepair, FetchRepairsTheEventAndNamesItsFieldsNotItsText) {
  net::testing::FakeHttp http;
  json event = {{"id", "E1"},
                {"@odata.etag", "W/\"1\""},
                {"subject", "SUBJECT"},
                {"location", {{"displayName", "LOCATION"}}},
                {"categories", json::array({"Blue"})},
                {"type", "singleInstance"},
                {"seriesMasterId", nullptr},
                {"start", {{"dateTime", "2026-12-01T10:00:00.0000000"}, {"timeZone", "UTC"}}},
                {"end", {{"dateTime", "2026-12-01T11:00:00.0000000"}, {"timeZone", "UTC"}}}};
  json clean = event;
  clean["id"] = "E2";
  clean["subject"] = "Fine";
  clean["location"]["displayName"] = "Room";
  const std::string body =
      with_bytes(json{{"responses", json::array({{{"id", "0"}, {"status", 200}, {"body", event}},
                                                 {{"id", "1"}, {"status", 200}, {"body", clean}}})}}
                     .dump(),
                 {{"SUBJECT", "Caf\xE9"}, {"LOCATION", "Room \xC0\xAF"}});
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    EXPECT_NE(request.url.find("$batch"), std::string::npos) << request.url;
    net::Response response;
    response.status = 200;
    response.body = body;
    return response;
  };
  GraphSideOptions options;
  options.base_url = kBase;
  options.mailbox = "ann@contoso.com";
  options.clock = [] { return system_clock::time_point(sys_days{year{2026} / 11 / 25}); };
  options.batch.max_wait = milliseconds(50);
  GraphSide side(http, net::Credentials{}, options);

  const std::vector<ItemRef> refs{ItemRef("E1"), ItemRef("E2")};
  auto items = side.fetch(refs);
  ASSERT_TRUE(items) << items.error().message;
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].item.subject, "Caf" + kFffd);
  EXPECT_EQ((*items)[0].item.location, "Room " + kFffd + kFffd);
  EXPECT_EQ((*items)[1].item.subject, "Fine");
  auto repairs = side.take_text_repairs();
  ASSERT_EQ(repairs.size(), 1u);
  EXPECT_EQ(repairs[0].ref, ItemRef("E1"));
  EXPECT_EQ(repairs[0].fields, (std::vector<std::string>{"subject", "location"}));
  EXPECT_TRUE(side.take_text_repairs().empty());
}

}  // namespace
}  // namespace agendasync::graph
