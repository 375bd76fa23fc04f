#include "exsim/store/mailbox_location.h"

#include "exsim/store/store.h"

namespace exsim {

std::string_view location_name(MailboxLocation location) {
  switch (location) {
    case MailboxLocation::kOnPremises:
      return "onpremises";
    case MailboxLocation::kOnline:
      return "online";
    case MailboxLocation::kEverywhere:
      break;
  }
  return "everywhere";
}

std::optional<MailboxLocation> parse_location(std::string_view text) {
  for (MailboxLocation l :
       {MailboxLocation::kEverywhere, MailboxLocation::kOnPremises, MailboxLocation::kOnline}) {
    if (text == location_name(l)) return l;
  }
  return std::nullopt;
}

bool served_on_premises(const Mailbox& mb) { return mb.location != MailboxLocation::kOnline; }

bool served_online(const Mailbox& mb) { return mb.location != MailboxLocation::kOnPremises; }

std::string default_target_address(std::string_view address, std::string_view routing_domain) {
  return std::string(address.substr(0, address.find('@'))) + "@" + std::string(routing_domain);
}

}  // namespace exsim
