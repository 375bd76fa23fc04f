#include "exsim/graph/graph_subscriptions.h"

#include <algorithm>

#include <fmt/format.h>
#include <httplib.h>

#include "exsim/graph/graph_api.h"
#include "exsim/graph/graph_event_json.h"
#include "exsim/graph/graph_view.h"
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

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

bool post_to_url(const std::string& url, const std::string& body, const std::string& content_type,
                 int timeout_seconds, std::string* response) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = lower(url.substr(0, scheme_end));
  const size_t path_at = url.find('/', scheme_end + 3);
  const std::string authority = url.substr(
      scheme_end + 3, path_at == std::string::npos ? std::string::npos : path_at - scheme_end - 3);
  const std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
  std::string host = authority;
  int port = scheme == "https" ? 443 : 80;
  if (size_t colon = authority.rfind(':');
      colon != std::string::npos && authority.find(']') == std::string::npos) {
    host = authority.substr(0, colon);
    port = std::atoi(authority.c_str() + colon + 1);
  }
  // exsim only ever calls back into the test machine.
  if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") return false;
  if (host == "localhost") host = "127.0.0.1";
  std::unique_ptr<httplib::ClientImpl> client;
  if (scheme == "https") {
    auto tls = std::make_unique<httplib::SSLClient>(host, port);
    tls->enable_server_certificate_verification(false);
    client = std::move(tls);
  } else if (scheme == "http") {
    client = std::make_unique<httplib::ClientImpl>(host, port);
  } else {
    return false;
  }
  client->set_connection_timeout(timeout_seconds, 0);
  client->set_read_timeout(timeout_seconds, 0);
  client->set_write_timeout(timeout_seconds, 0);
  auto result = client->Post(path, body, content_type);
  if (!result) return false;
  if (response) *response = result->body;
  return result->status >= 200 && result->status <= 299;
}

GraphSubscriptions::GraphSubscriptions(Store& store)
    : store_(store), worker_([this] { deliver_loop(); }) {}

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

GraphReply GraphSubscriptions::handle(const GraphRequest& request,
                                      const std::vector<std::string>& rest) {
  const std::string& m = request.method;
  if (rest.empty() && m == "GET") {
    std::lock_guard lock(mutex_);
    json value = json::array();
    for (const auto& [id, s] : subscriptions_) value.push_back(to_json(s));
    return GraphReply::json(200, {{"value", value}});
  }
  if (rest.empty() && m == "POST") {
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
      s.mailbox = mb->index;
      s.seen_seq = mb->seq;
    }
    // The validation handshake: the endpoint must echo the token within 10 seconds.
    for (const std::string& url : {s.notification_url, s.lifecycle_url}) {
      if (url.empty()) continue;
      const std::string token = fmt::format(
          "Validation: Testing client application reachability for subscription Request-Id: {}",
          base64_encode(random_bytes(9)));
      std::string echoed;
      const char sep = url.find('?') == std::string::npos ? '?' : '&';
      if (!post_to_url(fmt::format("{}{}validationToken={}", url, sep,
                                   agendasync::web::percent_encode(token)),
                       "", "text/plain; charset=utf-8", 10, &echoed) ||
          echoed != token) {
        return GraphReply::error(
            {400, "ValidationError",
             fmt::format("Subscription validation request failed. Notification endpoint must "
                         "respond with 200 OK to validation request (and echo the "
                         "validationToken as text/plain within 10 seconds): {}",
                         url)});
      }
    }
    s.id = fmt::format("{}-{}", graph_user_id(*store_.mailbox_at(s.mailbox)).substr(0, 8), [] {
      std::string hex;
      for (unsigned char c : random_bytes(12)) hex += fmt::format("{:02x}", c);
      return hex;
    }());
    std::lock_guard lock(mutex_);
    auto& stored = subscriptions_[s.id] = s;
    return GraphReply::json(201, to_json(stored));
  }
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
  return post_to_url(url, body.dump(), "application/json", 10, nullptr);
}

void GraphSubscriptions::deliver_loop() {
  while (!stopping_) {
    struct Delivery {
      std::string url;
      json body;
    };
    std::vector<Delivery> deliveries;
    std::vector<std::pair<std::string, std::string>> lifecycle;  // id, event
    {
      std::unique_lock store_lock(store_.mutex());
      store_.changed().wait_for(store_lock, std::chrono::milliseconds(250));
      if (stopping_) return;
      std::lock_guard lock(mutex_);
      const Seconds now = store_.now();
      for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
        Subscription& s = it->second;
        if (s.expires <= now) {
          if (!s.lifecycle_url.empty()) {
            deliveries.push_back(
                {s.lifecycle_url,
                 {{"value",
                   {{{"subscriptionId", s.id},
                     {"subscriptionExpirationDateTime", format_graph_stamp(s.expires)},
                     {"tenantId", s.tenant},
                     {"clientState", s.client_state},
                     {"lifecycleEvent", "subscriptionRemoved"}}}}}});
          }
          reauthorize_sent_.erase(s.id);
          it = subscriptions_.erase(it);
          continue;
        }
        if (!s.lifecycle_url.empty() && s.expires - now <= kReauthorizeBefore &&
            reauthorize_sent_.insert(s.id).second) {
          lifecycle.emplace_back(s.id, "reauthorizationRequired");
        }
        Mailbox* mb = store_.mailbox_at(s.mailbox);
        json value = json::array();
        const std::string user = mb ? graph_user_id(*mb) : std::string();
        for (const ChangeEvent& e : mb ? mb->events : std::deque<ChangeEvent>{}) {
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
          value.push_back(
              {{"subscriptionId", s.id},
               {"subscriptionExpirationDateTime", format_graph_stamp(s.expires)},
               {"changeType", type},
               {"resource", resource},
               {"resourceData", data},
               {"clientState", s.client_state.empty() ? json(nullptr) : json(s.client_state)},
               {"tenantId", s.tenant}});
        }
        if (!value.empty()) deliveries.push_back({s.notification_url, {{"value", value}}});
        ++it;
      }
    }
    for (const Delivery& d : deliveries) {
      post_to_url(d.url, d.body.dump(), "application/json", 10, nullptr);
    }
    for (const auto& [id, event] : lifecycle) send_lifecycle(id, event);
  }
}

}  // namespace exsim
