#pragma once
/// Where a mailbox lives in a hybrid organisation (Exchange Server on premises + Exchange
/// Online), and so which of exsim's protocols serve it. Both protocols read one store, so a
/// move changes only who answers, never the items.
#include <optional>
#include <string>
#include <string_view>

namespace exsim {

struct Mailbox;

enum class MailboxLocation {
  /// Not placed (the default): reachable over EWS and Graph alike, as exsim always served
  /// mailboxes before hybrid was modelled.
  kEverywhere,
  /// On an on-premises Mailbox server only: Graph answers MailboxNotEnabledForRESTAPI.
  kOnPremises,
  /// Moved to Exchange Online: on-premises EWS answers ErrorNonExistentMailbox and
  /// Autodiscover redirects to the mailbox's target address.
  kOnline,
};

/// "everywhere", "onpremises", "online".
std::string_view location_name(MailboxLocation location);
/// The inverse of location_name; nullopt for anything else.
std::optional<MailboxLocation> parse_location(std::string_view text);

/// Whether the on-premises side (EWS, Autodiscover) holds the mailbox.
bool served_on_premises(const Mailbox& mb);
/// Whether Exchange Online (Graph) holds the mailbox.
bool served_online(const Mailbox& mb);

/// The targetAddress the on-premises object of a moved mailbox carries: the local part at the
/// tenant's routing domain (e.g. alice@contoso.mail.onmicrosoft.com).
std::string default_target_address(std::string_view address, std::string_view routing_domain);

}  // namespace exsim
