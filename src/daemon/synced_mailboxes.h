#pragma once
#include <map>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "store/agenda_store.h"

namespace agendasync::daemon {

/// user -> mailbox address of every user whose mailbox should be watched now: sync enabled,
/// not blocked, with an address (the organisation's mail domain from the agenda, else the
/// configuration's). Shared by the EWS watchers and the Graph subscription keeper.
Result<std::map<std::string, std::string>> synced_mailboxes(const config::Config& config,
                                                            store::AgendaStore& store);

}  // namespace agendasync::daemon
