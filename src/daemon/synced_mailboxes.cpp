#include "daemon/synced_mailboxes.h"

#include "core/settings.h"

namespace agendasync::daemon {

Result<std::map<std::string, std::string>> synced_mailboxes(const config::Config& config,
                                                            store::AgendaStore& store) {
  auto users = store.users();
  if (!users) return std::unexpected(users.error());
  auto settings = store.settings();
  const std::string domain = settings && !settings->mail_domain.empty()
                                 ? settings->mail_domain
                                 : config.exchange.mail_domain;
  std::map<std::string, std::string> mailboxes;
  for (const auto& user : *users) {
    if (!user.sync_enabled || user.blocked) continue;
    auto address = mailbox_address(user, domain);
    // Users without an address fail their sync with the fix; nothing to watch meanwhile.
    if (address && *address && !(*address)->empty()) mailboxes[user.user_name] = **address;
  }
  return mailboxes;
}

}  // namespace agendasync::daemon
