#pragma once
/// The store's rules that do not depend on the database engine: what a valid user, activity
/// type name and organisation setting is, which user changes enter the feed, whose agenda an
/// appointment is in. The SQLite and PostgreSQL stores both apply them, so they refuse and
/// accept exactly the same writes (the contract suite runs against both).
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/appointment.h"
#include "core/error.h"
#include "store/agenda_store.h"

namespace agendasync::store {

/// Case-insensitive user-name order (ASCII letters, as SQLite's NOCASE).
struct NoCaseLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using UserSet = std::set<std::string, NoCaseLess>;

/// The owner and participants: the users whose agenda an appointment is in.
UserSet audience(const Appointment& item);

/// R7: a user needs a name without spaces, control characters or @, valid UTF-8 text, and a
/// valid deviating address when it has one.
Result<void> validate_user(const User& user);

/// The fields whose change the sync must react to (R10, R11, R19, R41): such a change is a
/// feed entry.
bool matters_to_sync(const User& before, const User& after);

/// An activity type needs a non-empty valid UTF-8 name.
Result<void> check_type_name(std::string_view name);

/// The mail domain must form addresses and every sync key must be in range; returns the
/// settings' sync keys as the text stored (exactly what settings() accepts back).
Result<std::vector<std::pair<std::string, std::string>>> checked_setting_texts(
    const OrganisationSettings& settings);

/// The agenda names the direction "default_direction" (its first schema); every other sync
/// key is stored under the configuration file's name.
std::string stored_setting_key(std::string_view sync_key);
/// The sync key of a stored setting key; nullopt for "mail_domain" and keys a newer
/// agendasync sharing the database wrote (kept, ignored).
std::optional<std::string> sync_key_of(std::string_view stored_key);

/// The last instant any occurrence of a series can end, or nullopt when only expansion can
/// tell (COUNT) or the series never ends. A conservative bound for window queries.
std::optional<std::int64_t> series_until(const Appointment& item);

/// Seconds since the epoch, the agenda's time columns.
std::int64_t epoch_seconds(Instant instant);
std::int64_t now_epoch_seconds();

}  // namespace agendasync::store
