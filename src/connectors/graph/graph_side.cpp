#include "connectors/graph/graph_side.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "connectors/graph/delta_cursor.h"
#include "connectors/graph/errors.h"
#include "connectors/graph/graph_time.h"
#include "connectors/graph/text_repair.h"
#include "connectors/graph/url.h"
#include "core/expand.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;

constexpr const char* kPreferUtc = "outlook.timezone=\"UTC\"";

Instant floor_day(Instant time) { return std::chrono::floor<std::chrono::days>(time); }

bool overlaps(const Appointment& item, Instant from, Instant to) {
  const Instant end = item.end > item.start ? item.end : item.start + std::chrono::seconds(1);
  return item.start < to && end > from;
}

}  // namespace

std::string mailbox_budget_key(std::string_view app_id, std::string_view mailbox) {
  std::string address(mailbox);
  std::transform(address.begin(), address.end(), address.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return fmt::format("graph|app:{}|mailbox:{}", app_id, address);
}

GraphSide::GraphSide(net::HttpClient& http, net::Credentials credentials, GraphSideOptions options)
    : http_(http),
      credentials_(std::move(credentials)),
      options_(std::move(options)),
      gate_(options_.mailbox_concurrency) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
  options_.batch.budget_key = mailbox_budget_key(options_.app_id, options_.mailbox);
  options_.batch.budget_limit = gate_.limit();
  options_.batch.budget_rate = options_.request_rate;
}

std::string GraphSide::describe() const { return "graph:" + options_.mailbox; }

Instant GraphSide::now() const {
  const auto time = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  return std::chrono::floor<std::chrono::seconds>(time);
}

std::string GraphSide::user_path() const { return "/users/" + url_encode(options_.mailbox); }

std::vector<std::pair<std::string, std::string>> GraphSide::read_headers() const {
  return {{"Accept", "application/json"},
          {"Prefer", std::string(kPreferUtc) + ", odata.maxpagesize=100"}};
}

std::pair<Instant, Instant> GraphSide::current_window() const {
  const Instant from = floor_day(now()) - options_.window_past;
  return {from, from + options_.window_past + options_.window_future};
}

Result<json> GraphSide::get_json(const std::string& url, std::string_view what) {
  net::Request request;
  request.method = "GET";
  request.url = url;
  request.headers = read_headers();
  request.budget_key = options_.batch.budget_key;
  request.budget_limit = options_.batch.budget_limit;
  request.budget_rate = options_.batch.budget_rate;
  auto response = [&] {
    MailboxGate::Slot slot(gate_);
    return http_.send(request, credentials_);
  }();
  if (!response) return std::unexpected(response.error());
  if (response->status < 200 || response->status > 299) {
    return std::unexpected(
        graph_error(*response, fmt::format("{} for {}", what, options_.mailbox)));
  }
  bool repaired = false;
  auto parsed = parse_repairing(response->body, repaired);
  repaired_answer_ = repaired_answer_ || repaired;
  if (parsed.is_discarded() || !parsed.is_object()) {
    return fail(ErrorKind::kTransient, fmt::format("Graph answered {} for {} with unreadable JSON",
                                                   what, options_.mailbox));
  }
  return parsed;
}

std::string GraphSide::round_start_url(Instant from, Instant to) const {
  return fmt::format("{}{}/calendarView/delta?startDateTime={}&endDateTime={}", options_.base_url,
                     user_path(), url_encode(format_utc(from)), url_encode(format_utc(to)));
}

Result<GraphSide::Round> GraphSide::run_round(std::string url) {
  Round round;
  for (int page = 0; page < options_.max_pages; ++page) {
    auto body = get_json(url, "reading calendar changes");
    if (!body) return std::unexpected(body.error());
    if (const auto value = body->find("value"); value != body->end() && value->is_array()) {
      for (const auto& entry : *value) {
        auto event = parse_event(entry);
        if (!event) return std::unexpected(event.error());
        if (event->id.empty()) continue;
        if (event->removed) {
          round.removed.push_back(event->id);
        } else {
          round.events.push_back(std::move(*event));
        }
      }
    }
    if (const auto next = body->find("@odata.nextLink"); next != body->end() && next->is_string()) {
      url = next->get<std::string>();
      continue;
    }
    if (const auto delta = body->find("@odata.deltaLink");
        delta != body->end() && delta->is_string()) {
      round.delta_link = delta->get<std::string>();
      learn(round);
      return round;
    }
    return fail(ErrorKind::kTransient,
                "Graph ended a calendarView/delta page without nextLink or deltaLink; the read "
                "is repeated next cycle");
  }
  return fail(ErrorKind::kTransient,
              fmt::format("Graph calendarView/delta for {} had more than {} pages; the read is "
                          "continued next cycle",
                          options_.mailbox, options_.max_pages));
}

void GraphSide::learn(const Round& round) {
  std::lock_guard lock(masters_mutex_);
  for (const auto& event : round.events) {
    if (!event.series_master_id.empty()) master_of_[event.id] = event.series_master_id;
  }
}

Result<ChangeBatch> GraphSide::changes_since(const Cursor& cursor) {
  const auto [from, to] = current_window();
  if (cursor.empty()) {
    auto round = run_round(round_start_url(from, to));
    if (!round) return std::unexpected(round.error());
    return ChangeBatch{{}, {}, encode_cursor({from, to, round->delta_link}), true};
  }
  const auto state = decode_cursor(cursor);
  if (!state) {
    return fail(ErrorKind::kCursorInvalid,
                "the stored Graph change cursor is not readable; a full resync follows");
  }
  std::vector<Round> rounds;
  DeltaCursor next = *state;
  std::vector<std::string> entered;
  if (from > state->from + options_.window_step || to < state->to) {
    // The window moves: the new round first, so the old link covers everything before it.
    auto fresh = run_round(round_start_url(from, to));
    if (!fresh) return std::unexpected(fresh.error());
    for (const auto& event : fresh->events) {
      if (overlaps(event.item, std::max(state->to, from), to)) {
        entered.push_back(event.series_master_id.empty() ? event.id : event.series_master_id);
      }
    }
    next = DeltaCursor{from, to, fresh->delta_link};
  }
  auto old = run_round(state->delta_link);
  if (!old) return std::unexpected(old.error());
  if (next.delta_link == state->delta_link) next.delta_link = old->delta_link;

  ChangeBatch batch;
  batch.next = encode_cursor(next);
  std::set<std::string> changed(entered.begin(), entered.end());
  std::set<std::string> deleted;
  for (const auto& event : old->events) {
    changed.insert(event.series_master_id.empty() ? event.id : event.series_master_id);
  }
  {
    std::lock_guard lock(masters_mutex_);
    for (const auto& id : old->removed) {
      const auto master = master_of_.find(id);
      if (master != master_of_.end()) {
        changed.insert(master->second);  // an occurrence removed: its series changed
      } else {
        deleted.insert(id);
      }
    }
  }
  for (const auto& id : deleted) changed.erase(id);
  for (const auto& id : changed) batch.changed.emplace_back(id);
  for (const auto& id : deleted) batch.deleted.emplace_back(id);
  return batch;
}

Result<std::pair<std::vector<SideItem>, Cursor>> GraphSide::list(const TimeWindow& window) {
  std::vector<SideItem> items;
  auto cursor = list_paged(window, [&](std::vector<SideItem>&& page) -> Result<void> {
    items.insert(items.end(), std::make_move_iterator(page.begin()),
                 std::make_move_iterator(page.end()));
    return {};
  });
  if (!cursor) return std::unexpected(cursor.error());
  return std::pair{std::move(items), std::move(*cursor)};
}

Result<Cursor> GraphSide::list_paged(const TimeWindow& window, const ListPage& on_page) {
  // The cursor first: whatever changes while we list is reported by it later.
  auto start = changes_since(Cursor{});
  if (!start) return std::unexpected(start.error());
  // Each calendarView page is fetched in full and handed on before the next one (issue 14).
  // The view pages by offset (nextLink), so a single event comes once; a series comes once
  // per occurrence, so the series already fetched are remembered.
  std::set<std::string> masters;
  std::string url = fmt::format(
      "{}{}/calendarView?startDateTime={}&endDateTime={}&$select=id,type,seriesMasterId",
      options_.base_url, user_path(), url_encode(format_utc(window.from)),
      url_encode(format_utc(window.to)));
  for (int page = 0;; ++page) {
    if (page >= options_.max_pages) {
      return fail(ErrorKind::kTransient,
                  fmt::format("Graph calendarView for {} had more than {} pages", options_.mailbox,
                              options_.max_pages));
    }
    auto body = get_json(url, "listing the calendar");
    if (!body) return std::unexpected(body.error());
    std::vector<ItemRef> refs;
    std::set<std::string> singles;
    for (const auto& entry : body->value("value", json::array())) {
      if (!entry.is_object()) continue;
      const std::string master = string_at(entry, "seriesMasterId");
      if (!master.empty()) {
        if (masters.insert(master).second) refs.emplace_back(master);
        continue;
      }
      const std::string id = string_at(entry, "id");
      if (!id.empty() && singles.insert(id).second) refs.emplace_back(id);
    }
    if (!refs.empty()) {
      auto items = fetch(refs);
      if (!items) return std::unexpected(items.error());
      if (auto taken = on_page(std::move(*items)); !taken) return std::unexpected(taken.error());
    }
    const auto next = body->find("@odata.nextLink");
    if (next == body->end() || !next->is_string()) break;
    url = next->get<std::string>();
  }
  return start->next;
}

Result<std::vector<GraphEvent>> GraphSide::instances(const std::string& master_id, Instant from,
                                                     Instant to) {
  std::vector<GraphEvent> out;
  std::string url =
      fmt::format("{}{}/events/{}/instances?startDateTime={}&endDateTime={}&$select={}",
                  options_.base_url, user_path(), url_encode(master_id),
                  url_encode(format_utc(from)), url_encode(format_utc(to)), kEventSelect);
  for (int page = 0; page < options_.max_pages; ++page) {
    auto body = get_json(url, "reading the occurrences of a series");
    if (!body) return std::unexpected(body.error());
    for (const auto& entry : body->value("value", json::array())) {
      auto event = parse_event(entry);
      if (!event) return std::unexpected(event.error());
      out.push_back(std::move(*event));
    }
    const auto next = body->find("@odata.nextLink");
    if (next == body->end() || !next->is_string()) return out;
    url = next->get<std::string>();
  }
  return fail(ErrorKind::kTransient, "Graph listed too many occurrences of one series");
}

Result<void> GraphSide::complete_series(GraphEvent& master) {
  if (!master.item.recurrence) return {};
  const Instant from = master.item.start - std::chrono::days(1);
  Instant to = floor_day(now()) + options_.instances_horizon;
  auto last = last_occurrence_start(master.item);
  if (!last) return std::unexpected(last.error());
  if (*last) to = std::min(to, **last + std::chrono::days(2));
  if (to <= from) return {};
  auto found = instances(master.id, from, to);
  if (!found) return std::unexpected(found.error());
  return merge_instances(master.item, *found, from, to);
}

SideItem GraphSide::to_side_item(GraphEvent event) const {
  SideItem item;
  item.ref = ItemRef(event.id);
  item.version = VersionTag(event.etag);
  if (event.idempotency_key && !event.idempotency_key->empty()) {
    item.idempotency_key = IdempotencyKey(*event.idempotency_key);
  }
  item.last_modified = event.last_modified;
  item.item = std::move(event.item);
  return item;
}

std::vector<TextRepair> GraphSide::take_text_repairs() { return std::exchange(repairs_, {}); }

Result<std::vector<SideItem>> GraphSide::fetch(std::span<const ItemRef> refs) {
  std::vector<BatchRequest> requests;
  for (const auto& ref : refs) {
    requests.push_back(
        BatchRequest{"GET",
                     fmt::format("{}/events/{}?$select={}&$expand={}", user_path(),
                                 url_encode(ref.str()), kEventSelect, url_encode(key_expand())),
                     {{"Prefer", kPreferUtc}},
                     std::nullopt});
  }
  auto answers =
      send_batch(http_, credentials_, options_.base_url, requests, gate_, options_.batch);
  std::vector<SideItem> out;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    auto& answer = answers[i];
    if (!answer) return std::unexpected(answer.error());
    if (answer->status == 404) continue;
    if (answer->status < 200 || answer->status > 299) {
      return std::unexpected(graph_error(answer->status, answer->body.dump(),
                                         fmt::format("reading an event of {}", options_.mailbox),
                                         answer->retry_after()));
    }
    auto event = parse_event(answer->body);
    if (!event) return std::unexpected(event.error());
    if (event->id.empty()) event->id = refs[i].str();
    repaired_answer_ = answer->text_repaired;  // set again by /instances answers if repaired
    if (auto done = complete_series(*event); !done) return std::unexpected(done.error());
    if (repaired_answer_) {
      // The item syncs with U+FFFD in place of the broken bytes; the engine logs and audits.
      if (auto fields = fields_with_replacement(event->item); !fields.empty()) {
        repairs_.push_back(TextRepair{ItemRef(event->id), std::move(fields)});
      }
    }
    out.push_back(to_side_item(std::move(*event)));
  }
  return out;
}

Result<std::optional<SideItem>> GraphSide::find_by_key(const IdempotencyKey& key) {
  std::string quoted = key.str();
  for (std::size_t at = quoted.find('\''); at != std::string::npos;
       at = quoted.find('\'', at + 2)) {
    quoted.insert(at, "'");  // OData escapes a quote by doubling it
  }
  const std::string filter =
      fmt::format("singleValueExtendedProperties/Any(ep: ep/id eq '{}' and ep/value eq '{}')",
                  kKeyPropertyId, quoted);
  auto body = get_json(fmt::format("{}{}/events?$filter={}&$select=id", options_.base_url,
                                   user_path(), url_encode(filter)),
                       "looking up an event by its AgendaSync key");
  if (!body) return std::unexpected(body.error());
  const auto value = body->value("value", json::array());
  if (value.empty() || !value[0].is_object()) return std::optional<SideItem>{};
  const ItemRef ref(string_at(value[0], "id"));
  auto items = fetch(std::span(&ref, 1));
  if (!items) return std::unexpected(items.error());
  if (items->empty()) return std::optional<SideItem>{};
  return std::optional<SideItem>(std::move(items->front()));
}

}  // namespace agendasync::graph
