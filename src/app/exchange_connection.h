#pragma once
/// The Exchange end of every pair, for the configured backend: Exchange Server through EWS
/// (the service account with impersonation) or Exchange Online through Microsoft Graph (one
/// app-only token, cached and renewed, shared by all pairs). Secrets are read once, when the
/// connection is opened, and are only ever held as Secret.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/mailbox_routing.h"
#include "config/config.h"
#include "core/calendar_side.h"
#include "core/secret.h"
#include "net/http.h"

namespace agendasync::graph {
class TokenProvider;
}

namespace agendasync::app {

/// One line of `agendasync doctor` (R8), whatever the backend.
struct DoctorCheck {
  std::string check;  ///< "tls", "auth", "token", "roles", "mailbox jdoe@...", ...
  bool pass = false;
  std::string detail;    ///< what was found
  std::string remedy;    ///< on failure (or warning): what to do
  bool warning = false;  ///< passed, but not fit for production (plain http to loopback)
};

class ExchangeConnection {
 public:
  /// Reads the configured backend's secret (EWS password; Graph client secret, or certificate
  /// and private key). Fails naming the setting when one cannot be read. No secret configured
  /// is allowed for EWS (status and approve need none); side() then fails at the server.
  static Result<std::unique_ptr<ExchangeConnection>> open(const config::Config& config,
                                                          std::shared_ptr<net::HttpClient> http);
  ~ExchangeConnection();

  /// The calendar side of `mailbox` (R7 address) through `backend`, or through the
  /// connection's one backend when nullopt (a hybrid connection needs a route: kUnsupported).
  /// Fails naming the setting when the configuration does not say how to reach Exchange.
  Result<std::unique_ptr<CalendarSide>> side(const std::string& mailbox,
                                             std::optional<RemoteBackend> backend = std::nullopt);

  /// The backend of a connection that has one (ews, graph); nullopt for hybrid and none.
  std::optional<RemoteBackend> only_backend() const;

  /// R41, hybrid: whether on-premises Autodiscover redirects `mailbox` to another address
  /// (the mailbox moved to Exchange Online). Asks the EWS server's origin, then the mail
  /// domain's Autodiscover addresses, with the service account's credentials.
  Result<bool> moved_online(const std::string& mailbox);

  /// R8: the backend's connectivity test for `mailboxes` (the enabled users' addresses).
  /// Graph: token, roles, the tenant's admin-consent URL, each mailbox, calendar, time zone.
  std::vector<DoctorCheck> doctor(const std::vector<std::string>& mailboxes);

  /// The Graph app token (backend "graph" or "hybrid"; nullptr otherwise), e.g. for the daemon's
  /// change-notification subscriptions.
  graph::TokenProvider* graph_tokens() { return tokens_.get(); }

 private:
  ExchangeConnection(config::Config config, std::shared_ptr<net::HttpClient> http);
  std::vector<DoctorCheck> ews_doctor(const std::vector<std::string>& mailboxes);
  std::vector<DoctorCheck> graph_doctor(const std::vector<std::string>& mailboxes);

  config::Config config_;
  std::shared_ptr<net::HttpClient> http_;
  Secret password_;                               ///< EWS service account
  std::unique_ptr<graph::TokenProvider> tokens_;  ///< Graph app token
};

}  // namespace agendasync::app
