#pragma once
/// A pair is (organisation, user). The scheduler keys its queue by one string, so a pair's key
/// joins the two with a separator that neither an organisation id (a DNS label) nor a user
/// name (valid UTF-8 text without control characters, store validation) can hold.
#include <string>
#include <string_view>
#include <utility>

namespace agendasync::service {

inline constexpr char kPairSeparator = '\x1f';

inline std::string pair_key(std::string_view org, std::string_view user) {
  std::string key(org);
  key += kPairSeparator;
  key += user;
  return key;
}

/// (organisation, user) of a key pair_key made; a key without the separator is organisation
/// "default"'s user (callers that name users only, as before organisations).
inline std::pair<std::string, std::string> split_pair_key(std::string_view key) {
  auto at = key.find(kPairSeparator);
  if (at == std::string_view::npos) return {"default", std::string(key)};
  return {std::string(key.substr(0, at)), std::string(key.substr(at + 1))};
}

}  // namespace agendasync::service
