#include "platform/platform.h"

#include <fmt/format.h>

#include <chrono>
#include <system_error>

#include "service/secrets/cipher.h"
#include "store/database_locator.h"
#include "store/pg_schema.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::platform {

namespace {

using store::sql::Value;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS platform_organisation(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL,
  database TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS platform_connection(
  org TEXT PRIMARY KEY, document TEXT NOT NULL, exchange_password TEXT,
  graph_client_secret TEXT, graph_private_key TEXT, updated_at INTEGER NOT NULL);
)sql";

Error unknown_organisation(std::string_view id) {
  return Error::make(ErrorKind::kNotFound,
                     "no organisation \"" + std::string(id) +
                         "\"; list them with `agendasync orgs list` or GET /api/v1/organisations");
}

/// Where organisations other than `default` keep their files, relative to the node database's
/// folder.
constexpr std::string_view kOrganisationsFolder = "organisations";

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The sealing name binds a secret to its organisation and slot: a sealed value copied into
/// another organisation's row (or another slot) fails to open.
std::string seal_name(std::string_view org, std::string_view slot) {
  return fmt::format("org/{}/{}", org, slot);
}

constexpr std::string_view kPlaceholder = "(set)";

Result<OrgState> parse_state(const std::string& text) {
  if (text == "active") return OrgState::kActive;
  if (text == "suspended") return OrgState::kSuspended;
  return fail(ErrorKind::kInvalidData, "platform_organisation.state: unknown value " + text);
}

}  // namespace

Result<std::unique_ptr<Platform>> Platform::open(config::Config node,
                                                 service::secrets::KeyRing ring) {
  const std::string database = node.database.string();
  if (store::is_postgres_locator(database)) {
    // Shared by every node: made by `agendasync init` or `agendasync migrate`, never here.
    const auto target = store::platform_target(database);
    {
      auto probe = store::pg::Connection::open(target);
      if (!probe) return std::unexpected(probe.error());
      if (auto fits = store::pg::check_schema(**probe, store::pg::SchemaKind::kPlatform); !fits) {
        return std::unexpected(fits.error());
      }
    }
    store::pg::PoolOptions options;
    options.max_connections = 2;
    auto db = store::sql::open_pg_database(target, options);
    if (!db) return std::unexpected(db.error());
    return std::unique_ptr<Platform>(
        new Platform(std::move(node), std::move(ring), std::move(*db)));
  }
  auto db = store::sql::open_sqlite_database(node.database, {.readers = 0});
  if (!db) return std::unexpected(db.error());
  auto created = (*db)->transaction([&](store::sql::Session& session) -> Result<void> {
    if (auto schema = session.exec(kSchema); !schema) return schema;
    // Organisation `default` is the agenda this file already holds (database '' = this file).
    auto inserted = session.run(
        "INSERT INTO platform_organisation(id, name, state, created_at, database) "
        "VALUES (?1, 'Default', 'active', ?2, '') ON CONFLICT(id) DO NOTHING",
        {std::string(kDefaultOrg), now()});
    if (!inserted) return std::unexpected(inserted.error());
    return {};
  });
  if (!created) return std::unexpected(created.error());
  return std::unique_ptr<Platform>(new Platform(std::move(node), std::move(ring), std::move(*db)));
}

bool Platform::postgres() const { return db_->engine() == store::sql::Engine::kPostgres; }

Result<void> Platform::ensure_default() {
  if (!postgres()) return {};  // the SQLite file is organisation default's agenda
  auto found = [&] {
    std::lock_guard lock(mutex_);
    return find(kDefaultOrg);
  }();
  if (!found) return std::unexpected(found.error());
  if (*found) return {};
  auto created = create(kDefaultOrg, "Default");
  // Another node may have made it meanwhile.
  if (!created && created.error().kind != ErrorKind::kConflict) {
    return std::unexpected(created.error());
  }
  return {};
}

std::filesystem::path Platform::database_of(const std::string& stored) const {
  // On PostgreSQL every organisation is a schema on the node's server (its id names it).
  if (stored.empty() || postgres()) return node_.database;
  return node_.database.parent_path() / stored;
}

bool Platform::file_connection(std::string_view id) const {
  return id == kDefaultOrg && node_.exchange.backend != config::ExchangeBackend::kNone;
}

Result<std::vector<Organisation>> Platform::organisations() {
  std::lock_guard lock(mutex_);
  auto rows = db_->query(
      "SELECT o.id, o.name, o.state, o.created_at, o.database, COALESCE(c.updated_at, 0) "
      "FROM platform_organisation o LEFT JOIN platform_connection c ON c.org = o.id "
      "ORDER BY o.id");
  if (!rows) return std::unexpected(rows.error());
  std::vector<Organisation> list;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    auto organisation = read_organisation(*rows, i);
    if (!organisation) return std::unexpected(organisation.error());
    list.push_back(std::move(*organisation));
  }
  return list;
}

Result<std::optional<Organisation>> Platform::find(std::string_view id) {
  auto rows = db_->query(
      "SELECT o.id, o.name, o.state, o.created_at, o.database, COALESCE(c.updated_at, 0) "
      "FROM platform_organisation o LEFT JOIN platform_connection c ON c.org = o.id "
      "WHERE o.id = ?1",
      {std::string(id)});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<Organisation>();
  return read_organisation(*rows, 0);
}

Result<Organisation> Platform::read_organisation(const store::sql::Rows& rows,
                                                 std::size_t row) const {
  auto state = parse_state(rows.text_at(row, 2));
  if (!state) return std::unexpected(state.error());
  return Organisation{rows.text_at(row, 0),
                      rows.text_at(row, 1),
                      *state,
                      rows.int_at(row, 3),
                      database_of(rows.text_at(row, 4)),
                      rows.int_at(row, 5)};
}

Result<Organisation> Platform::organisation(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto found = find(id);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    return std::unexpected(unknown_organisation(id));
  }
  return **found;
}

Result<Organisation> Platform::create(std::string_view id, std::string_view name) {
  if (auto valid = check_org_id(id); !valid) return std::unexpected(valid.error());
  std::lock_guard lock(mutex_);
  auto existing = find(id);
  if (!existing) return std::unexpected(existing.error());
  if (*existing) {
    return fail(ErrorKind::kConflict,
                "organisation \"" + std::string(id) + "\" exists; choose another id");
  }
  Organisation created{std::string(id),
                       name.empty() ? std::string(id) : std::string(name),
                       OrgState::kActive,
                       now(),
                       {}};
  std::string relative;
  if (postgres()) {
    // The organisation's schema, made and migrated under the advisory lock: as on SQLite,
    // the agenda first, then the row.
    store::OpenOptions options;
    options.create = true;
    auto agenda = store::open_agenda_store(node_.database.string(), id, options);
    if (!agenda) return std::unexpected(agenda.error());
    created.database = node_.database;
  } else {
    relative = fmt::format("{}/{}/agenda.db", kOrganisationsFolder, std::string(id));
    const auto path = database_of(relative);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return fail(ErrorKind::kPermanent,
                  fmt::format("cannot create {} for organisation {}: {}; check that the node's "
                              "database folder is writable",
                              path.parent_path().string(), id, ec.message()));
    }
    // The agenda first (SQLite creates and migrates it), then the row: a crash between them
    // leaves an unlisted file that the next create of the same id reuses, never a listed
    // organisation without an agenda.
    store::SqliteOptions options;
    options.create = true;
    auto agenda = store::open_sqlite_agenda_store(path, options);
    if (!agenda) return std::unexpected(agenda.error());
    created.database = path;
  }
  auto inserted = db_->run(
      "INSERT INTO platform_organisation(id, name, state, created_at, database) "
      "VALUES (?1, ?2, 'active', ?3, ?4)",
      {created.id, created.name, created.created_at, relative});
  if (!inserted) return std::unexpected(inserted.error());
  return created;
}

Result<Organisation> Platform::update(std::string_view id, const OrganisationUpdate& update) {
  {
    std::lock_guard lock(mutex_);
    auto found = find(id);
    if (!found) return std::unexpected(found.error());
    if (!*found) {
      return std::unexpected(unknown_organisation(id));
    }
    if (update.name) {
      if (auto set = db_->run("UPDATE platform_organisation SET name = ?2 WHERE id = ?1",
                              {std::string(id), *update.name});
          !set) {
        return std::unexpected(set.error());
      }
    }
    if (update.state) {
      if (auto set = db_->run("UPDATE platform_organisation SET state = ?2 WHERE id = ?1",
                              {std::string(id), std::string(to_string(*update.state))});
          !set) {
        return std::unexpected(set.error());
      }
    }
  }
  return organisation(id);
}

Result<void> Platform::remove(std::string_view id) {
  if (id == kDefaultOrg) {
    return fail(ErrorKind::kConflict,
                "organisation default cannot be removed: its agenda is the node's database; "
                "suspend it instead, or remove its users");
  }
  std::lock_guard lock(mutex_);
  auto found = find(id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_organisation(id));
  auto removed = db_->transaction([&](store::sql::Session& db) -> Result<void> {
    if (auto row = db.run("DELETE FROM platform_connection WHERE org = ?1", {std::string(id)});
        !row) {
      return std::unexpected(row.error());
    }
    if (auto row = db.run("DELETE FROM platform_organisation WHERE id = ?1", {std::string(id)});
        !row) {
      return std::unexpected(row.error());
    }
    return {};
  });
  if (!removed) return removed;
  if (postgres()) {
    // The organisation's schema and everything in it (agenda, sync state, service tables).
    auto schema = store::organisation_schema(id);
    if (!schema) return std::unexpected(schema.error());
    if (auto dropped =
            db_->exec("DROP SCHEMA IF EXISTS " + store::pg::quote_identifier(*schema) + " CASCADE");
        !dropped) {
      return fail(dropped.error().kind,
                  fmt::format("organisation {} is forgotten but its schema {} could not be "
                              "dropped: {}; drop it by hand",
                              id, *schema, dropped.error().message));
    }
    return {};
  }
  // Unlinking never opens the files, so no SQLite lock of this process is dropped (the
  // caller closed the organisation's connections already).
  std::error_code ec;
  std::filesystem::remove_all((*found)->database.parent_path(), ec);
  if (ec) {
    return fail(ErrorKind::kPermanent,
                fmt::format("organisation {} is forgotten but its files in {} could not be "
                            "deleted: {}; delete the folder by hand",
                            id, (*found)->database.parent_path().string(), ec.message()));
  }
  return {};
}

Result<Connection> Platform::connection(std::string_view id, bool unseal) {
  if (file_connection(id)) {
    Connection from_file;
    from_file.exchange = node_.exchange;
    from_file.graph = node_.graph;
    from_file.source = node_.source.empty() ? "configuration file" : node_.source.string();
    return from_file;
  }
  std::lock_guard lock(mutex_);
  auto found = find(id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_organisation(id));
  auto rows = db_->query(
      "SELECT document, exchange_password, graph_client_secret, graph_private_key "
      "FROM platform_connection WHERE org = ?1",
      {std::string(id)});
  if (!rows) return std::unexpected(rows.error());
  Connection connection;
  // The platform's Graph endpoints by default (national clouds, exsim), so an organisation
  // only states its tenant.
  connection.graph.graph_url = node_.graph.graph_url;
  connection.graph.authority_url = node_.graph.authority_url;
  if (rows->empty()) return connection;
  auto document = nlohmann::json::parse(rows->text_at(0, 0), nullptr, false);
  if (document.is_discarded()) {
    return fail(ErrorKind::kInvalidData,
                fmt::format("the stored connection of organisation {} is not JSON; set it again "
                            "with `agendasync orgs set {} --connection FILE`",
                            id, id));
  }
  auto parsed = connection_from_json(document, connection);
  if (!parsed) return std::unexpected(parsed.error());
  connection = std::move(*parsed);
  struct Slot {
    std::size_t column;
    const char* name;
    Secret* target;
  };
  for (auto [column, name, target] :
       {Slot{1, "exchange_password", &connection.exchange.password.value},
        Slot{2, "graph_client_secret", &connection.graph.client_secret.value},
        Slot{3, "graph_private_key", &connection.graph.private_key.value}}) {
    if (rows->is_null(0, column)) continue;
    if (!unseal) {
      *target = Secret(std::string(kPlaceholder));
      continue;
    }
    auto opened = service::secrets::open(ring_, seal_name(id, name), rows->text_at(0, column));
    if (!opened) {
      return fail(opened.error().kind, fmt::format("the {} of organisation {} cannot be opened: {}",
                                                   name, id, opened.error().message));
    }
    *target = std::move(*opened);
  }
  return connection;
}

Result<Connection> Platform::set_connection(std::string_view id, const Connection& fields,
                                            const SecretUpdates& secrets) {
  if (file_connection(id)) {
    return fail(
        ErrorKind::kConflict,
        fmt::format("the connection of organisation default is set in {} ([exchange]); "
                    "edit it there, or remove [exchange] and [graph] from that file to "
                    "manage it through the API",
                    node_.source.empty() ? "the configuration file" : node_.source.string()));
  }
  auto current = connection(id, true);
  if (!current) return std::unexpected(current.error());
  Connection next = fields;
  next.source = "database";
  next.exchange.password.value =
      secrets.exchange_password.value_or(current->exchange.password.value);
  next.graph.client_secret.value =
      secrets.graph_client_secret.value_or(current->graph.client_secret.value);
  next.graph.private_key.value =
      secrets.graph_private_key.value_or(current->graph.private_key.value);
  if (auto valid = check_connection(next, node_.graph); !valid) {
    return std::unexpected(valid.error());
  }
  std::vector<Value> sealed;
  for (auto [name, value] : {std::pair{"exchange_password", &next.exchange.password.value},
                             std::pair{"graph_client_secret", &next.graph.client_secret.value},
                             std::pair{"graph_private_key", &next.graph.private_key.value}}) {
    if (value->empty()) {
      sealed.emplace_back(std::monostate{});
      continue;
    }
    if (ring_.empty()) {
      return fail(ErrorKind::kPermission,
                  "no secret key is configured, so the connection's secrets cannot be stored: "
                  "create one with `agendasync secrets new-key` and give it to the daemon "
                  "($AGENDASYNC_SECRET_KEY or --secret-key-file)");
    }
    auto text = service::secrets::seal(ring_, seal_name(id, name), *value);
    if (!text) return std::unexpected(text.error());
    sealed.emplace_back(std::move(*text));
  }
  std::lock_guard lock(mutex_);
  auto stored = db_->run(
      "INSERT INTO platform_connection(org, document, exchange_password, "
      "graph_client_secret, graph_private_key, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT(org) DO UPDATE SET document = excluded.document, exchange_password = "
      "excluded.exchange_password, graph_client_secret = excluded.graph_client_secret, "
      "graph_private_key = excluded.graph_private_key, "
      // A revision as well as a time: every write moves it forward, also two in one second,
      // so a daemon following the platform (another node, or beside the CLI) sees each.
      "updated_at = CASE WHEN excluded.updated_at > platform_connection.updated_at "
      "THEN excluded.updated_at ELSE platform_connection.updated_at + 1 END",
      {std::string(id), connection_to_json(next).dump(), sealed[0], sealed[1], sealed[2], now()});
  if (!stored) return std::unexpected(stored.error());
  return next;
}

Result<std::size_t> Platform::reseal_connection(std::string_view id) {
  if (file_connection(id)) return std::size_t{0};  // the file's secrets are not sealed here
  auto current = connection(id, true);
  if (!current) return std::unexpected(current.error());
  std::size_t count = 0;
  for (const auto* secret : {&current->exchange.password.value, &current->graph.client_secret.value,
                             &current->graph.private_key.value}) {
    if (!secret->empty()) ++count;
  }
  if (count == 0) return count;
  // Storing the same values seals each under the current key.
  auto stored = set_connection(id, *current, {});
  if (!stored) return std::unexpected(stored.error());
  return count;
}

std::string Platform::consent_link(const Connection& connection,
                                   const std::string& redirect_uri) const {
  return admin_consent_link(connection, node_.graph, redirect_uri);
}

Result<config::Config> Platform::organisation_config(std::string_view id) {
  auto found = organisation(id);
  if (!found) return std::unexpected(found.error());
  config::Config config = node_;
  config.database = found->database;
  if (file_connection(id)) return config;
  auto connection = this->connection(id, true);
  if (!connection) return std::unexpected(connection.error());
  config.exchange = connection->exchange;
  if (connection->graph.client_id.empty()) {
    // The platform's app, consented to by this organisation's tenant.
    config::GraphConfig app = node_.graph;
    app.tenant_id = connection->graph.tenant_id;
    config.graph = std::move(app);
  } else {
    config.graph = connection->graph;
  }
  return config;
}

}  // namespace agendasync::platform
