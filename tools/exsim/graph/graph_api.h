#pragma once
/// exsim's Microsoft Graph v1.0 calendar API over the mailbox store: routing of a request
/// below /v1.0 to users, calendars, events, calendarView(/delta), instances and subscriptions;
/// the role checks of the caller's token; the per-mailbox concurrency limit (4 on Exchange
/// Online, answered 429 MailboxConcurrency) and the request rate per app and mailbox
/// (graph_mailbox_rate.h).
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "exsim/graph/graph_delta.h"
#include "exsim/graph/graph_request.h"
#include "exsim/store/store.h"

namespace exsim {

class GraphSubscriptions;
class MailboxRequestRate;
class MailboxUploadVolume;
struct GraphLimits;

/// Handles Graph requests; thread-safe.
class GraphApi {
 public:
  /// `base_url`: scheme://host:port of the server (links point there).
  /// `mailbox_concurrency`: requests in flight per mailbox before 429 (0 = unlimited).
  GraphApi(Store& store, std::function<std::string()> base_url, int mailbox_concurrency);
  ~GraphApi();
  /// Answers a request whose token was verified (claims in the request).
  GraphReply handle(const GraphRequest& request);
  /// Subscriptions (set by the server once it can deliver notifications); may stay null.
  void set_subscriptions(GraphSubscriptions* subscriptions) { subscriptions_ = subscriptions; }
  /// Counts mailbox requests against `limits` (10,000 per 10 minutes per app and mailbox).
  void set_limits(const GraphLimits& limits);
  /// Requests refused by the request rate per app and mailbox so far.
  std::size_t refused_mailbox_rate() const;
  /// Requests refused by the upload volume per app and mailbox so far.
  std::size_t refused_upload_volume() const;
  std::string link_base() const { return base_url_() + "/v1.0"; }

 private:
  GraphReply user_request(Mailbox& mb, const GraphRequest& request,
                          const std::vector<std::string>& rest);
  GraphReply events_request(Mailbox& mb, const GraphRequest& request,
                            const std::vector<std::string>& rest, const std::string& collection);
  bool enter(uint32_t mailbox);
  void leave(uint32_t mailbox);

  Store& store_;
  std::function<std::string()> base_url_;
  int mailbox_concurrency_;
  GraphDelta delta_;
  GraphSubscriptions* subscriptions_ = nullptr;
  std::unique_ptr<MailboxRequestRate> request_rate_;
  std::unique_ptr<MailboxUploadVolume> upload_volume_;
  std::mutex in_flight_mutex_;
  std::map<uint32_t, int> in_flight_;
};

/// Whether the token's roles grant `role` (a ReadWrite role grants the Read one too).
bool has_role(const nlohmann::json& claims, const std::string& role);

}  // namespace exsim
