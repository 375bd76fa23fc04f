#include "store/sync_state/link_json.h"

#include <nlohmann/json.hpp>

#include "store/appointment_document.h"
#include "store/json_text.h"

namespace agendasync::store {

using sync::LinkRecord;
using sync::Side;

std::int64_t side_code(Side side) { return side == Side::kHost ? 0 : 1; }
Side side_from(std::int64_t code) { return code == 0 ? Side::kHost : Side::kRemote; }

std::string link_to_json(const LinkRecord& link) {
  return link_to_json(link, to_document(link.base));
}

std::string link_to_json(const LinkRecord& link, std::string_view base_document) {
  // Written directly, members in dump()'s order, so the text is the one the nlohmann tree
  // wrote (older nodes read it); the base document is escaped once instead of through the
  // tree's per-character escaping (link_json_test compares both).
  JsonText out;
  out.begin_object();
  out.key("base");
  out.string(base_document);
  if (link.created_on) {
    out.key("created_on");
    out.number(side_code(*link.created_on));
  }
  out.key("key");
  out.string(link.key.str());
  out.key("sides");
  out.begin_array();
  for (Side side : sync::kBothSides) {
    const auto& state = link.sides[side];
    out.begin_array();
    out.string(state.ref.str());
    out.string(state.version.str());
    out.string(state.hash);
    out.string(state.held ? to_document(*state.held) : std::string());
    out.boolean(state.refind);
    out.end_array();
  }
  out.end_array();
  out.end_object();
  return out.take();
}

Result<LinkRecord> link_from_json(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.contains("sides") || json["sides"].size() != 2) {
    return fail(ErrorKind::kInvalidData,
                "a journal entry in the sync state is damaged; delete the pair's state to "
                "resync it (`agendasync sync --user NAME` rebuilds it without duplicates)");
  }
  LinkRecord link;
  link.key = IdempotencyKey(json.value("key", ""));
  for (Side side : sync::kBothSides) {
    const auto& state = json["sides"][sync::index(side)];
    link.sides[side] = {ItemRef(state[0].get<std::string>()),
                        VersionTag(state[1].get<std::string>()), state[2].get<std::string>(),
                        std::nullopt};
    if (state.size() > 3 && !state[3].get<std::string>().empty()) {
      auto held = from_document(state[3].get<std::string>());
      if (!held) return std::unexpected(held.error());
      link.sides[side].held = std::move(*held);
    }
    if (state.size() > 4) link.sides[side].refind = state[4].get<bool>();
  }
  auto base = from_document(json.value("base", ""));
  if (!base) return std::unexpected(base.error());
  link.base = std::move(*base);
  if (json.contains("created_on")) link.created_on = side_from(json["created_on"].get<int>());
  return link;
}

std::string audit_changes_json(const std::vector<sync::FieldChange>& changes) {
  JsonText out;
  out.begin_array();
  for (const auto& change : changes) {
    out.begin_array();
    out.string(change.field);
    out.string(change.before);
    out.string(change.after);
    out.end_array();
  }
  out.end_array();
  return out.take();
}

}  // namespace agendasync::store
