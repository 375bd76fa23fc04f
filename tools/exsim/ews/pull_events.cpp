// GetEvents: the events of a pull subscription after the watermark the client last saw, at most
// kMaxEventsPerCall per call (MoreEvents says when to ask again); a StatusEvent when there are
// none. Each call renews the subscription's Timeout.
// Reference: learn.microsoft.com/exchange/client-developer/web-service-reference/getevents
#include <chrono>

#include "exsim/ews/notifications.h"
#include "exsim/ews/operation.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

constexpr size_t kMaxEventsPerCall = 50;
constexpr const char* kMessage = "GetEventsResponseMessage";

}  // namespace

void handle_get_events(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("GetEvents");
  std::string id = child_text(ctx.request, "SubscriptionId");
  auto& all = ctx.subscriptions.all();
  auto it = all.find(id);
  auto now = std::chrono::steady_clock::now();
  if (it != all.end() && it->second.kind == Subscription::Kind::kPull && it->second.expires < now) {
    all.erase(it);  // expired: Exchange has forgotten it
    it = all.end();
  }
  // Pull subscriptions live on their Mailbox server too ("Maintain affinity between a group of
  // subscriptions and the Mailbox server in Exchange": streaming, pull or push alike).
  if (it == all.end() || (ctx.config.server_affinity && it->second.server != ctx.server)) {
    add_response_message(messages, kMessage, "ErrorSubscriptionNotFound",
                         "The specified subscription was not found.");
    return;
  }
  Subscription& sub = it->second;
  if (sub.owner != ctx.account.user) {
    add_response_message(messages, kMessage, "ErrorSubscriptionAccessDenied",
                         "The subscription can only be accessed by the account that created it.");
    return;
  }
  if (sub.kind != Subscription::Kind::kPull) {
    add_response_message(messages, kMessage, "ErrorInvalidPullSubscriptionId",
                         "The subscription is not a pull subscription.");
    return;
  }
  Mailbox* mb = ctx.store.mailbox_at(sub.mailbox);
  std::string watermark = child_text(ctx.request, "Watermark");
  auto from = decode_watermark(watermark);
  if (!mb || !from || *from > mb->seq) {
    add_response_message(messages, kMessage, "ErrorInvalidWatermark", "The watermark is invalid.");
    return;
  }
  // Events older than the bounded log cannot be replayed: the client must resubscribe.
  if (!mb->events.empty() && mb->events.front().seq > *from + 1) {
    add_response_message(
        messages, kMessage, "ErrorReadEventsFailed",
        "The events after the watermark are no longer available; subscribe again.");
    return;
  }
  sub.expires = now + sub.timeout;

  pugi::xml_node msg = add_response_message(messages, kMessage);
  pugi::xml_node n = msg.append_child("m:Notification");
  add_text(n, "t:SubscriptionId", sub.id);
  add_text(n, "t:PreviousWatermark", watermark);
  pugi::xml_node more = add_text(n, "t:MoreEvents", "false");
  size_t written = 0;
  uint64_t position = *from;
  for (const ChangeEvent& e : mb->events) {
    if (e.seq <= *from || !subscribed_to(sub, e)) continue;
    if (written == kMaxEventsPerCall) {
      more.text().set("true");
      break;
    }
    append_event(n, *mb, e);
    position = e.seq;
    ++written;
  }
  if (written == 0) {
    // Nothing new: a StatusEvent carries the watermark to ask from next time.
    position = mb->seq;
    add_text(n.append_child("t:StatusEvent"), "t:Watermark", encode_watermark(position));
  }
  sub.last_seq = std::max(sub.last_seq, position);
}

}  // namespace exsim
