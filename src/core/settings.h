#pragma once
/// Organisation- and user-level sync settings (R12, R15, R19, R21, R24, R25), parsed at the
/// config/API edge into these types.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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

/// Settings a user or resource may override; nullopt = organisation default.
struct UserOverrides {
  std::optional<SyncDirection> direction;
  std::optional<ConflictPolicy> conflict_policy;
  bool operator==(const UserOverrides&) const = default;
};

struct User {
  std::string user_name;  ///< host user name, e.g. "DMARTINA"
  std::string display_name;
  std::string exchange_address;  ///< deviating address; empty = user_name@mail_domain (R7)
  bool blocked = false;          ///< R10
  bool sync_enabled = false;     ///< turned on by the user, or the admin in resource mode (R11)
  UserOverrides overrides;
  bool operator==(const User&) const = default;
};

/// R7, R10: the mailbox address of `user`, or nullopt when the user is not synced (blocked).
/// A deviating address that is not a valid address is kInvalidData naming the user.
Result<std::optional<std::string>> mailbox_address(const User& user, std::string_view mail_domain);
/// A syntactically valid mailbox address (local@domain, domain with a dot, no spaces).
bool is_valid_address(std::string_view address);

}  // namespace agendasync
