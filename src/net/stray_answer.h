#pragma once
/// Stray answers (Request::recognises_answer): what counts as one and the errors they end
/// in. Pure, so the rules are tested without sockets; curl_client.cpp acts on them.
#include <string_view>

#include "core/error.h"
#include "net/http.h"

namespace agendasync::net {

/// The answer says it closes the connection (a `Connection: close` token).
bool closes_connection(const Response& response);

/// An answer that would be a stray one if it came on a reused connection: the request asks
/// for the check, the status is 4xx/5xx but not an authentication round (401/407), the
/// answer closes the connection and the request does not recognise it. A recogniser that
/// throws counts as recognising it (the connector then reads the answer itself).
bool looks_stray(const Request& request, const Response& response);

/// Why the transport stopped after a stray answer.
enum class StrayEnding {
  kNotRepeatable,         ///< the request may not be sent again blindly (retry_allowed false)
  kAgainOnNewConnection,  ///< the one retry on a new connection got the same
};

/// The kTransient error (protocol_code kStrayAnswerCode) for a stray answer from `host_port`.
Error stray_answer_error(const Response& response, std::string_view host_port, StrayEnding ending);

}  // namespace agendasync::net
