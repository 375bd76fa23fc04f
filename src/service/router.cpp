#include "service/router.h"

#include <httplib.h>
#include <chrono>
#include <regex>

#include "service/log.h"

namespace agendasync::service {

namespace {

/// "/api/v1/users/{name}" -> regex "/api/v1/users/([^/]+)" and the parameter names.
std::pair<std::string, std::vector<std::string>> compile(const std::string& path) {
  std::string pattern;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      auto close = path.find('}', i);
      names.push_back(path.substr(i + 1, close - i - 1));
      pattern += "([^/]+)";
      i = close;
    } else if (std::string_view(".+*?()[]^$|\\").find(path[i]) != std::string_view::npos) {
      pattern += '\\';
      pattern += path[i];
    } else {
      pattern += path[i];
    }
  }
  return {pattern, names};
}

std::optional<std::string> bearer(const httplib::Request& request) {
  auto header = request.get_header_value("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (header.size() <= kPrefix.size() || header.compare(0, kPrefix.size(), kPrefix) != 0) {
    return std::nullopt;
  }
  return header.substr(kPrefix.size());
}

void send(httplib::Response& response, const Reply& reply) {
  response.status = reply.status;
  for (const auto& [name, value] : reply.headers) response.set_header(name, value);
  response.set_content(reply.body, reply.content_type.c_str());
}

}  // namespace

void Router::add(std::string method, std::string path, Handler handler, bool authenticated) {
  routes_.push_back(Route{std::move(method), std::move(path), authenticated, std::move(handler)});
}

void Router::install(httplib::Server& server, TokenStore& tokens, Metrics& metrics) const {
  for (const Route& route : routes_) {
    auto [pattern, names] = compile(route.path);
    httplib::Server::Handler handler = [&route, names = names, &tokens, &metrics](
                                           const httplib::Request& request,
                                           httplib::Response& response) {
      auto started = std::chrono::steady_clock::now();
      Call call;
      call.method = request.method;
      call.path = request.path;
      call.route = route.path;
      for (std::size_t i = 0; i < names.size() && i + 1 < request.matches.size(); ++i) {
        call.params[names[i]] = request.matches[static_cast<int>(i + 1)].str();
      }
      for (const auto& [key, value] : request.params) call.query.emplace(key, value);
      for (const auto& [key, value] : request.headers) {
        // The Authorization header never travels further than this function.
        if (key != "Authorization") call.headers.emplace_back(key, value);
      }
      call.body = request.body;

      Reply reply;
      if (route.authenticated) {
        auto presented = bearer(request);
        if (!presented) {
          reply = problem(401, "unauthenticated", "Authentication required",
                          "send an API token as `Authorization: Bearer <token>`; an admin "
                          "creates tokens with `agendasync tokens create --role ...`",
                          request.path);
          reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"agendasync\"");
        } else if (auto principal = tokens.authenticate(*presented); !principal) {
          reply = problem_from(principal.error(), request.path);
          if (reply.status == 401) {
            reply.headers.emplace_back("WWW-Authenticate",
                                       "Bearer realm=\"agendasync\", error=\"invalid_token\"");
          }
        } else {
          call.principal = *principal;
        }
      }
      if (!route.authenticated || call.principal) {
        try {
          reply = route.handler(call);
        } catch (const std::exception& error) {
          log_event(spdlog::level::err, "handler_exception",
                    {{"route", route.path}, {"method", call.method}, {"what", error.what()}});
          reply =
              problem(500, "internal", "Internal error",
                      "the server failed on this request; the log has the details", request.path);
        }
      }
      send(response, reply);

      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      metrics.observe(metric::kHttpLatency, {{"route", route.path}, {"method", call.method}},
                      seconds);
      metrics.add(metric::kHttpRequests, {{"route", route.path},
                                          {"method", call.method},
                                          {"status", std::to_string(reply.status)}});
      log_event(reply.status >= 500 ? spdlog::level::err : spdlog::level::info, "http_request",
                {{"method", call.method},
                 {"route", route.path},
                 {"path", request.path},
                 {"status", reply.status},
                 {"ms", seconds * 1000.0},
                 {"role", call.principal ? role_text(*call.principal) : std::string()}});
    };
    if (route.method == "GET") {
      server.Get(pattern, handler);
    } else if (route.method == "POST") {
      server.Post(pattern, handler);
    } else if (route.method == "PUT") {
      server.Put(pattern, handler);
    } else if (route.method == "PATCH") {
      server.Patch(pattern, handler);
    } else if (route.method == "DELETE") {
      server.Delete(pattern, handler);
    }
  }
  server.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (response.status == 404 && response.body.empty()) {
      send(response, problem(404, "no-such-route", "Not found",
                             "no API route matches " + request.method + " " + request.path +
                                 "; the routes are listed in /api/v1/openapi.json",
                             request.path));
    }
  });
}

}  // namespace agendasync::service
