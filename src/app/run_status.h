#pragma once
/// The last run of each user's pair (`agendasync status`: last sync, outcome, counts, last
/// error), kept as one small text file per user beside the sync state. Written atomically
/// (temporary file + rename), so a killed run leaves the previous status readable.
#include <filesystem>
#include <optional>
#include <string>

#include "core/appointment.h"
#include "core/error.h"

namespace agendasync::app {

struct RunStatus {
  Instant at{};            ///< when the run finished
  std::string outcome;     ///< synced, partial, quarantined, failed
  std::string summary;     ///< sync::format_summary of the run
  std::string last_error;  ///< empty when the run had none
  Instant last_success{};  ///< the newest run that synced everything (epoch = never)
  bool operator==(const RunStatus&) const = default;
};

class RunStatusFile {
 public:
  /// Statuses live in `directory` (created on the first write).
  explicit RunStatusFile(std::filesystem::path directory) : directory_(std::move(directory)) {}

  /// Records a run, carrying `last_success` over from the previous record when this run
  /// did not succeed.
  Result<void> record(const std::string& user, RunStatus status);
  /// The user's last run; nullopt when it never ran (or the file is unreadable).
  std::optional<RunStatus> read(const std::string& user) const;

 private:
  std::filesystem::path file_for(const std::string& user) const;
  std::filesystem::path directory_;
};

}  // namespace agendasync::app
