#pragma once
/// Notifications: Subscribe (StreamingSubscriptionRequest or PullSubscriptionRequest),
/// GetStreamingEvents (a chunked response of one envelope per batch of events, with keep-alive
/// envelopes, closed when ConnectionTimeout expires), GetEvents (pull: the events after a
/// watermark; pull_events.cpp) and Unsubscribe.
/// Reference:
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <pugixml.hpp>

#include "exsim/ews/ews_service.h"
#include "exsim/ews/subscriptions.h"
#include "exsim/server/config.h"
#include "exsim/store/store.h"

namespace exsim {

/// Watermarks as exsim writes them: the mailbox change sequence an event has, opaque to
/// clients (base64, like Exchange's).
std::string encode_watermark(uint64_t seq);
std::optional<uint64_t> decode_watermark(std::string_view watermark);

/// Whether `sub` reports `event` (its folders and event types).
bool subscribed_to(const Subscription& sub, const ChangeEvent& event);
/// Appends the event element (t:CreatedEvent, t:ModifiedEvent, t:DeletedEvent) with its
/// Watermark, TimeStamp, ItemId and ParentFolderId, as Exchange writes it.
void append_event(pugi::xml_node parent, const Mailbox& mb, const ChangeEvent& event);

class HangingConnections;

/// Everything GetStreamingEvents needs besides the request.
struct StreamingCall {
  Subscriptions& subscriptions;
  Store& store;
  const ServerConfig& config;
  HangingConnections& hanging;
  const AccountConfig& account;
  int server = 0;          // the Mailbox server the request was routed to
  std::string budget_key;  // what its connection is charged to (hanging_connections.h)
};

/// Whether a request body is a GetStreamingEvents request (its operation element, not text that
/// mentions it), without parsing it: the server keeps such requests out of the request
/// concurrency budget before the body is parsed.
bool opens_stream(std::string_view body);

/// Builds the reply for GetStreamingEvents (streaming_events.cpp; takes the store mutex
/// itself): an error answered at once, or a stream held open until ConnectionTimeout.
EwsReply streaming_events_reply(const StreamingCall& call, pugi::xml_node request);

}  // namespace exsim
