// libFuzzer: any bytes as a REST API request body (src/service/json_codec) must give a value
// or an Error that says which member is wrong, never a crash; what the API accepted as an
// appointment it must be able to show (to_json) and accept again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "service/json_codec.h"

namespace {

using namespace agendasync;

void check_error_has_message(const Error& error) {
  if (error.message.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)service::parse_instant(text);
  const auto body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;

  if (auto item = service::appointment_from_json(body)) {
    // What the API accepted it must be able to show, and accept again as shown.
    const auto shown = service::to_json(*item);
    if (!service::appointment_from_json(shown)) std::abort();
    if (auto patched = service::merge_patch(*item, body); !patched)
      check_error_has_message(patched.error());
  } else {
    check_error_has_message(item.error());
  }

  User user;
  user.user_name = "FUZZ";
  if (auto applied = service::apply_user_json(user, body); !applied)
    check_error_has_message(applied.error());
  if (auto type = service::activity_type_from_json(body, "Visit"); !type)
    check_error_has_message(type.error());
  store::OrganisationSettings settings;
  if (auto applied = service::apply_settings_json(settings, body); !applied)
    check_error_has_message(applied.error());
  return 0;
}
