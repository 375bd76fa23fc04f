#pragma once
/// The one table mapping EWS ResponseCodes (and HTTP statuses) to ErrorKind plus a message
/// that tells the administrator what to do. Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace agendasync::ews {

/// Who and what a request was about, for messages; never holds a secret.
struct ErrorContext {
  std::string service_account;  ///< the account EWS authenticated as
  std::string mailbox;          ///< the impersonated / delegated mailbox address
  std::string auth_method;      ///< "NTLM", "Basic", "Bearer"
};

/// Error for a non-NoError ResponseCode. `server_text` is EWS's MessageText (appended as
/// detail); `back_off` is MessageXml's BackOffMilliseconds, used verbatim as retry_after.
Error error_from_response_code(std::string_view code, std::string_view server_text,
                               const ErrorContext& context,
                               std::optional<std::chrono::milliseconds> back_off = std::nullopt);

/// Error for an HTTP status without a usable SOAP body (401, 403, 404, 429, 5xx).
Error error_from_http_status(long status, const ErrorContext& context,
                             std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

/// True for the codes that mean "too many concurrent connections": the caller lowers its
/// concurrency before retrying.
bool lowers_concurrency(std::string_view code);

/// Every message of the error table and of the HTTP statuses, filled with sample names: the
/// doctor's remedy catalogue (a test parses each setting they name).
std::vector<std::string> error_messages_for_catalogue();

}  // namespace agendasync::ews
