#pragma once
/// EWS streaming notifications (R23): the protocol pieces of a group's GetStreamingEvents
/// stream (the daemon's MailboxWatchers hold the subscriptions and connections). The change
/// itself is always read through changes_since (SyncFolderItems), never from the events.
/// Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ews/ews_side.h"

namespace agendasync::ews {

/// Splits the body of a GetStreamingEvents response, a stream of back-to-back SOAP envelopes
/// sent as the server has news, into whole envelopes, incrementally: feed bytes as they
/// arrive, get each envelope as soon as its closing tag is in.
class EnvelopeSplitter {
 public:
  explicit EnvelopeSplitter(std::size_t max_envelope_bytes = 4u << 20)
      : max_envelope_bytes_(max_envelope_bytes) {}
  /// The envelopes completed by `bytes`. kInvalidData when one grows past the limit or the
  /// stream is not XML envelopes.
  Result<std::vector<std::string>> feed(std::string_view bytes);
  /// Bytes received but not yet part of a whole envelope.
  std::size_t pending() const { return buffer_.size(); }

 private:
  std::size_t max_envelope_bytes_;
  std::string buffer_;
};

/// What one envelope of a group's GetStreamingEvents stream said (issue 14). One stream
/// carries the subscriptions of up to 200 mailboxes; errors may name some of them only.
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/handling-notification-related-errors-in-ews
struct GroupNews {
  std::set<std::string> changed;  ///< subscriptions with item events: wake their mailboxes
  /// Subscriptions the server no longer holds or lost events of (ErrorSubscriptionIds,
  /// ErrorMissedNotificationEvents): sync their mailboxes and subscribe them again.
  std::set<std::string> lost;
  bool all_lost = false;         ///< the same for every subscription of the stream
  bool closed = false;           ///< ConnectionStatus Closed: the server ended the stream
  std::optional<Error> failure;  ///< any other error (throttling, connection budget, rights)
};

/// Reads one envelope of a group's stream. `error_of` maps a failed message to an Error
/// (EwsCalendarSide::message_error). kInvalidData when the envelope is not a SOAP response.
Result<GroupNews> read_group_envelope(const std::string& envelope,
                                      const std::function<Error(const ResponseMessage&)>& error_of);

/// At most this many subscriptions share one GetStreamingEvents connection.
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange
inline constexpr std::size_t kMaxSubscriptionsPerStream = 200;

}  // namespace agendasync::ews
