#include "exsim/graph/graph_subscriptions.h"

#include <algorithm>

#include <fmt/format.h>

#include "exsim/graph/graph_api.h"
#include "exsim/graph/graph_event_json.h"
#include "exsim/graph/graph_view.h"
#include "exsim/graph/graph_webhook.h"
#include "exsim/store/ids.h"
#include "web/query.h"

namespace exsim {
namespace {

using nlohmann::json;

// Exchange Online keeps subscriptions on Outlook resources at most 10,080 minutes.
constexpr std::chrono::minutes kMaxLifetime{10080};
// reauthorizationRequired goes out once when this little time is left.
constexpr std::chrono::minutes kReauthorizeBefore{10};

GraphReply not_found() {
  return GraphReply::error({404, "ResourceNotFound", "The object was not found."});
}

std::string rest_id(uint32_t mailbox, uint64_t item) {
  std::string id = encode_item_id({mailbox, item, std::nullopt});
  std::replace(id.begin(), id.end(), '+', '-');
  std::replace(id.begin(), id.end(), '/', '_');
  return id;
}

/// Characters (code points) of UTF-8 text: every byte that does not continue a sequence.
std::size_t utf8_length(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

GraphSubscriptions::GraphSubscriptions(Store& store, const GraphLimits& limits)
    : store_(store), limits_(limits), rate_(limits), delivery_(limits), worker_([this] {
        deliver_loop();
      }) {}

GraphSubscriptions::~GraphSubscriptions() {
  stopping_ = true;
  {
    std::lock_guard lock(store_.mutex());
    store_.changed().notify_all();
  }
  worker_.join();
}

json GraphSubscriptions::to_json(const Subscription& s) const {
  return {
      {"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity"},
      {"id", s.id},
      {"resource", s.resource},
      {"applicationId", s.app},
      {"changeType", s.change_types},
      {"clientState", s.client_state.empty() ? json(nullptr) : json(s.client_state)},
      {"notificationUrl", s.notification_url},
      {"lifecycleNotificationUrl", s.lifecycle_url.empty() ? json(nullptr) : json(s.lifecycle_url)},
      {"expirationDateTime", format_graph_stamp(s.expires)},
      {"creatorId", s.app},
      {"latestSupportedTlsVersion", "v1_2"},
      {"notificationContentType", "application/json"}};
}

std::optional<GraphReply> GraphSubscriptions::mailbox_full(uint32_t mailbox) const {
  if (!limits_.mailbox_subscription_cap) return std::nullopt;
  const auto held =
      std::count_if(subscriptions_.begin(), subscriptions_.end(),
                    [&](const auto& entry) { return entry.second.mailbox == mailbox; });
  if (static_cast<std::size_t>(held) < limits_.subscriptions_per_mailbox) return std::nullopt;
  // outlook-change-notifications-overview: "a maximum limit of 1000 active subscriptions for
  // Outlook resources per mailbox for all applications". Graph's subscription page gives 403
  // Forbidden for a quota; the reason text is what clients report Exchange Online writing
  // (some saw it with 429 and a Retry-After in the year 9999: not a wait, a wall).
  return GraphReply::error(
      {403, "ExtensionError",
       fmt::format("Operation: Create; Exception: [Status Code: Forbidden; Reason: Resource "
                   "'SubscriptionCountReached' has reached limit of '{}'.]",
                   limits_.subscriptions_per_mailbox)});
}

GraphReply GraphSubscriptions::create(const GraphRequest& request) {
  auto body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return GraphReply::error({400, "BadRequest", "Unable to read JSON request payload."});
  }
  Subscription s;
  s.resource = body.value("resource", "");
  s.change_types = body.value("changeType", "");
  s.notification_url = body.value("notificationUrl", "");
  s.lifecycle_url = body.value("lifecycleNotificationUrl", "");
  s.client_state = body.value("clientState", "");
  // learn.microsoft.com/graph/api/resources/subscription: clientState "The maximum length is
  // 128 characters." Microsoft documents no error text; Graph answers a malformed request
  // 400 (learn.microsoft.com/graph/errors).
  if (limits_.client_state_length && utf8_length(s.client_state) > limits_.client_state_max) {
    return GraphReply::error(
        {400, "InvalidRequest",
         fmt::format("clientState must be at most {} characters; this one has {}.",
                     limits_.client_state_max, utf8_length(s.client_state))});
  }
  s.tenant = request.claims.value("tid", "");
  s.app = request.claims.value("appid", "");
  auto expires = parse_date_time(body.value("expirationDateTime", ""));
  if (s.change_types.empty() || s.notification_url.empty() || s.resource.empty() || !expires) {
    return GraphReply::error({400, "InvalidRequest",
                              "changeType, notificationUrl, resource and expirationDateTime are "
                              "required."});
  }
  s.expires = expires->utc();
  if (s.expires <= store_.now() || s.expires > store_.now() + kMaxLifetime) {
    return GraphReply::error({400, "InvalidRequest",
                              "Subscription expiration can only be 10080 minutes in the future "
                              "and must not be in the past."});
  }
  std::string resource = s.resource;
  if (resource.starts_with('/')) resource.erase(0, 1);
  const std::string lowered = lower(resource);
  if (!lowered.starts_with("users/") ||
      !(lowered.ends_with("/events") || lowered.ends_with("/calendar/events"))) {
    return GraphReply::error({400, "InvalidRequest",
                              fmt::format("Resource '{}' is not supported: exsim takes "
                                          "users/{{id}}/events or users/{{id}}/calendar/events.",
                                          s.resource)});
  }
  if (!has_role(request.claims, "Calendars.Read")) {
    return GraphReply::error({403, "ExtensionError",
                              "Operation: Create; Exception: [Status Code: Forbidden; Reason: "
                              "The application needs Calendars.Read to subscribe to events.]"});
  }
  const std::string user = resource.substr(6, resource.find('/', 6) - 6);
  {
    std::lock_guard lock(store_.mutex());
    Mailbox* mb = find_graph_user(store_, user);
    if (!mb) {
      return GraphReply::error(
          {404, "ErrorInvalidUser", fmt::format("The requested user '{}' is invalid.", user)});
    }
    // Exchange Online cannot watch a mailbox it does not host.
    if (auto refused = mailbox_not_online(*mb)) return GraphReply::error(*refused);
    s.mailbox = mb->index;
    s.seen_seq = mb->seq;
  }
  {
    std::lock_guard lock(mutex_);
    if (auto full = mailbox_full(s.mailbox)) {
      ++refused_full_;
      return *full;
    }
  }
  // The validation handshake: the endpoint must echo the token within 10 seconds
  // (change-notifications-delivery-webhooks, "notificationUrl validation").
  for (const std::string& url : {s.notification_url, s.lifecycle_url}) {
    if (url.empty()) continue;
    const std::string token = fmt::format(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        base64_encode(random_bytes(9)));
    const char sep = url.find('?') == std::string::npos ? '?' : '&';
    WebhookAnswer answer = post_webhook(
        fmt::format("{}{}validationToken={}", url, sep, agendasync::web::percent_encode(token)), "",
        "text/plain; charset=utf-8", limits_.validation_timeout);
    {
      std::lock_guard lock(mutex_);
      max_validation_ = std::max(max_validation_, answer.elapsed);
    }
    if (!answer.ok || answer.status != 200 || answer.body != token) {
      std::lock_guard lock(mutex_);
      ++refused_validation_;
      return GraphReply::error(
          {400, "ValidationError",
           fmt::format(
               "Subscription validation request failed. Notification endpoint must "
               "respond with 200 OK to validation request (and echo the "
               "validationToken as text/plain within {} ms; this one {}): {}",
               limits_.validation_timeout.count(),
               answer.status == 0
                   ? fmt::format("gave no answer in {} ms", answer.elapsed.count())
                   : fmt::format("answered {} after {} ms", answer.status, answer.elapsed.count()),
               url)});
    }
  }
  s.id = fmt::format("{}-{}", graph_user_id(*store_.mailbox_at(s.mailbox)).substr(0, 8), [] {
    std::string hex;
    for (unsigned char c : random_bytes(12)) hex += fmt::format("{:02x}", c);
    return hex;
  }());
  std::lock_guard lock(mutex_);
  // Checked again: other creations for the mailbox may have finished during the validation.
  if (auto full = mailbox_full(s.mailbox)) {
    ++refused_full_;
    return *full;
  }
  auto& stored = subscriptions_[s.id] = s;
  return GraphReply::json(201, to_json(stored));
}

GraphReply GraphSubscriptions::handle(const GraphRequest& request,
                                      const std::vector<std::string>& rest) {
  const std::string& m = request.method;
  // The subscription service's rates are counted before anything else is looked at, as a
  // front door would (throttling-limits#subscription-service-limits).
  if (auto refusal = rate_.admit(request.claims.value("tid", ""), request.claims.value("appid", ""),
                                 m != "GET")) {
    GraphReply reply = GraphReply::error(
        {429, "TooManyRequests",
         fmt::format("Too many requests under category: subscriptionservice ({}). Please try "
                     "again later.",
                     refusal->limit)});
    reply.headers.emplace_back("Retry-After", std::to_string(refusal->retry_after.count()));
    return reply;
  }
  if (rest.empty() && m == "GET") {
    std::lock_guard lock(mutex_);
    json value = json::array();
    for (const auto& [id, s] : subscriptions_) value.push_back(to_json(s));
    return GraphReply::json(200, {{"value", value}});
  }
  if (rest.empty() && m == "POST") return create(request);
  if (rest.empty())
    return GraphReply::error({405, "BadRequest", "Use GET or POST on /subscriptions."});
  std::lock_guard lock(mutex_);
  auto it = subscriptions_.find(rest[0]);
  if (it == subscriptions_.end()) return not_found();
  if (rest.size() == 2 && rest[1] == "reauthorize" && m == "POST") {
    GraphReply reply;
    reply.status = 204;
    return reply;
  }
  if (rest.size() != 1) return not_found();
  if (m == "GET") return GraphReply::json(200, to_json(it->second));
  if (m == "DELETE") {
    subscriptions_.erase(it);
    GraphReply reply;
    reply.status = 204;
    return reply;
  }
  if (m == "PATCH") {
    auto body = json::parse(request.body, nullptr, false);
    auto expires =
        body.is_object() ? parse_date_time(body.value("expirationDateTime", "")) : std::nullopt;
    if (!expires || expires->utc() <= store_.now() ||
        expires->utc() > store_.now() + kMaxLifetime) {
      return GraphReply::error({400, "InvalidRequest",
                                "expirationDateTime must be in the future and at most 10080 "
                                "minutes away."});
    }
    it->second.expires = expires->utc();
    reauthorize_sent_.erase(it->first);
    return GraphReply::json(200, to_json(it->second));
  }
  return GraphReply::error({405, "BadRequest", "Use GET, PATCH or DELETE on a subscription."});
}

bool GraphSubscriptions::send_lifecycle(const std::string& id, const std::string& event) {
  std::string url;
  json body;
  {
    std::lock_guard lock(mutex_);
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end() || it->second.lifecycle_url.empty()) return false;
    url = it->second.lifecycle_url;
    body = {{"value",
             {{{"subscriptionId", id},
               {"subscriptionExpirationDateTime", format_graph_stamp(it->second.expires)},
               {"tenantId", it->second.tenant},
               {"clientState", it->second.client_state},
               {"lifecycleEvent", event}}}}};
  }
  return post_webhook(url, body.dump(), "application/json", limits_.notification_timeout).ok;
}

json GraphSubscriptions::stats() {
  json out = delivery_.stats();
  std::lock_guard lock(mutex_);
  out["subscriptions"] = subscriptions_.size();
  out["refused_rate"] = rate_.refused();
  out["refused_mailbox_full"] = refused_full_;
  out["refused_validation"] = refused_validation_;
  out["max_validation_ms"] = max_validation_.count();
  return out;
}

void GraphSubscriptions::deliver_loop() {
  while (!stopping_) {
    {
      std::unique_lock store_lock(store_.mutex());
      store_.changed().wait_for(store_lock, std::chrono::milliseconds(250));
      if (stopping_) return;
      std::lock_guard lock(mutex_);
      const Seconds now = store_.now();
      auto lifecycle = [&](const Subscription& s, const char* event) {
        return json{{"subscriptionId", s.id},
                    {"subscriptionExpirationDateTime", format_graph_stamp(s.expires)},
                    {"tenantId", s.tenant},
                    {"clientState", s.client_state},
                    {"lifecycleEvent", event}};
      };
      for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
        Subscription& s = it->second;
        if (s.expires <= now) {
          if (!s.lifecycle_url.empty()) {
            delivery_.queue(s.lifecycle_url, lifecycle(s, "subscriptionRemoved"));
          }
          reauthorize_sent_.erase(s.id);
          it = subscriptions_.erase(it);
          continue;
        }
        if (!s.lifecycle_url.empty() && s.expires - now <= kReauthorizeBefore &&
            reauthorize_sent_.insert(s.id).second) {
          delivery_.queue(s.lifecycle_url, lifecycle(s, "reauthorizationRequired"));
        }
        Mailbox* mb = store_.mailbox_at(s.mailbox);
        if (!mb || mb->seq <= s.seen_seq) {
          ++it;
          continue;
        }
        const std::string user = graph_user_id(*mb);
        for (const ChangeEvent& e : mb->events) {
          if (e.seq <= s.seen_seq) continue;
          s.seen_seq = e.seq;
          if (e.folder != FolderKind::kCalendar) continue;
          const char* type = e.kind == ChangeEvent::Kind::kCreated    ? "created"
                             : e.kind == ChangeEvent::Kind::kModified ? "updated"
                                                                      : "deleted";
          if (lower(s.change_types).find(type) == std::string::npos) continue;
          const std::string id = rest_id(s.mailbox, e.item);
          const std::string resource = fmt::format("Users/{}/Events/{}", user, id);
          json data = {
              {"@odata.type", "#Microsoft.Graph.Event"}, {"@odata.id", resource}, {"id", id}};
          if (auto item = mb->items.find(e.item); item != mb->items.end()) {
            data["@odata.etag"] = event_etag(item->second);
          }
          // Several pending changes, of this or other subscriptions with the same URL, go out
          // in one POST (graph_delivery.h).
          delivery_.queue(
              s.notification_url,
              {{"subscriptionId", s.id},
               {"subscriptionExpirationDateTime", format_graph_stamp(s.expires)},
               {"changeType", type},
               {"resource", resource},
               {"resourceData", data},
               {"clientState", s.client_state.empty() ? json(nullptr) : json(s.client_state)},
               {"tenantId", s.tenant}});
        }
        s.seen_seq = std::max(s.seen_seq, mb->seq);
        ++it;
      }
    }
    delivery_.deliver_due();
  }
}

}  // namespace exsim
