// R41: which mailboxes of a hybrid organisation each watcher (EWS streams, Graph
// subscriptions) watches — by the user's setting, else the backend the pair last synced
// through, read from the real sync state database at every call.
#include "daemon/synced_mailboxes.h"

#include <gtest/gtest.h>

#include "app/app.h"
#include "store/sqlite_agenda_store.h"
#include "store/sync_state/sqlite_sync_state.h"
#include "store/test_support.h"

namespace agendasync::daemon {
namespace {

using Mailboxes = std::map<std::string, std::string>;

struct RoutedMailboxes : ::testing::Test {
  store::testing::TempDir dir;
  config::Config config;
  std::unique_ptr<store::AgendaStore> store;

  void SetUp() override {
    config.database = dir / "agenda.db";
    config.exchange.backend = config::ExchangeBackend::kHybrid;
    config.exchange.mail_domain = "example.com";
    auto opened = store::open_sqlite_agenda_store(config.database, {.create = true});
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
  }
  void add(const std::string& name, MailboxBackend backend, bool enabled = true) {
    User user;
    user.user_name = name;
    user.display_name = name;
    user.sync_enabled = enabled;
    user.backend = backend;
    ASSERT_TRUE(store->add_user(user));
  }
  void synced_through(const std::string& name, const std::string& backend) {
    auto state = store::SqliteSyncState::open(app::state_file(config), name);
    ASSERT_TRUE(state) << state.error().message;
    ASSERT_TRUE((*state)->switch_remote_backend(backend));
  }
};

TEST_F(RoutedMailboxes, SettingWinsThenTheLastRunsBackendAndUnroutedAutoIsWatchedByNeither) {
  add("onprem", MailboxBackend::kEws);
  add("online", MailboxBackend::kGraph);
  add("moved", MailboxBackend::kAuto);
  add("stayed", MailboxBackend::kAuto);
  add("new", MailboxBackend::kAuto);  // never synced: its first sync asks Autodiscover
  add("off", MailboxBackend::kEws, /*enabled=*/false);
  synced_through("moved", "graph");
  synced_through("stayed", "ews");
  synced_through("online", "ews");  // the setting wins over where it last synced

  auto ews = routed_mailboxes(config, *store, app::RemoteBackend::kEws);
  auto graph = routed_mailboxes(config, *store, app::RemoteBackend::kGraph);
  EXPECT_EQ(ews().value(),
            (Mailboxes{{"onprem", "onprem@example.com"}, {"stayed", "stayed@example.com"}}));
  EXPECT_EQ(graph().value(),
            (Mailboxes{{"moved", "moved@example.com"}, {"online", "online@example.com"}}));

  // The mailbox moves: its next sync records Graph, and the next refresh follows.
  synced_through("stayed", "graph");
  synced_through("new", "ews");
  EXPECT_EQ(ews().value(),
            (Mailboxes{{"new", "new@example.com"}, {"onprem", "onprem@example.com"}}));
  EXPECT_EQ(graph().value(), (Mailboxes{{"moved", "moved@example.com"},
                                        {"online", "online@example.com"},
                                        {"stayed", "stayed@example.com"}}));
}

}  // namespace
}  // namespace agendasync::daemon
