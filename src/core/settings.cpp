#include "core/settings.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace agendasync {

const char* to_string(SyncDirection value) {
  switch (value) {
    case SyncDirection::kToExchange:
      return "to-exchange";
    case SyncDirection::kFromExchange:
      return "from-exchange";
    case SyncDirection::kTwoWay:
      return "two-way";
  }
  return "?";
}

const char* to_string(ConflictPolicy value) {
  switch (value) {
    case ConflictPolicy::kNewestWins:
      return "newest-wins";
    case ConflictPolicy::kHostWins:
      return "host-wins";
    case ConflictPolicy::kExchangeWins:
      return "exchange-wins";
  }
  return "?";
}

const char* to_string(DeletedInExchange value) {
  switch (value) {
    case DeletedInExchange::kRecreate:
      return "recreate";
    case DeletedInExchange::kLeaveDeleted:
      return "leave-deleted";
  }
  return "?";
}

Result<DeletedInExchange> parse_deleted_in_exchange(std::string_view text) {
  for (auto value : {DeletedInExchange::kRecreate, DeletedInExchange::kLeaveDeleted}) {
    if (text == to_string(value)) return value;
  }
  return fail(ErrorKind::kInvalidData, "unknown deleted-in-Exchange behaviour \"" +
                                           std::string(text) + "\": use recreate or leave-deleted");
}

Result<SyncDirection> parse_sync_direction(std::string_view text) {
  for (auto value :
       {SyncDirection::kToExchange, SyncDirection::kFromExchange, SyncDirection::kTwoWay}) {
    if (text == to_string(value)) return value;
  }
  return fail(ErrorKind::kInvalidData, "unknown sync direction \"" + std::string(text) +
                                           "\": use to-exchange, from-exchange or two-way");
}

const char* to_string(MailboxBackend value) {
  switch (value) {
    case MailboxBackend::kAuto:
      return "auto";
    case MailboxBackend::kEws:
      return "ews";
    case MailboxBackend::kGraph:
      return "graph";
  }
  return "auto";
}

Result<MailboxBackend> parse_mailbox_backend(std::string_view text) {
  for (auto value : {MailboxBackend::kAuto, MailboxBackend::kEws, MailboxBackend::kGraph}) {
    if (text == to_string(value)) return value;
  }
  return fail(ErrorKind::kInvalidData,
              "unknown mailbox backend \"" + std::string(text) +
                  "\": use auto (found by Autodiscover), ews (Exchange Server) or graph "
                  "(Exchange Online)");
}

Result<ConflictPolicy> parse_conflict_policy(std::string_view text) {
  for (auto value :
       {ConflictPolicy::kNewestWins, ConflictPolicy::kHostWins, ConflictPolicy::kExchangeWins}) {
    if (text == to_string(value)) return value;
  }
  return fail(ErrorKind::kInvalidData, "unknown conflict policy \"" + std::string(text) +
                                           "\": use newest-wins, host-wins or exchange-wins");
}

const char* to_string(SettingSource value) {
  switch (value) {
    case SettingSource::kBuiltIn:
      return "built-in";
    case SettingSource::kConfigFile:
      return "config file";
    case SettingSource::kOrganisation:
      return "organisation";
    case SettingSource::kUser:
      return "user";
  }
  return "?";
}

namespace {

/// The highest layer that sets the key wins; `built_in` already holds the default.
template <class T>
void layer(Layered<T>& built_in, const std::optional<T>& config_file,
           const std::optional<T>& organisation, const std::optional<T>& user = std::nullopt) {
  if (config_file) built_in = {*config_file, SettingSource::kConfigFile};
  if (organisation) built_in = {*organisation, SettingSource::kOrganisation};
  if (user) built_in = {*user, SettingSource::kUser};
}

}  // namespace

SyncSettings layer_sync_settings(const SyncSettingsLayer& config_file,
                                 const SyncSettingsLayer& organisation, const UserOverrides& user) {
  SyncSettings out;
  layer(out.direction, config_file.direction, organisation.direction, user.direction);
  layer(out.conflict_policy, config_file.conflict_policy, organisation.conflict_policy,
        user.conflict_policy);
  layer(out.first_sync_days, config_file.first_sync_days, organisation.first_sync_days);
  layer(out.deleted_in_exchange, config_file.deleted_in_exchange, organisation.deleted_in_exchange);
  layer(out.breaker_share_percent, config_file.breaker_share_percent,
        organisation.breaker_share_percent);
  layer(out.breaker_min_items, config_file.breaker_min_items, organisation.breaker_min_items);
  layer(out.first_sync_approval, config_file.first_sync_approval, organisation.first_sync_approval);
  layer(out.send_meeting_requests, config_file.send_meeting_requests,
        organisation.send_meeting_requests);
  layer(out.users_choose_direction, config_file.users_choose_direction,
        organisation.users_choose_direction);
  return out;
}

const std::vector<SyncSettingKey>& sync_setting_keys() {
  static const std::vector<SyncSettingKey> keys = {
      {"direction", SettingKind::kName},
      {"conflict_policy", SettingKind::kName},
      {"first_sync_days", SettingKind::kWholeNumber},
      {"deleted_in_exchange", SettingKind::kName},
      {"breaker_share", SettingKind::kWholeNumber},
      {"breaker_min_items", SettingKind::kWholeNumber},
      {"first_sync_approval", SettingKind::kFlag},
      {"send_meeting_requests", SettingKind::kFlag},
      {"users_choose_direction", SettingKind::kFlag},
  };
  return keys;
}

namespace {

Result<int> parse_whole_number(std::string_view key, std::string_view text, SettingRange range,
                               std::string_view unit = "") {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string allowed =
      std::to_string(range.min) + ".." + std::to_string(range.max) + std::string(unit);
  if (error != std::errc{} || end != text.data() + text.size() || !range.contains(value)) {
    return fail(ErrorKind::kInvalidData, std::string(key) + ": \"" + std::string(text) +
                                             "\" is not a whole number in " + allowed);
  }
  return static_cast<int>(value);
}

Result<bool> parse_flag(std::string_view key, std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return fail(ErrorKind::kInvalidData,
              std::string(key) + ": \"" + std::string(text) + "\" is not true or false");
}

/// Parses `text` with `parse` into `field`, or clears it; errors name `key`.
template <class T, class Parse>
Result<void> assign(std::optional<T>& field, std::string_view key,
                    std::optional<std::string_view> text, Parse parse) {
  if (!text) {
    field.reset();
    return {};
  }
  Result<T> parsed = parse(*text);
  if (!parsed) {
    const std::string& message = parsed.error().message;
    return fail(ErrorKind::kInvalidData,
                message.starts_with(key) ? message : std::string(key) + ": " + message);
  }
  field = *parsed;
  return {};
}

}  // namespace

Result<void> set_sync_setting(SyncSettingsLayer& layer, std::string_view key,
                              std::optional<std::string_view> text) {
  if (key == "direction") return assign(layer.direction, key, text, parse_sync_direction);
  if (key == "conflict_policy")
    return assign(layer.conflict_policy, key, text, parse_conflict_policy);
  if (key == "deleted_in_exchange")
    return assign(layer.deleted_in_exchange, key, text, parse_deleted_in_exchange);
  if (key == "first_sync_days") {
    return assign(layer.first_sync_days, key, text, [&](std::string_view t) {
      return parse_whole_number(key, t, kFirstSyncDaysRange);
    });
  }
  if (key == "breaker_share") {
    return assign(layer.breaker_share_percent, key, text, [&](std::string_view t) {
      return parse_whole_number(key, t, kBreakerSharePercentRange, " percent");
    });
  }
  if (key == "breaker_min_items") {
    return assign(layer.breaker_min_items, key, text, [&](std::string_view t) {
      return parse_whole_number(key, t, kBreakerMinItemsRange);
    });
  }
  auto flag = [&](std::string_view t) { return parse_flag(key, t); };
  if (key == "first_sync_approval") return assign(layer.first_sync_approval, key, text, flag);
  if (key == "send_meeting_requests") return assign(layer.send_meeting_requests, key, text, flag);
  if (key == "users_choose_direction") {
    return assign(layer.users_choose_direction, key, text, flag);
  }
  std::string known;
  for (const auto& k : sync_setting_keys())
    known += (known.empty() ? "" : ", ") + std::string(k.name);
  return fail(ErrorKind::kInvalidData,
              "unknown sync setting \"" + std::string(key) + "\" (known: " + known + ")");
}

std::vector<std::pair<std::string, std::string>> sync_setting_texts(
    const SyncSettingsLayer& layer) {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const char* key, const auto& field, auto text) {
    if (field) out.emplace_back(key, text(*field));
  };
  auto name = [](auto value) { return std::string(to_string(value)); };
  auto number = [](int value) { return std::to_string(value); };
  auto flag = [](bool value) { return std::string(value ? "true" : "false"); };
  add("direction", layer.direction, name);
  add("conflict_policy", layer.conflict_policy, name);
  add("first_sync_days", layer.first_sync_days, number);
  add("deleted_in_exchange", layer.deleted_in_exchange, name);
  add("breaker_share", layer.breaker_share_percent, number);
  add("breaker_min_items", layer.breaker_min_items, number);
  add("first_sync_approval", layer.first_sync_approval, flag);
  add("send_meeting_requests", layer.send_meeting_requests, flag);
  add("users_choose_direction", layer.users_choose_direction, flag);
  return out;
}

std::vector<SettingLine> setting_lines(const SyncSettings& s) {
  // Every key set, so the texts come out in sync_setting_keys() order, one per key.
  const SyncSettingsLayer values{
      s.direction.value,           s.conflict_policy.value,       s.first_sync_days.value,
      s.deleted_in_exchange.value, s.breaker_share_percent.value, s.breaker_min_items.value,
      s.first_sync_approval.value, s.send_meeting_requests.value, s.users_choose_direction.value};
  const SettingSource sources[] = {s.direction.source,
                                   s.conflict_policy.source,
                                   s.first_sync_days.source,
                                   s.deleted_in_exchange.source,
                                   s.breaker_share_percent.source,
                                   s.breaker_min_items.source,
                                   s.first_sync_approval.source,
                                   s.send_meeting_requests.source,
                                   s.users_choose_direction.source};
  std::vector<SettingLine> lines;
  std::size_t i = 0;
  for (auto& [key, text] : sync_setting_texts(values)) {
    lines.push_back({std::move(key), std::move(text), sources[i++]});
  }
  return lines;
}

namespace {

bool is_atext(unsigned char c) {
  // RFC 5322 atext, without the characters Exchange refuses in SMTP addresses.
  return std::isalnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~.").find(static_cast<char>(c)) !=
                                std::string_view::npos;
}

bool is_valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || domain.find('.') == std::string_view::npos) {
    return false;
  }
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      auto label = domain.substr(label_start, i - label_start);
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
        return false;
      }
      label_start = i + 1;
    } else if (!std::isalnum(static_cast<unsigned char>(domain[i])) && domain[i] != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool is_valid_address(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || address.size() > 254) return false;
  auto local = address.substr(0, at);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return false;
  }
  if (!std::ranges::all_of(local, [](char c) { return is_atext(static_cast<unsigned char>(c)); })) {
    return false;
  }
  return is_valid_domain(address.substr(at + 1));
}

Result<std::optional<std::string>> mailbox_address(const User& user, std::string_view mail_domain) {
  if (user.blocked) return std::optional<std::string>{};
  if (!user.exchange_address.empty()) {
    if (!is_valid_address(user.exchange_address)) {
      return fail(ErrorKind::kInvalidData,
                  "user " + user.user_name + ": deviating Exchange address \"" +
                      user.exchange_address +
                      "\" is not a valid e-mail address; fix it with `agendasync users set " +
                      user.user_name + " --exchange-address ADDRESS` or clear it");
    }
    return std::optional<std::string>{user.exchange_address};
  }
  if (mail_domain.empty()) {
    return fail(ErrorKind::kInvalidData,
                "user " + user.user_name +
                    " has no deviating Exchange address and no mail domain is set; set "
                    "[exchange] mail_domain in the configuration");
  }
  std::string address = user.user_name + "@" + std::string(mail_domain);
  if (!is_valid_address(address)) {
    return fail(ErrorKind::kInvalidData,
                "user " + user.user_name + ": \"" + address +
                    "\" (user name @ mail domain) is not a valid e-mail address; set a "
                    "deviating Exchange address for this user or check [exchange] mail_domain");
  }
  return std::optional<std::string>{address};
}

}  // namespace agendasync
