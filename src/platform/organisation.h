#pragma once
/// An organisation (issue 16): one customer of the vendor that runs AgendaSync, with its own
/// agenda, users, settings, tokens and Exchange connection. Everything an organisation owns
/// lives in its own agenda database; the platform database only lists organisations and their
/// connections (docs/DECISIONS.md, "Organisations: one database per organisation").
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace agendasync::platform {

/// The organisation a node serves when nothing else is said: the agenda a single-organisation
/// installation already has, and the one old API routes and `--org`-less commands reach.
inline constexpr std::string_view kDefaultOrg = "default";

/// Running: syncs, watchers and API. Suspended: no syncs and no watchers, and its own tokens
/// are refused; an operator still reads and edits it.
enum class OrgState { kActive, kSuspended };
const char* to_string(OrgState state);

struct Organisation {
  /// The id in URLs and on the command line: 1-63 of a-z, 0-9 and '-', starting with a letter
  /// or digit (a DNS label, so it also fits file names and metric labels).
  std::string id;
  std::string name;  ///< for people; any text
  OrgState state = OrgState::kActive;
  std::int64_t created_at = 0;
  /// The organisation's agenda database (its sync state sits beside it, app::state_file).
  std::filesystem::path database;
  /// Moves forward with every write of the organisation's connection (0: none stored): a
  /// daemon serving the organisation starts it over when this is not what it started with.
  std::int64_t connection_revision = 0;
  bool operator==(const Organisation&) const = default;
};

/// kInvalidData naming the rule when `id` is not a valid organisation id.
Result<void> check_org_id(std::string_view id);

}  // namespace agendasync::platform
