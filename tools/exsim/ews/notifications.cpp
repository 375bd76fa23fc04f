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
  if (sub.kind == Subscription::Kind::kPull) {
    // Timeout: 1..1440 minutes (types.xsd SubscriptionTimeoutType).
    int timeout = child(req, "Timeout").text().as_int(0);
    if (timeout < 1 || timeout > 1440) {
      add_response_message(messages, "SubscribeResponseMessage", "ErrorInvalidSubscriptionRequest",
                           "Timeout must be 1 to 1440 minutes.");
      return;
    }
    sub.timeout = std::chrono::minutes(timeout);
    sub.expires = std::chrono::steady_clock::now() + sub.timeout;
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
  if (it == ctx.subscriptions.all().end() || it->second.owner != ctx.account.user) {
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

namespace {

// Exchange writes each part of the stream as <Envelope xmlns="...soap..."> without an XML
// declaration; clients split the stream on that (ews-javascript-api looks for "<Envelope").
std::string as_stream_part(const std::string& envelope) {
  std::string_view text = envelope;
  if (text.starts_with("<?xml")) text.remove_prefix(text.find("?>") + 2);
  std::string open = std::string("<s:Envelope xmlns:s=\"") + kSoapNs + "\">";
  std::string close = "</s:Envelope>";
  if (!text.starts_with(open) || !text.ends_with(close)) return envelope;
  text.remove_prefix(open.size());
  text.remove_suffix(close.size());
  return std::string("<Envelope xmlns=\"") + kSoapNs + "\" xmlns:s=\"" + kSoapNs + "\">" +
         std::string(text) + "</Envelope>";
}

// One envelope: the pending events of every subscription (or none: a keep-alive), with the
// connection status. Caller holds the store mutex.
std::string batch(Subscriptions& subs, Store& store, const ServerConfig& config,
                  const std::vector<std::string>& ids, const char* status, bool& any_events) {
  SoapResponse response(config.version);
  pugi::xml_node messages = response.begin("GetStreamingEvents");
  pugi::xml_node msg = add_response_message(messages, "GetStreamingEventsResponseMessage");
  pugi::xml_node notifications;
  any_events = false;
  for (const std::string& id : ids) {
    auto it = subs.all().find(id);
    if (it == subs.all().end()) continue;
    Subscription& sub = it->second;
    Mailbox* mb = store.mailbox_at(sub.mailbox);
    if (!mb) continue;
    pugi::xml_node n;
    for (const ChangeEvent& e : mb->events) {
      if (e.seq <= sub.last_seq) continue;
      if (!subscribed_to(sub, e)) continue;
      if (!notifications) notifications = msg.append_child("m:Notifications");
      if (!n) {
        n = notifications.append_child("t:Notification");
        add_text(n, "t:SubscriptionId", sub.id);
      }
      append_event(n, *mb, e);
      any_events = true;
    }
    sub.last_seq = mb->seq;
  }
  add_text(msg, "m:ConnectionStatus", status);
  return as_stream_part(response.str());
}

}  // namespace

EwsReply streaming_events_reply(Subscriptions& subs, Store& store, const ServerConfig& config,
                                const AccountConfig& account, pugi::xml_node request) {
  std::vector<std::string> ids;
  for (pugi::xml_node id : element_children(child(request, "SubscriptionIds"))) {
    ids.push_back(id.text().as_string());
  }
  int timeout_minutes = child(request, "ConnectionTimeout").text().as_int(0);
  {
    std::lock_guard lock(store.mutex());
    SoapResponse response(config.version);
    pugi::xml_node messages = response.begin("GetStreamingEvents");
    bool bad = ids.empty() || timeout_minutes < 1 || timeout_minutes > 30;
    for (const std::string& id : ids) {
      auto it = subs.all().find(id);
      bad = bad || it == subs.all().end() || it->second.owner != account.user ||
            it->second.kind != Subscription::Kind::kStreaming;
    }
    if (bad) {
      add_response_message(
          messages, "GetStreamingEventsResponseMessage",
          ids.empty() || (timeout_minutes >= 1 && timeout_minutes <= 30)
              ? "ErrorInvalidSubscription"
              : "ErrorInvalidRequest",
          "The subscription is invalid, or ConnectionTimeout is not 1..30 minutes.");
      return EwsReply{200, response.str(), "GetStreamingEvents", nullptr};
    }
  }
  EwsReply reply;
  reply.operation = "GetStreamingEvents";
  int keepalive = config.streaming_keepalive_seconds;
  reply.stream = [&subs, &store, &config, ids, timeout_minutes,
                  keepalive](const std::function<bool(const std::string&)>& write) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(timeout_minutes);
    std::unique_lock lock(store.mutex());
    auto next_keepalive = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
      bool events = false;
      std::string chunk = batch(subs, store, config, ids, "OK", events);
      auto now = std::chrono::steady_clock::now();
      if (events || now >= next_keepalive) {
        lock.unlock();
        bool ok = write(chunk);
        lock.lock();
        if (!ok) return;
        next_keepalive = now + std::chrono::seconds(keepalive);
      }
      bool alive = false;
      for (const std::string& id : ids) alive = alive || subs.all().count(id);
      if (!alive) break;
      store.changed().wait_until(lock, std::min(deadline, next_keepalive));
    }
    bool events = false;
    std::string last = batch(subs, store, config, ids, "Closed", events);
    lock.unlock();
    write(last);
  };
  return reply;
}

}  // namespace exsim
