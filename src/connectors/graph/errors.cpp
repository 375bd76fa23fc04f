#include "connectors/graph/errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace agendasync::graph {
namespace {

struct CodeRule {
  const char* code;  ///< Graph error code, compared case-insensitively
  ErrorKind kind;
  const char* advice;  ///< what to do; empty = the kind's default
};

/// Every Graph code we treat specially. Anything else falls back to the HTTP status.
constexpr CodeRule kCodes[] = {
    {"syncStateNotFound", ErrorKind::kCursorInvalid,
     "the delta token expired; a full resync of this mailbox follows"},
    {"resyncRequired", ErrorKind::kCursorInvalid,
     "Graph asks for a full resync; it follows automatically"},
    {"syncStateInvalid", ErrorKind::kCursorInvalid,
     "the delta token is not valid any more; a full resync follows"},
    {"ErrorInvalidSyncStateData", ErrorKind::kCursorInvalid,
     "the delta token is not valid any more; a full resync follows"},
    {"ErrorItemNotFound", ErrorKind::kNotFound, "the event was deleted in Outlook"},
    {"itemNotFound", ErrorKind::kNotFound, "the event was deleted in Outlook"},
    {"ResourceNotFound", ErrorKind::kNotFound,
     "check the user's deviating mailbox address, or [exchange] mail_domain"},
    {"ErrorInvalidUser", ErrorKind::kNotFound,
     "check the user's deviating mailbox address, or [exchange] mail_domain"},
    {"MailboxNotEnabledForRESTAPI", ErrorKind::kUnsupported,
     "the mailbox is on-premises or has no Exchange Online licence; use the EWS connection "
     "for it or assign a licence"},
    {"ErrorAccessDenied", ErrorKind::kPermission,
     "grant the application permission Calendars.ReadWrite in Entra admin center > App "
     "registrations > API permissions and grant admin consent; check application access "
     "policies that limit the app to some mailboxes"},
    {"Authorization_RequestDenied", ErrorKind::kPermission,
     "grant the missing application permission in Entra admin center > App registrations > "
     "API permissions, then Grant admin consent"},
    {"accessDenied", ErrorKind::kPermission,
     "grant the missing application permission and admin consent"},
    {"InvalidAuthenticationToken", ErrorKind::kAuth,
     "Graph rejected the app's access token even after a fresh one was fetched; check "
     "[graph] tenant_id and [graph] client_id (the app registration's Directory and "
     "Application ids) and that [graph] graph_url and [graph] authority_url name the same "
     "cloud"},
    {"ErrorIrresolvableConflict", ErrorKind::kConflict, "the event changed meanwhile"},
    {"PreconditionFailed", ErrorKind::kConflict, "the event changed meanwhile"},
    {"ErrorInvalidRequest", ErrorKind::kInvalidData, ""},
    {"ErrorInvalidProperty", ErrorKind::kInvalidData, ""},
    {"ErrorInvalidIdMalformed", ErrorKind::kInvalidData, ""},
    {"BadRequest", ErrorKind::kInvalidData, ""},
    {"invalidRange", ErrorKind::kInvalidData, ""},
    {"ErrorPropertyValidationFailure", ErrorKind::kInvalidData, ""},
    {"TooManyRequests", ErrorKind::kThrottled, "Graph throttles this app; it waits and retries"},
    {"ApplicationThrottled", ErrorKind::kThrottled,
     "Graph throttles this app; it waits and retries"},
    {"MailboxConcurrency", ErrorKind::kThrottled,
     "more than 4 requests ran at once on this mailbox; it waits and retries"},
    {"ErrorTooManyObjectsOpened", ErrorKind::kThrottled, "the mailbox is busy"},
    {"ServiceNotAvailable", ErrorKind::kTransient, ""},
    {"generalException", ErrorKind::kTransient, ""},
    {"ErrorInternalServerError", ErrorKind::kTransient, ""},
    {"ErrorQuotaExceeded", ErrorKind::kPermanent, "the mailbox is full; free space in it"},
};

bool same(std::string_view a, std::string_view b) {
  return std::ranges::equal(
      a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

ErrorKind kind_of_status(long status) {
  switch (status) {
    case 400:
      return ErrorKind::kInvalidData;
    case 401:
      return ErrorKind::kAuth;
    case 403:
      return ErrorKind::kPermission;
    case 404:
      return ErrorKind::kNotFound;
    case 409:
    case 412:
      return ErrorKind::kConflict;
    case 410:
      return ErrorKind::kCursorInvalid;
    case 429:
    case 503:
      return ErrorKind::kThrottled;
    case 501:
      return ErrorKind::kUnsupported;
    default:
      return status >= 500 ? ErrorKind::kTransient : ErrorKind::kPermanent;
  }
}

}  // namespace

Error graph_error(long status, std::string_view body, std::string_view what,
                  std::optional<std::chrono::milliseconds> retry_after) {
  std::string code;
  std::string message;
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    const auto& error = parsed["error"];
    if (error.contains("code") && error["code"].is_string()) code = error["code"];
    if (error.contains("message") && error["message"].is_string()) message = error["message"];
  }
  ErrorKind kind = kind_of_status(status);
  std::string advice;
  for (const auto& rule : kCodes) {
    if (!code.empty() && same(code, rule.code)) {
      kind = rule.kind;
      advice = rule.advice;
      break;
    }
  }
  // A 410 Gone on a delta link means the token expired whatever the code says.
  if (status == 410) kind = ErrorKind::kCursorInvalid;
  if (status == 412) kind = ErrorKind::kConflict;
  std::string text = fmt::format("Graph {} failed: HTTP {}", what, status);
  if (!code.empty()) text += fmt::format(" {}", code);
  if (!message.empty()) text += fmt::format(" ({})", message.substr(0, 300));
  if (!advice.empty()) text += fmt::format(": {}", advice);
  Error error = Error::make(kind, std::move(text), code.empty() ? std::to_string(status) : code);
  if (kind == ErrorKind::kThrottled) {
    error.retry_after = retry_after.value_or(std::chrono::seconds(5));
  }
  return error;
}

Error graph_error(const net::Response& response, std::string_view what) {
  return graph_error(response.status, response.body, what, net::retry_after(response));
}

std::vector<std::string> error_advice_catalogue() {
  std::vector<std::string> all;
  for (const auto& rule : kCodes) all.emplace_back(rule.advice);
  return all;
}

}  // namespace agendasync::graph
