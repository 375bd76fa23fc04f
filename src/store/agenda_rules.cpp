#include "store/agenda_rules.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/appointment_text.h"
#include "core/settings.h"
#include "core/utf8.h"

namespace agendasync::store {

bool NoCaseLess::operator()(const std::string& a, const std::string& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

UserSet audience(const Appointment& item) {
  UserSet users;
  if (!item.owner.empty()) users.insert(item.owner);
  users.insert(item.participants.begin(), item.participants.end());
  return users;
}

Result<void> validate_user(const User& user) {
  if (user.user_name.empty()) {
    return fail(ErrorKind::kInvalidData, "a user needs a user name");
  }
  for (const auto& [field, text] :
       {std::pair{"user name", &user.user_name}, std::pair{"display name", &user.display_name},
        std::pair{"Exchange address", &user.exchange_address}}) {
    if (auto at = first_invalid_utf8(*text)) {
      return fail(ErrorKind::kInvalidData,
                  std::string("the user's ") + field + " is not valid UTF-8 (ill-formed byte at " +
                      "offset " + std::to_string(*at) + "); send it encoded as UTF-8");
    }
  }
  if (std::any_of(user.user_name.begin(), user.user_name.end(), [](char c) {
        return std::isspace(static_cast<unsigned char>(c)) ||
               std::iscntrl(static_cast<unsigned char>(c)) || c == '@';
      })) {
    return fail(ErrorKind::kInvalidData,
                "user name \"" + user.user_name +
                    "\" contains a space, control character or @; use the host application's "
                    "user name (e.g. DMARTINA)");
  }
  // core's mailbox_address() is the one place the address rule lives; asking it for an
  // unblocked copy makes it check the address.
  if (!user.exchange_address.empty()) {
    User unblocked = user;
    unblocked.blocked = false;
    if (auto address = mailbox_address(unblocked, ""); !address) {
      return std::unexpected(address.error());
    }
  }
  return {};
}

bool matters_to_sync(const User& before, const User& after) {
  return before.exchange_address != after.exchange_address || before.blocked != after.blocked ||
         before.sync_enabled != after.sync_enabled || before.overrides != after.overrides ||
         before.backend != after.backend;
}

Result<void> check_type_name(std::string_view name) {
  if (name.empty()) return fail(ErrorKind::kInvalidData, "an activity type needs a name");
  if (auto at = first_invalid_utf8(name)) {
    return fail(ErrorKind::kInvalidData,
                "the activity type name is not valid UTF-8 (ill-formed byte at offset " +
                    std::to_string(*at) + "); send it encoded as UTF-8");
  }
  return {};
}

Result<std::vector<std::pair<std::string, std::string>>> checked_setting_texts(
    const OrganisationSettings& settings) {
  if (!settings.mail_domain.empty() && !is_valid_address("user@" + settings.mail_domain)) {
    return fail(ErrorKind::kInvalidData, "mail domain \"" + settings.mail_domain +
                                             "\" is not a valid domain (expected e.g. "
                                             "example.com, without @)");
  }
  // Round-trip through the text form: what is stored is exactly what settings() accepts.
  auto texts = sync_setting_texts(settings.sync);
  SyncSettingsLayer checked;
  for (const auto& [key, text] : texts) {
    if (auto set = set_sync_setting(checked, key, text); !set) return std::unexpected(set.error());
  }
  return std::vector<std::pair<std::string, std::string>>(texts.begin(), texts.end());
}

namespace {
constexpr std::string_view kStoredDirectionKey = "default_direction";
}

std::string stored_setting_key(std::string_view sync_key) {
  return sync_key == "direction" ? std::string(kStoredDirectionKey) : std::string(sync_key);
}

std::optional<std::string> sync_key_of(std::string_view stored_key) {
  const std::string sync_key =
      stored_key == kStoredDirectionKey ? "direction" : std::string(stored_key);
  const auto& known = sync_setting_keys();
  if (std::none_of(known.begin(), known.end(), [&](auto& k) { return k.name == sync_key; })) {
    return std::nullopt;
  }
  return sync_key;
}

std::int64_t epoch_seconds(Instant instant) { return instant.time_since_epoch().count(); }

std::int64_t now_epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::int64_t> series_until(const Appointment& item) {
  if (!item.recurrence || !item.recurrence->rule.until) return std::nullopt;
  std::int64_t bound = epoch_seconds(*item.recurrence->rule.until) + epoch_seconds(item.end) -
                       epoch_seconds(item.start);
  for (const auto& moved : item.recurrence->overrides) {
    bound = std::max(bound, epoch_seconds(moved.end));
  }
  return bound;
}

}  // namespace agendasync::store
