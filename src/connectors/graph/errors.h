#pragma once
/// Graph error bodies ({"error":{"code","message"}}) and statuses mapped to typed errors, in
/// one table (errors.cpp).
#include <string_view>
#include <vector>

#include "core/error.h"
#include "net/http.h"

namespace agendasync::graph {

/// The error for a non-2xx Graph answer: the code from the body when there is one, else the
/// status. `what` names the operation for the message ("reading changes of jdoe@...").
/// 429/503 carry Retry-After as retry_after.
Error graph_error(long status, std::string_view body, std::string_view what,
                  std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

/// graph_error for a transport response.
Error graph_error(const net::Response& response, std::string_view what);

/// The advice of every Graph error code handled specially (the doctor's remedy catalogue).
std::vector<std::string> error_advice_catalogue();

}  // namespace agendasync::graph
