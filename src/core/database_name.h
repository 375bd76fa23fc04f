#pragma once
/// What kind of place `database` in a node's configuration names. Only the kind: opening it
/// is the store's job (core knows no SQL and no database library).
#include <string_view>

namespace agendasync {

/// True when `database` names a PostgreSQL server: a `postgresql://` or `postgres://` URI, or
/// a libpq keyword string (`host=db1 dbname=agendasync`, starting with a libpq keyword and
/// '='). Anything else is the path of an SQLite file, the zero set-up default.
bool names_postgres_server(std::string_view database);

}  // namespace agendasync
