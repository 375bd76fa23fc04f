// Every remedy the doctors can give names configuration settings as the file spells them
// (`[section] key`, `= "value"`): each one is parsed with the configuration parser, so a fix
// line can never send an administrator to a key that does not exist (it once said
// `ews.server_version`, which no configuration has) or a value the parser refuses.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/ews/doctor.h"
#include "connectors/graph/doctor.h"

namespace agendasync::app {
namespace {

struct NamedSetting {
  std::string section, key, value;  ///< value: as written after `=`, or empty
  std::string remedy;
};

std::vector<NamedSetting> settings_in(const std::string& remedy) {
  static const std::regex kSetting(R"(\[([a-z_]+)\] ([a-z_]+)( = ("[^"]*"|true|false|[0-9]+))?)");
  std::vector<NamedSetting> found;
  for (std::sregex_iterator it(remedy.begin(), remedy.end(), kSetting), end; it != end; ++it) {
    found.push_back({(*it)[1], (*it)[2], (*it)[4], remedy});
  }
  return found;
}

std::vector<std::string> all_remedies() {
  auto all = ews::remedy_catalogue();
  for (auto& remedy : graph::remedy_catalogue()) all.push_back(std::move(remedy));
  return all;
}

/// The parser's verdict on `key = value` in `[section]`: empty when it knows the key and
/// (when the remedy names one) takes the value.
std::string parse_verdict(const NamedSetting& setting) {
  const std::string value = setting.value.empty() ? "\"x\"" : setting.value;
  const std::string text = "[" + setting.section + "]\n" + setting.key + " = " + value + "\n";
  auto parsed = config::parse_config(text, "remedy.toml");
  if (parsed) return {};
  const std::string& message = parsed.error().message;
  // Only the key is named: any refusal but "unknown" means the parser knows it (a placeholder
  // value may well be of the wrong type).
  if (setting.value.empty() && message.find("unknown") == std::string::npos) return {};
  return message;
}

TEST(RemedySettings, EveryNamedSettingIsOneTheConfigurationParserTakes) {
  std::size_t named = 0;
  for (const auto& remedy : all_remedies()) {
    for (const auto& setting : settings_in(remedy)) {
      ++named;
      EXPECT_EQ(parse_verdict(setting), "")
          << "[" << setting.section << "] " << setting.key
          << (setting.value.empty() ? "" : " = " + setting.value) << " in: " << remedy;
    }
  }
  // The catalogue is not empty and does name settings (the check above could otherwise pass
  // by finding nothing).
  EXPECT_GE(named, 20u);
}

TEST(RemedySettings, NoRemedyUsesAnotherSpellingOfASetting) {
  // Dotted names (`ews.server_version`, `graph.client_secret`) or vague "... setting" phrases
  // are not what the configuration file contains.
  // (Host names such as graph.microsoft.com are not settings: a dot or slash follows them.)
  static const std::regex kDotted(
      R"((^|[^/.\w])(ews|exchange|graph|tls|sync|server)\.[a-z_]+(?![.\w/]))");
  for (const auto& remedy : all_remedies()) {
    EXPECT_FALSE(std::regex_search(remedy, kDotted)) << remedy;
    EXPECT_EQ(remedy.find(" setting"), std::string::npos) << remedy;
  }
}

TEST(RemedySettings, TheVersionMismatchNamesTheValueForThisServer) {
  bool plain = false, sp1 = false;
  for (const auto& remedy : ews::remedy_catalogue()) {
    plain = plain || remedy.find("set [exchange] version = \"2013\" ") != std::string::npos;
    sp1 = sp1 || remedy.find("set [exchange] version = \"2013-sp1\" ") != std::string::npos;
  }
  EXPECT_TRUE(plain);
  EXPECT_TRUE(sp1);
}

}  // namespace
}  // namespace agendasync::app
