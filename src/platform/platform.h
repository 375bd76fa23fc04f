#pragma once
/// The platform: which organisations a node (or a group of nodes) serves, and each one's
/// connection to Exchange (issue 16). It is the narrow system interface of docs/DECISIONS.md
/// ("Organisations"): the daemon, the operator's API routes and the CLI's `orgs` commands use
/// it; request handlers of one organisation never do, they get that organisation's own
/// stores. Its tables live in the node's database (the file `database` names), beside the
/// agenda of organisation `default`, so an existing single-organisation agenda becomes
/// organisation `default` without a row being rewritten; every other organisation has its own
/// database files under `organisations/<id>/` next to it. On PostgreSQL the tables are the
/// platform schema's and each organisation is a schema `org_<id>` on the same server.
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "platform/connection.h"
#include "platform/organisation.h"
#include "service/secrets/key_ring.h"
#include "store/sql_database.h"

namespace agendasync::platform {

/// What an update of an organisation changes; unset fields stay.
struct OrganisationUpdate {
  std::optional<std::string> name;
  std::optional<OrgState> state;
};

class Platform {
 public:
  /// Opens the platform tables in `node.database` (which must exist: `agendasync init` or
  /// the daemon creates it), creating them and registering organisation `default` (this
  /// agenda) the first time. On PostgreSQL (`database` names a server) they are the
  /// platform schema's (store::kPlatformSchema), shared by every node, which `agendasync
  /// init` or `agendasync migrate` made: opening checks its version and changes nothing.
  /// `ring` seals and opens connection secrets; it may be empty until a secret is stored.
  static Result<std::unique_ptr<Platform>> open(config::Config node,
                                                service::secrets::KeyRing ring);

  /// PostgreSQL: registers organisation `default` (and makes its schema) unless it exists;
  /// `agendasync init` does this once. SQLite: nothing (the node's file is its agenda).
  Result<void> ensure_default();

  /// The node's configuration (database, server, TLS, [sync] defaults, the platform's Graph
  /// app in [graph]).
  const config::Config& node() const { return node_; }

  /// Every organisation, by id.
  Result<std::vector<Organisation>> organisations();
  /// kNotFound naming `agendasync orgs list` when there is none with `id`.
  Result<Organisation> organisation(std::string_view id);
  /// Registers a new organisation and creates its (empty) agenda. kInvalidData for a bad id,
  /// kConflict when the id is taken.
  Result<Organisation> create(std::string_view id, std::string_view name);
  Result<Organisation> update(std::string_view id, const OrganisationUpdate& update);
  /// Forgets the organisation and deletes its database files. The caller stops its syncs
  /// and closes its stores first. Organisation `default` cannot be removed (its agenda holds
  /// the platform's own tables): kConflict.
  Result<void> remove(std::string_view id);

  /// The organisation's connection. With `unseal`, secrets carry their values (the daemon);
  /// without, a set secret is a placeholder that only says it is set (listings).
  Result<Connection> connection(std::string_view id, bool unseal);
  /// Replaces the non-secret fields and applies `secrets`, after check_connection. kConflict
  /// for organisation `default` while the node's file configures [exchange] (the file wins).
  Result<Connection> set_connection(std::string_view id, const Connection& fields,
                                    const SecretUpdates& secrets);
  /// Seals the organisation's connection secrets again under the ring's current key (key
  /// rotation); returns how many. Fails, changing nothing, when a value's key is missing.
  Result<std::size_t> reseal_connection(std::string_view id);
  /// The admin-consent link for the organisation's tenant (connection.h); `redirect_uri` may
  /// be empty.
  std::string consent_link(const Connection& connection, const std::string& redirect_uri) const;

  /// The configuration a single-organisation node would have for this organisation: the
  /// node's file with `database` set to the organisation's agenda and [exchange]/[graph] from
  /// its connection (secrets unsealed). What SyncApp, the watchers and doctor run on.
  Result<config::Config> organisation_config(std::string_view id);

 private:
  Platform(config::Config node, service::secrets::KeyRing ring,
           std::unique_ptr<store::sql::Database> db)
      : node_(std::move(node)), ring_(std::move(ring)), db_(std::move(db)) {}
  Result<std::optional<Organisation>> find(std::string_view id);
  /// The organisation of a row of (id, name, state, created_at, database).
  Result<Organisation> read_organisation(const store::sql::Rows& rows, std::size_t row) const;
  std::filesystem::path database_of(const std::string& stored) const;
  bool file_connection(std::string_view id) const;
  bool postgres() const;

  config::Config node_;
  service::secrets::KeyRing ring_;
  std::mutex mutex_;
  std::unique_ptr<store::sql::Database> db_;
};

}  // namespace agendasync::platform
