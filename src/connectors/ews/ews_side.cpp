// EwsCalendarSide: transport plumbing and the read operations (changes, list, fetch, key
// lookup). Writes are in ews_side_writes.cpp.
#include "connectors/ews/ews_side.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <thread>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "connectors/ews/errors.h"
#include "connectors/ews/mapping.h"
#include "connectors/ews/xml.h"
#include "core/appointment_text.h"
#include "core/expand.h"
#include "core/utf8.h"
#include "net/server_address.h"

namespace agendasync::ews {

namespace {

/// Bound on FindItem pages per window chunk, so a server that never says "last item" cannot
/// keep us looping.
constexpr int kMaxViewPages = 200;
/// CalendarView spans are capped by Exchange (two years); we ask for shorter chunks.
constexpr auto kViewChunk = std::chrono::days{180};
constexpr int kViewPageSize = 500;

/// The transport may retry a 5xx only when it is not an EWS SOAP fault: faults
/// (ErrorServerBusy, schema errors) are answers we map ourselves.
bool retry_non_soap(const net::Response& response) {
  return response.body.find("Envelope") == std::string::npos;
}

/// Every EWS answer, faults included, is a SOAP envelope: a 4xx/5xx without one that closes
/// a kept-alive connection is a stray answer, not the server's answer to our request.
bool is_ews_answer(const net::Response& response) {
  return response.body.find("Envelope") != std::string::npos;
}

/// A raw response that is an HTTP problem rather than an EWS answer (no SOAP body) becomes
/// the matching error: 401 names the auth method, 503/429 carry Retry-After.
Result<net::Response> http_problem(Result<net::Response> response, const ErrorContext& context) {
  if (!response) return response;
  if (response->status != 200 && response->body.find("Envelope") == std::string::npos) {
    return std::unexpected(
        error_from_http_status(response->status, context, net::retry_after(*response)));
  }
  return response;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string budget_key(std::string_view endpoint, const net::Credentials& credentials,
                       std::string_view mailbox) {
  const auto server = net::parse_server_address(endpoint);
  const std::string where = server ? server->key() : std::string(endpoint);
  // Account names compare without case on Exchange ("CONTOSO\svc" is "contoso\svc").
  const std::string account = net::account_name(credentials);
  return account.empty() ? fmt::format("ews|mailbox:{}|{}", lowered(mailbox), where)
                         : fmt::format("ews|account:{}|{}", lowered(account), where);
}

EwsCalendarSide::EwsCalendarSide(net::HttpClient& http, EwsSideOptions options)
    : http_(http),
      options_(std::move(options)),
      budget_key_(budget_key(options_.endpoint, options_.credentials, options_.context.mailbox)) {
  if (!options_.budget) options_.budget = std::make_shared<ConcurrencyBudget>();
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds ms) { std::this_thread::sleep_for(ms); };
  }
  if (options_.batch_size < 1) options_.batch_size = 1;
  if (options_.write_batch_size < 1) options_.write_batch_size = 1;
}

std::string EwsCalendarSide::describe() const {
  return fmt::format("ews:{}", options_.context.mailbox);
}

net::Request EwsCalendarSide::soap_request(const std::string& body) const {
  net::Request request;
  request.url = options_.endpoint;
  request.headers = request_headers(options_.context);
  if (options_.affinity) add_affinity_headers(request.headers, *options_.affinity);
  request.body = body;
  request.retry_response = retry_non_soap;
  request.recognises_answer = is_ews_answer;
  request.budget_key = budget_key_;
  return request;
}

ErrorContext EwsCalendarSide::error_context() const {
  return ErrorContext{options_.credentials.user, options_.context.mailbox,
                      net::to_string(options_.credentials.method)};
}

Error EwsCalendarSide::message_error(const ResponseMessage& message) const {
  const ErrorContext context = error_context();
  return error_from_response_code(message.response_code, message.message_text, context,
                                  message.back_off);
}

Result<SoapResponse> EwsCalendarSide::call(const std::string& body, bool idempotent,
                                           bool fresh_connection) {
  const ErrorContext context = error_context();
  for (int attempt = 0;; ++attempt) {
    net::Request request = soap_request(body);
    request.retry_allowed = idempotent;
    request.fresh_connection = fresh_connection;
    Result<net::Response> response = [&] {
      const auto slot = options_.budget->acquire();
      ++requests_sent_;
      return http_.send(request, options_.credentials);
    }();
    if (!response) return std::unexpected(response.error());
    // EWS answers SOAP faults with HTTP 500; anything else without a SOAP body is an HTTP
    // problem (401 names the auth method, 503/429 carry Retry-After).
    Result<SoapResponse> parsed = parse_response(response->body);
    std::optional<Error> error;
    if (response->status != 200 && (!parsed || !parsed->fault)) {
      error = error_from_http_status(response->status, context, net::retry_after(*response));
    } else if (!parsed) {
      return std::unexpected(parsed.error());
    } else if (parsed->fault) {
      error = message_error(*parsed->fault);
    } else if (!parsed->messages.empty() &&
               std::all_of(parsed->messages.begin(), parsed->messages.end(),
                           [this](const ResponseMessage& m) {
                             return !m.ok() && message_error(m).kind == ErrorKind::kThrottled;
                           })) {
      // The whole call was throttled (every item says so): back off and send it again.
      error = message_error(parsed->messages.front());
    } else {
      return parsed;
    }
    if (lowers_concurrency(error->protocol_code)) {
      // Our budget covers the sides sharing it; the client's cap of the account's budget key
      // covers every other user of the client (doctor, other pairs) sending as this account
      // to this server. Other accounts on the server have budgets of their own.
      options_.budget->lower();
      http_.set_budget_concurrency(budget_key_, options_.budget->limit());
    }
    if (error->kind == ErrorKind::kThrottled && error->retry_after) {
      // ErrorServerBusy's back-off is the account's (the budget key's): every node sending as
      // it waits too, not only this call (issue 17 §5; a no-op without shared holds).
      http_.hold_budget(budget_key_, *error->retry_after);
    }
    if (error->kind != ErrorKind::kThrottled || attempt >= options_.max_throttle_waits) {
      return std::unexpected(*error);
    }
    options_.sleep(error->retry_after.value_or(std::chrono::milliseconds{0}));
  }
}

Result<net::Response> EwsCalendarSide::send_raw(const std::string& body,
                                                std::optional<std::chrono::milliseconds> timeout) {
  net::Request request = soap_request(body);
  request.timeout = timeout;
  Result<net::Response> response = [&] {
    const auto slot = options_.budget->acquire();
    ++requests_sent_;
    return http_.send(request, options_.credentials);
  }();
  return http_problem(std::move(response), error_context());
}

void EwsCalendarSide::stream_raw(const std::string& body, std::chrono::milliseconds timeout,
                                 std::function<bool(std::string_view)> on_piece,
                                 std::function<void(Result<net::Response>)> done,
                                 std::shared_ptr<const std::atomic<bool>> cancel) {
  net::Request request = soap_request(body);
  request.timeout = timeout;
  request.on_body_piece = std::move(on_piece);
  request.cancel = std::move(cancel);
  // The slot (and the budget it returns to, destroyed after it) live until the transfer
  // ends, even when the side is gone by then.
  struct HeldSlot {
    std::shared_ptr<ConcurrencyBudget> budget;
    ConcurrencyBudget::Slot slot;
  };
  auto slot = std::make_shared<HeldSlot>(HeldSlot{options_.budget, options_.budget->acquire()});
  ++requests_sent_;
  const ErrorContext context = error_context();
  http_.send_async(std::move(request), options_.credentials,
                   [slot = std::move(slot), context,
                    done = std::move(done)](Result<net::Response> response) mutable {
                     slot.reset();
                     done(http_problem(std::move(response), context));
                   });
}

Result<std::string> EwsCalendarSide::current_sync_state() {
  // The position after every existing change: page through and drop the changes.
  std::string state;
  for (int page = 0; page < 10'000; ++page) {
    auto response = call(build_sync_folder_items(options_.context, state));
    if (!response) return std::unexpected(response.error());
    if (response->messages.empty())
      return fail(ErrorKind::kPermanent, "Exchange returned an empty SyncFolderItems response.");
    const ResponseMessage& message = response->messages.front();
    if (!message.ok()) return std::unexpected(message_error(message));
    state = message.sync_state;
    if (message.includes_last_item_in_range.value_or(true)) return state;
  }
  return fail(ErrorKind::kPermanent,
              fmt::format("The calendar of {} has more changes than AgendaSync pages through "
                          "in one go; try again.",
                          options_.context.mailbox));
}

Result<ChangeBatch> EwsCalendarSide::changes_since(const Cursor& cursor) {
  ChangeBatch batch;
  if (cursor.empty()) {
    auto state = current_sync_state();
    if (!state) return std::unexpected(state.error());
    batch.next = Cursor(*state);
    return batch;
  }
  std::string state = cursor.str();
  std::map<std::string, std::string> changed;  // id -> the ChangeKey of its last change
  std::set<std::string> deleted;
  batch.complete = false;
  for (int page = 0; page < options_.max_sync_pages; ++page) {
    auto response = call(build_sync_folder_items(options_.context, state));
    if (!response) return std::unexpected(response.error());
    if (response->messages.empty())
      return fail(ErrorKind::kPermanent, "Exchange returned an empty SyncFolderItems response.");
    const ResponseMessage& message = response->messages.front();
    if (!message.ok()) return std::unexpected(message_error(message));
    for (const ItemChangeEvent& change : message.changes) {
      const std::string& id = change.item_id.id;
      switch (change.kind) {
        case ChangeKind::kCreate:
        case ChangeKind::kUpdate:
          deleted.erase(id);
          changed.insert_or_assign(id, change.item_id.change_key);
          break;
        case ChangeKind::kDelete:
          changed.erase(id);
          deleted.insert(id);
          break;
        case ChangeKind::kReadFlag:
          break;
      }
    }
    state = message.sync_state;
    if (message.includes_last_item_in_range.value_or(true)) {
      batch.complete = true;
      break;
    }
  }
  // The ChangeKeys let the engine recognise its own writes without a GetItem.
  const bool versioned = std::all_of(changed.begin(), changed.end(),
                                     [](const auto& entry) { return !entry.second.empty(); });
  for (const auto& [id, change_key] : changed) {
    batch.changed.emplace_back(id);
    if (versioned) batch.changed_versions.emplace_back(change_key);
  }
  for (const std::string& id : deleted) batch.deleted.emplace_back(id);
  batch.next = Cursor(state);
  return batch;
}

Result<std::vector<CalendarItem>> EwsCalendarSide::get_items(std::span<const ItemId> ids) {
  std::vector<CalendarItem> out;
  const std::size_t batch = static_cast<std::size_t>(options_.batch_size);
  for (std::size_t begin = 0; begin < ids.size(); begin += batch) {
    const auto chunk = ids.subspan(begin, std::min(batch, ids.size() - begin));
    auto response = call(build_get_item(options_.context, chunk));
    if (!response) return std::unexpected(response.error());
    for (const ResponseMessage& message : response->messages) {
      if (message.ok()) {
        for (const CalendarItem& item : message.items) out.push_back(item);
        continue;
      }
      // A vanished item is simply absent; any other failure fails the read (R38).
      if (message.response_code == "ErrorItemNotFound") continue;
      return std::unexpected(message_error(message));
    }
  }
  return out;
}

Result<std::vector<SideItem>> EwsCalendarSide::to_side_items(std::vector<CalendarItem> items) {
  // Modified occurrences carry their details on their own ids: one more batched GetItem.
  std::vector<ItemId> occurrence_ids;
  for (const CalendarItem& item : items) {
    for (const OccurrenceInfo& occurrence : item.modified_occurrences)
      occurrence_ids.push_back(ItemId{occurrence.item_id.id, {}});
  }
  std::vector<CalendarItem> details;
  if (!occurrence_ids.empty()) {
    auto fetched = get_items(occurrence_ids);
    if (!fetched) return std::unexpected(fetched.error());
    details = std::move(*fetched);
  }
  std::vector<SideItem> out;
  out.reserve(items.size());
  for (CalendarItem& item : items) {
    auto appointment = from_ews(item, details);
    if (!appointment) {
      Error error = appointment.error();
      error.message = fmt::format("Item '{}' in {}: {}", repair_utf8(item.subject),
                                  options_.context.mailbox, error.message);
      return std::unexpected(error);
    }
    // Exchange stores what clients send it, broken bytes included; the item syncs with them
    // replaced (U+FFFD) rather than failing the batch, and the engine logs and audits it.
    if (auto repaired = repair_text_utf8(*appointment); !repaired.empty()) {
      repairs_.push_back(TextRepair{ItemRef(item.item_id.id), std::move(repaired)});
    }
    SideItem side;
    side.ref = ItemRef(item.item_id.id);
    side.version = VersionTag(item.item_id.change_key);
    if (item.agenda_sync_key && !item.agenda_sync_key->empty())
      side.idempotency_key = IdempotencyKey(*item.agenda_sync_key);
    side.item = std::move(*appointment);
    side.last_modified = item.last_modified;
    out.push_back(std::move(side));
  }
  return out;
}

std::vector<TextRepair> EwsCalendarSide::take_text_repairs() { return std::exchange(repairs_, {}); }

Result<std::vector<SideItem>> EwsCalendarSide::fetch(std::span<const ItemRef> refs) {
  std::vector<ItemId> ids;
  ids.reserve(refs.size());
  for (const ItemRef& ref : refs) ids.push_back(ItemId{ref.str(), {}});
  auto items = get_items(ids);
  if (!items) return std::unexpected(items.error());
  return to_side_items(std::move(*items));
}

Result<std::pair<std::vector<SideItem>, Cursor>> EwsCalendarSide::list(const TimeWindow& window) {
  std::vector<SideItem> items;
  auto cursor = list_paged(window, [&](std::vector<SideItem>&& page) -> Result<void> {
    items.insert(items.end(), std::make_move_iterator(page.begin()),
                 std::make_move_iterator(page.end()));
    return {};
  });
  if (!cursor) return std::unexpected(cursor.error());
  return std::pair{std::move(items), std::move(*cursor)};
}

Result<Cursor> EwsCalendarSide::list_paged(const TimeWindow& window, const ListPage& on_page) {
  // The cursor first: changes made while we list show up again later, never get lost.
  auto state = current_sync_state();
  if (!state) return std::unexpected(state.error());

  // Each CalendarView page is read in full (GetItem) and handed on before the next one, so
  // memory holds a page, not the calendar (issue 14). What must outlive a page: the series
  // already read (each is read once; their occurrences recur on many pages) and the items
  // that start exactly where the next page continues (CalendarView has no offset paging).
  std::unordered_set<std::string> masters;
  const std::size_t batch = static_cast<std::size_t>(options_.batch_size);
  for (Instant chunk_from = window.from; chunk_from < window.to; chunk_from += kViewChunk) {
    const Instant chunk_to = std::min<Instant>(window.to, chunk_from + kViewChunk);
    Instant from = chunk_from;
    // Items starting before `from` were handed on by an earlier page (a view lists what
    // overlaps it, sorted by start); the first view of the window has no earlier page.
    const bool first_chunk = chunk_from == window.from;
    std::unordered_set<std::string> at_edge;  // ids starting at `from`, already handed on
    bool done = false;
    for (int page = 0; page < kMaxViewPages && !done; ++page) {
      auto response =
          call(build_find_calendar_view(options_.context, from, chunk_to, kViewPageSize));
      if (!response) return std::unexpected(response.error());
      if (response->messages.empty())
        return fail(ErrorKind::kPermanent, "Exchange returned an empty FindItem response.");
      const ResponseMessage& message = response->messages.front();
      if (!message.ok()) return std::unexpected(message_error(message));
      const bool continued = page > 0 || !first_chunk;
      Instant last_start = from;
      std::vector<ItemId> singles;
      std::vector<std::string> occurrences;
      for (const CalendarItem& item : message.items) {
        last_start = std::max(last_start, item.start);
        if (continued && (item.start < from || at_edge.contains(item.item_id.id))) continue;
        if (item.calendar_item_type == "Occurrence" || item.calendar_item_type == "Exception") {
          occurrences.push_back(item.item_id.id);
        } else {
          singles.push_back(ItemId{item.item_id.id, {}});
        }
      }
      done = message.includes_last_item_in_range.value_or(true);
      std::unordered_set<std::string> next_edge;
      if (!done) {
        // CalendarView has no offset paging: continue from the last start seen.
        if (last_start <= from) {
          return fail(ErrorKind::kPermanent,
                      fmt::format("More than {} items start at {} in {}; the calendar view "
                                  "cannot page past them.",
                                  kViewPageSize, format_date_time(from), options_.context.mailbox));
        }
        for (const CalendarItem& item : message.items) {
          if (item.start == last_start) next_edge.insert(item.item_id.id);
        }
      }
      // Series masters of the occurrences seen, once each per listing.
      for (std::size_t begin = 0; begin < occurrences.size(); begin += batch) {
        const std::span<const std::string> chunk(occurrences.data() + begin,
                                                 std::min(batch, occurrences.size() - begin));
        auto masters_found = call(build_get_masters(options_.context, chunk));
        if (!masters_found) return std::unexpected(masters_found.error());
        for (const ResponseMessage& reply : masters_found->messages) {
          if (!reply.ok()) return std::unexpected(message_error(reply));
          for (const CalendarItem& item : reply.items) {
            if (masters.insert(item.item_id.id).second)
              singles.push_back(ItemId{item.item_id.id, {}});
          }
        }
      }
      auto items = get_items(singles);
      if (!items) return std::unexpected(items.error());
      auto side_items = to_side_items(std::move(*items));
      if (!side_items) return std::unexpected(side_items.error());
      if (!side_items->empty()) {
        if (auto taken = on_page(std::move(*side_items)); !taken) {
          return std::unexpected(taken.error());
        }
      }
      if (!done) {
        from = last_start;
        at_edge = std::move(next_edge);
      }
    }
    if (!done) {
      return fail(ErrorKind::kPermanent, fmt::format("The calendar of {} did not finish listing "
                                                     "within {} pages.",
                                                     options_.context.mailbox, kMaxViewPages));
    }
  }
  return Cursor(*state);
}

Result<std::optional<SideItem>> EwsCalendarSide::find_by_key(const IdempotencyKey& key) {
  auto response = call(build_find_by_key(options_.context, key.str()));
  if (!response) return std::unexpected(response.error());
  std::vector<ItemId> ids;
  for (const ResponseMessage& message : response->messages) {
    if (!message.ok()) return std::unexpected(message_error(message));
    for (const CalendarItem& item : message.items) ids.push_back(ItemId{item.item_id.id, {}});
  }
  if (ids.empty()) return std::optional<SideItem>{};
  auto items = fetch(std::vector<ItemRef>{ItemRef(ids.front().id)});
  if (!items) return std::unexpected(items.error());
  if (items->empty()) return std::optional<SideItem>{};
  return std::optional<SideItem>{std::move(items->front())};
}

Result<std::map<IdempotencyKey, SideItem>> EwsCalendarSide::find_by_keys(
    std::span<const IdempotencyKey> keys) {
  std::vector<std::string> texts;
  texts.reserve(keys.size());
  for (const IdempotencyKey& key : keys) texts.push_back(key.str());
  auto ids = find_ids_by_keys(texts);
  if (!ids) return std::unexpected(ids.error());
  std::vector<ItemRef> refs;
  std::map<ItemRef, std::string> key_of;
  refs.reserve(ids->size());
  for (const auto& [key, id] : *ids) {
    refs.emplace_back(id.id);
    key_of.emplace(ItemRef(id.id), key);
  }
  auto items = fetch(refs);
  if (!items) return std::unexpected(items.error());
  std::map<IdempotencyKey, SideItem> found;
  for (SideItem& item : *items) {
    if (auto key = key_of.find(item.ref); key != key_of.end()) {
      found.insert_or_assign(IdempotencyKey(key->second), std::move(item));
    }
  }
  return found;
}

Result<int> instance_index(const Appointment& series, Instant recurrence_id) {
  if (!series.recurrence) {
    return fail(ErrorKind::kInvalidData,
                "An occurrence was addressed on an item that is not a recurring series.");
  }
  Appointment pattern = series;
  pattern.recurrence->exdates.clear();
  pattern.recurrence->overrides.clear();
  auto occurrences =
      expand(pattern, series.start, recurrence_id + std::chrono::seconds{1}, 100'000);
  if (!occurrences) return std::unexpected(occurrences.error());
  for (std::size_t i = 0; i < occurrences->size(); ++i) {
    if ((*occurrences)[i].recurrence_id == recurrence_id) return static_cast<int>(i + 1);
  }
  return fail(ErrorKind::kNotFound, fmt::format("The series '{}' has no occurrence starting at {}.",
                                                series.subject, format_date_time(recurrence_id)));
}

}  // namespace agendasync::ews
