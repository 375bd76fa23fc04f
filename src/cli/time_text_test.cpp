// The CLI's date and time text.
#include "cli/time_text.h"

#include <gtest/gtest.h>

namespace agendasync::cli {
namespace {

using namespace std::chrono;

TEST(TimeText, DatesAreMidnightUtc) {
  EXPECT_EQ(parse_date("2026-03-02", "--start").value(), sys_days{2026y / 3 / 2});
  EXPECT_FALSE(parse_date("2026-02-29", "--start"));
  EXPECT_FALSE(parse_date("2026-3-2", "--start"));
  EXPECT_FALSE(parse_date("2026-03-02T09:00", "--start"));
}

TEST(TimeText, WallClockTimesInAZoneCrossDst) {
  // Amsterdam: UTC+1 in winter, UTC+2 from 29 March 2026.
  EXPECT_EQ(parse_in_zone("2026-03-02T09:00", "Europe/Amsterdam", "--start").value(),
            sys_days{2026y / 3 / 2} + 8h);
  EXPECT_EQ(parse_in_zone("2026-03-30 09:00:30", "Europe/Amsterdam", "--start").value(),
            sys_days{2026y / 3 / 30} + 7h + 30s);
  EXPECT_EQ(format_local(sys_days{2026y / 3 / 30} + 7h, "Europe/Amsterdam"), "2026-03-30 09:00");
  EXPECT_EQ(format_utc(sys_days{2026y / 3 / 30} + 7h), "2026-03-30T07:00:00Z");
  EXPECT_EQ(format_date(sys_days{2026y / 3 / 30} + 7h), "2026-03-30");
}

TEST(TimeText, MalformedTimesNameTheOption) {
  for (const char* bad : {"2026-03-02T25:00", "2026-03-02T09", "2026-03-02X09:00", "tomorrow",
                          "2026-03-02T09:00:60"}) {
    auto parsed = parse_local(bad, "--end");
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().message.find("--end"), std::string::npos);
    EXPECT_NE(parsed.error().message.find(bad), std::string::npos);
  }
}

}  // namespace
}  // namespace agendasync::cli
