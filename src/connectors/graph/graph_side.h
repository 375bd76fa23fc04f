#pragma once
/// One Exchange Online mailbox's calendar through Microsoft Graph v1.0, as a CalendarSide.
/// Reads: calendarView/delta with a rolling window (delta_cursor.h), events with $select and
/// the idempotency key expanded, series exceptions through /instances. Writes: $batch (20 per
/// POST), If-Match on updates and deletes, PATCH of changed properties only, no invitation
/// unless a write asks for one (Write::send_invitations; R39, event_json.h). A write for one
/// occurrence touches that instance only, never the master.
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "connectors/graph/batch.h"
#include "connectors/graph/event_json.h"
#include "connectors/graph/mailbox_gate.h"
#include "core/calendar_side.h"
#include "net/http.h"

namespace agendasync::graph {

struct GraphSideOptions {
  std::string base_url = "https://graph.microsoft.com/v1.0";
  std::string mailbox;  ///< user id or UPN / primary SMTP address
  /// The app (client) id the token belongs to: with the mailbox, the key of the budget Graph
  /// limits (mailbox_budget_key). Empty: one app (every request of this process).
  std::string app_id;
  /// The rolling delta window: [today - past, today + future), moved in steps of `step`.
  std::chrono::days window_past{30};
  std::chrono::days window_future{365};
  std::chrono::days window_step{7};
  /// Series exceptions are read up to this far ahead (instances beyond are not looked at).
  std::chrono::days instances_horizon{730};
  /// Requests in flight on the mailbox: this side's gate, and the cap of its budget key in
  /// the HTTP client, which every side, watcher and doctor of the app on the mailbox shares.
  int mailbox_concurrency = 4;
  /// Requests per app and mailbox the side paces itself to: Outlook's 10,000 per 10 minutes
  /// (learn.microsoft.com/graph/throttling-limits#outlook-service-limits), counted in the HTTP
  /// client per budget key, so every side, run and pair of the process on that mailbox shares
  /// one count. A $batch counts its members. Tests scale it down with exsim's window.
  net::RequestRate request_rate{10'000, std::chrono::minutes(10)};
  int max_pages = 10'000;  ///< bound on pages followed in one call
  BatchOptions batch;
  std::function<std::chrono::system_clock::time_point()> clock;  ///< tests; default now
};

/// The net budget key (net::Request::budget_key) of the app's requests on one mailbox.
/// Outlook's limits (4 requests in flight, 10,000 per 10 minutes) count per app and mailbox,
/// not per host: with the host as the key, every tenant a multi-tenant node serves would share
/// one host cap on graph.microsoft.com. Mailbox addresses compare without case.
std::string mailbox_budget_key(std::string_view app_id, std::string_view mailbox);

class GraphSide final : public CalendarSide {
 public:
  /// `credentials` is Bearer (TokenProvider::credentials()).
  GraphSide(net::HttpClient& http, net::Credentials credentials, GraphSideOptions options);

  std::string describe() const override;
  Result<ChangeBatch> changes_since(const Cursor& cursor) override;
  Result<std::pair<std::vector<SideItem>, Cursor>> list(const TimeWindow& window) override;
  /// One calendarView page fetched in full per `on_page` call (series once per listing).
  Result<Cursor> list_paged(const TimeWindow& window, const ListPage& on_page) override;
  Result<std::vector<SideItem>> fetch(std::span<const ItemRef> refs) override;
  Result<std::optional<SideItem>> find_by_key(const IdempotencyKey& key) override;
  std::vector<WriteResult> apply(std::span<const Write> writes) override;
  std::vector<TextRepair> take_text_repairs() override;

  /// The window the cursor should cover now.
  std::pair<Instant, Instant> current_window() const;

 private:
  struct Round {
    std::vector<GraphEvent> events;  ///< changed or new events (instances and singles)
    std::vector<std::string> removed;
    std::string delta_link;
  };

  Instant now() const;
  std::string user_path() const;
  /// GET with the side's headers, through the mailbox gate; non-2xx mapped to an error.
  Result<nlohmann::json> get_json(const std::string& url, std::string_view what);
  /// Follows a delta link or starts a round for [from, to), to its final delta link.
  Result<Round> run_round(std::string url);
  std::string round_start_url(Instant from, Instant to) const;
  /// Remembers occurrence -> master ids seen in rounds (see changes_since).
  void learn(const Round& round);
  /// Series masters: exdates and overrides from /instances.
  Result<void> complete_series(GraphEvent& master);
  Result<std::vector<GraphEvent>> instances(const std::string& master_id, Instant from, Instant to);
  SideItem to_side_item(GraphEvent event) const;
  /// Brings the series' instances in line with `item`'s exdates and overrides: only those
  /// that differ from `previous` (all when null) are deleted or patched; an override dropped
  /// since `previous` puts its occurrence back as the series makes it. True when it wrote.
  Result<bool> apply_exceptions(const std::string& master_id, const Appointment& item,
                                const Appointment* previous);
  /// The instance of series `master_id` whose original start is `original_start`.
  Result<GraphEvent> find_instance(const std::string& master_id, Instant original_start,
                                   bool all_day);
  /// The request for a write addressing one occurrence: DELETE or PATCH of that instance
  /// (the changed fields of write.item's override), never of the master.
  Result<BatchRequest> occurrence_request(const Write& write);
  /// The request for a create, or an update/delete of a whole event.
  Result<BatchRequest> series_request(const Write& write);
  /// The event as Graph holds it after a write (new etag, exceptions); what was asked for
  /// when it cannot be read now.
  SideItem read_back(const ItemRef& ref, const Write& write);
  std::vector<std::pair<std::string, std::string>> read_headers() const;

  net::HttpClient& http_;
  net::Credentials credentials_;
  GraphSideOptions options_;
  MailboxGate gate_;
  /// Whether an answer read for the current item had to be repaired (text_repair.h), and
  /// the repairs not yet taken by the engine.
  bool repaired_answer_ = false;
  std::vector<TextRepair> repairs_;
  std::mutex masters_mutex_;
  /// Occurrence/exception id -> series master id, learnt from delta rounds in this process.
  /// A deleted occurrence arrives as "@removed" with its own id only; this map turns it into
  /// a change of its series (the engine re-reads the series and sees the new exdate).
  std::map<std::string, std::string> master_of_;
};

}  // namespace agendasync::graph
