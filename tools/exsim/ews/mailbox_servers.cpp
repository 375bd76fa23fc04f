#include "exsim/ews/mailbox_servers.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace exsim {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The number after "~" in Exchange's cookie is the server's version in Exchange's packed form:
// 0x70000000 | major << 22 | minor << 16 | 0x8000 | build. The affinity page's example
// "CO1PR06MB222.namprd06.prod.outlook.com~1941996295" decodes to 15.0.775, the build its
// ServerVersionInfo shows.
uint32_t packed_version(const ServerVersion& v) {
  return 0x70000000u | (static_cast<uint32_t>(v.major) << 22) |
         (static_cast<uint32_t>(v.minor) << 16) | 0x8000u |
         static_cast<uint32_t>(v.major_build & 0x7fff);
}

// The value of cookie `name` in a Cookie header ("a=1; X-BackEndOverrideCookie=v"); cookie
// names are matched without case, as the affinity page spells this one two ways.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (lower(trim(pair.substr(0, eq))) == lower(name)) return trim(pair.substr(eq + 1));
  }
  return std::nullopt;
}

constexpr std::string_view kCookieName = "X-BackEndOverrideCookie";

}  // namespace

MailboxServers::MailboxServers(const ServerConfig& config) : tls_(config.tls.enabled) {
  int count = std::max(1, config.mailbox_servers);
  for (int n = 1; n <= count; ++n) {
    MailboxServer s;
    s.number = n;
    s.fqdn = fmt::format("mbx{:02}.exsim.local", n);
    // Mailboxes with equal GroupingInformation (and EWS URL) may share one group of
    // subscriptions; each simulated server is its own group.
    s.grouping_information = fmt::format("EXSIM-MBX{:02}", n);
    s.cookie = fmt::format("{}~{}", s.fqdn, packed_version(config.version));
    servers_.push_back(std::move(s));
  }
  for (size_t i = 0; i < config.mailboxes.size(); ++i) {
    mailbox_index_.emplace(lower(config.mailboxes[i].address), static_cast<uint32_t>(i));
  }
}

int MailboxServers::server_of(uint32_t mailbox_index) const {
  // Round robin: N servers of equal size, and neighbours in the list on different servers.
  return static_cast<int>(mailbox_index % servers_.size());
}

std::optional<int> MailboxServers::server_of(std::string_view address) const {
  auto it = mailbox_index_.find(lower(address));
  if (it == mailbox_index_.end()) return std::nullopt;
  return server_of(it->second);
}

std::optional<int> MailboxServers::from_cookie(std::string_view value) const {
  std::string_view fqdn = value.substr(0, value.find('~'));
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (lower(servers_[i].fqdn) == lower(fqdn)) return static_cast<int>(i);
  }
  return std::nullopt;
}

Route MailboxServers::route(const RoutingHeaders& headers, const std::string& caller) {
  // learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server:
  // "the server uses the X-PreferServerAffinity and X-BackendOverrideCookie values together to
  // perform the routing"; "If X-AnchorMailbox and X-PreferServerAffinity are in a request and
  // X-BackendOverrideCookie is not included, the X-AnchorMailbox value is used", and that
  // response carries the cookie.
  bool prefer = lower(trim(headers.prefer_server_affinity)) == "true";
  if (prefer) {
    if (auto value = cookie_value(headers.cookie, kCookieName)) {
      if (auto server = from_cookie(*value)) return Route{*server, ""};
    }
    if (auto server = server_of(trim(headers.anchor_mailbox))) {
      std::string set_cookie = fmt::format("{}={}; path=/;{} HttpOnly", kCookieName,
                                           servers_[*server].cookie, tls_ ? " secure;" : "");
      return Route{*server, set_cookie};
    }
  }
  // Without affinity a load balancer spreads requests over the servers. A rotation per caller
  // makes that deterministic: a Subscribe and the GetStreamingEvents after it land on
  // different servers whenever there are several, so a client without affinity fails at once.
  std::lock_guard lock(mutex_);
  uint64_t n = rotation_[caller]++;
  return Route{static_cast<int>(n % servers_.size()), ""};
}

}  // namespace exsim
