// Windows <-> IANA zone ids (core/time_zone.h, through ICU) against the CLDR 41 table
// shared/conformance/tz/windowsZones.xml. ICU on Debian 12 carries a later CLDR, so ids
// whose mapping changed since CLDR 41 are listed in kChangedSinceCldr41 with what ICU gives
// now; the test asserts those too, so the list cannot go stale silently.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "core/time_zone.h"

namespace agendasync {
namespace {

struct MapZone {
  std::string windows;
  std::string territory;
  std::vector<std::string> iana;  ///< the first is the territory's primary zone
};

std::vector<MapZone> load_table() {
  const auto path = std::filesystem::path(AGENDASYNC_CONFORMANCE_DIR) / "tz" / "windowsZones.xml";
  pugi::xml_document doc;
  if (!doc.load_file(path.c_str())) {
    ADD_FAILURE() << "cannot read the CLDR table " << path
                  << " (set AGENDASYNC_CONFORMANCE_DIR to shared/conformance)";
    return {};
  }
  std::vector<MapZone> out;
  for (auto node : doc.select_nodes("//mapZone")) {
    MapZone zone{
        node.node().attribute("other").value(), node.node().attribute("territory").value(), {}};
    std::istringstream ids(node.node().attribute("type").value());
    for (std::string id; ids >> id;) zone.iana.push_back(id);
    out.push_back(std::move(zone));
  }
  return out;
}

/// Windows id -> the primary IANA zone ICU (newer CLDR) gives where CLDR 41 said otherwise.
/// Empty with Debian 12's ICU 72: its table agrees with CLDR 41 on every primary zone (checked
/// by the tests below; a newer ICU that moves one fails them until it is listed here).
const std::map<std::string, std::string> kChangedSinceCldr41 = {};

TEST(WindowsZones, TableIsComplete) {
  const auto table = load_table();
  std::set<std::string> windows_ids;
  for (const auto& zone : table) windows_ids.insert(zone.windows);
  // CLDR 41: 139 Windows ids in 497 mapZone rows. Fewer means the file was cut short.
  EXPECT_EQ(windows_ids.size(), 139u);
  EXPECT_GE(table.size(), 400u);
}

TEST(WindowsZones, EveryWindowsIdMapsToItsPrimaryZone) {
  int checked = 0;
  for (const auto& zone : load_table()) {
    if (zone.territory != "001") continue;
    ++checked;
    auto iana = iana_from_windows(zone.windows);
    ASSERT_TRUE(iana) << zone.windows << ": " << iana.error().message;
    auto changed = kChangedSinceCldr41.find(zone.windows);
    const std::string expected =
        changed == kChangedSinceCldr41.end() ? zone.iana.at(0) : changed->second;
    EXPECT_EQ(*iana, expected) << zone.windows;
  }
  EXPECT_EQ(checked, 139);
}

TEST(WindowsZones, PrimaryZonesRoundTrip) {
  for (const auto& zone : load_table()) {
    if (zone.territory != "001") continue;
    auto windows = windows_from_iana(zone.iana.at(0));
    ASSERT_TRUE(windows) << zone.iana.at(0) << ": " << windows.error().message;
    EXPECT_EQ(*windows, zone.windows) << zone.iana.at(0);
    auto back = iana_from_windows(*windows);
    ASSERT_TRUE(back) << *windows;
    auto changed = kChangedSinceCldr41.find(zone.windows);
    EXPECT_EQ(*back, changed == kChangedSinceCldr41.end() ? zone.iana.at(0) : changed->second)
        << zone.windows;
  }
}

TEST(WindowsZones, EveryTerritoryZoneMapsBackToItsWindowsId) {
  int checked = 0;
  for (const auto& zone : load_table()) {
    if (zone.territory == "001") continue;
    auto primary = iana_from_windows(zone.windows, zone.territory);
    ASSERT_TRUE(primary) << zone.windows << " in " << zone.territory;
    for (const auto& id : zone.iana) {
      ++checked;
      auto windows = windows_from_iana(id);
      ASSERT_TRUE(windows) << id << ": " << windows.error().message;
      EXPECT_EQ(*windows, zone.windows) << id;
    }
  }
  EXPECT_GE(checked, 400);
}

TEST(WindowsZones, EveryMappedZoneConverts) {
  // Each IANA zone of the table is usable for wall-clock conversion, not just for naming.
  const auto at = std::chrono::sys_days(std::chrono::year(2024) / 7 / 1);
  int checked = 0;
  std::set<std::chrono::seconds> offsets;
  for (const auto& zone : load_table()) {
    for (const auto& id : zone.iana) {
      ++checked;
      offsets.insert(utc_offset(at, id).value_or(std::chrono::seconds(-1)));
      auto local = to_local(at, id);
      ASSERT_TRUE(local) << id << ": " << local.error().message;
      EXPECT_EQ(to_utc(*local, id).value(), at) << id;
    }
  }
  EXPECT_GE(checked, 500);
  // The world's zones span many offsets on one day; a conversion stuck at UTC would not.
  EXPECT_GE(offsets.size(), 30u);
  EXPECT_FALSE(offsets.contains(std::chrono::seconds(-1)));
}

}  // namespace
}  // namespace agendasync
