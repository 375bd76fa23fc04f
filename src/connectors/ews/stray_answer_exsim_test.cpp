// A CreateItem batch of 250 meets a stray answer (issue 15 §5): the real connector and the
// real libcurl client, through StrayAnswerProxy, against exsim (plain HTTP on loopback, so
// the relay can read the traffic). The proxy writes `400 + Connection: close` on the
// kept-alive connection either before exsim saw the batch or after exsim applied it. exsim's
// store, read through its admin API, is the judge: every key exactly once.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

#include "connectors/ews/ews_side.h"
#include "connectors/ews/testing/recurrence_cases.h"
#include "net/testing/stray_answer_proxy.h"
#include "tools/exsim/launcher/exsim_process.h"

namespace agendasync::ews {
namespace {

using namespace std::chrono_literals;
using net::testing::StrayAnswerProxy;
using When = StrayAnswerProxy::When;

constexpr int kBatch = 250;  // the batch that failed as a whole in the issue

class StrayAnswerExsimTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    exsim_ = new exsimtest::ExsimProcess(
        {"--version", "Exchange2016", "--mailbox", "jdoe@example.com", "--account",
         "svc@example.com:s3cret:impersonation", "--auth", "basic"},
        /*tls=*/false);
  }
  static void TearDownTestSuite() { delete exsim_; }

  StrayAnswerProxy proxy{exsim_->port()};
  std::unique_ptr<net::HttpClient> http = net::make_curl_client({});

  EwsSideOptions options() const {
    EwsSideOptions o;
    o.endpoint = proxy.url("/EWS/Exchange.asmx");
    o.context = RequestContext{ServerVersion::kExchange2016, AccessMode::kImpersonation,
                               "jdoe@example.com"};
    o.credentials.method = net::AuthMethod::kBasic;
    o.credentials.user = "svc@example.com";
    o.credentials.password = Secret("s3cret");
    o.sleep = [](std::chrono::milliseconds) {};
    return o;
  }

  /// 250 creates whose keys start with `prefix`.
  static std::vector<Write> creates(const std::string& prefix) {
    std::vector<Write> writes;
    for (int i = 0; i < kBatch; ++i) {
      Write w;
      w.op = WriteOp::kCreate;
      w.item = testing::timed_base();
      w.item.subject = prefix + " " + std::to_string(i);
      w.item.start += std::chrono::hours{i};
      w.item.end += std::chrono::hours{i};
      w.key = IdempotencyKey(prefix + "-" + std::to_string(i));
      writes.push_back(std::move(w));
    }
    return writes;
  }

  /// How many items in exsim's calendar carry each key that starts with `prefix`, with the
  /// item ids (exsim's admin API, not the connector under test).
  static std::map<std::string, std::vector<std::string>> stored_keys(const std::string& prefix) {
    auto client = net::make_curl_client({});
    net::Request request;
    request.method = "GET";
    request.url = exsim_->base_url() + "/exsim/admin/mailboxes/jdoe@example.com/items";
    request.headers = {{"X-Exsim-Admin-Token", exsim_->admin_token()}};
    const auto response = client->send(request, {});
    EXPECT_TRUE(response) << (response ? "" : response.error().message);
    std::map<std::string, std::vector<std::string>> keys;
    if (!response) return keys;
    for (const auto& item : nlohmann::json::parse(response->body)) {
      if (item.value("folder", "") != "calendar") continue;
      for (const auto& [name, value] : item["extended_properties"].items()) {
        const std::string key = value.get<std::string>();
        if (key.starts_with(prefix + "-")) keys[key].push_back(item.value("item_id", ""));
      }
    }
    return keys;
  }

  /// Request 1 on the connection the stray answer is then written on.
  static void warm_up(EwsCalendarSide& side) {
    const auto none = side.find_by_key(IdempotencyKey("warm-up"));
    ASSERT_TRUE(none) << none.error().message;
  }

  static exsimtest::ExsimProcess* exsim_;
};

exsimtest::ExsimProcess* StrayAnswerExsimTest::exsim_ = nullptr;

/// Every write succeeded, each key is on exactly one item, and that item is the one reported.
void expect_created_once(const std::vector<WriteResult>& results,
                         const std::map<std::string, std::vector<std::string>>& stored,
                         const std::string& prefix) {
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kBatch));
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(kBatch)) << "every key on the server";
  int duplicates = 0;
  for (const auto& [key, ids] : stored) duplicates += static_cast<int>(ids.size()) - 1;
  EXPECT_EQ(duplicates, 0);
  for (int i = 0; i < kBatch; ++i) {
    ASSERT_TRUE(results[i].outcome) << i << ": " << results[i].outcome.error().message;
    const std::string key = prefix + "-" + std::to_string(i);
    ASSERT_EQ(stored.count(key), 1u) << key;
    EXPECT_EQ(results[i].outcome->ref.str(), stored.at(key).front()) << key;
    EXPECT_EQ(results[i].outcome->idempotency_key->str(), key);
  }
}

TEST_F(StrayAnswerExsimTest, BeforeTheServerAppliedTheBatchItIsSentAgainOnANewConnection) {
  proxy.stray_answer_to(2, When::kBeforeForwarding);
  EwsCalendarSide side(*http, options());
  warm_up(side);
  const auto results = side.apply(creates("before"));
  EXPECT_EQ(proxy.strays_written(), 1);
  // 1 warm-up, the stray-answered CreateItem, 5 lookups of 50 keys, the CreateItem again.
  EXPECT_EQ(proxy.requests(), 8);
  expect_created_once(results, stored_keys("before"), "before");
}

TEST_F(StrayAnswerExsimTest, AfterTheServerAppliedTheBatchItsItemsAreTakenAsCreated) {
  proxy.stray_answer_to(2, When::kAfterForwarding);
  EwsCalendarSide side(*http, options());
  warm_up(side);
  const auto results = side.apply(creates("after"));
  EXPECT_EQ(proxy.strays_written(), 1);
  EXPECT_EQ(proxy.requests(), 7) << "found by their keys: nothing sent again";
  expect_created_once(results, stored_keys("after"), "after");
}

TEST_F(StrayAnswerExsimTest, WhenTheBatchSentAgainFailsTooEveryItemSaysTheSameOnce) {
  proxy.stray_answer_to(2, When::kBeforeForwarding);
  // The batch sent again is applied, but its answer is replaced with the same 400 on the
  // new connection: now the server's answer, and a failure for every item.
  proxy.stray_answer_to(8, When::kAfterForwarding);
  EwsCalendarSide side(*http, options());
  warm_up(side);
  const auto results = side.apply(creates("twice"));
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kBatch));
  const std::string first = results[0].outcome ? "" : results[0].outcome.error().message;
  EXPECT_NE(first.find("HTTP 400 without an EWS response"), std::string::npos) << first;
  EXPECT_NE(first.find("sent again on a new connection after a stray answer"), std::string::npos)
      << first;
  for (const auto& result : results) {
    ASSERT_FALSE(result.outcome);
    // Identical messages are what lets the run's report print one line for all 250.
    EXPECT_EQ(result.outcome.error().message, first);
  }
  const auto stored = stored_keys("twice");
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(kBatch)) << "applied by the second send";
  for (const auto& [key, ids] : stored) EXPECT_EQ(ids.size(), 1u) << key;
}

}  // namespace
}  // namespace agendasync::ews
