#pragma once
/// Streaming notifications: Subscribe (StreamingSubscriptionRequest), GetStreamingEvents (a
/// chunked response of one envelope per batch of events, with keep-alive envelopes, closed
/// when ConnectionTimeout expires) and Unsubscribe.
/// Reference:
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <pugixml.hpp>

#include "config.h"
#include "ews_service.h"
#include "store.h"

namespace exsim {

/// One streaming subscription.
struct Subscription {
  std::string id;
  std::string owner;  // account user that created it
  uint32_t mailbox = 0;
  std::set<FolderKind> folders;  // empty = all folders
  std::set<std::string> event_types;
  uint64_t last_seq = 0;  // events up to here were delivered
};

/// All live subscriptions. Guarded by the store mutex, like the store itself.
class Subscriptions {
 public:
  std::map<std::string, Subscription>& all() { return subscriptions_; }

 private:
  std::map<std::string, Subscription> subscriptions_;
};

/// Builds the streaming reply for GetStreamingEvents (takes the store mutex itself).
EwsReply streaming_events_reply(Subscriptions& subs, Store& store, const ServerConfig& config,
                                const AccountConfig& account, pugi::xml_node request);

}  // namespace exsim
