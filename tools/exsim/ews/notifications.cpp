#include "exsim/ews/notifications.h"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "exsim/ews/operation.h"
#include "exsim/store/xml_util.h"

namespace exsim {

std::string encode_watermark(uint64_t seq) { return base64_encode(fmt::format("exsim:{}", seq)); }

std::optional<uint64_t> decode_watermark(std::string_view watermark) {
  auto raw = base64_decode(watermark);
  if (!raw || !raw->starts_with("exsim:")) return std::nullopt;
  uint64_t seq = 0;
  std::string_view digits = std::string_view(*raw).substr(6);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return seq;
}

void handle_subscribe(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("Subscribe");
  pugi::xml_node req = child(ctx.request, "StreamingSubscriptionRequest");
  Subscription sub;
  if (!req) {
    req = child(ctx.request, "PullSubscriptionRequest");
    sub.kind = Subscription::Kind::kPull;
  }
  if (!req) {
    add_response_message(
        messages, "SubscribeResponseMessage", "ErrorInvalidSubscriptionRequest",
        "exsim supports streaming and pull subscriptions (StreamingSubscriptionRequest, "
        "PullSubscriptionRequest), not push subscriptions.");
    return;
  }
  sub.owner = ctx.account.user;
  sub.server = ctx.server;
  sub.charged_to = ctx.budget_key;
  auto now = std::chrono::steady_clock::now();
  ctx.subscriptions.expire(now, std::chrono::seconds(ctx.config.subscription_lifetime_seconds));
  // EWSMaxSubscriptions: "the maximum number of nonexpired subscriptions that an account can
  // have at one time", charged to the impersonated mailbox under impersonation (5000 on
  // premises, 20 in Exchange Online). Wording of the error as Exchange writes it.
  // learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
  // learn.microsoft.com/exchange/client-developer/exchange-web-services/handling-notification-related-errors-in-ews-in-exchange
  if (ctx.config.max_subscriptions > 0 &&
      ctx.subscriptions.count_charged_to(sub.charged_to) >= ctx.config.max_subscriptions) {
    add_response_message(messages, "SubscribeResponseMessage", "ErrorExceededSubscriptionCount",
                         "You have exceeded the available subscriptions for your account. Remove "
                         "unnecessary subscriptions and try your request again.");
    return;
  }
  Mailbox* mb = ctx.principal;
  for (pugi::xml_node id : element_children(child(req, "FolderIds"))) {
    auto r = resolve_folder(ctx, id);
    if (auto* e = std::get_if<EwsError>(&r)) {
      add_response_message(messages, "SubscribeResponseMessage", e->code, e->message);
      return;
    }
    auto [m, folder] = std::get<std::pair<Mailbox*, FolderKind>>(r);
    mb = m;
    sub.folders.insert(folder);
  }
  if (!mb) {
    add_response_message(messages, "SubscribeResponseMessage", "ErrorNonExistentMailbox",
                         "The account has no mailbox of its own: use ExchangeImpersonation.");
    return;
  }
  for (pugi::xml_node t : children(child(req, "EventTypes"), "EventType")) {
    sub.event_types.insert(t.text().as_string());
  }
  sub.mailbox = mb->index;
  sub.last_seq = mb->seq;
  sub.last_read = now;
  if (sub.kind == Subscription::Kind::kPull) {
    // Timeout: 1..1440 minutes (types.xsd SubscriptionTimeoutType).
    int timeout = child(req, "Timeout").text().as_int(0);
    if (timeout < 1 || timeout > 1440) {
      add_response_message(messages, "SubscribeResponseMessage", "ErrorInvalidSubscriptionRequest",
                           "Timeout must be 1 to 1440 minutes.");
      return;
    }
    sub.timeout = std::chrono::minutes(timeout);
    sub.expires = now + sub.timeout;
    // A Watermark from an earlier subscription resumes from there.
    if (pugi::xml_node w = child(req, "Watermark")) {
      auto seq = decode_watermark(w.text().as_string());
      if (!seq || *seq > mb->seq) {
        add_response_message(messages, "SubscribeResponseMessage", "ErrorInvalidWatermark",
                             "The watermark is invalid.");
        return;
      }
      sub.last_seq = *seq;
    }
  }
  sub.id = base64_encode(random_bytes(24));
  pugi::xml_node msg = add_response_message(messages, "SubscribeResponseMessage");
  add_text(msg, "m:SubscriptionId", sub.id);
  if (sub.kind == Subscription::Kind::kPull)
    add_text(msg, "m:Watermark", encode_watermark(sub.last_seq));
  ctx.subscriptions.all()[sub.id] = sub;
}

void handle_unsubscribe(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("Unsubscribe");
  std::string id = child_text(ctx.request, "SubscriptionId");
  auto it = ctx.subscriptions.all().find(id);
  // A subscription lives on the Mailbox server that created it; elsewhere it is not found.
  if (it == ctx.subscriptions.all().end() || it->second.owner != ctx.account.user ||
      (ctx.config.server_affinity && it->second.server != ctx.server)) {
    add_response_message(messages, "UnsubscribeResponseMessage", "ErrorSubscriptionNotFound",
                         "The specified subscription was not found.");
    return;
  }
  ctx.subscriptions.all().erase(it);
  add_response_message(messages, "UnsubscribeResponseMessage");
}

namespace {

const char* event_element(ChangeEvent::Kind k) {
  switch (k) {
    case ChangeEvent::Kind::kCreated:
      return "t:CreatedEvent";
    case ChangeEvent::Kind::kModified:
      return "t:ModifiedEvent";
    case ChangeEvent::Kind::kDeleted:
      return "t:DeletedEvent";
  }
  return "t:ModifiedEvent";
}

const char* event_type_name(ChangeEvent::Kind k) {
  switch (k) {
    case ChangeEvent::Kind::kCreated:
      return "CreatedEvent";
    case ChangeEvent::Kind::kModified:
      return "ModifiedEvent";
    case ChangeEvent::Kind::kDeleted:
      return "DeletedEvent";
  }
  return "ModifiedEvent";
}

}  // namespace

bool subscribed_to(const Subscription& sub, const ChangeEvent& e) {
  if (!sub.folders.empty() && !sub.folders.count(e.folder)) return false;
  return sub.event_types.empty() || sub.event_types.count(event_type_name(e.kind));
}

void append_event(pugi::xml_node parent, const Mailbox& mb, const ChangeEvent& e) {
  pugi::xml_node ev = parent.append_child(event_element(e.kind));
  add_text(ev, "t:Watermark", encode_watermark(e.seq));
  add_text(ev, "t:TimeStamp", format_utc(e.when));
  pugi::xml_node item = ev.append_child("t:ItemId");
  item.append_attribute("Id") = encode_item_id({mb.index, e.item, std::nullopt}).c_str();
  auto live = mb.items.find(e.item);
  item.append_attribute("ChangeKey") =
      encode_change_key(e.item, live == mb.items.end() ? 0 : live->second.version).c_str();
  pugi::xml_node folder = ev.append_child("t:ParentFolderId");
  folder.append_attribute("Id") = encode_folder_id(mb.index, e.folder).c_str();
  folder.append_attribute("ChangeKey") = "AQAAAA==";
}

}  // namespace exsim
