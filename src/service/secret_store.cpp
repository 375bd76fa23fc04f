#include "service/secret_store.h"

#include "service/secrets/cipher.h"

namespace agendasync::service {

const std::vector<std::string>& known_secret_names() {
  static const std::vector<std::string> names = {"exchange_password", "graph_client_secret",
                                                 "graph_private_key"};
  return names;
}

Result<std::string> SecretStore::seal(std::string_view name, const Secret& value) const {
  return secrets::seal(ring_, name, value);
}

Result<Secret> SecretStore::open(std::string_view name, std::string_view sealed) const {
  return secrets::open(ring_, name, sealed);
}

Result<void> SecretStore::put(std::string_view name, const Secret& value) {
  if (value.empty()) {
    auto removed = db_.run("DELETE FROM service_secret WHERE name = ?1", {std::string(name)});
    if (!removed) return std::unexpected(removed.error());
    return {};
  }
  auto sealed = seal(name, value);
  if (!sealed) return std::unexpected(sealed.error());
  auto stored = db_.run(
      "INSERT INTO service_secret(name, sealed, updated_at) VALUES (?1, ?2, ?3) "
      "ON CONFLICT(name) DO UPDATE SET sealed = excluded.sealed, updated_at = "
      "excluded.updated_at",
      {std::string(name), *sealed, unix_now()});
  if (!stored) return std::unexpected(stored.error());
  return {};
}

Result<std::optional<Secret>> SecretStore::get(std::string_view name) {
  auto rows = db_.query("SELECT sealed FROM service_secret WHERE name = ?1", {std::string(name)});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::nullopt;
  auto plain = open(name, rows->text_at(0, 0));
  if (!plain) return std::unexpected(plain.error());
  return std::optional<Secret>(std::move(*plain));
}

Result<std::vector<std::string>> SecretStore::names() {
  auto rows = db_.query("SELECT name FROM service_secret ORDER BY name");
  if (!rows) return std::unexpected(rows.error());
  std::vector<std::string> names;
  for (std::size_t i = 0; i < rows->size(); ++i) names.push_back(rows->text_at(i, 0));
  return names;
}

Result<std::size_t> SecretStore::rotate() {
  // Each table: (select of id + sealed, the AAD name for a row, the update statement).
  struct Table {
    const char* select;
    const char* update;
    bool id_is_name;  // service_secret seals under its own name; webhooks under "webhook:<id>"
    const char* aad_prefix;
  };
  static constexpr Table kTables[] = {
      {"SELECT name, sealed FROM service_secret",
       "UPDATE service_secret SET sealed = ?2 WHERE name = ?1", true, ""},
      {"SELECT CAST(id AS TEXT), secret_sealed FROM service_webhook",
       "UPDATE service_webhook SET secret_sealed = ?2 WHERE id = CAST(?1 AS BIGINT)", false,
       "webhook:"},
      {"SELECT id, client_state_sealed FROM service_graph_subscription",
       "UPDATE service_graph_subscription SET client_state_sealed = ?2 WHERE id = ?1", false,
       "graph-subscription:"},
  };
  return db_.transaction([&](store::sql::Session& db) -> Result<std::size_t> {
    std::size_t count = 0;
    for (const Table& table : kTables) {
      auto rows = db.query(table.select);
      if (!rows) return std::unexpected(rows.error());
      for (std::size_t i = 0; i < rows->size(); ++i) {
        const std::string id = rows->text_at(i, 0);
        std::string aad = table.id_is_name ? id : std::string(table.aad_prefix) + id;
        auto plain = open(aad, rows->text_at(i, 1));
        if (!plain) return std::unexpected(plain.error());
        auto resealed = seal(aad, *plain);
        if (!resealed) return std::unexpected(resealed.error());
        if (auto updated = db.run(table.update, {id, *resealed}); !updated) {
          return std::unexpected(updated.error());
        }
        ++count;
      }
    }
    return count;
  });
}

}  // namespace agendasync::service
