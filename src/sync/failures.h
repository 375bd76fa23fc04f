#pragma once
/// The run report's lines for failed writes (RunReport::errors). One cause often fails a
/// whole batch (250 items behind one HTTP 400): identical failures make one line with their
/// count instead of hundreds that differ only in the key.
#include <cstddef>
#include <string>
#include <vector>

#include "core/error.h"

namespace agendasync::sync {

struct WriteFailure {
  std::string operation;  ///< "create", "update", "delete"
  std::string key;        ///< the link's idempotency key
  std::string side;       ///< CalendarSide::describe()
  Error error;
};

/// One line per distinct (operation, side, kind, message), in the order each first failed.
/// A failure of its own: "create K on ews:x failed (transient): ...". Several:
/// "250 items: create on ews:x failed (transient): ... (first: K)".
std::vector<std::string> report_lines(const std::vector<WriteFailure>& failures);

}  // namespace agendasync::sync
