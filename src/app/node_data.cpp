#include "app/node_data.h"

#include <algorithm>
#include <system_error>

#include "app/app.h"
#include "store/sqlite_agenda_store.h"
#include "store/sqlite_backup.h"
#include "store/sqlite_schema.h"

namespace agendasync::app {

namespace {

namespace fs = std::filesystem;

/// Where organisations other than default keep their files (platform::Platform's layout).
constexpr const char* kOrganisationsFolder = "organisations";

fs::path base_of(const config::Config& node) { return node.database.parent_path(); }

/// `agenda` and its sync state, relative to the node's folder, when they exist.
void add_pair(const fs::path& base, const fs::path& agenda, std::vector<NodeFile>& files) {
  std::error_code ec;
  if (!fs::exists(base / agenda, ec)) return;
  files.push_back({agenda, true});
  config::Config at;
  at.database = agenda;
  fs::path state = state_file(at);
  if (fs::exists(base / state, ec)) files.push_back({state, false});
}

}  // namespace

std::vector<NodeFile> node_files(const config::Config& node) {
  std::vector<NodeFile> files;
  const fs::path base = base_of(node);
  add_pair(base, node.database.filename(), files);
  std::error_code ec;
  std::vector<fs::path> organisations;
  for (const auto& entry : fs::directory_iterator(base / kOrganisationsFolder, ec)) {
    if (entry.is_directory(ec)) organisations.push_back(entry.path().filename());
  }
  std::sort(organisations.begin(), organisations.end());
  for (const auto& id : organisations) {
    add_pair(base, fs::path(kOrganisationsFolder) / id / "agenda.db", files);
  }
  return files;
}

Result<BackupReport> backup_node(const config::Config& node, const fs::path& folder) {
  std::error_code ec;
  if (fs::exists(folder, ec) && !fs::is_empty(folder, ec)) {
    return fail(ErrorKind::kConflict, "backup folder " + folder.string() +
                                          " is not empty; a backup never overwrites. Choose a "
                                          "new folder");
  }
  auto files = node_files(node);
  if (files.empty()) {
    return fail(ErrorKind::kNotFound,
                "database " + node.database.string() + " does not exist: nothing to back up");
  }
  BackupReport report;
  for (const auto& file : files) {
    fs::path to = folder / file.relative;
    fs::create_directories(to.parent_path(), ec);
    if (ec) {
      return fail(ErrorKind::kPermanent,
                  "cannot create " + to.parent_path().string() + ": " + ec.message());
    }
    if (auto copied = store::sqlite::backup_file(base_of(node) / file.relative, to); !copied) {
      return std::unexpected(copied.error());
    }
    report.files.push_back(file.relative);
  }
  return report;
}

Result<BackupReport> restore_node(const config::Config& node, const fs::path& folder) {
  std::error_code ec;
  std::vector<fs::path> found;
  for (auto it = fs::recursive_directory_iterator(folder, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".db") {
      found.push_back(fs::relative(it->path(), folder));
    }
  }
  if (ec)
    return fail(ErrorKind::kNotFound,
                "cannot read backup folder " + folder.string() + ": " + ec.message());
  fs::path main = node.database.filename();
  if (std::find(found.begin(), found.end(), main) == found.end()) {
    return fail(ErrorKind::kNotFound, "backup folder " + folder.string() + " holds no " +
                                          main.string() + ": not a backup of this node");
  }
  // Everything is checked before anything is written: a refused restore changes nothing.
  for (const auto& file : found) {
    if (file.filename().string().ends_with(".sync.db")) continue;
    auto version = store::sqlite::schema_version_of(folder / file);
    if (!version) return std::unexpected(version.error());
    if (*version > store::sqlite::current_schema_version()) {
      return fail(ErrorKind::kUnsupported,
                  "backup " + (folder / file).string() + " has schema version " +
                      std::to_string(*version) + ", newer than this agendasync understands (" +
                      std::to_string(store::sqlite::current_schema_version()) +
                      "); nothing was restored. Restore it with the version that made it");
    }
  }
  std::sort(found.begin(), found.end());
  BackupReport report;
  for (const auto& file : found) {
    fs::path into = base_of(node) / file;
    fs::create_directories(into.parent_path(), ec);
    if (auto restored = store::sqlite::restore_file(folder / file, into); !restored) {
      return std::unexpected(restored.error());
    }
    report.files.push_back(file);
  }
  return report;
}

bool MigrateReport::behind() const {
  return std::any_of(agendas.begin(), agendas.end(),
                     [&](const AgendaSchema& a) { return a.found < supported; });
}

bool MigrateReport::ahead() const {
  return std::any_of(agendas.begin(), agendas.end(),
                     [&](const AgendaSchema& a) { return a.found > supported; });
}

Result<MigrateReport> schema_status(const config::Config& node) {
  MigrateReport report;
  report.supported = store::sqlite::current_schema_version();
  for (const auto& file : node_files(node)) {
    if (!file.agenda) continue;
    auto version = store::sqlite::schema_version_of(base_of(node) / file.relative);
    if (!version) return std::unexpected(version.error());
    report.agendas.push_back({file.relative, *version, *version});
  }
  return report;
}

Result<MigrateReport> migrate_node(const config::Config& node, const fs::path& backup_folder) {
  auto report = schema_status(node);
  if (!report) return report;
  if (report->ahead()) {
    // Refused before any backup or write: this build cannot serve the newer schema.
    for (const auto& agenda : report->agendas) {
      if (agenda.found <= report->supported) continue;
      return fail(ErrorKind::kUnsupported,
                  "database " + (base_of(node) / agenda.relative).string() +
                      " has schema version " + std::to_string(agenda.found) +
                      ", newer than this agendasync understands (" +
                      std::to_string(report->supported) +
                      "); nothing was changed. Install the newer agendasync again, or restore "
                      "a backup made before the upgrade (agendasync restore)");
    }
  }
  if (!report->behind()) return report;
  if (!backup_folder.empty()) {
    if (auto saved = backup_node(node, backup_folder); !saved) {
      return std::unexpected(saved.error());
    }
    report->backup = backup_folder;
  }
  for (auto& agenda : report->agendas) {
    // Opening the store applies the missing migrations (or refuses a newer schema).
    auto store = store::open_sqlite_agenda_store(base_of(node) / agenda.relative);
    if (!store) return std::unexpected(store.error());
    store->reset();
    auto now = store::sqlite::schema_version_of(base_of(node) / agenda.relative);
    if (!now) return std::unexpected(now.error());
    agenda.now = *now;
  }
  return report;
}

}  // namespace agendasync::app
