#include "daemon/synced_mailboxes.h"

#include <memory>

#include "app/app.h"
#include "core/settings.h"
#include "store/sync_state/sqlite_sync_state.h"

namespace agendasync::daemon {

Result<std::map<std::string, std::string>> synced_mailboxes(
    const config::Config& config, store::AgendaStore& store,
    const std::function<bool(const User&)>& keep) {
  auto users = store.users();
  if (!users) return std::unexpected(users.error());
  auto settings = store.settings();
  const std::string domain = settings && !settings->mail_domain.empty()
                                 ? settings->mail_domain
                                 : config.exchange.mail_domain;
  std::map<std::string, std::string> mailboxes;
  for (const auto& user : *users) {
    if (!user.sync_enabled || user.blocked) continue;
    if (keep && !keep(user)) continue;
    auto address = mailbox_address(user, domain);
    // Users without an address fail their sync with the fix; nothing to watch meanwhile.
    if (address && *address && !(*address)->empty()) mailboxes[user.user_name] = **address;
  }
  return mailboxes;
}

MailboxSource routed_mailboxes(const config::Config& config, store::AgendaStore& store,
                               app::RemoteBackend backend) {
  // The state database stays open between refreshes (opened on first use: a new
  // organisation has none until its first sync).
  auto state = std::make_shared<std::shared_ptr<store::sqlite::Connection>>();
  return [config, &store, backend, state]() -> Result<std::map<std::string, std::string>> {
    if (!*state) {
      auto opened = store::open_state_database(app::state_file(config));
      if (!opened) return std::unexpected(opened.error());
      *state = std::move(*opened);
    }
    auto recorded = store::recorded_backends(**state);
    if (!recorded) return std::unexpected(recorded.error());
    const auto never_probe = []() -> Result<bool> {
      return fail(ErrorKind::kUnsupported, "not routed yet");
    };
    return synced_mailboxes(config, store, [&](const User& user) {
      const auto found = recorded->find(user.user_name);
      const auto last =
          found == recorded->end() ? std::nullopt : app::parse_remote_backend(found->second);
      auto routed = app::route_mailbox(config.exchange.backend, user.backend, last,
                                       /*reprobe=*/false, never_probe);
      return routed && *routed == backend;
    });
  };
}

}  // namespace agendasync::daemon
