#pragma once
/// The console's engine operations (service/console_operations.h) on the daemon's sync apps:
/// each borrows an app of the organisation's pool, so it runs on the organisation's current
/// connection and never alongside another call on the same agenda connection.
#include <memory>

#include "daemon/sync_pool.h"
#include "service/console_operations.h"

namespace agendasync::daemon {

service::ConsoleOperations console_operations(std::shared_ptr<OrganisationPools> pools);

}  // namespace agendasync::daemon
