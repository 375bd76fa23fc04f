// A journal entry's link text: the same bytes the nlohmann tree wrote (nodes of the previous
// version read the journal), and it reads back as the link.
#include "store/sync_state/link_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/appointment_document.h"

namespace agendasync::store {
namespace {

using sync::Side;

/// link_to_json as it was written through the tree (before session 11).
std::string tree_written(const sync::LinkRecord& link) {
  nlohmann::json sides = nlohmann::json::array();
  for (Side side : sync::kBothSides) {
    const auto& state = link.sides[side];
    sides.push_back({state.ref.str(), state.version.str(), state.hash,
                     state.held ? to_document(*state.held) : std::string(), state.refind});
  }
  nlohmann::json json{{"key", link.key.str()}, {"sides", sides}, {"base", to_document(link.base)}};
  if (link.created_on) json["created_on"] = side_code(*link.created_on);
  return json.dump();
}

sync::LinkRecord sample_link() {
  sync::LinkRecord link;
  link.key = IdempotencyKey("as1-key \"quoted\"");
  link.sides[Side::kHost] = {ItemRef("42"), VersionTag("7"), "hash-h", std::nullopt};
  link.sides[Side::kRemote] = {ItemRef("AAMk\\x=="), VersionTag("DwAAABYA"), "hash-r",
                               std::nullopt};
  link.base.subject = "Review \"Q1\"\n— ✓";
  link.base.body = Body{BodyType::kHtml, "<p>a\tb</p>\x01"};
  link.base.start = Instant(std::chrono::seconds(1'700'000'000));
  link.base.end = link.base.start + std::chrono::hours(1);
  link.created_on = Side::kRemote;
  return link;
}

TEST(LinkJson, TheTextIsTheOneTheTreeWrote) {
  auto link = sample_link();
  EXPECT_EQ(link_to_json(link), tree_written(link));
  link.created_on.reset();
  link.sides[Side::kRemote].held = link.base;
  link.sides[Side::kRemote].held->subject = "held";
  link.sides[Side::kHost].refind = true;
  EXPECT_EQ(link_to_json(link), tree_written(link));
}

TEST(LinkJson, ALinkReadsBack) {
  auto link = sample_link();
  link.sides[Side::kHost].held = link.base;
  link.sides[Side::kRemote].refind = true;
  auto back = link_from_json(link_to_json(link));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, link);
  EXPECT_EQ(back->sides[Side::kHost].held, link.sides[Side::kHost].held);
  EXPECT_TRUE(back->sides[Side::kRemote].refind);
}

TEST(LinkJson, AuditChangesAreTheTextTheTreeWrote) {
  const std::vector<sync::FieldChange> changes{{"subject", "", "Review \"Q1\"\n— ✓"},
                                               {"body", "<p>a\tb</p>\x01", ""}};
  nlohmann::json tree = nlohmann::json::array();
  for (const auto& change : changes) tree.push_back({change.field, change.before, change.after});
  EXPECT_EQ(audit_changes_json(changes), tree.dump());
  EXPECT_EQ(audit_changes_json({}), "[]");
}

}  // namespace
}  // namespace agendasync::store
