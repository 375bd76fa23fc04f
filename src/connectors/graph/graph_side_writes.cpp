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

bool has_exceptions(const Appointment& item) {
  return item.recurrence &&
         (!item.recurrence->exdates.empty() || !item.recurrence->overrides.empty());
}

/// The override as an event PATCH (only the parts an occurrence can change).
Result<json> override_patch(const Appointment& series, const OccurrenceOverride& change) {
  Appointment occurrence = series;
  occurrence.recurrence.reset();
  occurrence.start = change.start;
  occurrence.end = change.end;
  occurrence.subject = change.subject;
  occurrence.body = change.body;
  occurrence.location = change.location;
  occurrence.show_as = change.show_as;
  occurrence.sensitivity = change.sensitivity;
  occurrence.reminder = change.reminder;
  occurrence.attendees.clear();
  auto full = event_to_json(occurrence, {}, WriteOptions{});
  if (!full) return std::unexpected(full.error());
  json patch = json::object();
  for (const char* name : {"subject", "body", "location", "start", "end", "showAs", "sensitivity",
                           "isReminderOn", "reminderMinutesBeforeStart"}) {
    if (full->contains(name)) patch[name] = (*full)[name];
  }
  return patch;
}

}  // namespace

Result<std::string> GraphSide::occurrence_id(const std::string& master_id, Instant original_start) {
  auto found = instances(master_id, original_start - std::chrono::days(2),
                         original_start + std::chrono::days(2));
  if (!found) return std::unexpected(found.error());
  for (const auto& instance : *found) {
    if (!instance.original_start) continue;
    // All-day originals may be given as local midnight; compare dates for them.
    if (*instance.original_start == original_start ||
        (instance.item.all_day && std::chrono::floor<std::chrono::days>(*instance.original_start) ==
                                      std::chrono::floor<std::chrono::days>(original_start))) {
      return instance.id;
    }
  }
  return fail(ErrorKind::kNotFound, fmt::format("the series has no occurrence starting {} in {}",
                                                format_utc(original_start), options_.mailbox));
}

Result<void> GraphSide::apply_exceptions(const std::string& master_id, const Appointment& item) {
  if (!has_exceptions(item)) return {};
  const auto& recurrence = *item.recurrence;
  Instant from = item.start;
  Instant to = item.start;
  for (const auto exdate : recurrence.exdates) to = std::max(to, exdate);
  for (const auto& change : recurrence.overrides) to = std::max(to, change.recurrence_id);
  auto found = instances(master_id, from - std::chrono::days(2), to + std::chrono::days(2));
  if (!found) return std::unexpected(found.error());
  const auto find = [&](Instant original) -> const GraphEvent* {
    for (const auto& instance : *found) {
      if (!instance.original_start) continue;
      if (*instance.original_start == original ||
          (item.all_day && std::chrono::floor<std::chrono::days>(*instance.original_start) ==
                               std::chrono::floor<std::chrono::days>(original))) {
        return &instance;
      }
    }
    return nullptr;
  };
  std::vector<BatchRequest> requests;
  for (const auto exdate : recurrence.exdates) {
    if (const auto* instance = find(exdate)) {
      requests.push_back(BatchRequest{
          "DELETE", fmt::format("{}/events/{}", user_path(), url_encode(instance->id)), {}, {}});
    }
  }
  for (const auto& change : recurrence.overrides) {
    const auto* instance = find(change.recurrence_id);
    if (!instance) continue;
    auto patch = override_patch(item, change);
    if (!patch) return std::unexpected(patch.error());
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
  return {};
}

std::vector<WriteResult> GraphSide::apply(std::span<const Write> writes) {
  std::vector<WriteResult> results(writes.size(),
                                   WriteResult{fail(ErrorKind::kPermanent, "not written")});
  std::vector<BatchRequest> requests;
  std::vector<std::size_t> origin;  // request index -> write index
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const Write& write = writes[i];
    std::string target = write.ref.str();
    if (write.op != WriteOp::kCreate && write.occurrence) {
      auto id = occurrence_id(write.ref.str(), *write.occurrence);
      if (!id) {
        results[i].outcome = std::unexpected(id.error());
        continue;
      }
      target = *id;
    }
    const std::string event_url = fmt::format("{}/events/{}", user_path(), url_encode(target));
    // R39: attendees become real ones (and Exchange mails them) only when the engine asks.
    WriteOptions write_options;
    write_options.real_meetings = write.send_invitations;
    BatchRequest request;
    switch (write.op) {
      case WriteOp::kCreate: {
        auto body = event_to_json(write.item, write.key.str(), write_options);
        if (!body) {
          results[i].outcome = std::unexpected(body.error());
          continue;
        }
        request = BatchRequest{"POST", user_path() + "/events", {{"Prefer", kPreferUtc}}, *body};
        break;
      }
      case WriteOp::kUpdate: {
        auto body = write.previous ? event_patch(*write.previous, write.item, write_options)
                                   : event_to_json(write.item, {}, write_options);
        if (!body) {
          results[i].outcome = std::unexpected(body.error());
          continue;
        }
        if (write.occurrence) body->erase("recurrence");
        request = BatchRequest{"PATCH", event_url, {{"Prefer", kPreferUtc}}, *body};
        if (body->empty()) {
          request = BatchRequest{"GET",
                                 fmt::format("{}?$select={}", event_url, kEventSelect),
                                 {{"Prefer", kPreferUtc}},
                                 std::nullopt};
        }
        break;
      }
      case WriteOp::kDelete:
        request = BatchRequest{"DELETE", event_url, {}, std::nullopt};
        break;
    }
    if (write.op != WriteOp::kCreate && !write.expected.empty() && request.method != "GET") {
      request.headers.emplace_back("If-Match", write.expected.str());
    }
    requests.push_back(std::move(request));
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
    if (write.op == WriteOp::kDelete) {
      SideItem gone;
      gone.ref = write.ref;
      gone.item = write.item;
      results[i].outcome = std::move(gone);
      continue;
    }
    auto event = parse_event(answer->body);
    if (!event) {
      results[i].outcome = std::unexpected(event.error());
      continue;
    }
    if (event->id.empty()) event->id = write.ref.str();
    if (!write.occurrence && write.item.recurrence) {
      const bool exceptions_changed =
          !write.previous || !write.previous->recurrence ||
          write.previous->recurrence->exdates != write.item.recurrence->exdates ||
          write.previous->recurrence->overrides != write.item.recurrence->overrides;
      if (exceptions_changed) {
        if (auto done = apply_exceptions(event->id, write.item); !done) {
          results[i].outcome = std::unexpected(done.error());
          continue;
        }
        // The etag moved with the exceptions: read the series back as it is now.
        const ItemRef ref(event->id);
        auto fresh = fetch(std::span(&ref, 1));
        if (fresh && !fresh->empty()) {
          results[i].outcome = std::move(fresh->front());
          if (write.op == WriteOp::kCreate) {
            results[i].outcome->idempotency_key = write.key;
          }
          continue;
        }
      }
    }
    SideItem written;
    written.ref = ItemRef(event->id);
    written.version = VersionTag(event->etag);
    if (write.op == WriteOp::kCreate && !write.key.empty()) written.idempotency_key = write.key;
    written.item = write.item;  // what we asked for; Graph's echo may omit parts
    written.item.organizer = event->item.organizer;
    results[i].outcome = std::move(written);
  }
  return results;
}

}  // namespace agendasync::graph
