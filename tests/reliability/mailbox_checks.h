#pragma once
/// Checks the reliability suites share: duplicates in a mailbox, the subjects on each side,
/// SQLite integrity, and the long-variant switch.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/world.h"

namespace agendasync::reliability {

/// True when AGENDASYNC_LONG_TESTS=1: the long variants run.
bool long_tests();

/// Every value of our extended properties (the idempotency key) that appears on more than one
/// item of a mailbox: a non-empty answer means the sync created something twice.
std::vector<std::string> duplicate_keys(const std::vector<nlohmann::json>& items);

/// The subjects of a mailbox's calendar items, duplicates kept.
std::multiset<std::string> exchange_subjects(e2e::World& world, const std::string& mailbox);

/// The subjects of the host appointments `user` sees, duplicates kept.
std::multiset<std::string> host_subjects(e2e::World& world, const std::string& user);

/// `PRAGMA integrity_check` of an SQLite file opened read-only: "ok" or what SQLite found.
std::string integrity_check(const std::filesystem::path& database);

}  // namespace agendasync::reliability
