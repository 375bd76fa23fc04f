#include "daemon/synced_mailboxes.h"

#include <memory>

#include "app/app.h"
#include "core/settings.h"
#include "store/database_locator.h"
#include "store/sql_database.h"
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
                               app::RemoteBackend backend, const std::string& org) {
  // The state database stays open between refreshes (opened on first use: a new
  // organisation has none until its first sync). On PostgreSQL it is the organisation's
  // schema; sync_backend has the same shape on both.
  struct State {
    std::shared_ptr<store::sqlite::Connection> sqlite;
    std::unique_ptr<store::sql::Database> postgres;
  };
  auto state = std::make_shared<State>();
  return [config, &store, backend, state, org]() -> Result<std::map<std::string, std::string>> {
    std::map<std::string, std::string> found_backends;
    if (store::is_postgres_locator(config.database.string())) {
      if (!state->postgres) {
        auto target = store::organisation_target(config.database.string(), org);
        if (!target) return std::unexpected(target.error());
        store::pg::PoolOptions options;
        options.max_connections = 1;
        auto opened = store::sql::open_pg_database(std::move(*target), options);
        if (!opened) return std::unexpected(opened.error());
        state->postgres = std::move(*opened);
      }
      auto rows = state->postgres->query("SELECT pair, backend FROM sync_backend");
      if (!rows) return std::unexpected(rows.error());
      for (std::size_t i = 0; i < rows->size(); ++i) {
        found_backends[rows->text_at(i, 0)] = rows->text_at(i, 1);
      }
    } else {
      if (!state->sqlite) {
        auto opened = store::open_state_database(app::state_file(config));
        if (!opened) return std::unexpected(opened.error());
        state->sqlite = std::move(*opened);
      }
      auto read = store::recorded_backends(*state->sqlite);
      if (!read) return std::unexpected(read.error());
      found_backends = std::move(*read);
    }
    const auto* recorded = &found_backends;
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
