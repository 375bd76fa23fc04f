#include "exsim/ews/ews_service.h"

#include <algorithm>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "exsim/ews/notifications.h"
#include "exsim/ews/operation.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

using Handler = void (*)(OperationContext&);

const std::map<std::string_view, Handler>& handlers() {
  static const std::map<std::string_view, Handler> kHandlers = {
      {"GetFolder", handle_get_folder},
      {"FindFolder", handle_find_folder},
      {"CreateItem", handle_create_item},
      {"GetItem", handle_get_item},
      {"UpdateItem", handle_update_item},
      {"DeleteItem", handle_delete_item},
      {"FindItem", handle_find_item},
      {"SyncFolderItems", handle_sync_folder_items},
      {"ResolveNames", handle_resolve_names},
      {"ConvertId", handle_convert_id},
      {"GetServerTimeZones", handle_get_server_time_zones},
      {"Subscribe", handle_subscribe},
      {"Unsubscribe", handle_unsubscribe},
      {"GetEvents", handle_get_events},
  };
  return kHandlers;
}

EwsReply fault_reply(const SoapFault& f, const ServerVersion* v, std::string operation) {
  return EwsReply{f.http_status, fault_envelope(f, v), std::move(operation), nullptr, "", {}};
}

SoapFault fault(std::string code, std::string message) {
  return SoapFault{std::move(code), std::move(message), {}, {}, 500};
}

}  // namespace

EwsService::EwsService(Store& store, const ServerConfig& config, Subscriptions& subscriptions)
    : store_(store),
      config_(config),
      subscriptions_(subscriptions),
      sync_states_(config.state_key.empty() ? random_bytes(32) : config.state_key),
      servers_(config),
      hanging_(config.hanging_connection_limit),
      concurrency_(config.ews_max_concurrency),
      find_count_(static_cast<size_t>(std::max(0, config.ews_find_count_limit)),
                  static_cast<size_t>(std::max(0, config.ews_find_count_limit_restricted))) {}

EwsReply EwsService::handle(const AccountConfig& account, std::string_view body,
                            const RoutingHeaders& routing, std::chrono::milliseconds latency) {
  auto parsed = parse_soap_request(body);
  if (auto* f = std::get_if<SoapFault>(&parsed)) return fault_reply(*f, nullptr, "");
  SoapRequest& req = std::get<SoapRequest>(parsed);
  std::string op(local_name(req.operation));

  int request_version = 0;
  if (pugi::xml_node rsv = child(req.header, "RequestServerVersion")) {
    std::string value = rsv.attribute("Version").as_string();
    auto rank = request_version_rank(value);
    // Exchange answers values it does not know (e.g. "Exchange2019", which clients try first)
    // exactly like versions newer than itself, so that clients can step down.
    if (!rank || *rank > config_.version.api_rank) {
      return fault_reply(
          fault("ErrorInvalidServerVersion", "The specified server version is invalid."), nullptr,
          op);
    }
    request_version = *rank;
  }

  pugi::xml_node imp = child(req.header, "ExchangeImpersonation");
  std::string address;
  if (imp) {
    pugi::xml_node sid = child(imp, "ConnectingSID");
    address = child_text(sid, "PrimarySmtpAddress");
    if (address.empty()) address = child_text(sid, "SmtpAddress");
    if (address.empty()) address = child_text(sid, "PrincipalName");
  }
  // The account the budgets are charged to; an impersonation the caller may not use is
  // charged to the caller.
  std::string budget = budget_key(account, account.impersonation ? address : "");
  // EWSMaxConcurrency: the request is in flight from here until its response is handed back.
  // GetStreamingEvents is charged to HangingConnectionLimit instead (streaming_events.cpp).
  std::vector<std::shared_ptr<void>> holds;
  if (op != "GetStreamingEvents") {
    auto lease = concurrency_.acquire(budget);
    if (!lease) {
      // learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
      // (table 3: ErrorExceededConnectionCount for EWSMaxConcurrency).
      return fault_reply(fault("ErrorExceededConnectionCount",
                               "You have exceeded the available concurrent connections for your "
                               "account. Try again once your other requests have completed."),
                         &config_.version, op);
    }
    holds.push_back(std::move(lease));
  }
  if (latency.count() > 0) std::this_thread::sleep_for(latency);

  // Every request lands on one simulated Mailbox server; only notification subscriptions care
  // which (the Client Access role proxies everything else).
  Route route = servers_.route(routing, account.user);
  std::unique_lock lock(store_.mutex());
  Mailbox* principal = on_premises_mailbox(store_, account.user);
  if (imp) {
    if (!account.impersonation) {
      return fault_reply(fault("ErrorImpersonateUserDenied",
                               "The account does not have permission to impersonate the requested "
                               "user. Grant it the ApplicationImpersonation role."),
                         &config_.version, op);
    }
    principal = on_premises_mailbox(store_, address);
    if (!principal) {
      return fault_reply(fault("ErrorNonExistentMailbox", no_mailbox_message(address)),
                         &config_.version, op);
    }
  }

  TimeContext time;
  if (pugi::xml_node tzc = child(req.header, "TimeZoneContext")) {
    time.zone = Zone::from_element(child(tzc, "TimeZoneDefinition"));
    time.zone_definition = child(tzc, "TimeZoneDefinition");
  }

  if (op == "GetStreamingEvents") {
    lock.unlock();
    EwsReply reply = streaming_events_reply(
        StreamingCall{subscriptions_, store_, config_, hanging_, account, route.server, budget},
        req.operation);
    reply.set_cookie = route.set_cookie;
    return reply;
  }
  auto it = handlers().find(op);
  if (it == handlers().end()) {
    SoapFault f = fault("ErrorInvalidRequest",
                        fmt::format("The request is invalid. exsim does not implement the "
                                    "operation '{}'.",
                                    op));
    return fault_reply(f, &config_.version, op);
  }
  SoapResponse response(config_.version);
  OperationContext ctx{store_, config_,       sync_states_, subscriptions_, account,      principal,
                       time,   req.operation, response,     std::nullopt,   route.server, budget};
  ctx.request_version = request_version;
  ctx.find_count = &find_count_;
  it->second(ctx);
  for (auto& hold : ctx.holds) holds.push_back(std::move(hold));
  if (ctx.fault) {
    EwsReply reply = fault_reply(*ctx.fault, nullptr, op);
    reply.holds = std::move(holds);
    return reply;
  }
  return EwsReply{200, response.str(), op, nullptr, route.set_cookie, std::move(holds)};
}

}  // namespace exsim
