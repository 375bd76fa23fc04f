#pragma once
/// Notifications: Subscribe (StreamingSubscriptionRequest or PullSubscriptionRequest),
/// GetStreamingEvents (a chunked response of one envelope per batch of events, with keep-alive
/// envelopes, closed when ConnectionTimeout expires), GetEvents (pull: the events after a
/// watermark; pull_events.cpp) and Unsubscribe.
/// Reference:
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <pugixml.hpp>

#include "exsim/ews/ews_service.h"
#include "exsim/server/config.h"
#include "exsim/store/store.h"

namespace exsim {

/// One subscription.
struct Subscription {
  enum class Kind { kStreaming, kPull };
  Kind kind = Kind::kStreaming;
  std::string id;
  std::string owner;  // account user that created it
  uint32_t mailbox = 0;
  std::set<FolderKind> folders;  // empty = all folders
  std::set<std::string> event_types;
  uint64_t last_seq = 0;  // events up to here were delivered
  /// Pull: the subscription ends when no GetEvents arrives within Timeout minutes.
  std::chrono::minutes timeout{0};
  std::chrono::steady_clock::time_point expires{};
};

/// All live subscriptions. Guarded by the store mutex, like the store itself.
class Subscriptions {
 public:
  std::map<std::string, Subscription>& all() { return subscriptions_; }

 private:
  std::map<std::string, Subscription> subscriptions_;
};

/// Watermarks as exsim writes them: the mailbox change sequence an event has, opaque to
/// clients (base64, like Exchange's).
std::string encode_watermark(uint64_t seq);
std::optional<uint64_t> decode_watermark(std::string_view watermark);

/// Whether `sub` reports `event` (its folders and event types).
bool subscribed_to(const Subscription& sub, const ChangeEvent& event);
/// Appends the event element (t:CreatedEvent, t:ModifiedEvent, t:DeletedEvent) with its
/// Watermark, TimeStamp, ItemId and ParentFolderId, as Exchange writes it.
void append_event(pugi::xml_node parent, const Mailbox& mb, const ChangeEvent& event);

/// Builds the streaming reply for GetStreamingEvents (takes the store mutex itself).
EwsReply streaming_events_reply(Subscriptions& subs, Store& store, const ServerConfig& config,
                                const AccountConfig& account, pugi::xml_node request);

}  // namespace exsim
