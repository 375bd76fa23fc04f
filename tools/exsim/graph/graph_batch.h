#pragma once
/// JSON batching (POST /v1.0/$batch): at most 20 requests, run in order with dependsOn
/// honoured (a request whose dependency failed gets 424), each answered with its own
/// status, headers and body. Reference: learn.microsoft.com/graph/json-batching
#include <functional>

#include "exsim/graph/graph_request.h"

namespace exsim {

/// Runs the batch in `outer` through `run` (which applies auth context, faults and routing).
GraphReply handle_batch(const GraphRequest& outer,
                        const std::function<GraphReply(const GraphRequest&)>& run);

}  // namespace exsim
