#include "connectors/ews/errors.h"

#include <array>

#include <fmt/format.h>

namespace agendasync::ews {

namespace {

struct CodeRule {
  std::string_view code;
  ErrorKind kind;
  /// fmt template; {account}, {mailbox} and {auth} are filled from the ErrorContext.
  std::string_view message;
};

// clang-format off
constexpr std::array kRules{
    CodeRule{"ErrorImpersonateUserDenied", ErrorKind::kPermission,
             "The service account '{account}' may not impersonate {mailbox}. Give it the "
             "ApplicationImpersonation role in the Exchange Management Shell: "
             "New-ManagementRoleAssignment -Name AgendaSyncImpersonation -Role "
             "ApplicationImpersonation -User {account}"},
    CodeRule{"ErrorImpersonationDenied", ErrorKind::kPermission,
             "The service account '{account}' may not impersonate {mailbox}. Give it the "
             "ApplicationImpersonation role in the Exchange Management Shell: "
             "New-ManagementRoleAssignment -Name AgendaSyncImpersonation -Role "
             "ApplicationImpersonation -User {account}"},
    CodeRule{"ErrorAccessDenied", ErrorKind::kPermission,
             "The service account '{account}' has no access to the calendar of {mailbox}. In "
             "impersonation mode assign the ApplicationImpersonation role; in delegate mode run "
             "Add-MailboxPermission -Identity {mailbox} -User {account} -AccessRights FullAccess"},
    CodeRule{"ErrorNonExistentMailbox", ErrorKind::kNotFound,
             "Exchange has no mailbox with the address {mailbox}. Check the user's deviating "
             "Exchange address, or [exchange] mail_domain (the part after @) used to build "
             "the address from the user name"},
    CodeRule{"ErrorMailboxMoveInProgress", ErrorKind::kTransient,
             "The mailbox {mailbox} is being moved; sync resumes when the move is finished"},
    CodeRule{"ErrorMailboxStoreUnavailable", ErrorKind::kTransient,
             "The mailbox database of {mailbox} is unavailable; retrying later"},
    CodeRule{"ErrorServerBusy", ErrorKind::kThrottled,
             "Exchange is throttling requests for {mailbox} (ErrorServerBusy); waiting as long "
             "as the server asked before retrying"},
    CodeRule{"ErrorExceededConnectionCount", ErrorKind::kThrottled,
             "Too many concurrent EWS connections for '{account}'; concurrency is lowered. "
             "Raise EWSMaxConcurrency in the throttling policy or sync fewer mailboxes at once"},
    // EWSMaxSubscriptions ("EWS throttling in Exchange"; "Maintain affinity"): a budget of the
    // account a subscription is charged to, not an error of the request.
    CodeRule{"ErrorExceededSubscriptionCount", ErrorKind::kThrottled,
             "Exchange refused a new subscription for {mailbox} (ErrorExceededSubscriptionCount): "
             "the account it is charged to (the mailbox when impersonated, '{account}' in "
             "delegate mode) already holds its EWSMaxSubscriptions (5,000 on premises, 20 in "
             "Exchange Online), perhaps with other applications' subscriptions. The mailbox is "
             "polled instead; raise EWSMaxSubscriptions in that account's throttling policy"},
    CodeRule{"ErrorTooManyObjectsOpened", ErrorKind::kThrottled,
             "Exchange reports too many open objects for {mailbox}; retrying later"},
    CodeRule{"ErrorIrresolvableConflict", ErrorKind::kConflict,
             "The item in {mailbox} changed since it was read (stale ChangeKey); it is re-read "
             "and merged"},
    CodeRule{"ErrorStaleObject", ErrorKind::kConflict,
             "The item in {mailbox} changed since it was read; it is re-read and merged"},
    CodeRule{"ErrorItemNotFound", ErrorKind::kNotFound,
             "The item no longer exists in the calendar of {mailbox}"},
    CodeRule{"ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", ErrorKind::kNotFound,
             "The occurrence is not part of the series in {mailbox}"},
    CodeRule{"ErrorCalendarOccurrenceIsDeletedFromRecurrence", ErrorKind::kNotFound,
             "The occurrence was already deleted from the series in {mailbox}"},
    CodeRule{"ErrorInvalidSyncStateData", ErrorKind::kCursorInvalid,
             "The stored EWS sync state of {mailbox} is no longer valid; a full resync follows"},
    CodeRule{"ErrorSyncFolderNotFound", ErrorKind::kNotFound,
             "The calendar folder of {mailbox} was not found"},
    CodeRule{"ErrorFolderNotFound", ErrorKind::kNotFound,
             "The calendar folder of {mailbox} was not found"},
    CodeRule{"ErrorInvalidServerVersion", ErrorKind::kUnsupported,
             "The server does not accept the configured Exchange version; set [exchange] version "
             "to the version the server runs: \"2013\", \"2013-sp1\", \"2016\" or \"2019\""},
    CodeRule{"ErrorInvalidSubscription", ErrorKind::kNotFound,
             "The notification subscription for {mailbox} is no longer valid; resubscribing"},
    CodeRule{"ErrorSubscriptionNotFound", ErrorKind::kNotFound,
             "The notification subscription for {mailbox} was not found; resubscribing"},
    CodeRule{"ErrorExpiredSubscription", ErrorKind::kNotFound,
             "The notification subscription for {mailbox} expired; resubscribing"},
    CodeRule{"ErrorMissedNotificationEvents", ErrorKind::kNotFound,
             "Exchange lost notification events for {mailbox}; the mailbox is synced and "
             "subscribed again"},
    CodeRule{"ErrorSubscriptionAccessDenied", ErrorKind::kPermission,
             "The service account '{account}' may not use the subscription of {mailbox}"},
    CodeRule{"ErrorInvalidIdMalformed", ErrorKind::kInvalidData,
             "Exchange rejected an item id as malformed for {mailbox}"},
    CodeRule{"ErrorInvalidPropertyRequest", ErrorKind::kInvalidData,
             "Exchange rejected a property AgendaSync asked for (a connector defect; report it)"},
    CodeRule{"ErrorSchemaValidation", ErrorKind::kInvalidData,
             "Exchange rejected the request as invalid (a connector defect; report it)"},
    CodeRule{"ErrorInvalidRequest", ErrorKind::kInvalidData,
             "Exchange rejected the request as invalid (a connector defect; report it)"},
    CodeRule{"ErrorChangeKeyRequiredForWriteOperations", ErrorKind::kInvalidData,
             "Exchange needs the item's ChangeKey for this write (a connector defect; report it)"},
    CodeRule{"ErrorQuotaExceeded", ErrorKind::kPermanent,
             "The mailbox {mailbox} is over its quota; free space or raise the quota"},
    CodeRule{"ErrorInternalServerTransientError", ErrorKind::kTransient,
             "Exchange reported a transient internal error; retrying later"},
    CodeRule{"ErrorTimeoutExpired", ErrorKind::kTransient,
             "Exchange timed out; retrying later"},
};
// clang-format on

std::string fill(std::string_view tpl, const ErrorContext& context) {
  return fmt::format(fmt::runtime(tpl), fmt::arg("account", context.service_account),
                     fmt::arg("mailbox", context.mailbox.empty() ? "the mailbox" : context.mailbox),
                     fmt::arg("auth", context.auth_method));
}

}  // namespace

Error error_from_response_code(std::string_view code, std::string_view server_text,
                               const ErrorContext& context,
                               std::optional<std::chrono::milliseconds> back_off) {
  Error error;
  error.protocol_code = std::string(code);
  error.kind = ErrorKind::kPermanent;
  std::string message = fmt::format("EWS returned {} for {}", code,
                                    context.mailbox.empty() ? "the request" : context.mailbox);
  for (const CodeRule& rule : kRules) {
    if (rule.code == code) {
      error.kind = rule.kind;
      message = fill(rule.message, context);
      break;
    }
  }
  if (!server_text.empty()) message += fmt::format(" (server: {})", server_text);
  error.message = std::move(message);
  if (error.kind == ErrorKind::kThrottled) {
    // R26: the server's BackOffMilliseconds exactly; otherwise a conservative default.
    error.retry_after = back_off.value_or(std::chrono::milliseconds{30'000});
  }
  return error;
}

Error error_from_http_status(long status, const ErrorContext& context,
                             std::optional<std::chrono::milliseconds> retry_after) {
  Error error;
  error.protocol_code = std::to_string(status);
  switch (status) {
    case 401:
      error.kind = ErrorKind::kAuth;
      error.message = fmt::format(
          "Exchange rejected the credentials of '{}' ({} authentication, HTTP 401). Check "
          "[exchange] user, [exchange] domain (the NetBIOS domain) and the password in "
          "[exchange] password_file, and that {} is enabled on the EWS virtual directory.",
          context.service_account, context.auth_method.empty() ? "no" : context.auth_method,
          context.auth_method.empty() ? "an authentication method" : context.auth_method);
      break;
    case 403:
      error.kind = ErrorKind::kPermission;
      error.message = fmt::format(
          "Exchange refused '{}' access to EWS (HTTP 403). Check that EWS is enabled for the "
          "service account (Set-CASMailbox -EwsEnabled $true) and not blocked by an access policy.",
          context.service_account);
      break;
    case 404:
      error.kind = ErrorKind::kPermanent;
      error.message =
          "The EWS URL answered 404: set the EWS URL to https://<server>/EWS/Exchange.asmx or turn "
          "on Autodiscover.";
      break;
    case 429:
    case 503:
      error.kind = ErrorKind::kThrottled;
      error.message = fmt::format("Exchange is busy (HTTP {}); waiting before retrying.", status);
      error.retry_after = retry_after.value_or(std::chrono::milliseconds{30'000});
      break;
    default:
      error.kind = status >= 500 ? ErrorKind::kTransient : ErrorKind::kPermanent;
      error.message = fmt::format("Exchange answered HTTP {} without an EWS response.", status);
      break;
  }
  return error;
}

bool lowers_concurrency(std::string_view code) { return code == "ErrorExceededConnectionCount"; }

std::vector<std::string> error_messages_for_catalogue() {
  const ErrorContext sample{"svc-agendasync", "jdoe@example.com", "NTLM"};
  std::vector<std::string> all;
  for (const CodeRule& rule : kRules) all.push_back(fill(rule.message, sample));
  for (long status : {400L, 401L, 403L, 404L, 429L, 500L, 503L}) {
    all.push_back(error_from_http_status(status, sample, std::nullopt).message);
  }
  return all;
}

}  // namespace agendasync::ews
