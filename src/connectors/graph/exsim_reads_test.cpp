// The Graph connector reads through exsim: the granted roles in the token, delta from scratch
// with paging and then quiet, Outlook's creates/updates/deletes incrementally, an expired
// delta token, a throttled read.
#include <gtest/gtest.h>

#include "connectors/graph/testing/graph_exsim_fixture.h"

namespace agendasync::graph::exsim_testing {
namespace {

TEST_F(GraphExsimTest, TokenCarriesTheGrantedRoles) {
  auto roles = tokens_->roles();
  ASSERT_TRUE(roles) << roles.error().message;
  EXPECT_TRUE(check_roles(*roles, tokens_->app()));
}

TEST_F(GraphExsimTest, FullListingFollowsEveryPageThenDeltaIsQuiet) {
  admin("POST", "/exsim/admin/mailboxes/paging@example.com/seed",
        {{"count", 230}, {"start", format_utc(day(1))}, {"subject_prefix", "Paged"}});
  auto graph = side("paging@example.com");
  const int pages_before = http_->delta_pages;
  const int view_pages_before = http_->view_pages;
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->first.size(), 230u);
  std::set<std::string> subjects;
  for (const auto& item : listed->first) subjects.insert(item.item.subject);
  EXPECT_EQ(subjects.size(), 230u) << "no duplicates across pages";
  EXPECT_GE(http_->delta_pages - pages_before, 3) << "100 events per page: at least 3 pages";
  EXPECT_GE(http_->view_pages - view_pages_before, 3) << "calendarView pages followed";

  Cursor cursor = listed->second;
  auto quiet = drain(graph, cursor);
  EXPECT_TRUE(quiet.changed.empty());
  EXPECT_TRUE(quiet.deleted.empty());
}

TEST_F(GraphExsimTest, IncrementalDeltaReportsOutlookCreatesUpdatesAndDeletes) {
  auto graph = side("other@example.com");
  const long kept = outlook_create("other@example.com", "Kept", day(2));
  const long edited = outlook_create("other@example.com", "Edited", day(3));
  const long removed = outlook_create("other@example.com", "Removed", day(4));
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->first.size(), 3u);
  std::map<std::string, ItemRef> refs;
  for (const auto& item : listed->first) refs[item.item.subject] = item.ref;

  admin("POST", fmt::format("/exsim/admin/mailboxes/other@example.com/items/{}/update", edited),
        {{"subject", "Edited in Outlook"}});
  admin("POST", fmt::format("/exsim/admin/mailboxes/other@example.com/items/{}/delete", removed));
  outlook_create("other@example.com", "New in Outlook", day(5));
  Cursor cursor = listed->second;
  auto changes = drain(graph, cursor);
  EXPECT_TRUE(contains(changes.changed, refs["Edited"]));
  EXPECT_TRUE(contains(changes.deleted, refs["Removed"]));
  EXPECT_FALSE(contains(changes.changed, refs["Kept"]));
  auto fetched = graph.fetch(changes.changed);
  ASSERT_TRUE(fetched) << fetched.error().message;
  std::set<std::string> subjects;
  for (const auto& item : *fetched) subjects.insert(item.item.subject);
  EXPECT_EQ(subjects, (std::set<std::string>{"Edited in Outlook", "New in Outlook"}));
  (void)kept;

  // Nothing new: the next round is empty.
  auto quiet = drain(graph, cursor);
  EXPECT_TRUE(quiet.changed.empty());
  EXPECT_TRUE(quiet.deleted.empty());
}

TEST_F(GraphExsimTest, ExpiredDeltaTokenAsksForAFullResync) {
  auto graph = side("other@example.com");
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  auto cursor = decode_cursor(listed->second);
  ASSERT_TRUE(cursor);
  // A delta link whose token the server no longer knows (as after 7 days unused).
  const auto token = cursor->delta_link.find("deltatoken=");
  ASSERT_NE(token, std::string::npos) << cursor->delta_link;
  cursor->delta_link = cursor->delta_link.substr(0, token) + "deltatoken=expired-token-0000";
  auto changes = graph.changes_since(encode_cursor(*cursor));
  ASSERT_FALSE(changes);
  EXPECT_EQ(changes.error().kind, ErrorKind::kCursorInvalid) << changes.error().message;
  // The resync the engine then runs lists each item once.
  auto relisted = graph.list(window());
  ASSERT_TRUE(relisted) << relisted.error().message;
  std::set<std::string> ids;
  for (const auto& item : relisted->first) ids.insert(item.ref.str());
  EXPECT_EQ(ids.size(), relisted->first.size());
  EXPECT_EQ(relisted->first.size(), listed->first.size());
}

TEST_F(GraphExsimTest, ThrottledReadWaitsForRetryAfterThenSucceeds) {
  auto graph = side("throttle@example.com");
  admin("POST", "/exsim/admin/faults", {{"server_busy_next", 1}, {"back_off_ms", 1000}});
  const auto started = steady_clock::now();
  auto listed = graph.list(window());
  const auto waited = steady_clock::now() - started;
  admin("POST", "/exsim/admin/faults", {{"server_busy_next", 0}});
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_GE(waited, 900ms) << "429 with Retry-After: 1 must be waited out, not hammered";
}

}  // namespace
}  // namespace agendasync::graph::exsim_testing
