#include "store/sync_state/state_store.h"

#include "store/database_locator.h"
#include "store/sync_state/pg_state_store.h"
#include "store/sync_state/sqlite_state_store.h"

namespace agendasync::store {

Result<std::unique_ptr<StateStore>> open_state_store(std::string_view database,
                                                     std::string_view org,
                                                     const std::filesystem::path& sqlite_state_path,
                                                     const LeaseOptions& leases) {
  if (is_postgres_locator(database)) {
    auto target = organisation_target(database, org);
    if (!target) return std::unexpected(target.error());
    return std::unique_ptr<StateStore>(std::make_unique<PgStateStore>(std::move(*target), leases));
  }
  return std::unique_ptr<StateStore>(std::make_unique<SqliteStateStore>(sqlite_state_path));
}

}  // namespace agendasync::store
