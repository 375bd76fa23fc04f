#include "exsim/server/config.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "exsim/store/mailbox_location.h"

namespace exsim {

std::optional<ServerConfig> load_config_file(const std::string& path, ServerConfig cfg,
                                             std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read config file " + path + ": check the --config path";
    return std::nullopt;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
    if (j.contains("listen")) cfg.host = j["listen"].get<std::string>();
    if (j.contains("port")) cfg.port = j["port"].get<int>();
    if (j.contains("version")) {
      auto v = find_server_version(j["version"].get<std::string>());
      if (!v) {
        error =
            "config: version must be Exchange2013, Exchange2013_SP1, Exchange2016 or Exchange2019";
        return std::nullopt;
      }
      cfg.version = *v;
    }
    if (j.contains("tls")) {
      const auto& t = j["tls"];
      cfg.tls.enabled = t.value("enabled", true);
      cfg.tls.min_version = t.value("min_version", cfg.tls.min_version);
      cfg.tls.cert_file = t.value("cert", "");
      cfg.tls.key_file = t.value("key", "");
      cfg.tls.ca_out = t.value("ca_out", "");
    }
    if (j.contains("auth")) cfg.auth_methods = j["auth"].get<std::vector<std::string>>();
    cfg.domain = j.value("domain", cfg.domain);
    for (const auto& m : j.value("mailboxes", nlohmann::json::array())) {
      MailboxConfig mc;
      if (m.is_string()) {
        mc.address = m.get<std::string>();
      } else {
        mc.address = m.at("address").get<std::string>();
        mc.display_name = m.value("name", "");
        mc.location = m.value("location", "");
        mc.target_address = m.value("target_address", "");
        if (!mc.location.empty() && !parse_location(mc.location)) {
          error = "config: a mailbox's location must be everywhere, onpremises or online";
          return std::nullopt;
        }
      }
      cfg.mailboxes.push_back(mc);
    }
    for (const auto& a : j.value("accounts", nlohmann::json::array())) {
      AccountConfig ac;
      ac.user = a.at("user").get<std::string>();
      ac.password = a.value("password", "");
      ac.impersonation = a.value("impersonation", false);
      ac.full_access = a.value("full_access", std::vector<std::string>{});
      cfg.accounts.push_back(ac);
    }
    if (j.contains("bearer_tokens")) {
      for (auto& [token, user] : j["bearer_tokens"].items()) {
        cfg.bearer_tokens[token] = user.get<std::string>();
      }
    }
    cfg.online_routing_domain = j.value("online_routing_domain", cfg.online_routing_domain);
    cfg.admin_token = j.value("admin_token", cfg.admin_token);
    cfg.trace_dir = j.value("trace_dir", cfg.trace_dir);
    cfg.store = j.value("store", cfg.store);
    cfg.max_request_bytes = j.value("max_request_bytes", cfg.max_request_bytes);
    cfg.threads = j.value("threads", cfg.threads);
    cfg.streaming_keepalive_seconds =
        j.value("streaming_keepalive_seconds", cfg.streaming_keepalive_seconds);
    cfg.max_threads = j.value("max_threads", cfg.max_threads);
    // The profile first, so that a limit named next to it overrides the profile's value.
    if (j.contains("profile") && !apply_profile(cfg, j["profile"].get<std::string>())) {
      error = "config: profile must be onpremises or online";
      return std::nullopt;
    }
    cfg.mailbox_servers = j.value("mailbox_servers", cfg.mailbox_servers);
    cfg.hanging_connection_limit =
        j.value("hanging_connection_limit", cfg.hanging_connection_limit);
    cfg.max_subscriptions = j.value("max_subscriptions", cfg.max_subscriptions);
    cfg.max_subscription_ids = j.value("max_subscription_ids", cfg.max_subscription_ids);
    cfg.server_affinity = j.value("server_affinity", cfg.server_affinity);
    cfg.subscription_lifetime_seconds =
        j.value("subscription_lifetime_seconds", cfg.subscription_lifetime_seconds);
    cfg.ews_max_concurrency = j.value("ews_max_concurrency", cfg.ews_max_concurrency);
    cfg.ews_find_count_limit = j.value("ews_find_count_limit", cfg.ews_find_count_limit);
    cfg.ews_find_count_limit_restricted =
        j.value("ews_find_count_limit_restricted", cfg.ews_find_count_limit_restricted);
    if (cfg.ews_find_count_limit == 0) cfg.ews_find_count_limit_restricted = 0;
    if (cfg.mailbox_servers < 1 || cfg.mailbox_servers > 99) {
      error = "config: mailbox_servers must be 1 to 99";
      return std::nullopt;
    }
    if (j.contains("graph")) {
      const auto& g = j["graph"];
      cfg.graph_token_lifetime_seconds =
          g.value("token_lifetime_seconds", cfg.graph_token_lifetime_seconds);
      cfg.graph_mailbox_concurrency = g.value("mailbox_concurrency", cfg.graph_mailbox_concurrency);
      if (auto bad = read_graph_limits(g, cfg.graph_limits)) {
        error = "config file " + path + ": " + *bad;
        return std::nullopt;
      }
      for (const auto& a : g.value("apps", nlohmann::json::array())) {
        GraphAppConfig app;
        app.tenant_id = a.at("tenant").get<std::string>();
        app.client_id = a.at("client_id").get<std::string>();
        app.client_secret = a.value("secret", "");
        app.roles = a.value("roles", std::vector<std::string>{});
        app.certificates = a.value("certificates", std::vector<std::string>{});
        cfg.graph_apps.push_back(app);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    error = "config file " + path + " is not valid: " + e.what();
    return std::nullopt;
  }
  return cfg;
}

bool apply_profile(ServerConfig& config, std::string_view profile) {
  // learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
  // ("What throttling values do I need to take into consideration?"): hanging connection
  // limit 3 on Exchange 2013 and 10 on Exchange Online; EWSMaxSubscriptions 5000 and 20.
  if (profile == "onpremises") {
    config.hanging_connection_limit = 3;
    config.max_subscriptions = 5000;
    return true;
  }
  if (profile == "online") {
    config.hanging_connection_limit = 10;
    config.max_subscriptions = 20;
    return true;
  }
  return false;
}

std::optional<AccountConfig> parse_account_flag(const std::string& text) {
  auto first = text.find(':');
  if (first == std::string::npos || first == 0) return std::nullopt;
  AccountConfig a;
  a.user = text.substr(0, first);
  std::string rest = text.substr(first + 1);
  constexpr std::string_view kSuffix = ":impersonation";
  if (rest.size() >= kSuffix.size() && rest.ends_with(kSuffix)) {
    a.impersonation = true;
    rest.resize(rest.size() - kSuffix.size());
  }
  a.password = rest;
  return a;
}

}  // namespace exsim
