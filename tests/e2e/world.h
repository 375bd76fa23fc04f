#pragma once
/// The end-to-end world: the real exsim binary (TLS, port 0, its generated CA), a
/// configuration file and password file, a real SQLite agenda, and ways to act "in Outlook"
/// (exsim's admin endpoint and raw EWS) and "in the host" (the store), then sync through the
/// app layer in process or through the real `agendasync` binary.
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app.h"
#include "store/agenda_store.h"
#include "tools/exsim/launcher/exsim_process.h"

namespace agendasync::e2e {

/// What a run of the `agendasync` binary did.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Which protocol the sync speaks to exsim: EWS (Exchange Server) or Microsoft Graph (Exchange
/// Online, with exsim's Entra ID token endpoint). "Outlook" (the admin endpoint, raw EWS) is
/// the same either way: both protocols see one mailbox store. kHybrid (R41): both
/// connections ([exchange] backend = "hybrid"), each user routed to one of them.
enum class Backend { kEws, kGraph, kHybrid };

/// "ews" / "graph" / "hybrid", for parameterised test names.
const char* backend_name(Backend backend);

/// The Entra ID app registration exsim knows in a Graph world.
struct GraphApp {
  static constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";
  static constexpr const char* kClientId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  static constexpr const char* kSecret = "graph-app-s3cret";
};

struct WorldOptions {
  std::vector<std::string> mailboxes{"jdoe@example.com", "asmith@example.com", "bwayne@example.com",
                                     "ckent@example.com", "diana.prince@example.com"};
  /// Whether the service account holds the ApplicationImpersonation role.
  bool impersonation = true;
  /// Whether the configuration names exsim's CA in [tls] ca_bundle.
  bool configure_ca = true;
  /// The password the configuration's secret file holds (exsim's is "s3cret").
  std::string password = "s3cret";
  Backend backend = Backend::kEws;
  /// The Exchange version exsim pretends to be (its --version flag).
  std::string exsim_version = "Exchange2016";
  /// Graph: the application permissions exsim grants the app.
  std::vector<std::string> graph_roles{"Calendars.ReadWrite", "User.Read.All",
                                       "MailboxSettings.Read"};
  /// Graph: the client secret the configuration's secret file holds.
  std::string graph_secret = GraphApp::kSecret;
  /// More exsim command-line arguments (e.g. its mailbox-server layout for the scale tests).
  std::vector<std::string> exsim_args{};
  /// Graph: numbers of exsim's subscription limits to lower (its config's "graph"."limits",
  /// e.g. {"writes_per_app": 5}); empty = Microsoft's.
  nlohmann::json exsim_graph_limits = nlohmann::json::object();
  /// A PostgreSQL server (libpq keyword string or URI): the agenda and the sync state live in
  /// a schema of this world's own organisation there (dropped at the end), and `cli` and `app`
  /// act on that organisation. Empty: SQLite files in the world's folder.
  std::string postgres{};
};

class World {
 public:
  explicit World(WorldOptions options = {});
  /// A default world syncing through `backend`.
  explicit World(Backend backend);
  ~World();

  Backend backend() const { return options_.backend; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& config_path() const { return config_path_; }
  const std::filesystem::path& database_path() const { return database_path_; }
  std::filesystem::path state_path() const;
  /// The organisation this world's agenda belongs to ("default" on SQLite).
  const std::string& org() const { return org_; }
  /// Runs `update_sql` (an UPDATE of sync_cursor) on the sync state file, to simulate a lost,
  /// expired or tampered cursor. Returns the rows changed, or -1 (and a test failure) when
  /// the statement failed.
  int rewrite_cursors(const std::string& update_sql);
  store::AgendaStore& store() {
    open_store();
    return *store_;
  }
  /// Closes this process's own connection to the agenda, so that a test of several processes
  /// on one file sees only theirs (a live connection here would hide lock bugs elsewhere: its
  /// shared lock keeps any other process from checkpointing and removing the WAL). Calls that
  /// need the store reopen it.
  void close_store() { store_.reset(); }
  exsimtest::ExsimProcess& exsim() { return *exsim_; }

  // --- the host agenda -----------------------------------------------------------------
  /// Adds a user whose mailbox is user_name@example.com unless `address` is given.
  void add_user(const std::string& name, bool sync_enabled = true, bool blocked = false,
                const std::string& address = "");
  void update_user(const std::string& name, const std::function<void(User&)>& edit);
  /// A timed appointment owned by `owner` on [start, start + minutes).
  store::StoredAppointment add_appointment(const std::string& owner, const std::string& subject,
                                           Instant start, int minutes = 60,
                                           std::vector<std::string> participants = {},
                                           const std::string& activity_type = "");
  store::StoredAppointment add_appointment(const Appointment& item);
  void edit_appointment(store::AppointmentId id, const std::function<void(Appointment&)>& edit);
  void delete_appointment(store::AppointmentId id);
  /// The host appointments `user` sees (owner or participant).
  std::vector<store::StoredAppointment> host_items(const std::string& user);

  // --- Exchange ("Outlook") through exsim's admin endpoint --------------------------------
  nlohmann::json admin(const std::string& method, const std::string& path,
                       const nlohmann::json& body = nullptr);
  /// Calendar items of `mailbox` (deleted-items folder excluded).
  std::vector<nlohmann::json> exchange_items(const std::string& mailbox);
  /// Creates an item as Outlook would; returns exsim's numeric id.
  long outlook_create(const std::string& mailbox, const std::string& subject, Instant start,
                      int minutes = 60);
  void outlook_update(const std::string& mailbox, long id, const nlohmann::json& fields);
  void outlook_delete(const std::string& mailbox, long id);
  /// Sends raw EWS SOAP as the service account impersonating `mailbox`; returns the body.
  std::string ews_call(const std::string& mailbox, const std::string& soap_body);
  /// A private (Sensitivity=Private) item made in Outlook, through EWS CreateItem.
  void outlook_create_private(const std::string& mailbox, const std::string& subject,
                              Instant start);
  void set_faults(const nlohmann::json& faults);
  /// Messages Exchange would have sent (R39: must stay empty).
  std::size_t outbox_size();

  // --- syncing ----------------------------------------------------------------------------
  /// The app layer on this world's configuration (a fresh one each call, like a CLI run).
  std::unique_ptr<app::SyncApp> app(app::AppOptions options = {});
  /// One in-process sync of `user`; fails the test on an error result.
  app::UserRun sync(const std::string& user, bool dry_run = false, app::AppOptions options = {});
  /// Runs the real binary with `--config <this world's config>` and `args`.
  CommandResult cli(const std::vector<std::string>& args);

 private:
  void write_config(const WorldOptions& options);
  /// Opens the agenda connection unless it is open.
  void open_store(bool create = false);
  /// exsim's JSON config for the Graph side: the app registration and its roles.
  std::filesystem::path write_exsim_graph_config(const WorldOptions& options);

  WorldOptions options_;
  std::filesystem::path dir_;
  std::filesystem::path config_path_;
  std::filesystem::path database_path_;
  std::unique_ptr<exsimtest::ExsimProcess> exsim_;
  std::shared_ptr<net::HttpClient> admin_http_;
  std::unique_ptr<store::AgendaStore> store_;
  std::string org_ = "default";
};

/// The whole file; "" when it cannot be read.
std::string read_text(const std::filesystem::path& path);

/// Runs `argv` (argv[0] is the binary) to its end, stdout and stderr into the two files.
CommandResult run_command(const std::vector<std::string>& argv, const std::filesystem::path& out,
                          const std::filesystem::path& err);
/// Starts `argv` without waiting, stdout and stderr into the two files; the child's pid.
pid_t spawn_command(const std::vector<std::string>& argv, const std::filesystem::path& out,
                    const std::filesystem::path& err);

/// 2027-01-11 09:00 UTC plus `days` and `hours`: a future Monday inside the sync horizon.
Instant future(int days = 0, int hours = 0);

/// Items grouped by subject: any subject appearing more than once is a duplicate.
std::vector<std::string> duplicate_subjects(const std::vector<nlohmann::json>& items);

/// The path of the `agendasync` binary under test.
std::string agendasync_binary();

}  // namespace agendasync::e2e
