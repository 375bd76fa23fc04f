#include "core/settings.h"

#include <algorithm>
#include <cctype>

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

Result<ConflictPolicy> parse_conflict_policy(std::string_view text) {
  for (auto value :
       {ConflictPolicy::kNewestWins, ConflictPolicy::kHostWins, ConflictPolicy::kExchangeWins}) {
    if (text == to_string(value)) return value;
  }
  return fail(ErrorKind::kInvalidData, "unknown conflict policy \"" + std::string(text) +
                                           "\": use newest-wins, host-wins or exchange-wins");
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
