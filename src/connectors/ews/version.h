#pragma once
/// Exchange server versions the connector speaks (R1) and the EWS RequestServerVersion each
/// one sends. Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/requestserverversion
#include <string_view>

#include "core/error.h"

namespace agendasync::ews {

/// Ordered: a field's minimum version compares with `<`.
enum class ServerVersion { kExchange2013, kExchange2013Sp1, kExchange2016 };

/// The settings key the version comes from, named in every message about it.
inline constexpr std::string_view kVersionSetting = "[exchange] version";

/// "2013", "Exchange2013", "2013 SP1", "Exchange2013_SP1", "2016", "2019" (uses the 2016
/// schema) and so on. Exchange 2010 and older: kUnsupported naming the setting; anything
/// else: kInvalidData listing the accepted values.
Result<ServerVersion> parse_server_version(std::string_view setting);

/// The RequestServerVersion Version attribute: "Exchange2013", "Exchange2013_SP1",
/// "Exchange2016".
const char* request_server_version(ServerVersion version);

}  // namespace agendasync::ews
