#pragma once
/// Organisation- and user-level sync settings (R12, R15, R19, R21, R24, R25), parsed at the
/// config/API edge into these types.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace agendasync {

enum class SyncDirection { kToExchange, kFromExchange, kTwoWay };
enum class ConflictPolicy { kNewestWins, kHostWins, kExchangeWins };
/// R25: an item deleted in Exchange under one-way-to-Exchange.
enum class DeletedInExchange { kRecreate, kLeaveDeleted };

const char* to_string(SyncDirection value);
const char* to_string(ConflictPolicy value);
const char* to_string(DeletedInExchange value);  // recreate|leave-deleted
Result<SyncDirection> parse_sync_direction(
    std::string_view text);  // to-exchange|from-exchange|two-way
Result<ConflictPolicy> parse_conflict_policy(
    std::string_view text);  // newest-wins|host-wins|exchange-wins
Result<DeletedInExchange> parse_deleted_in_exchange(std::string_view text);

/// R41, a hybrid organisation: which of its connections serves a user's mailbox. `auto`
/// asks Exchange (an on-premises Autodiscover that redirects the address means the mailbox
/// moved to Exchange Online). Outside a hybrid organisation the connection decides alone.
enum class MailboxBackend { kAuto, kEws, kGraph };
const char* to_string(MailboxBackend value);  // auto|ews|graph
Result<MailboxBackend> parse_mailbox_backend(std::string_view text);

/// Settings a user or resource may override; nullopt = organisation default.
struct UserOverrides {
  std::optional<SyncDirection> direction;
  std::optional<ConflictPolicy> conflict_policy;
  bool operator==(const UserOverrides&) const = default;
};

/// Inclusive bounds of a numeric setting, checked at every edge that accepts one (the
/// configuration file, `agendasync settings set`, the REST API, the agenda database).
struct SettingRange {
  int min = 0;
  int max = 0;
  bool contains(long long value) const { return value >= min && value <= max; }
};
/// R21: days before today the first sync still looks at.
inline constexpr SettingRange kFirstSyncDaysRange{0, 3650};
/// R38: the breaker's share of a calendar, in percent.
inline constexpr SettingRange kBreakerSharePercentRange{1, 100};
/// R38: the fewest creates/deletes that can trip the breaker.
inline constexpr SettingRange kBreakerMinItemsRange{0, 1000000};

/// One layer of the sync settings (the configuration file's [sync], or the organisation
/// settings in the agenda). nullopt = this layer leaves the key to the layer below.
struct SyncSettingsLayer {
  std::optional<SyncDirection> direction;                ///< R12, R19
  std::optional<ConflictPolicy> conflict_policy;         ///< R24
  std::optional<int> first_sync_days;                    ///< R21, kFirstSyncDaysRange
  std::optional<DeletedInExchange> deleted_in_exchange;  ///< R25
  std::optional<int> breaker_share_percent;              ///< R38, kBreakerSharePercentRange
  std::optional<int> breaker_min_items;                  ///< R38, kBreakerMinItemsRange
  std::optional<bool> first_sync_approval;               ///< R38: first sync waits for approval
  std::optional<bool> send_meeting_requests;             ///< R39: attendees as real meetings
  /// R12, R19: a user may set their own direction override (My profile); off, only an admin
  /// sets overrides.
  std::optional<bool> users_choose_direction;
  bool operator==(const SyncSettingsLayer&) const = default;
};

/// How a sync setting is written as text: a name from a fixed list, a whole number, or
/// true/false.
enum class SettingKind { kName, kWholeNumber, kFlag };

/// A key of SyncSettingsLayer as the configuration file, the agenda and the CLI name it.
struct SyncSettingKey {
  std::string_view name;  ///< "breaker_share"
  SettingKind kind = SettingKind::kName;
};
/// Every sync setting key, in the configuration file's order.
const std::vector<SyncSettingKey>& sync_setting_keys();

/// Sets `key` of `layer` from its text ("two-way", "30", "true"); nullopt clears it (the
/// layer below applies). kInvalidData naming the key and the allowed values or range.
Result<void> set_sync_setting(SyncSettingsLayer& layer, std::string_view key,
                              std::optional<std::string_view> text);
/// The keys `layer` sets, with their text, in sync_setting_keys() order.
std::vector<std::pair<std::string, std::string>> sync_setting_texts(const SyncSettingsLayer& layer);

/// Where an effective setting's value comes from, lowest layer first (R12).
enum class SettingSource { kBuiltIn, kConfigFile, kOrganisation, kUser };
/// "built-in", "config file", "organisation", "user".
const char* to_string(SettingSource value);

/// A setting's effective value and the layer that decided it.
template <class T>
struct Layered {
  T value{};
  SettingSource source = SettingSource::kBuiltIn;
  bool operator==(const Layered&) const = default;
};

/// The sync settings in effect; the member initialisers are the built-in defaults.
struct SyncSettings {
  Layered<SyncDirection> direction{SyncDirection::kTwoWay, SettingSource::kBuiltIn};
  Layered<ConflictPolicy> conflict_policy{ConflictPolicy::kNewestWins, SettingSource::kBuiltIn};
  Layered<int> first_sync_days{30, SettingSource::kBuiltIn};
  Layered<DeletedInExchange> deleted_in_exchange{DeletedInExchange::kRecreate,
                                                 SettingSource::kBuiltIn};
  Layered<int> breaker_share_percent{20, SettingSource::kBuiltIn};
  Layered<int> breaker_min_items{10, SettingSource::kBuiltIn};
  Layered<bool> first_sync_approval{false, SettingSource::kBuiltIn};
  Layered<bool> send_meeting_requests{false, SettingSource::kBuiltIn};
  Layered<bool> users_choose_direction{false, SettingSource::kBuiltIn};
  bool operator==(const SyncSettings&) const = default;
};

/// R12: built-in default < configuration file < organisation setting < the user's override
/// (direction and conflict policy are the only keys a user may override).
SyncSettings layer_sync_settings(const SyncSettingsLayer& config_file,
                                 const SyncSettingsLayer& organisation,
                                 const UserOverrides& user = {});

/// One effective setting as text, for `agendasync settings show`.
struct SettingLine {
  std::string key;  ///< the configuration file's key, e.g. "breaker_share"
  std::string value;
  SettingSource source = SettingSource::kBuiltIn;
};
/// Every sync setting in the configuration file's order.
std::vector<SettingLine> setting_lines(const SyncSettings& settings);

struct User {
  std::string user_name;  ///< host user name, e.g. "DMARTINA"
  std::string display_name;
  std::string exchange_address;  ///< deviating address; empty = user_name@mail_domain (R7)
  bool blocked = false;          ///< R10
  bool sync_enabled = false;     ///< turned on by the user, or the admin in resource mode (R11)
  UserOverrides overrides;
  MailboxBackend backend = MailboxBackend::kAuto;  ///< R41, hybrid organisations only
  bool operator==(const User&) const = default;
};

/// R7, R10: the mailbox address of `user`, or nullopt when the user is not synced (blocked).
/// A deviating address that is not a valid address is kInvalidData naming the user.
Result<std::optional<std::string>> mailbox_address(const User& user, std::string_view mail_domain);
/// A syntactically valid mailbox address (local@domain, domain with a dot, no spaces).
bool is_valid_address(std::string_view address);

}  // namespace agendasync
