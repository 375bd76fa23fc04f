#pragma once
/// The Exchange versions exsim can pretend to be, with the ServerVersionInfo header a real
/// server of that version sends, and the RequestServerVersion values it accepts.
#include <optional>
#include <string>
#include <string_view>

namespace exsim {

/// A configured server version.
struct ServerVersion {
  std::string_view name;  // config name: Exchange2013, Exchange2013_SP1, Exchange2016, Exchange2019
  int major;
  int minor;
  int major_build;
  int minor_build;
  std::string_view version_attribute;  // ServerVersionInfo Version="..."
  int api_rank;                        // highest RequestServerVersion rank it understands
};

/// The version called `name`, or nullopt.
std::optional<ServerVersion> find_server_version(std::string_view name);
/// Rank of a RequestServerVersion value (ExchangeVersionType), or nullopt when the schema
/// does not know it.
std::optional<int> request_version_rank(std::string_view value);

}  // namespace exsim
