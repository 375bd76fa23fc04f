// GetStreamingEvents: checks the request against Exchange's limits (ConnectionTimeout 1..30,
// at most 200 subscription ids, the HangingConnectionLimit of the charged account), answers ids
// the routed Mailbox server does not hold in ErrorSubscriptionIds, and streams the others'
// events as chunked envelopes until ConnectionTimeout, a restart of the server, or the end of
// every subscription.
// References:
// learn.microsoft.com/exchange/client-developer/web-service-reference/getstreamingevents-operation
// learn.microsoft.com/exchange/client-developer/web-service-reference/errorsubscriptionids
// learn.microsoft.com/exchange/client-developer/web-service-reference/connectiontimeout
// learn.microsoft.com/exchange/client-developer/exchange-web-services/handling-notification-related-errors-in-ews-in-exchange
// learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>

#include <fmt/format.h>

#include "exsim/ews/hanging_connections.h"
#include "exsim/ews/notifications.h"
#include "exsim/ews/soap.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kMessage = "GetStreamingEventsResponseMessage";

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

// A whole response of one error message; `ids` go in ErrorSubscriptionIds (after the
// ResponseMessageType elements, before ConnectionStatus, as messages.xsd orders them).
std::string error_envelope(const ServerConfig& config, std::string_view code, std::string_view text,
                           const std::vector<std::string>& ids, const char* status) {
  SoapResponse response(config.version);
  pugi::xml_node msg =
      add_response_message(response.begin("GetStreamingEvents"), kMessage, code, text);
  if (!ids.empty()) {
    pugi::xml_node list = msg.append_child("m:ErrorSubscriptionIds");
    for (const std::string& id : ids) add_text(list, "t:SubscriptionId", id);
  }
  if (status) add_text(msg, "m:ConnectionStatus", status);
  return response.str();
}

// An answer given at once: one part in the stream's own form, as clients read every
// GetStreamingEvents answer (ews-javascript-api only parses "<Envelope" parts).
EwsReply answer(const std::string& envelope) {
  return EwsReply{200, as_stream_part(envelope), "GetStreamingEvents", nullptr, "", {}};
}

// The first event of `mb` after `seq` (events are kept in sequence order).
std::deque<ChangeEvent>::const_iterator events_after(const Mailbox& mb, uint64_t seq) {
  return std::upper_bound(mb.events.begin(), mb.events.end(), seq,
                          [](uint64_t s, const ChangeEvent& e) { return s < e.seq; });
}

// Whether any of `ids` has undelivered events. Caller holds the store mutex.
bool pending(Subscriptions& subs, Store& store, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    auto it = subs.all().find(id);
    if (it == subs.all().end()) continue;
    Mailbox* mb = store.mailbox_at(it->second.mailbox);
    if (mb && mb->seq > it->second.last_seq) return true;
  }
  return false;
}

// One envelope: the pending events of every subscription (or none: a keep-alive), with the
// connection status. Events lost on purpose (admin drop-events) are skipped and mark their
// subscription for ErrorMissedNotificationEvents. Caller holds the store mutex.
std::string batch(Subscriptions& subs, Store& store, const ServerConfig& config,
                  const std::vector<std::string>& ids, const char* status, bool& any_events) {
  SoapResponse response(config.version);
  pugi::xml_node msg = add_response_message(response.begin("GetStreamingEvents"), kMessage);
  pugi::xml_node notifications;
  any_events = false;
  for (const std::string& id : ids) {
    auto it = subs.all().find(id);
    if (it == subs.all().end()) continue;
    Subscription& sub = it->second;
    Mailbox* mb = store.mailbox_at(sub.mailbox);
    if (!mb) continue;
    pugi::xml_node n;
    for (auto e = events_after(*mb, sub.last_seq); e != mb->events.end(); ++e) {
      if (!subscribed_to(sub, *e)) continue;
      if (subs.lost(sub.mailbox, e->seq)) {
        sub.missed_events = true;
        continue;
      }
      if (!notifications) notifications = msg.append_child("m:Notifications");
      if (!n) {
        n = notifications.append_child("t:Notification");
        add_text(n, "t:SubscriptionId", sub.id);
      }
      append_event(n, *mb, *e);
      any_events = true;
    }
    sub.last_seq = mb->seq;
  }
  add_text(msg, "m:ConnectionStatus", status);
  return as_stream_part(response.str());
}

// Ids whose events were lost since the last look; clears their marks. Caller holds the lock.
std::vector<std::string> take_missed(Subscriptions& subs, const std::vector<std::string>& ids) {
  std::vector<std::string> missed;
  for (const std::string& id : ids) {
    auto it = subs.all().find(id);
    if (it == subs.all().end() || !it->second.missed_events) continue;
    it->second.missed_events = false;
    missed.push_back(id);
  }
  return missed;
}

// Counts this connection as reading `ids` (on = true) or no longer (on = false), so that an
// open connection keeps its subscriptions from expiring. Caller holds the lock.
void mark_read(Subscriptions& subs, const std::vector<std::string>& ids, bool on) {
  for (const std::string& id : ids) {
    auto it = subs.all().find(id);
    if (it == subs.all().end()) continue;
    it->second.open_connections += on ? 1 : -1;
    it->second.last_read = Clock::now();
  }
}

}  // namespace

bool opens_stream(std::string_view body) {
  constexpr std::string_view kName = "GetStreamingEvents";
  for (size_t at = body.find(kName); at != std::string_view::npos; at = body.find(kName, at + 1)) {
    // An element name: "<GetStreamingEvents" or "<prefix:GetStreamingEvents", then '>', '/' or
    // white space. Text cannot hold a '<', so a mention in an item body never matches.
    size_t end = at + kName.size();
    if (end >= body.size() || !(body[end] == '>' || body[end] == '/' ||
                                std::isspace(static_cast<unsigned char>(body[end])))) {
      continue;
    }
    size_t start = at;
    if (start > 0 && body[start - 1] == ':') {
      --start;
      while (start > 0 &&
             (std::isalnum(static_cast<unsigned char>(body[start - 1])) || body[start - 1] == '_' ||
              body[start - 1] == '-' || body[start - 1] == '.')) {
        --start;
      }
    }
    if (start > 0 && body[start - 1] == '<') return true;
  }
  return false;
}

EwsReply streaming_events_reply(const StreamingCall& call, pugi::xml_node request) {
  Subscriptions& subs = call.subscriptions;
  Store& store = call.store;
  const ServerConfig& config = call.config;
  std::vector<std::string> ids;
  for (pugi::xml_node id : element_children(child(request, "SubscriptionIds"))) {
    ids.push_back(id.text().as_string());
  }
  int timeout_minutes = child(request, "ConnectionTimeout").text().as_int(0);

  std::vector<std::string> held;
  std::vector<std::string> not_held;
  {
    std::lock_guard lock(store.mutex());
    subs.expire(Clock::now(), std::chrono::seconds(config.subscription_lifetime_seconds));
    // ConnectionTimeout: 1..30 minutes (types.xsd StreamingSubscriptionConnectionTimeoutType).
    if (timeout_minutes < 1 || timeout_minutes > 30) {
      return answer(error_envelope(config, "ErrorInvalidRequest",
                                   "ConnectionTimeout must be 1 to 30 minutes.", {}, "Closed"));
    }
    if (ids.empty()) {
      return answer(error_envelope(config, "ErrorInvalidSubscription",
                                   "The request names no subscription.", {}, "Closed"));
    }
    // "The maximum number of SubscriptionId values to include in a request is 200" (Maintain
    // affinity..., step 7). Microsoft names no error code for more; exsim answers
    // ErrorInvalidRequest.
    if (config.max_subscription_ids > 0 &&
        ids.size() > static_cast<size_t>(config.max_subscription_ids)) {
      return answer(error_envelope(
          config, "ErrorInvalidRequest",
          fmt::format("A GetStreamingEvents request may name at most {} subscriptions; this one "
                      "names {}.",
                      config.max_subscription_ids, ids.size()),
          {}, "Closed"));
    }
    for (const std::string& id : ids) {
      auto it = subs.all().find(id);
      // A subscription lives on the Mailbox server that created it: on any other one it is
      // not found ("Without affinity, the request might get routed to a different Mailbox
      // server that does not include the client's subscriptions, which can cause an
      // ErrorSubscriptionNotFound error"). Expired and forgotten ids read the same.
      if (it == subs.all().end() || (config.server_affinity && it->second.server != call.server)) {
        not_held.push_back(id);
        continue;
      }
      const Subscription& sub = it->second;
      // "EWS enforces that the subscriptions are owned by" the account opening the connection.
      if (sub.owner != call.account.user) {
        return answer(
            error_envelope(config, "ErrorSubscriptionAccessDenied",
                           "The subscription can only be accessed by the account that created it.",
                           {id}, "Closed"));
      }
      if (sub.kind != Subscription::Kind::kStreaming) {
        return answer(error_envelope(config, "ErrorInvalidSubscription",
                                     "The subscription is not a streaming subscription.", {id},
                                     "Closed"));
      }
      held.push_back(id);
    }
    if (held.empty()) {
      return answer(error_envelope(config, "ErrorSubscriptionNotFound",
                                   "The specified subscription was not found.", not_held,
                                   "Closed"));
    }
  }

  // HangingConnectionLimit: open streaming connections per charged account (3 on premises, 10
  // in Exchange Online), a budget apart from EWSMaxConcurrency. Microsoft's pages name the
  // error but show no response; exsim answers the SOAP fault Exchange uses for its other
  // connection budget (the same code and wording as MaxConcurrency's).
  std::shared_ptr<HangingConnections::Lease> lease =
      call.hanging.acquire(call.budget_key, call.server);
  if (!lease) {
    SoapFault f{"ErrorExceededConnectionCount",
                "You have exceeded the available concurrent connections for your account. Try "
                "again once your other requests have completed.",
                {},
                {},
                500};
    return EwsReply{500, fault_envelope(f, &config.version), "GetStreamingEvents", nullptr, "", {}};
  }

  // Ids the server does not hold come first, in an error part of their own; the others go on
  // streaming (clients drop only the subscriptions ErrorSubscriptionIds names).
  std::string first_part;
  if (!not_held.empty()) {
    first_part =
        as_stream_part(error_envelope(config, "ErrorSubscriptionNotFound",
                                      "The specified subscription was not found.", not_held, "OK"));
  }
  EwsReply reply;
  reply.operation = "GetStreamingEvents";
  int keepalive = config.streaming_keepalive_seconds;
  int server = call.server;
  uint64_t restarts = 0;
  {
    std::lock_guard lock(store.mutex());
    restarts = subs.restarts(server);
  }
  reply.stream = [&subs, &store, &config, held_at_open = held, first_part, timeout_minutes,
                  keepalive, server, restarts,
                  lease](const std::function<bool(const std::string&)>& write) {
    std::vector<std::string> held = held_at_open;
    auto deadline = Clock::now() + std::chrono::minutes(timeout_minutes);
    std::unique_lock lock(store.mutex());
    mark_read(subs, held, true);
    // One connection delivers a subscription's events: the newest. An older connection still
    // open (its client went away, or opened a new one for a new set of ids) must not take
    // them off the subscription into a socket nobody reads. Exchange answers the older one
    // ErrorNewEventStreamConnectionOpened (ResponseCodeType: a new event stream connection was
    // opened for the subscription, and the older connection closes;
    // https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode).
    static std::atomic<uint64_t> connections{0};
    const uint64_t me = ++connections;
    for (const std::string& id : held) {
      if (auto it = subs.all().find(id); it != subs.all().end()) it->second.stream_owner = me;
    }
    // Ids a newer connection took over: answered once and dropped from `held`.
    auto give_up_taken = [&]() -> std::vector<std::string> {
      std::vector<std::string> taken;
      std::erase_if(held, [&](const std::string& id) {
        auto it = subs.all().find(id);
        if (it == subs.all().end() || it->second.stream_owner == me) return false;
        taken.push_back(id);
        it->second.open_connections -= 1;
        return true;
      });
      return taken;
    };
    auto send = [&](const std::string& part) {
      lock.unlock();
      bool ok = write(part);
      lock.lock();
      return ok;
    };
    if (!first_part.empty() && !send(first_part)) {
      mark_read(subs, held, false);
      return true;
    }
    auto next_keepalive = Clock::now();
    bool gone = false;  // a write failed: the client is gone
    while (Clock::now() < deadline) {
      // A restarted server drops its connections: the client sees the stream break, not a
      // Closed status, and its subscriptions are gone.
      if (subs.restarts(server) != restarts || subs.stopping()) {
        mark_read(subs, held, false);
        return false;
      }
      if (auto taken = give_up_taken(); !taken.empty()) {
        const bool none_left = held.empty();
        std::string part = as_stream_part(error_envelope(
            config, "ErrorNewEventStreamConnectionOpened",
            "A new event stream connection was opened for the subscription; this connection no "
            "longer delivers its events.",
            taken, none_left ? "Closed" : "OK"));
        if (none_left) {
          send(part);
          return true;
        }
        if (!send(part)) {
          gone = true;
          break;
        }
      }
      auto now = Clock::now();
      // The lock is let go while a part is written: a change made meanwhile signalled nobody,
      // so after a write the loop looks again before it waits.
      bool wrote = false;
      if (pending(subs, store, held) || now >= next_keepalive) {
        bool events = false;
        std::string chunk = batch(subs, store, config, held, "OK", events);
        if (events || now >= next_keepalive) {
          if (!send(chunk)) {
            gone = true;
            break;
          }
          wrote = true;
          next_keepalive = now + std::chrono::seconds(keepalive);
        }
      }
      // Lost events: ErrorMissedNotificationEvents for the subscriptions that missed some
      // (clients keep those subscriptions and resynchronise).
      if (auto missed = take_missed(subs, held); !missed.empty()) {
        std::string part = as_stream_part(error_envelope(
            config, "ErrorMissedNotificationEvents",
            "Events were missed. Synchronize the folder and subscribe again.", missed, "OK"));
        if (!send(part)) {
          gone = true;
          break;
        }
        wrote = true;
      }
      bool alive = false;
      for (const std::string& id : held) alive = alive || subs.all().count(id);
      // Subscriptions gone because the server restarted while a part was being written (the
      // lock was let go): that is the broken stream above, not the end of a stream whose
      // subscriptions were removed.
      if (!alive && (subs.restarts(server) != restarts || subs.stopping())) {
        mark_read(subs, held, false);
        return false;
      }
      if (!alive) break;
      if (!wrote) store.changed().wait_until(lock, std::min(deadline, next_keepalive));
    }
    give_up_taken();
    for (const std::string& id : held) {
      if (auto it = subs.all().find(id); it != subs.all().end()) it->second.stream_owner = 0;
    }
    if (gone) {
      // Nobody reads this connection any more: its subscriptions keep their events for the
      // next one.
      mark_read(subs, held, false);
      return true;
    }
    bool events = false;
    std::string last = batch(subs, store, config, held, "Closed", events);
    mark_read(subs, held, false);
    send(last);
    return true;
  };
  return reply;
}

}  // namespace exsim
