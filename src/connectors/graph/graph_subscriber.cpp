#include "connectors/graph/graph_subscriber.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "connectors/graph/errors.h"
#include "connectors/graph/graph_time.h"
#include "connectors/graph/url.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;

/// The expiry in a subscription Graph answered with; `fallback` when it is missing.
std::chrono::sys_seconds expiry_of(const json& subscription, std::chrono::sys_seconds fallback) {
  if (!subscription.is_object() || !subscription.contains("expirationDateTime") ||
      !subscription["expirationDateTime"].is_string()) {
    return fallback;
  }
  auto parsed = parse_date_time(subscription["expirationDateTime"].get<std::string>());
  if (!parsed) return fallback;
  return std::chrono::sys_seconds(parsed->time_since_epoch());
}

}  // namespace

Subscriber::Subscriber(net::HttpClient& http, net::Credentials credentials,
                       SubscriberOptions options)
    : http_(http), credentials_(std::move(credentials)), options_(std::move(options)) {}

Result<net::Response> Subscriber::send(const std::string& method, const std::string& url,
                                       std::string body, bool retry_allowed) {
  net::Request request;
  request.method = method;
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  request.retry_allowed = retry_allowed;
  return http_.send(request, credentials_);
}

Result<Subscription> Subscriber::create(const std::string& mailbox, const Secret& client_state,
                                        std::chrono::sys_seconds expires) {
  // The resource is a path inside the JSON, not a URL: the address goes in unencoded, as
  // Graph's own examples write users/{id | userPrincipalName}/events.
  json body = {
      {"changeType", "created,updated,deleted"},     {"notificationUrl", options_.notification_url},
      {"resource", "/users/" + mailbox + "/events"}, {"expirationDateTime", format_utc(expires)},
      {"clientState", client_state.reveal()},        {"latestSupportedTlsVersion", "v1_2"}};
  if (!options_.lifecycle_url.empty()) body["lifecycleNotificationUrl"] = options_.lifecycle_url;
  auto response = send("POST", options_.base_url + "/subscriptions", body.dump(), false);
  if (!response) return std::unexpected(response.error());
  if (response->status != 201 && response->status != 200) {
    Error error = graph_error(
        *response, fmt::format("creating the change-notification subscription for {}", mailbox));
    if (error.protocol_code == "ValidationError") {
      error.message += fmt::format(
          ": Microsoft Graph could not reach {} (it must answer the validation request within "
          "10 s); check [server] public_url and that this address is reachable from the "
          "internet over HTTPS",
          options_.notification_url);
    }
    return std::unexpected(std::move(error));
  }
  auto created = json::parse(response->body, nullptr, false);
  if (!created.is_object() || !created.contains("id") || !created["id"].is_string()) {
    return fail(ErrorKind::kTransient,
                fmt::format("Graph answered the subscription for {} without an id", mailbox));
  }
  return Subscription{created["id"].get<std::string>(), expiry_of(created, expires)};
}

Result<std::chrono::sys_seconds> Subscriber::renew(const std::string& id,
                                                   std::chrono::sys_seconds expires) {
  json body = {{"expirationDateTime", format_utc(expires)}};
  auto response =
      send("PATCH", options_.base_url + "/subscriptions/" + url_encode(id), body.dump(), true);
  if (!response) return std::unexpected(response.error());
  if (response->status < 200 || response->status > 299) {
    return std::unexpected(
        graph_error(*response, fmt::format("renewing change-notification subscription {}", id)));
  }
  return expiry_of(json::parse(response->body, nullptr, false), expires);
}

Result<void> Subscriber::remove(const std::string& id) {
  auto response = send("DELETE", options_.base_url + "/subscriptions/" + url_encode(id), {}, true);
  if (!response) return std::unexpected(response.error());
  if (response->status == 404) return {};  // gone already: what we wanted
  if (response->status < 200 || response->status > 299) {
    return std::unexpected(
        graph_error(*response, fmt::format("deleting change-notification subscription {}", id)));
  }
  return {};
}

}  // namespace agendasync::graph
