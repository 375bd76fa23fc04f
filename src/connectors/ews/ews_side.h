#pragma once
/// The Exchange side of a pair (R1-R4, R22, R26-R28): one mailbox reached through one
/// service account with ExchangeImpersonation + X-AnchorMailbox, or in delegate mode.
/// Implements core's CalendarSide on the net::HttpClient seam.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "connectors/ews/affinity.h"
#include "connectors/ews/errors.h"
#include "connectors/ews/requests.h"
#include "connectors/ews/responses.h"
#include "connectors/ews/throttle.h"
#include "core/calendar_side.h"
#include "net/http.h"

namespace agendasync::ews {

struct EwsSideOptions {
  std::string endpoint;  ///< https://host/EWS/Exchange.asmx
  RequestContext context;
  /// Set for the requests of a streaming-subscription group (Subscribe, GetStreamingEvents).
  std::optional<Affinity> affinity;
  net::Credentials credentials;
  /// Items per GetItem call: full items with bodies and time zones make large responses;
  /// 100 keeps each within throttling budgets.
  int batch_size = 100;
  /// Items per CreateItem / UpdateItem / DeleteItem call. Their responses carry ids only, so
  /// requests, not bytes, are what counts: 250 puts a first sync of 10,000 items at ~100
  /// requests and keeps one request's server time well inside EWS's budget (DECISIONS.md).
  int write_batch_size = 250;
  /// ...and fewer when their request would be larger than this: a server refuses a bigger
  /// body with HTTP 413 (exsim: `max_request_bytes`, 4 MiB; IIS/ASP.NET's default request
  /// limit on an EWS virtual directory is of that order). Items with long bodies split a batch.
  std::size_t max_request_bytes = 4 * 1024 * 1024;
  /// SyncFolderItems pages per changes_since call before returning complete = false.
  int max_sync_pages = 20;
  /// R26: ErrorServerBusy waits exactly BackOffMilliseconds, at most this many times per
  /// call; then the throttling error is returned (nothing is retried forever).
  int max_throttle_waits = 3;
  /// Waits out a throttling back-off; injectable so tests need not sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
  /// Shared by every side talking to the same server; created when null.
  std::shared_ptr<ConcurrencyBudget> budget;
};

/// The net budget key (net::Request::budget_key) of requests to `endpoint` as `credentials`:
/// Exchange's EWSMaxConcurrency counts per account, so every mailbox one service account
/// reaches on one server shares the account's slots, and two organisations' accounts on
/// one Exchange Online host do not. A Bearer caller without an account name is keyed by the
/// mailbox instead (it has no service-account budget to share).
std::string budget_key(std::string_view endpoint, const net::Credentials& credentials,
                       std::string_view mailbox);

class EwsCalendarSide final : public CalendarSide {
 public:
  /// `http` must outlive the side.
  EwsCalendarSide(net::HttpClient& http, EwsSideOptions options);

  std::string describe() const override;
  Result<ChangeBatch> changes_since(const Cursor& cursor) override;
  Result<std::pair<std::vector<SideItem>, Cursor>> list(const TimeWindow& window) override;
  /// One CalendarView page read in full (GetItem, series masters once) per `on_page` call.
  Result<Cursor> list_paged(const TimeWindow& window, const ListPage& on_page) override;
  Result<std::vector<SideItem>> fetch(std::span<const ItemRef> refs) override;
  Result<std::optional<SideItem>> find_by_key(const IdempotencyKey& key) override;
  /// FindItem with up to 50 keys per request, then one GetItem for what was found.
  Result<std::map<IdempotencyKey, SideItem>> find_by_keys(
      std::span<const IdempotencyKey> keys) override;
  std::vector<WriteResult> apply(std::span<const Write> writes) override;
  std::vector<TextRepair> take_text_repairs() override;

  /// Sends one SOAP request: throttling back-off (bounded), fault and HTTP error mapping.
  /// Public for the doctor and the streaming subscription, which share the plumbing.
  /// `idempotent` false (CreateItem) stops the transport from resending it on its own;
  /// `fresh_connection` sends it on a new connection (a batch sent again after a stray
  /// answer). A stray answer the transport could not resolve comes back as an error that
  /// net::is_stray_answer() recognises.
  Result<SoapResponse> call(const std::string& body, bool idempotent = true,
                            bool fresh_connection = false);

  /// Sends one SOAP request and returns the raw HTTP response (streaming bodies, doctor).
  /// HTTP errors other than SOAP faults are mapped like call() does.
  Result<net::Response> send_raw(const std::string& body,
                                 std::optional<std::chrono::milliseconds> timeout = {});

  /// Sends one SOAP request without waiting for it (GetStreamingEvents): the body of a 2xx
  /// response goes to `on_piece` as it arrives, on the client's event loop (short, no
  /// blocking; false ends the transfer). Then `done` gets the response, HTTP errors mapped as
  /// send_raw maps them. Holds a concurrency slot until `done`.
  void stream_raw(const std::string& body, std::chrono::milliseconds timeout,
                  std::function<bool(std::string_view)> on_piece,
                  std::function<void(Result<net::Response>)> done,
                  std::shared_ptr<const std::atomic<bool>> cancel = nullptr);

  const RequestContext& context() const { return options_.context; }

  /// The error for a failed response message, with this side's context in the message.
  Error message_error(const ResponseMessage& message) const;

  /// How many SOAP requests this side has sent (benchmarks, request-count tests).
  int requests_sent() const { return requests_sent_; }

 private:
  /// A SOAP POST to the EWS endpoint with this side's headers (impersonation, version).
  net::Request soap_request(const std::string& body) const;
  /// Who and which mailbox an error message names.
  ErrorContext error_context() const;
  Result<std::vector<CalendarItem>> get_items(std::span<const ItemId> ids);
  Result<std::vector<SideItem>> to_side_items(std::vector<CalendarItem> items);
  Result<std::string> current_sync_state();
  /// One CreateItem batch (ews_side_create.cpp): per item, the created item's id or why it
  /// was not created. Survives a stray answer without creating anything twice.
  std::vector<Result<ItemId>> create_batch(std::span<const CalendarItem> items);
  /// The items stamped with `keys` (our extended property), by key.
  Result<std::map<std::string, ItemId>> find_ids_by_keys(std::span<const std::string> keys);

  net::HttpClient& http_;
  EwsSideOptions options_;
  std::string budget_key_;  ///< budget_key() of this side's requests
  int requests_sent_ = 0;
  /// Items whose text arrived as invalid UTF-8 (pugixml passes bytes through unchecked).
  std::vector<TextRepair> repairs_;
};

/// The 1-based position of the occurrence that originally started at `recurrence_id` in
/// `series` (deleted occurrences counted, as EWS InstanceIndex does). kNotFound when the
/// series has no such occurrence.
Result<int> instance_index(const Appointment& series, Instant recurrence_id);

}  // namespace agendasync::ews
