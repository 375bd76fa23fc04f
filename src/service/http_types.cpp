#include "service/http_types.h"

#include <algorithm>
#include <cctype>

namespace agendasync::service {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string> Call::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequal(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> Call::query_value(const std::string& name) const {
  auto found = query.find(name);
  if (found == query.end()) return std::nullopt;
  return found->second;
}

Reply json_reply(int status, const nlohmann::json& body) {
  return Reply{status, "application/json", body.dump(), {}};
}

Reply problem(int status, std::string_view slug, std::string_view title, std::string_view detail,
              std::string_view instance) {
  nlohmann::json body = {{"type", "urn:agendasync:problem:" + std::string(slug)},
                         {"title", title},
                         {"status", status},
                         {"detail", detail},
                         {"instance", instance}};
  return Reply{status,
               "application/problem+json",
               body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
               {}};
}

Reply problem_from(const Error& error, std::string_view instance) {
  switch (error.kind) {
    case ErrorKind::kNotFound:
      return problem(404, "not-found", "Not found", error.message, instance);
    case ErrorKind::kConflict:
      return problem(409, "conflict", "Conflict", error.message, instance);
    case ErrorKind::kInvalidData:
      return problem(422, "invalid-data", "Invalid data", error.message, instance);
    case ErrorKind::kAuth:
      return problem(401, "unauthenticated", "Authentication required", error.message, instance);
    case ErrorKind::kPermission:
      return problem(403, "forbidden", "Forbidden", error.message, instance);
    case ErrorKind::kThrottled:
      return problem(429, "throttled", "Too many requests", error.message, instance);
    case ErrorKind::kTransient:
      return problem(503, "unavailable", "Temporarily unavailable", error.message, instance);
    case ErrorKind::kUnsupported:
      return problem(501, "unsupported", "Not supported", error.message, instance);
    case ErrorKind::kCursorInvalid:
      return problem(410, "cursor-invalid", "Position no longer valid", error.message, instance);
    case ErrorKind::kPermanent:
      break;
  }
  return problem(500, "internal", "Internal error", error.message, instance);
}

Reply forbidden(const Call& call, std::string_view needed) {
  std::string who = call.principal ? role_text(*call.principal) : std::string("anonymous");
  return problem(403, "forbidden", "Forbidden",
                 "a token with role " + who + " may not " + call.method + " " + call.path +
                     "; this needs " + std::string(needed),
                 call.path);
}

std::variant<nlohmann::json, Reply> parse_body(const Call& call) {
  auto body = nlohmann::json::parse(call.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return problem(400, "malformed-json", "Malformed request body",
                   "the request body must be a JSON object (Content-Type: application/json)",
                   call.path);
  }
  return body;
}

}  // namespace agendasync::service
