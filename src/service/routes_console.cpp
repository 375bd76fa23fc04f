// The admin console (issue 18): its static files under /admin/ with a strict
// Content-Security-Policy, the browser session (sign in with a token or a login link, sign
// out) and the login links an integration mints for its users.
#include <chrono>

#include "service/api_context.h"
#include "service/console_assets.h"
#include "service/log.h"
#include "service/sessions.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

/// Everything the console loads comes from the daemon; no inline script or style, no frames,
/// no form posting elsewhere. Pages build their DOM with textContent, never innerHTML.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

void add_page_headers(Reply& reply) {
  reply.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("X-Frame-Options", "DENY");
  reply.headers.emplace_back("Referrer-Policy", "no-referrer");
  reply.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  // Small files: revalidating each load keeps an upgraded daemon's console consistent.
  reply.headers.emplace_back("Cache-Control", "no-cache");
}

Reply asset_reply(const Call& call, std::string_view name) {
  for (const auto& asset : console_assets()) {
    if (asset.name != name) continue;
    Reply reply{200, std::string(asset.content_type), std::string(asset.bytes), {}};
    add_page_headers(reply);
    return reply;
  }
  Reply reply =
      problem(404, "not-found", "Not found",
              "the console has no file \"" + std::string(name) + "\"; open /admin/", call.path);
  add_page_headers(reply);
  return reply;
}

bool secure_cookies(const PlatformContext& platform) {
  return platform.public_url.starts_with("https://");
}

std::string cookie(const PlatformContext& platform, std::string_view value,
                   std::chrono::seconds max_age) {
  std::string text =
      std::string(kSessionCookie) + "=" + std::string(value) +
      "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age.count());
  if (secure_cookies(platform)) text += "; Secure";
  return text;
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

json principal_json(const Principal& principal) {
  json body = {
      {"role", role_text(principal)},
      {"org", principal.is_operator() ? json(nullptr) : json(principal.org)},
      {"user_name", principal.kind == RoleKind::kUser ? json(principal.user_name) : json(nullptr)}};
  return body;
}

/// A browser sends Origin on every POST; one that names another site is a cross-site
/// request, refused even before its credentials are looked at.
std::optional<Reply> refuse_cross_site(const Call& call) {
  auto origin = call.header("Origin");
  auto host = call.header("Host");
  if (!origin || !host) return std::nullopt;
  if (*origin == "http://" + *host || *origin == "https://" + *host) return std::nullopt;
  return problem(403, "cross-site", "Cross-site request refused",
                 "the request came from " + *origin + ", not from this server's console",
                 call.path);
}

}  // namespace

void add_console_routes(Router& router, PlatformContext& platform, SessionStore& sessions,
                        TokenStore& tokens) {
  router.add(
      "GET", "/admin",
      [](Call&) -> Reply {
        Reply reply{308, "text/plain; charset=utf-8", "", {{"Location", "/admin/"}}};
        add_page_headers(reply);
        return reply;
      },
      false);
  router.add(
      "GET", "/admin/", [](Call& call) -> Reply { return asset_reply(call, "index.html"); }, false);
  router.add(
      "GET", "/admin/{file}",
      [](Call& call) -> Reply { return asset_reply(call, call.params.at("file")); }, false);

  // Sign-in: a token (any role) or a login link's code, exchanged for a session cookie. The
  // token never goes into the cookie, so it cannot leak from the browser's cookie jar.
  router.add(
      "POST", "/api/v1/session",
      [&platform, &sessions, &tokens](Call& call) -> Reply {
        if (auto refused = refuse_cross_site(call)) return std::move(*refused);
        // A cross-site HTML form cannot send this type without a CORS preflight, which this
        // server never grants: no login CSRF.
        auto type = call.header("Content-Type");
        if (!type || !type->starts_with("application/json")) {
          return problem(415, "unsupported-media-type", "JSON required",
                         "sign in with Content-Type: application/json and a body "
                         "{\"token\": \"...\"} or {\"login_code\": \"...\"}",
                         call.path);
        }
        auto body = parse_body(call);
        if (auto* reply = std::get_if<Reply>(&body)) return *reply;
        const json& document = std::get<json>(body);
        std::optional<Principal> principal;
        std::string token_hash;
        if (auto token = document.find("token"); token != document.end() && token->is_string()) {
          token_hash = sha256_hex(token->get<std::string>());
          auto found = tokens.authenticate_hash(token_hash);
          if (!found) return problem_from(found.error(), call.path);
          principal = *found;
        } else if (auto code = document.find("login_code");
                   code != document.end() && code->is_string()) {
          principal = sessions.redeem(code->get<std::string>());
          if (!principal) {
            return problem(401, "login-link-invalid", "Login link not valid",
                           "this login link was used already or has expired; ask the "
                           "application that sent it for a new one",
                           call.path);
          }
        } else {
          return problem(422, "invalid-data", "Invalid data",
                         "send {\"token\": \"<API token>\"} or {\"login_code\": \"<code>\"}",
                         call.path);
        }
        // A new id at every sign-in; a session this browser still had ends now.
        if (auto cookie_header = call.header("Cookie")) {
          if (auto old = session_cookie(*cookie_header)) sessions.end(*old);
        }
        auto opened = sessions.open(*principal, std::move(token_hash));
        if (!opened) return problem_from(opened.error(), call.path);
        log_event(spdlog::level::info, "session_opened",
                  {{"role", role_text(*principal)},
                   {"org", principal->org},
                   {"token", principal->token_id}});
        json reply = principal_json(*principal);
        reply["csrf_token"] = opened->session.csrf;
        reply["expires_at"] = unix_seconds(opened->session.expires);
        Reply answer = json_reply(201, reply);
        answer.headers.emplace_back("Set-Cookie",
                                    cookie(platform, opened->id, sessions.options().lifetime));
        answer.headers.emplace_back("Cache-Control", "no-store");
        return answer;
      },
      false);

  // Who is signed in, and the CSRF token again (a reloaded page has lost it from memory).
  router.add("GET", "/api/v1/session", [&sessions](Call& call) -> Reply {
    json reply = principal_json(*call.principal);
    auto cookie_header = call.header("Cookie");
    auto id = cookie_header ? session_cookie(*cookie_header) : std::nullopt;
    if (auto session = id ? sessions.find(*id) : std::nullopt) {
      reply["csrf_token"] = session->csrf;
      reply["expires_at"] = unix_seconds(session->expires);
    }
    Reply answer = json_reply(200, reply);
    answer.headers.emplace_back("Cache-Control", "no-store");
    return answer;
  });

  router.add("DELETE", "/api/v1/session", [&platform, &sessions](Call& call) -> Reply {
    auto cookie_header = call.header("Cookie");
    if (auto id = cookie_header ? session_cookie(*cookie_header) : std::nullopt) {
      sessions.end(*id);
    }
    log_event(spdlog::level::info, "session_ended",
              {{"role", role_text(*call.principal)}, {"org", call.principal->org}});
    Reply reply{204, "application/json", "", {}};
    reply.headers.emplace_back("Set-Cookie", cookie(platform, "", std::chrono::seconds(0)));
    return reply;
  });

  // The host application embeds the console: it mints a short-lived, single-use link that
  // opens this user's My profile. The code rides in the URL's fragment, which browsers never
  // send to a server, so it stays out of access logs and Referer headers.
  router.add_scoped(
      "POST", "/api/v1/users/{name}/login-link", [&platform, &sessions](Call& call) -> Reply {
        ApiContext& api = *call.api;
        if (!is_staff(call)) return forbidden(call, "role integration or admin");
        const std::string& name = call.params.at("name");
        auto found = api.store.user(name);
        if (!found) return problem_from(found.error(), call.path);
        if (!*found) {
          return problem(404, "not-found", "Not found",
                         "no user \"" + name + "\"; list users with GET /api/v1/users", call.path);
        }
        auto link = sessions.mint_link(api.org, (*found)->user_name);
        if (!link) return problem_from(link.error(), call.path);
        log_event(
            spdlog::level::info, "login_link_minted",
            {{"org", api.org}, {"user", (*found)->user_name}, {"by", call.principal->token_id}});
        const std::string path = "/admin/#/login/" + link->code;
        std::string base = platform.public_url;
        while (base.ends_with('/')) base.pop_back();
        Reply reply = json_reply(201, {{"user_name", (*found)->user_name},
                                       {"url", base + path},
                                       {"path", path},
                                       {"expires_at", unix_seconds(link->expires)}});
        reply.headers.emplace_back("Cache-Control", "no-store");
        return reply;
      });
}

}  // namespace agendasync::service
