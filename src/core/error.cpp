#include "core/error.h"

namespace agendasync {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kTransient:
      return "transient";
    case ErrorKind::kThrottled:
      return "throttled";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kNotFound:
      return "not-found";
    case ErrorKind::kAuth:
      return "auth";
    case ErrorKind::kPermission:
      return "permission";
    case ErrorKind::kInvalidData:
      return "invalid-data";
    case ErrorKind::kCursorInvalid:
      return "cursor-invalid";
    case ErrorKind::kUnsupported:
      return "unsupported";
    case ErrorKind::kPermanent:
      return "permanent";
  }
  return "unknown";
}

}  // namespace agendasync
