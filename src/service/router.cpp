#include "service/router.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <regex>

#include "service/log.h"
#include "web/query.h"
#include "web/utf8.h"

namespace agendasync::service {

struct Router::Matcher {
  std::regex pattern;
  std::vector<std::string> names;
};

namespace {

/// "/api/v1/users/{name}" -> regex "/api/v1/users/([^/]+)" and the parameter names. The regex
/// runs on the path as sent (still encoded), so an encoded "/" (%2F) stays inside its segment.
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

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// Methods of HTTP/1.1 that the API answers (with a route or a 404); anything else is 501.
bool known_method(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (method == known) return true;
  }
  return false;
}

std::optional<std::string> bearer(const HttpRequest& request) {
  constexpr std::string_view kPrefix = "Bearer ";
  for (const auto& [name, value] : request.headers) {
    if (!iequal(name, "Authorization")) continue;
    if (value.size() <= kPrefix.size() || value.compare(0, kPrefix.size(), kPrefix) != 0) {
      return std::nullopt;
    }
    return value.substr(kPrefix.size());
  }
  return std::nullopt;
}

Reply not_utf8(const std::string& field, std::string_view instance) {
  return problem(400, "invalid-utf8", "Text is not UTF-8",
                 field +
                     " is not valid UTF-8; send text as UTF-8 (in a path or query, percent-encode "
                     "its UTF-8 bytes, e.g. \xC3\xA9 as %C3%A9)",
                 instance);
}

/// The first text a handler could see that is not UTF-8, as a 400 problem; checked before any
/// routing so a name such as `%FF%FE` can never be stored (it made every later JSON answer that
/// listed it fail). Fields are quoted percent-encoded; problem() replaces what is not UTF-8 in
/// the instance.
std::optional<Reply> check_utf8(const HttpRequest& request, std::string_view raw_path,
                                const web::QueryParams& query, const std::string& path) {
  std::string_view rest = raw_path;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto segment = web::percent_decode(rest.substr(0, slash), false);
    if (!web::is_valid_utf8(segment)) {
      return not_utf8("the path segment \"" + web::percent_encode(segment) + "\"", path);
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  for (const auto& [name, value] : query) {
    if (!web::is_valid_utf8(name)) {
      return not_utf8("the query parameter name \"" + web::percent_encode(name) + "\"", path);
    }
    if (!web::is_valid_utf8(value)) {
      return not_utf8("the value of query parameter \"" + name + "\"", path);
    }
  }
  for (const auto& [name, value] : request.headers) {
    if (!web::is_valid_utf8(value)) return not_utf8("the value of header " + name, path);
  }
  if (!web::is_valid_utf8(request.body)) return not_utf8("the request body", path);
  return std::nullopt;
}

/// Which organisation a scoped call runs in, once its token is known: the {org} of the long
/// form, else the token's own. A token may reach its own organisation only (an operator's,
/// any): another organisation answers exactly as an unknown one, so ids cannot be probed.
std::optional<Reply> enter_organisation(const Route& route, Call& call,
                                        const TenantResolver& resolver) {
  if (auto given = call.params.find("org"); given != call.params.end()) {
    call.org = given->second;
  } else if (!call.principal) {
    call.org = kDefaultTokenOrg;  // public short routes (Graph notifications) of old
  } else if (call.principal->is_operator()) {
    return problem(
        400, "organisation-required", "Organisation required",
        "an operator's token belongs to no organisation: call " + std::string(kOrganisationPrefix) +
            route.path.substr(std::string_view("/api/v1").size()) + " with the organisation's id",
        call.path);
  } else {
    call.org = call.principal->org;
  }
  if (call.principal && !call.principal->is_operator() && call.principal->org != call.org) {
    return problem(404, "not-found", "Not found",
                   "no organisation \"" + call.org + "\" is visible to this token", call.path);
  }
  if (!resolver) {
    return problem(500, "internal", "Internal error", "no organisation resolver", call.path);
  }
  auto resolved = resolver(call);
  if (auto* reply = std::get_if<Reply>(&resolved)) return std::move(*reply);
  call.tenant = std::get<std::shared_ptr<ApiContext>>(resolved);
  call.api = call.tenant.get();
  return std::nullopt;
}

Reply unauthenticated(const Call& call, std::string_view detail, bool invalid) {
  Reply reply = problem(401, "unauthenticated", "Authentication required", detail, call.path);
  reply.headers.emplace_back("WWW-Authenticate",
                             invalid ? "Bearer realm=\"agendasync\", error=\"invalid_token\""
                                     : "Bearer realm=\"agendasync\"");
  return reply;
}

bool changes_state(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::optional<std::string> header_value(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (iequal(key, name)) return value;
  }
  return std::nullopt;
}

/// The console's session cookie in place of a bearer token (sessions.h): a live session, its
/// token not revoked, and for a state change the session's CSRF token in X-CSRF-Token and no
/// Origin of another site. The principal, or the reply that refuses the call.
std::variant<Principal, Reply> session_principal(const std::string& id, const Call& call,
                                                 const HttpRequest& request, TokenStore& tokens,
                                                 SessionStore& sessions) {
  auto session = sessions.find(id);
  if (!session) {
    return unauthenticated(call,
                           "the console session has ended (signed out or expired): sign in again "
                           "at /admin/",
                           true);
  }
  Principal principal = session->principal;
  if (!session->token_hash.empty()) {
    auto current = tokens.authenticate_hash(session->token_hash);
    if (!current) {
      sessions.end(id);
      return unauthenticated(call,
                             "the token this session was opened with was revoked: sign in again "
                             "with a valid token",
                             true);
    }
    principal = *current;
  }
  if (changes_state(call.method)) {
    auto presented = header_value(request, kCsrfHeader);
    if (!presented || !constant_time_equal(*presented, session->csrf)) {
      return problem(403, "csrf", "CSRF token missing or wrong",
                     "a change made with the console's session cookie must carry the session's "
                     "CSRF token in X-CSRF-Token (GET /api/v1/session answers it)",
                     call.path);
    }
    auto origin = header_value(request, "Origin");
    auto host = header_value(request, "Host");
    if (origin && host && *origin != "http://" + *host && *origin != "https://" + *host) {
      return problem(403, "cross-site", "Cross-site request refused",
                     "the request came from " + *origin + ", not from this server's console",
                     call.path);
    }
  }
  return principal;
}

/// Authentication (a bearer token, else the console's session cookie), then the handler.
Reply run(const Route& route, Call& call, const HttpRequest& request, TokenStore& tokens,
          const TenantResolver& resolver, SessionStore* sessions) {
  if (route.authenticated) {
    auto presented = bearer(request);
    auto cookie_header = header_value(request, "Cookie");
    auto session_id =
        sessions && cookie_header ? session_cookie(*cookie_header) : std::optional<std::string>();
    if (presented) {
      auto principal = tokens.authenticate(*presented);
      if (!principal) {
        Reply reply = problem_from(principal.error(), call.path);
        if (reply.status == 401) {
          reply.headers.emplace_back("WWW-Authenticate",
                                     "Bearer realm=\"agendasync\", error=\"invalid_token\"");
        }
        return reply;
      }
      call.principal = *principal;
    } else if (session_id) {
      auto checked = session_principal(*session_id, call, request, tokens, *sessions);
      if (auto* refused = std::get_if<Reply>(&checked)) return std::move(*refused);
      call.principal = std::get<Principal>(checked);
    } else {
      return unauthenticated(call,
                             "send an API token as `Authorization: Bearer <token>`; an admin "
                             "creates tokens with `agendasync tokens create --role ...`",
                             false);
    }
  }
  if (route.scoped) {
    if (auto refused = enter_organisation(route, call, resolver)) return std::move(*refused);
  }
  try {
    return route.handler(call);
  } catch (const std::exception& error) {
    log_event(spdlog::level::err, "handler_exception",
              {{"route", route.path}, {"method", call.method}, {"what", error.what()}});
    return problem(500, "internal", "Internal error",
                   "the server failed on this request; the log has the details", call.path);
  }
}

}  // namespace

Router::Router() = default;
Router::~Router() = default;

void Router::add_route(Route route) {
  auto [pattern, names] = compile(route.path);
  matchers_.push_back(std::make_unique<Matcher>(Matcher{std::regex(pattern), std::move(names)}));
  routes_.push_back(std::move(route));
}

void Router::add(std::string method, std::string path, Handler handler, bool authenticated) {
  add_route(Route{std::move(method), std::move(path), authenticated, std::move(handler)});
}

void Router::add_scoped(std::string method, std::string path, Handler handler, bool authenticated) {
  constexpr std::string_view kVersion = "/api/v1";
  std::string long_form = std::string(kOrganisationPrefix) + path.substr(kVersion.size());
  add_route(Route{method, std::move(long_form), authenticated, handler, true, false});
  add_route(
      Route{std::move(method), std::move(path), authenticated, std::move(handler), true, true});
}

Reply Router::dispatch(const HttpRequest& request, TokenStore& tokens, Metrics& metrics) const {
  auto started = std::chrono::steady_clock::now();
  auto target = web::split_target(request.target);
  auto query = web::parse_query(target.query);
  Call call;
  call.method = request.method;
  call.path = web::percent_decode(target.path, false);

  const Route* route = nullptr;
  Reply reply;
  if (auto refused = check_utf8(request, target.path, query, call.path)) {
    reply = std::move(*refused);
  } else if (!known_method(request.method)) {
    reply = problem(501, "unsupported-method", "Method not supported",
                    "this API has no use for the method " + request.method +
                        "; its routes take GET, POST, PUT, PATCH and DELETE, as listed in "
                        "/api/v1/openapi.json",
                    call.path);
  } else {
    // HEAD is GET without the body (the HTTP server drops it).
    const std::string method = request.method == "HEAD" ? std::string("GET") : request.method;
    std::string raw_path(target.path);
    std::smatch match;
    for (std::size_t i = 0; i < routes_.size(); ++i) {
      if (routes_[i].method != method ||
          !std::regex_match(raw_path, match, matchers_[i]->pattern)) {
        continue;
      }
      route = &routes_[i];
      const auto& names = matchers_[i]->names;
      for (std::size_t n = 0; n < names.size() && n + 1 < match.size(); ++n) {
        call.params[names[n]] = web::percent_decode(match[static_cast<int>(n + 1)].str(), false);
      }
      break;
    }
    if (!route) {
      reply = problem(404, "no-such-route", "Not found",
                      "no API route matches " + request.method + " " + call.path +
                          "; the routes are listed in /api/v1/openapi.json",
                      call.path);
    } else {
      call.route = route->path;
      for (auto& [name, value] : query) call.query.emplace(std::move(name), std::move(value));
      for (const auto& [name, value] : request.headers) {
        // The Authorization header never travels further than this function.
        if (!iequal(name, "Authorization")) call.headers.emplace_back(name, value);
      }
      call.body = request.body;
      reply = run(*route, call, request, tokens, resolver_, sessions_);
    }
  }

  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (route) {
    // Labelled by template only: a raw path per user or id would grow the registry unbounded.
    metrics.observe(metric::kHttpLatency, {{"route", route->path}, {"method", call.method}},
                    seconds);
    metrics.add(metric::kHttpRequests, {{"route", route->path},
                                        {"method", call.method},
                                        {"status", std::to_string(reply.status)}});
  }
  log_event(reply.status >= 500 ? spdlog::level::err : spdlog::level::info, "http_request",
            {{"method", call.method},
             {"route", route ? route->path : std::string()},
             {"path", web::is_valid_utf8(call.path) ? call.path : web::percent_encode(call.path)},
             {"status", reply.status},
             {"ms", seconds * 1000.0},
             {"role", call.principal ? role_text(*call.principal) : std::string()}});
  return reply;
}

}  // namespace agendasync::service
