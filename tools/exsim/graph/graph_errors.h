#pragma once
/// Graph's error answer: an HTTP status and the body {"error":{"code","message","innerError"}}.
/// Reference: learn.microsoft.com/graph/errors
#include <string>

#include <nlohmann/json.hpp>

namespace exsim {

/// One failed Graph request.
struct GraphError {
  int status = 400;
  std::string code;
  std::string message;
};

/// The JSON body Graph sends with an error (innerError carries a request id and date).
nlohmann::json graph_error_body(const GraphError& error);

}  // namespace exsim
