// EwsCalendarSide::create_batch: one CreateItem batch, and what happens when its answer is a
// stray one (issue 15 §5). EWS does not deduplicate CreateItem, and a stray answer leaves
// open whether the server applied the batch, so it is never simply sent again: the batch's
// idempotency keys (our extended property, R28) are looked up first; items found are taken as
// created with the ids Exchange gave them, and only the missing ones are sent again, on a new
// connection. Reads need none of this: the transport sends them again on its own.
#include <fmt/format.h>

#include "connectors/ews/ews_side.h"

namespace agendasync::ews {

namespace {

/// Keys per FindItem of the lookup: Exchange refuses restrictions that grow too complex
/// (ErrorRestrictionTooComplex); 50 IsEqualTo in one Or stays well inside.
constexpr std::size_t kKeysPerLookup = 50;

/// What one item of a batch ended with, from the batch's answer or its error.
std::vector<Result<ItemId>> per_item(const Result<SoapResponse>& response, std::size_t count,
                                     const std::function<Error(const ResponseMessage&)>& error_of) {
  std::vector<Result<ItemId>> out;
  out.reserve(count);
  if (!response) {
    out.assign(count, std::unexpected(response.error()));
    return out;
  }
  if (response->messages.size() != count) {
    out.assign(count,
               fail(ErrorKind::kPermanent,
                    fmt::format("Exchange answered a CreateItem of {} items with {} results; "
                                "the next sync looks the items up by their keys.",
                                count, response->messages.size())));
    return out;
  }
  for (const ResponseMessage& message : response->messages) {
    if (!message.ok()) {
      out.emplace_back(std::unexpected(error_of(message)));
    } else if (message.items.empty() && message.other_item_ids.empty()) {
      out.emplace_back(
          fail(ErrorKind::kPermanent, "Exchange created the item but returned no id."));
    } else {
      out.emplace_back(message.items.empty() ? message.other_item_ids.front()
                                             : message.items.front().item_id);
    }
  }
  return out;
}

}  // namespace

Result<std::map<std::string, ItemId>> EwsCalendarSide::find_ids_by_keys(
    std::span<const std::string> keys) {
  std::map<std::string, ItemId> found;
  for (std::size_t begin = 0; begin < keys.size(); begin += kKeysPerLookup) {
    const auto chunk = keys.subspan(begin, std::min(kKeysPerLookup, keys.size() - begin));
    auto response = call(build_find_by_keys(options_.context, chunk));
    if (!response) return std::unexpected(response.error());
    for (const ResponseMessage& message : response->messages) {
      if (!message.ok()) return std::unexpected(message_error(message));
      for (const CalendarItem& item : message.items) {
        if (item.agenda_sync_key) found.emplace(*item.agenda_sync_key, item.item_id);
      }
    }
  }
  return found;
}

std::vector<Result<ItemId>> EwsCalendarSide::create_batch(std::span<const CalendarItem> items) {
  const auto error_of = [this](const ResponseMessage& m) { return message_error(m); };
  auto response = call(build_create_item(options_.context, items), false);
  if (response || !net::is_stray_answer(response.error())) {
    return per_item(response, items.size(), error_of);
  }
  const Error& stray = response.error();

  std::vector<std::string> keys;
  keys.reserve(items.size());
  for (const CalendarItem& item : items) keys.push_back(item.agenda_sync_key.value_or(""));
  auto found = find_ids_by_keys(keys);
  if (!found) {
    // Still unknown what landed: kTransient keeps the engine's journal entries, so the next
    // sync looks each item up by its key before creating anything again.
    return std::vector<Result<ItemId>>(
        items.size(),
        fail(ErrorKind::kTransient,
             fmt::format("{}. Looking up which of the {} items Exchange created failed too "
                         "({}). The next sync looks them up again before creating anything.",
                         stray.message, items.size(), found.error().message),
             stray.protocol_code));
  }

  // Every entry is set below: the item found by its key, or the answer to the batch sent again.
  std::vector<Result<ItemId>> out(items.size(), fail(ErrorKind::kPermanent, "not sent"));
  std::vector<std::size_t> missing;
  std::vector<CalendarItem> again;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (auto it = found->find(keys[i]); !keys[i].empty() && it != found->end()) {
      out[i] = it->second;  // applied before the stray answer: created, with Exchange's id
    } else {
      missing.push_back(i);
      again.push_back(items[i]);
    }
  }
  if (missing.empty()) return out;

  // A new connection: the kept-alive one is where the stray answer came from.
  auto resent = call(build_create_item(options_.context, again), false, true);
  auto results = per_item(resent, again.size(), error_of);
  for (std::size_t k = 0; k < missing.size(); ++k) {
    if (!results[k]) {
      results[k].error().message =
          fmt::format("{} (sent again on a new connection after a stray answer: {})",
                      results[k].error().message, stray.message);
    }
    out[missing[k]] = std::move(results[k]);
  }
  return out;
}

}  // namespace agendasync::ews
