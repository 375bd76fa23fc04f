// Parsing Graph answers into the core model: a delta page of 100 events (a quarter of them
// series masters with recurrence), and a $batch answer of 20 events.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "connectors/graph/batch.h"
#include "connectors/graph/event_json.h"

namespace {

using nlohmann::json;

json make_event(int i) {
  json event = {
      {"@odata.etag", fmt::format("W/\"DwAAABYAAAB{}\"", i)},
      {"id", fmt::format("AAMkAGI2TG93AAA{:06}", i)},
      {"subject", fmt::format("Customer visit {}", i)},
      {"type", i % 4 == 0 ? "seriesMaster" : "singleInstance"},
      {"body",
       {{"contentType", "html"},
        {"content",
         "<html><body><p>Agenda for the visit, with "
         "enough text to look like a real body.</p>"
         "</body></html>"}}},
      {"start", {{"dateTime", "2026-12-01T09:00:00.0000000"}, {"timeZone", "UTC"}}},
      {"end", {{"dateTime", "2026-12-01T10:30:00.0000000"}, {"timeZone", "UTC"}}},
      {"originalStartTimeZone", "W. Europe Standard Time"},
      {"isAllDay", false},
      {"location", {{"displayName", "Room 4.12"}}},
      {"sensitivity", "normal"},
      {"showAs", "busy"},
      {"categories", {"Blue category"}},
      {"isReminderOn", true},
      {"reminderMinutesBeforeStart", 15},
      {"organizer", {{"emailAddress", {{"name", "Ann"}, {"address", "ann@contoso.com"}}}}},
      {"attendees",
       json::array({json{{"type", "required"},
                         {"status", {{"response", "accepted"}}},
                         {"emailAddress", {{"name", "Bob"}, {"address", "bob@contoso.com"}}}}})},
      {"singleValueExtendedProperties", json::array({json{{"id", agendasync::graph::kKeyPropertyId},
                                                          {"value", fmt::format("key-{}", i)}}})}};
  if (i % 4 == 0) {
    event["recurrence"] = {{"pattern",
                            {{"type", "weekly"},
                             {"interval", 1},
                             {"daysOfWeek", {"tuesday"}},
                             {"firstDayOfWeek", "monday"}}},
                           {"range",
                            {{"type", "endDate"},
                             {"startDate", "2026-12-01"},
                             {"endDate", "2027-06-30"},
                             {"recurrenceTimeZone", "W. Europe Standard Time"}}}};
  }
  return event;
}

void DeltaPage(benchmark::State& state) {
  json page = {{"@odata.deltaLink",
                "https://graph.microsoft.com/v1.0/users/x/calendarView/delta?$deltatoken=abc"}};
  for (int i = 0; i < 100; ++i) page["value"].push_back(make_event(i));
  const std::string text = page.dump();
  for (auto _ : state) {
    const auto parsed = json::parse(text);
    for (const auto& entry : parsed["value"]) {
      auto event = agendasync::graph::parse_event(entry);
      benchmark::DoNotOptimize(event);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(DeltaPage);

void BatchAnswer(benchmark::State& state) {
  json answer = {{"responses", json::array()}};
  for (int i = 0; i < 20; ++i) {
    answer["responses"].push_back(
        json{{"id", std::to_string(i)}, {"status", 200}, {"body", make_event(i)}});
  }
  const std::string text = answer.dump();
  for (auto _ : state) {
    auto parts = agendasync::graph::parse_batch_response(text, 20);
    for (auto& part : *parts) {
      auto event = agendasync::graph::parse_event(part->body);
      benchmark::DoNotOptimize(event);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations() * 20);
}
BENCHMARK(BatchAnswer);

void WriteEvent(benchmark::State& state) {
  auto event = agendasync::graph::parse_event(make_event(0));
  for (auto _ : state) {
    auto written = agendasync::graph::event_to_json(event->item, "key", {});
    benchmark::DoNotOptimize(written->dump());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(WriteEvent);

}  // namespace
