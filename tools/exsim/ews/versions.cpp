#include "exsim/ews/versions.h"

#include <array>

namespace exsim {
namespace {

// ExchangeVersionType in types.xsd, oldest first. Exchange2009 and Exchange2012 are schema
// placeholders no shipped server reports.
constexpr std::array<std::string_view, 21> kRequestVersions = {
    "Exchange2007",     "Exchange2007_SP1", "Exchange2009", "Exchange2010",     "Exchange2010_SP1",
    "Exchange2010_SP2", "Exchange2012",     "Exchange2013", "Exchange2013_SP1", "Exchange2015",
    "Exchange2016",     "V2015_10_05",      "V2016_01_06",  "V2016_04_13",      "V2016_07_13",
    "V2016_10_10",      "V2017_01_07",      "V2017_04_14",  "V2017_07_11",      "V2017_10_09",
    "V2018_01_08"};

// Header values as the released servers send them (build numbers of a CU of each).
constexpr std::array<ServerVersion, 4> kServers = {{
    {"Exchange2013", 15, 0, 516, 32, "Exchange2013", 7},
    {"Exchange2013_SP1", 15, 0, 847, 32, "Exchange2013_SP1", 8},
    {"Exchange2016", 15, 1, 2507, 6, "V2017_07_11", 20},
    {"Exchange2019", 15, 2, 1118, 7, "V2017_07_11", 20},
}};

}  // namespace

std::optional<ServerVersion> find_server_version(std::string_view name) {
  for (const auto& v : kServers) {
    if (v.name == name) return v;
  }
  return std::nullopt;
}

std::optional<int> request_version_rank(std::string_view value) {
  for (size_t i = 0; i < kRequestVersions.size(); ++i) {
    if (kRequestVersions[i] == value) return static_cast<int>(i);
  }
  return std::nullopt;
}

}  // namespace exsim
