// GraphSide::apply: writes through $batch, then series exceptions one by one.
#include <fmt/format.h>

#include <algorithm>

#include "connectors/graph/errors.h"
#include "connectors/graph/graph_side.h"
#include "connectors/graph/graph_time.h"
#include "connectors/graph/url.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;

constexpr const char* kPreferUtc = "outlook.timezone=\"UTC\"";

const OccurrenceOverride* override_at(const Appointment& series, Instant recurrence_id) {
  if (!series.recurrence) return nullptr;
  const auto& overrides = series.recurrence->overrides;
  const auto it = std::ranges::find(overrides, recurrence_id, &OccurrenceOverride::recurrence_id);
  return it == overrides.end() ? nullptr : &*it;
}

/// The occurrence at `recurrence_id` as `series` wants it: its override's values, else the
/// series' own at that time. Attendees stay in: written as the body note (R39), the same
/// note the instance already carries, so only a real body change shows in the patch.
Appointment wanted_occurrence(const Appointment& series, Instant recurrence_id) {
  Appointment occurrence = series;
  occurrence.recurrence.reset();
  occurrence.start = recurrence_id;
  occurrence.end = recurrence_id + (series.end - series.start);
  if (const OccurrenceOverride* change = override_at(series, recurrence_id)) {
    return with_override(std::move(occurrence), *change);
  }
  return occurrence;
}

/// The PATCH for one instance: the occurrence fields in which `wanted` differs from what
/// Graph holds for it (`instance`). Empty when nothing differs.
Result<json> occurrence_patch(const GraphEvent& instance, const Appointment& wanted) {
  // Series-level fields (zone, categories, ...) compare equal: only the occurrence's differ.
  const Appointment held = with_override(wanted, override_from(instance.item, {}));
  auto full = event_patch(held, wanted, WriteOptions{});
  if (!full) return std::unexpected(full.error());
  json patch = json::object();
  for (const char* name : {"subject", "body", "location", "start", "end", "showAs", "sensitivity",
                           "isReminderOn", "reminderMinutesBeforeStart"}) {
    if (full->contains(name)) patch[name] = (*full)[name];
  }
  return patch;
}

/// The instance whose original start is `original` (all-day: the same date, as Graph may
/// give all-day originals as local midnight).
const GraphEvent* instance_at(const std::vector<GraphEvent>& instances, Instant original,
                              bool all_day) {
  for (const auto& instance : instances) {
    if (!instance.original_start) continue;
    if (*instance.original_start == original ||
        (all_day && std::chrono::floor<std::chrono::days>(*instance.original_start) ==
                        std::chrono::floor<std::chrono::days>(original))) {
      return &instance;
    }
  }
  return nullptr;
}

}  // namespace

Result<GraphEvent> GraphSide::find_instance(const std::string& master_id, Instant original_start,
                                            bool all_day) {
  auto found = instances(master_id, original_start - std::chrono::days(2),
                         original_start + std::chrono::days(2));
  if (!found) return std::unexpected(found.error());
  if (const GraphEvent* instance = instance_at(*found, original_start, all_day)) return *instance;
  return fail(ErrorKind::kNotFound,
              fmt::format("the series has no occurrence starting {} in {} (deleted meanwhile?)",
                          format_utc(original_start), options_.mailbox));
}

Result<bool> GraphSide::apply_exceptions(const std::string& master_id, const Appointment& item,
                                         const Appointment* previous) {
  if (!item.recurrence) return false;
  const auto& recurrence = *item.recurrence;
  const Recurrence* before =
      previous != nullptr && previous->recurrence ? &*previous->recurrence : nullptr;
  // Only what changed against `previous`: the other occurrences are left as they are.
  std::vector<Instant> deletes;
  for (const auto exdate : recurrence.exdates) {
    if (before == nullptr || std::ranges::find(before->exdates, exdate) == before->exdates.end()) {
      deletes.push_back(exdate);
    }
  }
  std::vector<Instant> patches;
  for (const auto& change : recurrence.overrides) {
    const OccurrenceOverride* old =
        previous ? override_at(*previous, change.recurrence_id) : nullptr;
    if (old == nullptr || *old != change) patches.push_back(change.recurrence_id);
  }
  if (before != nullptr) {
    for (const auto& old : before->overrides) {
      // A dropped override: the occurrence goes back to what the series makes of it.
      if (!override_at(item, old.recurrence_id) &&
          std::ranges::find(recurrence.exdates, old.recurrence_id) == recurrence.exdates.end()) {
        patches.push_back(old.recurrence_id);
      }
    }
  }
  if (deletes.empty() && patches.empty()) return false;
  Instant from = item.start;
  Instant to = item.start;
  for (const auto at : deletes) from = std::min(from, at), to = std::max(to, at);
  for (const auto at : patches) from = std::min(from, at), to = std::max(to, at);
  auto found = instances(master_id, from - std::chrono::days(2), to + std::chrono::days(2));
  if (!found) return std::unexpected(found.error());
  std::vector<BatchRequest> requests;
  for (const auto exdate : deletes) {
    if (const auto* instance = instance_at(*found, exdate, item.all_day)) {
      requests.push_back(BatchRequest{
          "DELETE", fmt::format("{}/events/{}", user_path(), url_encode(instance->id)), {}, {}});
    }
  }
  for (const auto original : patches) {
    const auto* instance = instance_at(*found, original, item.all_day);
    if (!instance) continue;
    auto patch = occurrence_patch(*instance, wanted_occurrence(item, original));
    if (!patch) return std::unexpected(patch.error());
    if (patch->empty()) continue;
    requests.push_back(
        BatchRequest{"PATCH",
                     fmt::format("{}/events/{}", user_path(), url_encode(instance->id)),
                     {{"Prefer", kPreferUtc}},
                     *patch});
  }
  auto answers =
      send_batch(http_, credentials_, options_.base_url, requests, gate_, options_.batch);
  for (auto& answer : answers) {
    if (!answer) return std::unexpected(answer.error());
    if ((answer->status < 200 || answer->status > 299) && answer->status != 404) {
      return std::unexpected(graph_error(answer->status, answer->body.dump(),
                                         "writing an occurrence", answer->retry_after()));
    }
  }
  return !requests.empty();
}

Result<BatchRequest> GraphSide::occurrence_request(const Write& write) {
  const bool all_day = write.item.all_day || (write.previous && write.previous->all_day);
  if (write.op == WriteOp::kUpdate && !override_at(write.item, *write.occurrence)) {
    return fail(ErrorKind::kInvalidData,
                fmt::format("an occurrence update for {} carries no modified occurrence at {} in "
                            "its series; send the whole series with that occurrence's override",
                            write.ref.str(), format_utc(*write.occurrence)));
  }
  auto instance = find_instance(write.ref.str(), *write.occurrence, all_day);
  if (!instance) return std::unexpected(instance.error());
  const std::string url = fmt::format("{}/events/{}", user_path(), url_encode(instance->id));
  // If-Match with the instance's own etag: Graph gives each instance its own change key,
  // so the series' version would never match it.
  std::vector<std::pair<std::string, std::string>> headers;
  if (!instance->etag.empty()) headers.emplace_back("If-Match", instance->etag);
  if (write.op == WriteOp::kDelete) return BatchRequest{"DELETE", url, headers, std::nullopt};
  auto patch = occurrence_patch(*instance, wanted_occurrence(write.item, *write.occurrence));
  if (!patch) return std::unexpected(patch.error());
  if (patch->empty()) {
    return BatchRequest{"GET", fmt::format("{}?$select=id", url), {}, std::nullopt};
  }
  headers.emplace_back("Prefer", kPreferUtc);
  return BatchRequest{"PATCH", url, headers, *patch};
}

Result<BatchRequest> GraphSide::series_request(const Write& write) {
  const std::string event_url =
      fmt::format("{}/events/{}", user_path(), url_encode(write.ref.str()));
  // R39: attendees become real ones (and Exchange mails them) only when the engine asks.
  WriteOptions write_options;
  write_options.real_meetings = write.send_invitations;
  std::vector<std::pair<std::string, std::string>> if_match;
  if (!write.expected.empty()) if_match.emplace_back("If-Match", write.expected.str());
  switch (write.op) {
    case WriteOp::kCreate: {
      auto body = event_to_json(write.item, write.key.str(), write_options);
      if (!body) return std::unexpected(body.error());
      return BatchRequest{"POST", user_path() + "/events", {{"Prefer", kPreferUtc}}, *body};
    }
    case WriteOp::kUpdate:
    case WriteOp::kStampKey: {
      // A stamp (R41) sends nothing but the key's extended property; an update that carries
      // `key` sends it along with the changed fields. Neither changes what the user sees.
      auto body = write.op == WriteOp::kStampKey ? Result<nlohmann::json>(nlohmann::json::object())
                  : write.previous ? event_patch(*write.previous, write.item, write_options)
                                   : event_to_json(write.item, {}, write_options);
      if (!body) return std::unexpected(body.error());
      if (!write.key.empty()) {
        (*body)["singleValueExtendedProperties"] = nlohmann::json::array(
            {nlohmann::json{{"id", kKeyPropertyId}, {"value", write.key.str()}}});
      }
      if (body->empty()) {
        return BatchRequest{"GET",
                            fmt::format("{}?$select={}", event_url, kEventSelect),
                            {{"Prefer", kPreferUtc}},
                            std::nullopt};
      }
      auto headers = if_match;
      headers.emplace_back("Prefer", kPreferUtc);
      return BatchRequest{"PATCH", event_url, headers, *body};
    }
    case WriteOp::kDelete:
      break;
  }
  return BatchRequest{"DELETE", event_url, if_match, std::nullopt};
}

std::vector<WriteResult> GraphSide::apply(std::span<const Write> writes) {
  std::vector<WriteResult> results(writes.size(),
                                   WriteResult{fail(ErrorKind::kPermanent, "not written")});
  std::vector<BatchRequest> requests;
  std::vector<std::size_t> origin;  // request index -> write index
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const Write& write = writes[i];
    // core/calendar_side.h: an occurrence write touches that one instance, never the master.
    auto request = write.op != WriteOp::kCreate && write.occurrence ? occurrence_request(write)
                                                                    : series_request(write);
    if (!request) {
      results[i].outcome = std::unexpected(request.error());
      continue;
    }
    requests.push_back(std::move(*request));
    origin.push_back(i);
  }

  auto answers =
      send_batch(http_, credentials_, options_.base_url, requests, gate_, options_.batch);
  for (std::size_t r = 0; r < answers.size(); ++r) {
    const std::size_t i = origin[r];
    const Write& write = writes[i];
    auto& answer = answers[r];
    if (!answer) {
      results[i].outcome = std::unexpected(answer.error());
      continue;
    }
    if (answer->status < 200 || answer->status > 299) {
      results[i].outcome = std::unexpected(
          graph_error(answer->status, answer->body.is_null() ? "" : answer->body.dump(),
                      fmt::format("{} of an event in {}", requests[r].method, options_.mailbox),
                      answer->retry_after()));
      continue;
    }
    if (write.op == WriteOp::kDelete && !write.occurrence) {
      SideItem gone;
      gone.ref = write.ref;
      gone.item = write.item;
      results[i].outcome = std::move(gone);
      continue;
    }
    if (write.occurrence) {
      results[i].outcome = read_back(write.ref, write);
      continue;
    }
    auto event = parse_event(answer->body);
    if (!event) {
      results[i].outcome = std::unexpected(event.error());
      continue;
    }
    if (event->id.empty()) event->id = write.ref.str();
    if (write.item.recurrence && write.op != WriteOp::kStampKey) {
      // A new pattern makes Exchange drop the series' exceptions: then all are written again.
      const bool pattern_sent = requests[r].body && requests[r].body->contains("recurrence");
      const Appointment* previous = write.op == WriteOp::kUpdate && write.previous && !pattern_sent
                                        ? &*write.previous
                                        : nullptr;
      auto wrote = apply_exceptions(event->id, write.item, previous);
      if (!wrote) {
        results[i].outcome = std::unexpected(wrote.error());
        continue;
      }
      if (*wrote) {
        // The etag moved with the exceptions: report the series as it is now.
        results[i].outcome = read_back(ItemRef(event->id), write);
        continue;
      }
    }
    SideItem written;
    written.ref = ItemRef(event->id);
    written.version = VersionTag(event->etag);
    if (!write.key.empty()) written.idempotency_key = write.key;
    written.item = write.item;  // what we asked for; Graph's echo may omit parts
    written.item.organizer = event->item.organizer;
    results[i].outcome = std::move(written);
  }
  return results;
}

SideItem GraphSide::read_back(const ItemRef& ref, const Write& write) {
  auto fresh = fetch(std::span(&ref, 1));
  SideItem out;
  if (fresh && !fresh->empty()) {
    out = std::move(fresh->front());
  } else {
    // Written, but not readable now: the id is real (the engine must not write again); no
    // version, so the next cycle reads it.
    out.ref = ref;
    out.item = write.item;
  }
  if (!write.key.empty()) out.idempotency_key = write.key;
  return out;
}

}  // namespace agendasync::graph
