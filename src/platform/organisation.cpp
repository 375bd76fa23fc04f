#include "platform/organisation.h"

namespace agendasync::platform {

const char* to_string(OrgState state) {
  switch (state) {
    case OrgState::kActive:
      return "active";
    case OrgState::kSuspended:
      return "suspended";
  }
  return "active";
}

Result<void> check_org_id(std::string_view id) {
  auto allowed = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool valid = !id.empty() && id.size() <= 63 && allowed(id.front());
  for (char c : id) valid = valid && (allowed(c) || c == '-');
  if (!valid) {
    return fail(ErrorKind::kInvalidData,
                "organisation id \"" + std::string(id) +
                    "\": use 1 to 63 lower-case letters, digits and '-', starting with a letter "
                    "or digit (e.g. \"contoso\" or \"customer-1042\")");
  }
  return {};
}

}  // namespace agendasync::platform
