// exsim: an Exchange Server (EWS) simulator. Thin entry point; see README.md.
#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "exsim/server/config.h"
#include "exsim/server/server.h"

namespace {
exsim::Server* g_server = nullptr;
void on_signal(int) {
  if (g_server) g_server->stop();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "exsim - an Exchange Server simulator speaking EWS SOAP at <base>/EWS/Exchange.asmx.\n"
      "Prints its base URL on stdout once ready. Example:\n"
      "  exsim --port 0 --mailbox alice@example.com --account alice@example.com:secret\n"
      "        --account svc@example.com:secret:impersonation --tls --tls-ca-out ca.pem\n"
      "Microsoft Graph v1.0 is served at <base>/v1.0 over the same mailboxes, with an Entra ID\n"
      "token endpoint at <base>/<tenant>/oauth2/v2.0/token; app registrations (tenant, client\n"
      "id, secret or certificates, roles) go in the config file's \"graph\" section."};
  exsim::ServerConfig config;
  std::string config_file, version = "Exchange2016", auth = "basic,ntlm,bearer";
  std::vector<std::string> mailboxes, accounts, bearer;
  bool tls = false;
  app.add_option("--config", config_file,
                 "JSON config file (mailboxes, accounts, tls, ...; see README.md)");
  app.add_option("--host", config.host, "address to listen on")->capture_default_str();
  app.add_option("--port", config.port, "port; 0 = pick a free one")->capture_default_str();
  app.add_option("--version", version,
                 "Exchange version: Exchange2013, Exchange2013_SP1, Exchange2016, Exchange2019")
      ->capture_default_str();
  app.add_option("--mailbox", mailboxes, "a mailbox address (repeatable)");
  app.add_option("--account", accounts,
                 "logon account user:password[:impersonation] (repeatable); an account whose "
                 "user is a mailbox address owns that mailbox");
  app.add_option("--auth", auth, "allowed auth methods, comma-separated")->capture_default_str();
  app.add_option("--bearer-token", bearer, "accepted Bearer token TOKEN=user (repeatable)");
  app.add_flag("--tls", tls, "serve HTTPS with a generated CA and certificate");
  app.add_option("--tls-min", config.tls.min_version, "minimum TLS version 1.0..1.3")
      ->capture_default_str();
  app.add_option("--tls-cert", config.tls.cert_file,
                 "PEM certificate (instead of a generated one)");
  app.add_option("--tls-key", config.tls.key_file, "PEM private key for --tls-cert");
  app.add_option("--tls-ca-out", config.tls.ca_out, "write the generated CA certificate here");
  app.add_option("--admin-token", config.admin_token, "enables /exsim/admin/* with this token");
  app.add_option("--trace-dir", config.trace_dir, "record every EWS request/response here");
  app.add_option("--store", config.store,
                 "memory, or sqlite:PATH to keep mailboxes across restarts")
      ->capture_default_str();
  app.add_option("--threads", config.threads, "worker threads at start (see --max-threads)")
      ->capture_default_str();
  app.add_option("--max-request-bytes", config.max_request_bytes, "largest accepted request body")
      ->capture_default_str();
  // Streaming notifications at scale (README "Streaming at scale"); given flags win over the
  // config file, and a limit flag over --profile.
  exsim::ServerConfig limits;
  std::string profile;
  bool no_affinity = false;
  app.add_option("--max-threads", limits.max_threads, "most worker threads (the pool grows)")
      ->capture_default_str();
  app.add_option("--profile", profile,
                 "throttling profile: onpremises (HangingConnectionLimit 3, EWSMaxSubscriptions "
                 "5000) or online (10, 20)");
  app.add_option("--mailbox-servers", limits.mailbox_servers,
                 "simulated Mailbox servers the mailboxes are spread over")
      ->capture_default_str();
  app.add_option("--hanging-connection-limit", limits.hanging_connection_limit,
                 "open GetStreamingEvents per charged account; 0 = no limit")
      ->capture_default_str();
  app.add_option("--max-subscriptions", limits.max_subscriptions,
                 "EWSMaxSubscriptions per charged account; 0 = no limit")
      ->capture_default_str();
  app.add_option("--max-subscription-ids", limits.max_subscription_ids,
                 "subscription ids per GetStreamingEvents; 0 = no limit")
      ->capture_default_str();
  app.add_flag("--no-server-affinity", no_affinity,
               "every Mailbox server holds every subscription (relaxes routing)");
  app.add_option("--subscription-lifetime-seconds", limits.subscription_lifetime_seconds,
                 "unread streaming subscriptions expire after this; 0 = never")
      ->capture_default_str();
  app.add_option("--ews-max-concurrency", limits.ews_max_concurrency,
                 "EWSMaxConcurrency: EWS requests in flight per charged account; 0 = no limit")
      ->capture_default_str();
  app.add_option("--ews-find-count-limit", limits.ews_find_count_limit,
                 "EWSFindCountLimit: FindItem/FindFolder rows held per charged account (250 "
                 "with a restriction); 0 = no limit")
      ->capture_default_str();
  std::vector<std::string> graph_relax;
  app.add_option("--graph-relax", graph_relax,
                 "turn off one of Graph's subscription limits (repeatable): subscription-rate, "
                 "mailbox-subscription-cap, validation-deadline, notification-deadline, "
                 "client-state-length, mailbox-request-rate, upload-volume");
  CLI11_PARSE(app, argc, argv);

  if (!config_file.empty()) {
    std::string error;
    auto loaded = exsim::load_config_file(config_file, config, error);
    if (!loaded) {
      std::cerr << "exsim: " << error << "\n";
      return 2;
    }
    config = *loaded;
  }
  if (app.count("--version") || config_file.empty()) {
    auto v = exsim::find_server_version(version);
    if (!v) {
      std::cerr << "exsim: --version must be Exchange2013, Exchange2013_SP1, Exchange2016 or "
                   "Exchange2019\n";
      return 2;
    }
    config.version = *v;
  }
  if (!profile.empty() && !exsim::apply_profile(config, profile)) {
    std::cerr << "exsim: --profile must be onpremises or online\n";
    return 2;
  }
  if (app.count("--max-threads")) config.max_threads = limits.max_threads;
  if (app.count("--mailbox-servers")) config.mailbox_servers = limits.mailbox_servers;
  if (app.count("--hanging-connection-limit"))
    config.hanging_connection_limit = limits.hanging_connection_limit;
  if (app.count("--max-subscriptions")) config.max_subscriptions = limits.max_subscriptions;
  if (app.count("--max-subscription-ids"))
    config.max_subscription_ids = limits.max_subscription_ids;
  if (no_affinity) config.server_affinity = false;
  if (app.count("--subscription-lifetime-seconds"))
    config.subscription_lifetime_seconds = limits.subscription_lifetime_seconds;
  if (app.count("--ews-max-concurrency")) config.ews_max_concurrency = limits.ews_max_concurrency;
  if (app.count("--ews-find-count-limit")) {
    config.ews_find_count_limit = limits.ews_find_count_limit;
    if (config.ews_find_count_limit == 0) config.ews_find_count_limit_restricted = 0;
  }
  if (config.mailbox_servers < 1 || config.mailbox_servers > 99) {
    std::cerr << "exsim: --mailbox-servers must be 1 to 99\n";
    return 2;
  }
  for (const auto& name : graph_relax) {
    if (!exsim::relax_graph_limit(config.graph_limits, name)) {
      std::cerr
          << "exsim: --graph-relax " << name << " is not a switch (known: "
          << "subscription-rate, mailbox-subscription-cap, validation-deadline, "
          << "notification-deadline, client-state-length, mailbox-request-rate, upload-volume)\n";
      return 2;
    }
  }
  if (tls) config.tls.enabled = true;
  if (app.count("--auth")) {
    config.auth_methods.clear();
    std::stringstream in(auth);
    for (std::string m; std::getline(in, m, ',');) config.auth_methods.push_back(m);
  }
  for (const auto& m : mailboxes) config.mailboxes.push_back({m, ""});
  for (const auto& a : accounts) {
    auto parsed = exsim::parse_account_flag(a);
    if (!parsed) {
      std::cerr << "exsim: --account must be user:password[:impersonation], got '"
                << a.substr(0, a.find(':')) << ":...'\n";
      return 2;
    }
    config.accounts.push_back(*parsed);
  }
  for (const auto& b : bearer) {
    auto eq = b.find('=');
    if (eq == std::string::npos) {
      std::cerr << "exsim: --bearer-token must be TOKEN=user\n";
      return 2;
    }
    config.bearer_tokens[b.substr(0, eq)] = b.substr(eq + 1);
  }

  exsim::Server server(config);
  std::string error;
  if (!server.start(error)) {
    std::cerr << "exsim: " << error << "\n";
    return 1;
  }
  g_server = &server;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::cout << server.base_url() << std::endl;
  server.run();
  return 0;
}
