#include "core/time_zone.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace agendasync {
namespace {

using namespace std::chrono;

LocalTime local(int y, unsigned m, unsigned d, int hh, int mm = 0) {
  return local_days(year(y) / month(m) / day(d)) + hours(hh) + minutes(mm);
}
sys_seconds utc(int y, unsigned m, unsigned d, int hh, int mm = 0) {
  return sys_days(year(y) / month(m) / day(d)) + hours(hh) + minutes(mm);
}

TEST(TimeZone, WindowsToIanaUsesTheCldrDefault) {
  EXPECT_EQ(iana_from_windows("W. Europe Standard Time").value(), "Europe/Berlin");
  EXPECT_EQ(iana_from_windows("W. Europe Standard Time", "NL").value(), "Europe/Amsterdam");
  EXPECT_EQ(iana_from_windows("Eastern Standard Time").value(), "America/New_York");
}

TEST(TimeZone, IanaToWindowsAcceptsAliases) {
  EXPECT_EQ(windows_from_iana("Europe/Amsterdam").value(), "W. Europe Standard Time");
  EXPECT_EQ(windows_from_iana("Asia/Kolkata").value(), "India Standard Time");
  EXPECT_EQ(windows_from_iana("US/Eastern").value(), "Eastern Standard Time");
}

TEST(TimeZone, UnknownIdsAreInvalidDataNamingTheId) {
  auto windows = iana_from_windows("Mars Standard Time");
  ASSERT_FALSE(windows);
  EXPECT_EQ(windows.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(windows.error().message.find("Mars Standard Time"), std::string::npos);

  auto iana = windows_from_iana("Mars/Olympus_Mons");
  ASSERT_FALSE(iana);
  EXPECT_NE(iana.error().message.find("Mars/Olympus_Mons"), std::string::npos);

  auto converted = to_utc(local(2024, 1, 1, 9), "Europe/Amsterdamm");
  ASSERT_FALSE(converted);
  EXPECT_EQ(converted.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(converted.error().message.find("Europe/Amsterdamm"), std::string::npos);
}

TEST(TimeZone, NormalizeKeepsIanaAndMapsWindows) {
  EXPECT_EQ(normalize_zone("Europe/Amsterdam").value(), "Europe/Amsterdam");
  EXPECT_EQ(normalize_zone("Asia/Kolkata").value(), "Asia/Kolkata");
  EXPECT_EQ(normalize_zone("UTC").value(), "UTC");
  EXPECT_EQ(normalize_zone("Pacific Standard Time").value(), "America/Los_Angeles");
  EXPECT_EQ(normalize_zone("europe/amsterdam").value(), "Europe/Amsterdam");
  EXPECT_EQ(normalize_zone("utc").value(), "UTC");
  EXPECT_EQ(normalize_zone("w. europe standard time").value(), "Europe/Berlin");
  auto bad = normalize_zone("Nowhere/Special");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(bad.error().message.find("Nowhere/Special"), std::string::npos);
}

TEST(TimeZone, AmsterdamOffsetsAcrossDst) {
  EXPECT_EQ(to_utc(local(2024, 1, 15, 9), "Europe/Amsterdam").value(), utc(2024, 1, 15, 8));
  EXPECT_EQ(to_utc(local(2024, 7, 15, 9), "Europe/Amsterdam").value(), utc(2024, 7, 15, 7));
  EXPECT_EQ(utc_offset(utc(2024, 7, 15, 7), "Europe/Amsterdam").value(), hours(2));
  EXPECT_EQ(to_local(utc(2024, 1, 15, 8), "Europe/Amsterdam").value(), local(2024, 1, 15, 9));
}

TEST(TimeZone, GapMovesForwardByTheGap) {
  // 2024-03-31 02:30 does not exist in Amsterdam; it becomes 03:30 CEST = 01:30 UTC.
  EXPECT_EQ(to_utc(local(2024, 3, 31, 2, 30), "Europe/Amsterdam").value(), utc(2024, 3, 31, 1, 30));
  // New York springs forward at 02:00 on 2024-03-10: 02:30 -> 03:30 EDT = 07:30 UTC.
  EXPECT_EQ(to_utc(local(2024, 3, 10, 2, 30), "America/New_York").value(), utc(2024, 3, 10, 7, 30));
}

TEST(TimeZone, OverlapTakesTheEarlierInstant) {
  // 2024-10-27 02:30 happens twice in Amsterdam: first at CEST (00:30 UTC).
  EXPECT_EQ(to_utc(local(2024, 10, 27, 2, 30), "Europe/Amsterdam").value(),
            utc(2024, 10, 27, 0, 30));
  // 2024-11-03 01:30 happens twice in New York: first at EDT (05:30 UTC).
  EXPECT_EQ(to_utc(local(2024, 11, 3, 1, 30), "America/New_York").value(), utc(2024, 11, 3, 5, 30));
}

TEST(TimeZone, WindowsIdsWorkForConversionToo) {
  EXPECT_EQ(to_utc(local(2024, 7, 15, 9), "W. Europe Standard Time").value(), utc(2024, 7, 15, 7));
}

TEST(TimeZone, ConcurrentUseIsSafe) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 500; ++i) {
        const char* zone = (i + t) % 2 ? "Europe/Amsterdam" : "America/New_York";
        auto at = utc(2024, 1 + static_cast<unsigned>(i % 12), 10, 12);
        auto there = to_local(at, zone);
        if (!there || to_utc(*there, zone).value_or(sys_seconds{}) != at) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int count : failures) EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace agendasync
