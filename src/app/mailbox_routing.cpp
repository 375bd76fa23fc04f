// R41: which connection serves a user's mailbox in a hybrid organisation. mailbox_routing.h
// says the rule; the order below keeps Autodiscover off the path of a pair's every run.
#include "app/mailbox_routing.h"

#include <fmt/format.h>

namespace agendasync::app {

const char* to_string(RemoteBackend value) {
  return value == RemoteBackend::kGraph ? "graph" : "ews";
}

std::optional<RemoteBackend> parse_remote_backend(std::string_view text) {
  if (text == "ews") return RemoteBackend::kEws;
  if (text == "graph") return RemoteBackend::kGraph;
  return std::nullopt;
}

Result<RemoteBackend> route_mailbox(config::ExchangeBackend connection, MailboxBackend setting,
                                    std::optional<RemoteBackend> recorded, bool reprobe,
                                    const MovedOnlineProbe& probe) {
  switch (connection) {
    case config::ExchangeBackend::kEws:
      return RemoteBackend::kEws;
    case config::ExchangeBackend::kGraph:
      return RemoteBackend::kGraph;
    case config::ExchangeBackend::kNone:
      return fail(ErrorKind::kInvalidData,
                  "the organisation has no connection to Exchange: set [exchange] backend");
    case config::ExchangeBackend::kHybrid:
      break;
  }
  // An administrator's choice stands: it is how a mailbox Autodiscover cannot place is synced.
  if (setting == MailboxBackend::kEws) return RemoteBackend::kEws;
  if (setting == MailboxBackend::kGraph) return RemoteBackend::kGraph;
  // Steady state: the backend the pair synced through last; Autodiscover is asked only when
  // there is none, or that backend said the mailbox is not there (any more).
  if (recorded && !reprobe) return *recorded;
  auto moved = probe();
  if (!moved) return std::unexpected(moved.error());
  return *moved ? RemoteBackend::kGraph : RemoteBackend::kEws;
}

bool mailbox_elsewhere(const Error& error) {
  // EWS: the on-premises directory holds a remote mailbox now (tools/exsim/README.md "Hybrid
  // mailboxes"); Graph: Exchange Online does not host the mailbox (it is on premises).
  return error.protocol_code == "ErrorNonExistentMailbox" ||
         error.protocol_code == "MailboxNotEnabledForRESTAPI";
}

}  // namespace agendasync::app
