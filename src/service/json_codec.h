#pragma once
/// The API's JSON shapes for core and store values. Enum values use core's stable names
/// ("busy", "out-of-office", "two-way"); instants are RFC 3339 UTC ("2024-03-01T09:00:00Z"),
/// all-day starts and ends are dates ("2024-03-01"). Parsing says which member is wrong.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/appointment.h"
#include "core/error.h"
#include "core/settings.h"
#include "store/agenda_store.h"

namespace agendasync::service {

std::string format_instant(Instant instant);
std::string format_date(Instant midnight);
/// "2024-03-01T09:00:00Z", "...+01:00", or a bare date "2024-03-01" (midnight UTC).
Result<Instant> parse_instant(std::string_view text);

nlohmann::json to_json(const store::StoredAppointment& stored);
nlohmann::json to_json(const Appointment& item);
/// The appointment a request body describes. Absent members take their defaults.
Result<Appointment> appointment_from_json(const nlohmann::json& body);
/// `patch` (JSON merge patch, RFC 7396) applied to `item`.
Result<Appointment> merge_patch(const Appointment& item, const nlohmann::json& patch);

/// User as the API shows it; `admin_managed` is the R11 resource mode flag.
nlohmann::json to_json(const User& user, bool admin_managed,
                       const std::optional<std::string>& mailbox);
/// Applies the members present in `body` to `user` (user_name is never changed here).
Result<void> apply_user_json(User& user, const nlohmann::json& body);

nlohmann::json to_json(const store::ActivityType& type);
Result<store::ActivityType> activity_type_from_json(const nlohmann::json& body,
                                                    std::string_view name);
/// PATCH: `type` with the members present in `body` (name, synced, is_default, is_personal);
/// an unknown member is kInvalidData naming it.
Result<store::ActivityType> patch_activity_type(store::ActivityType type,
                                                const nlohmann::json& body);

nlohmann::json to_json(const store::OrganisationSettings& settings);
/// Applies the non-secret members present in `body`.
Result<void> apply_settings_json(store::OrganisationSettings& settings, const nlohmann::json& body);

nlohmann::json to_json(const store::Change& change);

}  // namespace agendasync::service
