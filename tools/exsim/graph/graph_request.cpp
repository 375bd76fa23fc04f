#include "exsim/graph/graph_request.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "exsim/store/ids.h"
#include "web/query.h"

namespace exsim {
namespace {

// The value of one preference in a Prefer header ("a=1, b=\"x y\""), unquoted.
std::optional<std::string> preference(const std::string& prefer, std::string_view name) {
  size_t at = 0;
  while (at < prefer.size()) {
    size_t end = at;
    bool quoted = false;
    while (end < prefer.size() && (quoted || prefer[end] != ',')) {
      if (prefer[end] == '"') quoted = !quoted;
      ++end;
    }
    std::string item = prefer.substr(at, end - at);
    at = end + 1;
    size_t b = item.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    item = item.substr(b);
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    std::string lower_key = key;
    for (char& c : lower_key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower_key != name || eq == std::string::npos) continue;
    std::string value = item.substr(eq + 1);
    size_t vb = value.find_first_not_of(" \t");
    value = vb == std::string::npos ? "" : value.substr(vb);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
      value.pop_back();
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

}  // namespace

std::string GraphRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string GraphRequest::param(const std::string& name) const {
  auto it = query.find(name);
  if (it != query.end()) return it->second;
  // OData system options are also accepted without the '$' and in any case.
  for (const auto& [key, value] : query) {
    std::string a = key.starts_with('$') ? key.substr(1) : key;
    std::string b = name.starts_with('$') ? name.substr(1) : name;
    if (a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
          return std::tolower(static_cast<unsigned char>(x)) ==
                 std::tolower(static_cast<unsigned char>(y));
        })) {
      return value;
    }
  }
  return {};
}

GraphReply GraphReply::error(const GraphError& error) {
  GraphReply reply;
  reply.status = error.status;
  reply.body = graph_error_body(error);
  return reply;
}

GraphReply GraphReply::json(int status, nlohmann::json body) {
  GraphReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

size_t page_size(const GraphRequest& request, size_t fallback, size_t max) {
  size_t size = fallback;
  if (auto v = preference(request.header("prefer"), "odata.maxpagesize")) {
    size = static_cast<size_t>(std::max(1L, std::strtol(v->c_str(), nullptr, 10)));
  } else if (std::string top = request.param("$top"); !top.empty()) {
    size = static_cast<size_t>(std::max(1L, std::strtol(top.c_str(), nullptr, 10)));
  }
  return std::min(size, max);
}

std::optional<GraphZone> preferred_zone(const GraphRequest& request) {
  auto name = preference(request.header("prefer"), "outlook.timezone");
  return resolve_graph_zone(name ? *name : "UTC");
}

void split_target(std::string_view target, std::string& path,
                  std::map<std::string, std::string>& query) {
  auto parts = agendasync::web::split_target(target);
  path = agendasync::web::percent_decode(parts.path, false);
  for (auto& [name, value] : agendasync::web::parse_query(parts.query)) {
    query[std::move(name)] = std::move(value);
  }
}

nlohmann::json graph_error_body(const GraphError& error) {
  std::string id;
  for (unsigned char c : random_bytes(16)) id += fmt::format("{:02x}", c);
  id.insert(20, "-").insert(16, "-").insert(12, "-").insert(8, "-");
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return {{"error",
           {{"code", error.code},
            {"message", error.message},
            {"innerError",
             {{"date", format_graph_utc(now).substr(0, 19)},
              {"request-id", id},
              {"client-request-id", id}}}}}};
}

}  // namespace exsim
