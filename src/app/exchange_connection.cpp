#include "app/exchange_connection.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "app/pair_settings.h"
#include "connectors/ews/doctor.h"
#include "connectors/ews/ews_side.h"
#include "connectors/ews/mailbox_place.h"
#include "connectors/graph/doctor.h"
#include "connectors/graph/graph_side.h"
#include "connectors/graph/token.h"

namespace agendasync::app {
namespace {

/// The certificate is public, but an unreadable one must fail naming its setting.
Result<std::string> read_certificate(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail(ErrorKind::kNotFound,
                fmt::format("graph.certificate_file: cannot read {}; check that it exists and is "
                            "readable by this user",
                            file.string()));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The Graph app's credential as configured: a client secret, or certificate + private key.
Result<graph::AppCredentials> load_app(const config::GraphConfig& graph) {
  if (graph.uses_certificate()) {
    auto certificate = graph.certificate_pem.empty() ? read_certificate(graph.certificate_file)
                                                     : Result<std::string>(graph.certificate_pem);
    if (!certificate) return std::unexpected(certificate.error());
    auto key = config::load_secret_pem(graph.private_key, "graph.private_key");
    if (!key) return std::unexpected(key.error());
    return graph_app_credentials(graph, Secret{}, std::move(*certificate), std::move(*key));
  }
  auto secret = config::load_secret(graph.client_secret, "graph.client_secret");
  if (!secret) return std::unexpected(secret.error());
  return graph_app_credentials(graph, std::move(*secret), {}, Secret{});
}

DoctorCheck row(const ews::DoctorCheck& check) {
  return DoctorCheck{check.check, check.pass, check.detail, check.remedy, check.warning};
}

DoctorCheck row(const graph::DoctorCheck& check) {
  return DoctorCheck{check.check, check.pass, check.detail, check.remedy};
}

}  // namespace

ExchangeConnection::ExchangeConnection(config::Config config, std::shared_ptr<net::HttpClient> http)
    : config_(std::move(config)), http_(std::move(http)) {}

ExchangeConnection::~ExchangeConnection() = default;

Result<std::unique_ptr<ExchangeConnection>> ExchangeConnection::open(
    const config::Config& config, std::shared_ptr<net::HttpClient> http) {
  std::unique_ptr<ExchangeConnection> connection(new ExchangeConnection(config, std::move(http)));
  const auto backend = config.exchange.backend;
  // Hybrid (R41): both, the Graph app and the EWS service account.
  if (backend == config::ExchangeBackend::kGraph || backend == config::ExchangeBackend::kHybrid) {
    auto app = load_app(config.graph);
    if (!app) return std::unexpected(app.error());
    connection->tokens_ =
        std::make_unique<graph::TokenProvider>(*connection->http_, std::move(*app));
  }
  if (backend != config::ExchangeBackend::kGraph && !config.exchange.password.empty()) {
    auto loaded = config::load_secret(config.exchange.password, "exchange.password");
    if (!loaded) return std::unexpected(loaded.error());
    connection->password_ = std::move(*loaded);
  }
  return connection;
}

std::optional<RemoteBackend> ExchangeConnection::only_backend() const {
  switch (config_.exchange.backend) {
    case config::ExchangeBackend::kEws:
      return RemoteBackend::kEws;
    case config::ExchangeBackend::kGraph:
      return RemoteBackend::kGraph;
    case config::ExchangeBackend::kNone:
    case config::ExchangeBackend::kHybrid:
      break;
  }
  return std::nullopt;
}

Result<bool> ExchangeConnection::moved_online(const std::string& mailbox) {
  auto options = ews_side_options(config_, password_, mailbox);
  if (!options) return std::unexpected(options.error());
  auto place = ews::locate_mailbox(*http_, options->credentials, mailbox,
                                   ews::mailbox_place_bases(config_.exchange.url, mailbox));
  if (!place) return std::unexpected(place.error());
  return place->moved_online;
}

Result<std::unique_ptr<CalendarSide>> ExchangeConnection::side(
    const std::string& mailbox, std::optional<RemoteBackend> backend) {
  if (!backend) backend = only_backend();
  if (!backend && config_.exchange.backend == config::ExchangeBackend::kHybrid) {
    return fail(ErrorKind::kUnsupported,
                "a hybrid connection serves each mailbox through EWS or Graph: route the "
                "mailbox first (app/mailbox_routing.h)");
  }
  if (backend == RemoteBackend::kGraph && tokens_) {
    auto options = graph_side_options(config_, mailbox);
    if (!options) return std::unexpected(options.error());
    return std::make_unique<graph::GraphSide>(*http_, tokens_->credentials(), std::move(*options));
  }
  auto options = ews_side_options(config_, password_, mailbox);
  if (!options) return std::unexpected(options.error());
  return std::make_unique<ews::EwsCalendarSide>(*http_, std::move(*options));
}

std::vector<DoctorCheck> ExchangeConnection::doctor(const std::vector<std::string>& mailboxes) {
  if (config_.exchange.backend == config::ExchangeBackend::kHybrid) {
    // Both connections' own checks; the mailboxes are checked where they are routed when
    // they sync (a mailbox's backend is known per pair, not here).
    auto checks = ews_doctor({});
    auto graph = graph_doctor({});
    checks.insert(checks.end(), graph.begin(), graph.end());
    return checks;
  }
  return tokens_ ? graph_doctor(mailboxes) : ews_doctor(mailboxes);
}

std::vector<DoctorCheck> ExchangeConnection::ews_doctor(const std::vector<std::string>& mailboxes) {
  const auto& exchange = config_.exchange;
  auto side_options = ews_side_options(config_, password_, "");
  if (!side_options) {
    return {{"configuration", false, side_options.error().message,
             "fix the setting named above in " + config_.source.string()}};
  }
  if (exchange.password.empty() && exchange.auth != config::EwsAuth::kOAuth) {
    return {{"configuration", false, "exchange.password names no secret",
             "set password_file or password_env in [exchange] to where the service "
             "account's password is kept"}};
  }
  ews::DoctorInput input;
  input.endpoint = exchange.url;
  input.version = server_version(exchange.version);
  input.mode = side_options->context.mode;
  input.credentials = side_options->credentials;
  input.mailboxes = mailboxes;
  input.connection.tls.ca_bundle_path = config_.tls.ca_bundle.string();
  input.connection.proxy = config_.tls.proxy;
  std::vector<DoctorCheck> checks;
  for (const auto& check : ews::run_ews_doctor(*http_, input)) checks.push_back(row(check));
  return checks;
}

std::vector<DoctorCheck> ExchangeConnection::graph_doctor(
    const std::vector<std::string>& mailboxes) {
  graph::DoctorInput input;
  input.base_url = config_.graph.graph_url;
  input.mailboxes = mailboxes;
  std::vector<DoctorCheck> checks;
  for (const auto& check : graph::run_graph_doctor(*http_, *tokens_, input))
    checks.push_back(row(check));
  return checks;
}

}  // namespace agendasync::app
