#pragma once
#include <functional>
#include <map>
#include <string>

#include "app/mailbox_routing.h"
#include "config/config.h"
#include "core/error.h"
#include "store/agenda_store.h"

namespace agendasync::daemon {

/// user -> mailbox address of the mailboxes a watcher should watch now.
using MailboxSource = std::function<Result<std::map<std::string, std::string>>()>;

/// user -> mailbox address of every user whose mailbox should be watched now: sync enabled,
/// not blocked, with an address (the organisation's mail domain from the agenda, else the
/// configuration's). Shared by the EWS watchers and the Graph subscription keeper. With
/// `keep`, only the users it keeps.
Result<std::map<std::string, std::string>> synced_mailboxes(
    const config::Config& config, store::AgendaStore& store,
    const std::function<bool(const User&)>& keep = {});

/// R41: the synced mailboxes of a hybrid organisation that `backend` serves — by the user's
/// setting (ews/graph), else (auto) by the backend the pair last synced through, read from
/// the organisation's sync state at every call. An `auto` pair that never synced is watched
/// by neither until its first sync has asked Autodiscover where the mailbox is (watchers
/// never call Autodiscover). `store` must outlive the source; one thread at a time may call
/// it. `org` names the organisation's schema when `config.database` is a PostgreSQL server.
MailboxSource routed_mailboxes(const config::Config& config, store::AgendaStore& store,
                               app::RemoteBackend backend, const std::string& org = "default");

}  // namespace agendasync::daemon
