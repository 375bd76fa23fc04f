// libFuzzer target for the RRULE parser: any accepted rule must format and parse back to
// itself, and expanding it must neither crash nor run away.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/expand.h"
#include "core/recurrence.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace agendasync;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rule = parse_rrule(text);
  if (!rule) return 0;
  auto again = parse_rrule(format_rrule(*rule));
  if (!again || !(*again == *rule)) std::abort();

  Appointment item;
  item.start = std::chrono::sys_days(std::chrono::year(2024) / 3 / 29) + std::chrono::hours(9);
  item.end = item.start + std::chrono::hours(1);
  item.time_zone = "Europe/Amsterdam";
  item.recurrence = Recurrence{*rule, {}, {}};
  (void)expand(item, item.start, item.start + std::chrono::days(3 * 366), 200);
  return 0;
}
