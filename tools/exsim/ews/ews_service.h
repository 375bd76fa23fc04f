#pragma once
/// The EWS endpoint behind /EWS/Exchange.asmx: reads the SOAP headers (RequestServerVersion,
/// ExchangeImpersonation, TimeZoneContext), dispatches the operation and writes the envelope.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exsim/ews/find_count_budget.h"
#include "exsim/ews/hanging_connections.h"
#include "exsim/ews/mailbox_servers.h"
#include "exsim/ews/request_concurrency.h"
#include "exsim/server/config.h"
#include "exsim/store/ids.h"
#include "exsim/store/store.h"

namespace exsim {

class Subscriptions;

/// A reply: either a complete body, or a long-lived stream (GetStreamingEvents).
struct EwsReply {
  int status = 200;
  std::string body;
  std::string operation;  // for traces ("" when the request had none)
  /// Set for streaming replies: writes chunks through `write` until it returns false. Returns
  /// false when the connection must be dropped without ending the response (a server restart).
  std::function<bool(const std::function<bool(const std::string&)>& write)> stream;
  /// A Set-Cookie header value to answer with (X-BackEndOverrideCookie), or empty.
  std::string set_cookie;
  /// The request's budget charges (EWSMaxConcurrency, EWSFindCountLimit): keep the reply
  /// until its response is handed back, then they are released.
  std::vector<std::shared_ptr<void>> holds;
};

/// Handles EWS SOAP requests for authenticated accounts.
class EwsService {
 public:
  EwsService(Store& store, const ServerConfig& config, Subscriptions& subscriptions);
  /// Handles one request; `routing` holds its affinity headers (mailbox_servers.h).
  /// `latency` (injected) is spent once the request counts as in flight.
  EwsReply handle(const AccountConfig& account, std::string_view body,
                  const RoutingHeaders& routing = {},
                  std::chrono::milliseconds latency = std::chrono::milliseconds(0));
  const SyncStateCodec& sync_states() const { return sync_states_; }
  MailboxServers& servers() { return servers_; }
  HangingConnections& hanging_connections() { return hanging_; }
  RequestConcurrency& concurrency() { return concurrency_; }
  FindCountBudget& find_count() { return find_count_; }

 private:
  Store& store_;
  const ServerConfig& config_;
  Subscriptions& subscriptions_;
  SyncStateCodec sync_states_;
  MailboxServers servers_;
  HangingConnections hanging_;
  RequestConcurrency concurrency_;
  FindCountBudget find_count_;
};

}  // namespace exsim
