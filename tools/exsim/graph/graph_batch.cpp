#include "exsim/graph/graph_batch.h"

#include <map>
#include <set>

#include <fmt/format.h>

namespace exsim {
namespace {

using nlohmann::json;

constexpr size_t kMaxRequests = 20;

GraphReply bad(std::string message) {
  return GraphReply::error({400, "BadRequest", std::move(message)});
}

json depends_on(const json& request) {
  auto it = request.find("dependsOn");
  return it != request.end() && it->is_array() ? *it : json::array();
}

}  // namespace

GraphReply handle_batch(const GraphRequest& outer,
                        const std::function<GraphReply(const GraphRequest&)>& run) {
  auto body = json::parse(outer.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("requests") ||
      !body["requests"].is_array()) {
    return bad("Invalid batch payload format.");
  }
  const json& requests = body["requests"];
  if (requests.size() > kMaxRequests) {
    return bad(fmt::format("Maximum number of requests in a batch is {}; this one has {}.",
                           kMaxRequests, requests.size()));
  }
  std::map<std::string, const json*> by_id;
  for (const json& r : requests) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string() || !r.contains("method") ||
        !r.contains("url")) {
      return bad("Each batch request needs id, method and url.");
    }
    if (!by_id.emplace(r["id"].get<std::string>(), &r).second) {
      return bad(fmt::format("Batch request id '{}' is used twice.", r["id"].get<std::string>()));
    }
  }
  for (const json& r : requests) {
    const json deps = depends_on(r);
    for (const json& d : deps) {
      if (!d.is_string() || !by_id.count(d.get<std::string>())) {
        return bad(fmt::format("Request '{}' depends on an unknown request id.",
                               r["id"].get<std::string>()));
      }
    }
  }
  std::map<std::string, int> status;  // id -> answered status
  std::set<std::string> running;      // cycle detection
  json responses = json::array();
  std::function<void(const json&)> execute = [&](const json& r) {
    const std::string id = r["id"].get<std::string>();
    if (status.count(id)) return;
    running.insert(id);
    bool dependency_failed = false;
    const json deps = depends_on(r);
    for (const json& d : deps) {
      const std::string dep = d.get<std::string>();
      if (running.count(dep)) {
        dependency_failed = true;  // a cycle never succeeds
        continue;
      }
      execute(*by_id[dep]);
      if (status[dep] < 200 || status[dep] > 299) dependency_failed = true;
    }
    GraphReply reply;
    if (dependency_failed) {
      reply = GraphReply::error({424, "FailedDependency",
                                 "The request could not be performed because it depends on a "
                                 "request that failed."});
    } else {
      GraphRequest inner;
      inner.method = r["method"].is_string() ? r["method"].get<std::string>() : "";
      for (char& c : inner.method)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::string url = r["url"].is_string() ? r["url"].get<std::string>() : "";
      if (url.starts_with("/v1.0")) url = url.substr(5);
      if (!url.starts_with("/")) url = "/" + url;
      split_target(url, inner.path, inner.query);
      const json headers =
          r.contains("headers") && r["headers"].is_object() ? r["headers"] : json::object();
      for (const auto& [name, value] : headers.items()) {
        std::string lower = name;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (value.is_string()) inner.headers[lower] = value.get<std::string>();
      }
      if (r.contains("body"))
        inner.body = r["body"].is_string() ? r["body"].get<std::string>() : r["body"].dump();
      inner.claims = outer.claims;
      reply = run(inner);
    }
    running.erase(id);
    status[id] = reply.status;
    json headers = json::object();
    for (const auto& [name, value] : reply.headers) headers[name] = value;
    if (!reply.body.is_null()) headers["Content-Type"] = "application/json";
    json answer = {{"id", id}, {"status", reply.status}, {"headers", headers}};
    if (!reply.body.is_null()) answer["body"] = reply.body;
    responses.push_back(std::move(answer));
  };
  for (const json& r : requests) execute(r);
  return GraphReply::json(200, {{"responses", responses}});
}

}  // namespace exsim
