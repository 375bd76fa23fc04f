#include "net/stray_answer.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace agendasync::net {
namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string what_came(const Response& response) {
  return response.body.empty() ? "an empty body" : "a body that is not an answer to the request";
}

}  // namespace

bool closes_connection(const Response& response) {
  for (const auto& [name, value] : response.headers) {
    if (name != "connection") continue;
    // A list of tokens: "close", "Keep-Alive, close".
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view token = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
      if (lowercase(token) == "close") return true;
    }
  }
  return false;
}

bool looks_stray(const Request& request, const Response& response) {
  if (!request.recognises_answer) return false;
  if (response.status < 400 || response.status == 401 || response.status == 407) return false;
  if (!closes_connection(response)) return false;
  try {
    return !request.recognises_answer(response);
  } catch (...) {
    return false;
  }
}

Error stray_answer_error(const Response& response, std::string_view host_port, StrayEnding ending) {
  std::string message;
  switch (ending) {
    case StrayEnding::kNotRepeatable:
      message = fmt::format(
          "{} answered HTTP {} with {} on a kept-alive connection and closed it: a stray "
          "answer the server wrote on that connection on its own, not its answer to this "
          "request. The server may or may not have received the request; it was not sent "
          "again because it may not be repeated without checking what the server applied",
          host_port, response.status, what_came(response));
      break;
    case StrayEnding::kAgainOnNewConnection:
      message = fmt::format(
          "{} answered HTTP {} with {} and closed the connection, first on a kept-alive "
          "connection and then again on a new connection. Check the server's own logs (IIS / "
          "HTTP.sys: httperr*.log) and any load balancer or proxy in between; the request can "
          "be tried again later",
          host_port, response.status, what_came(response));
      break;
  }
  return Error::make(ErrorKind::kTransient, std::move(message), kStrayAnswerCode);
}

bool is_stray_answer(const Error& error) { return error.protocol_code == kStrayAnswerCode; }

}  // namespace agendasync::net
