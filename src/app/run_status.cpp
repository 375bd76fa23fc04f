#include "app/run_status.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <system_error>

namespace agendasync::app {
namespace {

/// Status values are single lines: newlines inside an error message would end the field.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

}  // namespace

std::filesystem::path RunStatusFile::file_for(const std::string& user) const {
  // User names are the host's; escape anything that is not safe in a file name.
  std::string name;
  for (unsigned char c : user) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.')
      name += static_cast<char>(c);
    else
      name += fmt::format("%{:02X}", c);
  }
  return directory_ / (name + ".status");
}

Result<void> RunStatusFile::record(const std::string& user, RunStatus status) {
  if (status.last_success == Instant{}) {
    if (auto previous = read(user)) status.last_success = previous->last_success;
  }
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) {
    return std::unexpected(Error::make(
        ErrorKind::kPermanent, fmt::format("cannot create the status folder {}: {}; check its "
                                           "permissions",
                                           directory_.string(), ec.message())));
  }
  const auto target = file_for(user);
  const auto temporary = target.string() + fmt::format(".{}.tmp", ::getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "at=" << status.at.time_since_epoch().count() << "\n"
        << "outcome=" << one_line(status.outcome) << "\n"
        << "summary=" << one_line(status.summary) << "\n"
        << "last_error=" << one_line(status.last_error) << "\n"
        << "last_success=" << status.last_success.time_since_epoch().count() << "\n";
    out.flush();
    if (!out) {
      return std::unexpected(
          Error::make(ErrorKind::kPermanent, fmt::format("cannot write {}; check the disk and the "
                                                         "folder's permissions",
                                                         temporary)));
    }
  }
  std::filesystem::rename(temporary, target, ec);
  if (ec) {
    return std::unexpected(
        Error::make(ErrorKind::kPermanent,
                    fmt::format("cannot replace {}: {}", target.string(), ec.message())));
  }
  return {};
}

std::optional<RunStatus> RunStatusFile::read(const std::string& user) const {
  std::ifstream in(file_for(user));
  if (!in) return std::nullopt;
  RunStatus status;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    try {
      if (key == "at") status.at = Instant{std::chrono::seconds{std::stoll(value)}};
      if (key == "last_success")
        status.last_success = Instant{std::chrono::seconds{std::stoll(value)}};
    } catch (const std::exception&) {
      return std::nullopt;  // a damaged file reads as "never ran", not as a crash
    }
    if (key == "outcome") status.outcome = value;
    if (key == "summary") status.summary = value;
    if (key == "last_error") status.last_error = value;
  }
  return status;
}

}  // namespace agendasync::app
