#pragma once
/// Errors as values: a kind the caller can act on, and a message a person can act on.
#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <utility>

namespace agendasync {

/// What the caller may do about an error. Each connector maps its protocol codes to these
/// kinds in one table; the sync engine decides retries and safety from the kind alone.
enum class ErrorKind {
  kTransient,      ///< network hiccup, 5xx: retry with backoff
  kThrottled,      ///< ErrorServerBusy, 429, 503 with Retry-After: wait `retry_after`
  kConflict,       ///< stale ChangeKey / ETag: re-read, merge, retry
  kNotFound,       ///< the item or mailbox does not exist
  kAuth,           ///< credentials rejected
  kPermission,     ///< authenticated, but a right or role is missing
  kInvalidData,    ///< input (ours or theirs) is malformed or violates a rule
  kCursorInvalid,  ///< sync state / delta token no longer valid: full resync needed (R27)
  kUnsupported,    ///< server version or feature we do not support
  kPermanent,      ///< anything else that retrying will not fix
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kPermanent;
  /// For a person: what went wrong and what to do about it. Never contains a secret.
  std::string message;
  /// The protocol's own code when there is one: "ErrorIrresolvableConflict", "429", ...
  std::string protocol_code;
  std::optional<std::chrono::milliseconds> retry_after;

  static Error make(ErrorKind kind, std::string message, std::string protocol_code = {}) {
    return Error{kind, std::move(message), std::move(protocol_code), std::nullopt};
  }
};

template <class T>
using Result = std::expected<T, Error>;

/// Shorthand for `return fail(ErrorKind::kInvalidData, "...")` in functions returning Result.
inline std::unexpected<Error> fail(ErrorKind kind, std::string message,
                                   std::string protocol_code = {}) {
  return std::unexpected(Error::make(kind, std::move(message), std::move(protocol_code)));
}

}  // namespace agendasync
