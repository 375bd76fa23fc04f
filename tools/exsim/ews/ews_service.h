#pragma once
/// The EWS endpoint behind /EWS/Exchange.asmx: reads the SOAP headers (RequestServerVersion,
/// ExchangeImpersonation, TimeZoneContext), dispatches the operation and writes the envelope.
#include <functional>
#include <string>
#include <string_view>

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
  /// Set for streaming replies: writes chunks through `write` until it returns false.
  std::function<void(const std::function<bool(const std::string&)>& write)> stream;
};

/// Handles EWS SOAP requests for authenticated accounts.
class EwsService {
 public:
  EwsService(Store& store, const ServerConfig& config, Subscriptions& subscriptions);
  EwsReply handle(const AccountConfig& account, std::string_view body);
  const SyncStateCodec& sync_states() const { return sync_states_; }

 private:
  Store& store_;
  const ServerConfig& config_;
  Subscriptions& subscriptions_;
  SyncStateCodec sync_states_;
};

}  // namespace exsim
