#include "connectors/ews/version.h"

#include <algorithm>
#include <cctype>
#include <string>

#include <fmt/format.h>

namespace agendasync::ews {

namespace {

/// Lowercase, with spaces, underscores and dashes removed: "Exchange 2013_SP1" ->
/// "exchange2013sp1".
std::string squeeze(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == ' ' || c == '_' || c == '-') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.starts_with("exchange")) out.erase(0, 8);
  if (out.starts_with("server")) out.erase(0, 6);
  return out;
}

}  // namespace

Result<ServerVersion> parse_server_version(std::string_view setting) {
  const std::string key = squeeze(setting);
  if (key == "2013") return ServerVersion::kExchange2013;
  if (key == "2013sp1") return ServerVersion::kExchange2013Sp1;
  // Exchange 2019 and Subscription Edition speak the 2016 schema.
  if (key == "2016" || key == "2019" || key == "se" || key == "subscriptionedition")
    return ServerVersion::kExchange2016;
  for (const std::string_view old :
       {"2003", "2007", "2007sp1", "2009", "2010", "2010sp1", "2010sp2", "2010sp3"}) {
    if (key == old) {
      return fail(ErrorKind::kUnsupported,
                  fmt::format("Exchange version '{}' is not supported: AgendaSync needs Exchange "
                              "2013 or newer. Upgrade the server, or set {} to the version the "
                              "server actually runs: \"2013\", \"2013-sp1\", \"2016\" or \"2019\".",
                              setting, kVersionSetting));
    }
  }
  return fail(
      ErrorKind::kInvalidData,
      fmt::format(
          "Unknown Exchange version '{}' in {}: use \"2013\", \"2013-sp1\", \"2016\" or \"2019\".",
          setting, kVersionSetting));
}

const char* request_server_version(ServerVersion version) {
  switch (version) {
    case ServerVersion::kExchange2013:
      return "Exchange2013";
    case ServerVersion::kExchange2013Sp1:
      return "Exchange2013_SP1";
    case ServerVersion::kExchange2016:
      return "Exchange2016";
  }
  return "Exchange2016";
}

}  // namespace agendasync::ews
