#include "tests/e2e/world.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "connectors/ews/ews_side.h"
#include "net/http.h"
#include "store/database_locator.h"
#include "store/pg_connection.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::e2e {
namespace {

std::filesystem::path fresh_dir() {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("agendasync-e2e-{}-{}", ::getpid(), counter++);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string utc(Instant at) { return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", at); }

}  // namespace

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

pid_t spawn_command(const std::vector<std::string>& argv, const std::filesystem::path& out,
                    const std::filesystem::path& err) {
  // The argument vector is built before fork: the child only calls async-signal-safe
  // functions (the test process has threads).
  std::vector<std::string> copy = argv;
  std::vector<char*> raw;
  for (auto& arg : copy) raw.push_back(arg.data());
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), STDOUT_FILENO);
    ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), STDERR_FILENO);
    ::close_range(3, ~0U, 0);  // the test runner's descriptors are not the command's
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  return pid;
}

CommandResult run_command(const std::vector<std::string>& argv, const std::filesystem::path& out,
                          const std::filesystem::path& err) {
  const pid_t pid = spawn_command(argv, out, err);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_text(out);
  result.err = read_text(err);
  return result;
}

Instant future(int days, int hours) {
  using namespace std::chrono;
  return sys_days{year{2027} / 1 / 11} + std::chrono::hours{9 + hours} + std::chrono::days{days};
}

std::vector<std::string> duplicate_subjects(const std::vector<nlohmann::json>& items) {
  std::map<std::string, int> seen;
  for (const auto& item : items) ++seen[item.value("subject", "")];
  std::vector<std::string> duplicates;
  for (const auto& [subject, count] : seen)
    if (count > 1) duplicates.push_back(subject);
  return duplicates;
}

std::string agendasync_binary() { return AGENDASYNC_CLI_BINARY; }

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::kEws:
      return "ews";
    case Backend::kGraph:
      return "graph";
    case Backend::kHybrid:
      return "hybrid";
  }
  return "ews";
}

namespace {
WorldOptions with_backend(Backend backend) {
  WorldOptions options;
  options.backend = backend;
  return options;
}
}  // namespace

World::World(Backend backend) : World(with_backend(backend)) {}

World::World(WorldOptions options) : options_(std::move(options)), dir_(fresh_dir()) {
  std::vector<std::string> args{"--version", options_.exsim_version, "--auth", "basic,ntlm"};
  if (options_.backend != Backend::kEws) {
    args.push_back("--config");
    args.push_back(write_exsim_graph_config(options_).string());
  }
  for (const auto& mailbox : options_.mailboxes) {
    args.push_back("--mailbox");
    args.push_back(mailbox);
  }
  args.push_back("--account");
  args.push_back(options_.impersonation ? "svc@example.com:s3cret:impersonation"
                                        : "svc@example.com:s3cret");
  args.insert(args.end(), options_.exsim_args.begin(), options_.exsim_args.end());
  exsim_ = std::make_unique<exsimtest::ExsimProcess>(args);
  net::ClientOptions client;
  client.tls.ca_bundle_path = exsim_->ca_path();
  admin_http_ = net::make_curl_client(client);

  database_path_ = dir_ / "agenda.db";
  if (!options_.postgres.empty()) {
    // An organisation of this world's own: parallel tests never share a schema.
    static std::atomic<int> worlds{0};
    org_ = "e2e-" + std::to_string(::getpid()) + "-" + std::to_string(worlds++);
  }
  config_path_ = dir_ / "agendasync.toml";
  write_config(options_);
  open_store(/*create=*/true);
  if (auto cleared = admin("POST", "/exsim/admin/outbox/clear"); cleared.is_discarded())
    throw std::runtime_error("exsim admin endpoint does not answer");
}

void World::open_store(bool create) {
  if (store_) return;
  auto store =
      options_.postgres.empty()
          ? store::open_sqlite_agenda_store(database_path_, store::SqliteOptions{.create = create})
          : store::open_agenda_store(options_.postgres, org_, store::OpenOptions{.create = create});
  if (!store) throw std::runtime_error(store.error().message);
  store_ = std::move(*store);
}

World::~World() {
  store_.reset();
  exsim_.reset();
  if (!options_.postgres.empty()) {
    auto schema = store::organisation_schema(org_);
    auto admin = store::pg::Connection::open({options_.postgres, ""});
    if (schema && admin) {
      (void)(*admin)->exec("DROP SCHEMA IF EXISTS " + store::pg::quote_identifier(*schema) +
                           " CASCADE");
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::filesystem::path World::write_exsim_graph_config(const WorldOptions& options) {
  const auto path = dir_ / "exsim-graph.json";
  nlohmann::json config = {{"graph",
                            {{"apps",
                              {{{"tenant", GraphApp::kTenant},
                                {"client_id", GraphApp::kClientId},
                                {"secret", GraphApp::kSecret},
                                {"roles", options.graph_roles}}}}}}};
  if (!options.exsim_graph_limits.empty()) config["graph"]["limits"] = options.exsim_graph_limits;
  std::ofstream(path) << config.dump(2);
  return path;
}

void World::write_config(const WorldOptions& options) {
  std::ofstream config(config_path_);
  config << "database = \""
         << (options.postgres.empty() ? database_path_.string() : options.postgres) << "\"\n";
  const bool graph = options.backend != Backend::kEws;
  const bool ews = options.backend != Backend::kGraph;
  const char* backend = backend_name(options.backend);
  config << "[exchange]\nbackend = \"" << backend << "\"\nmail_domain = \"example.com\"\n";
  if (ews) {
    std::ofstream(dir_ / "exchange-password") << options.password << "\n";
    config << "version = \"2016\"\n"
           << "url = \"" << exsim_->ews_url() << "\"\n"
           << "auth = \"basic\"\nuser = \"svc@example.com\"\n"
           << "password_file = \"" << (dir_ / "exchange-password").string() << "\"\n";
  }
  if (graph) {
    std::ofstream(dir_ / "graph-client-secret") << options.graph_secret << "\n";
    // exsim stands in for both Entra ID (its token endpoint) and Graph (/v1.0).
    config << "[graph]\ntenant_id = \"" << GraphApp::kTenant << "\"\n"
           << "client_id = \"" << GraphApp::kClientId << "\"\n"
           << "client_secret_file = \"" << (dir_ / "graph-client-secret").string() << "\"\n"
           << "graph_url = \"" << exsim_->base_url() << "/v1.0\"\n"
           << "authority_url = \"" << exsim_->base_url() << "\"\n";
  }
  config << "[tls]\nca_bundle = \"" << (options.configure_ca ? exsim_->ca_path() : "") << "\"\n";
}

std::filesystem::path World::state_path() const { return dir_ / "agenda.sync.db"; }

int World::rewrite_cursors(const std::string& update_sql) {
  sqlite3* db = nullptr;
  int changed = -1;
  if (sqlite3_open(state_path().c_str(), &db) == SQLITE_OK &&
      sqlite3_exec(db, update_sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK) {
    changed = sqlite3_changes(db);
  } else {
    ADD_FAILURE() << "rewriting cursors failed: " << sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  return changed;
}

void World::add_user(const std::string& name, bool sync_enabled, bool blocked,
                     const std::string& address) {
  User user;
  user.user_name = name;
  user.display_name = name;
  user.exchange_address = address;
  user.sync_enabled = sync_enabled;
  user.blocked = blocked;
  auto added = store().add_user(user);
  ASSERT_TRUE(added) << added.error().message;
}

void World::update_user(const std::string& name, const std::function<void(User&)>& edit) {
  auto user = store().user(name);
  ASSERT_TRUE(user && *user);
  User changed = **user;
  edit(changed);
  auto updated = store().update_user(changed);
  ASSERT_TRUE(updated) << updated.error().message;
}

store::StoredAppointment World::add_appointment(const std::string& owner,
                                                const std::string& subject, Instant start,
                                                int minutes, std::vector<std::string> participants,
                                                const std::string& activity_type) {
  Appointment item;
  item.subject = subject;
  item.start = start;
  item.end = start + std::chrono::minutes{minutes};
  item.time_zone = "Europe/Amsterdam";
  item.owner = owner;
  item.participants = std::move(participants);
  item.activity_type = activity_type;
  return add_appointment(item);
}

store::StoredAppointment World::add_appointment(const Appointment& item) {
  auto stored = store().create_appointment(item);
  EXPECT_TRUE(stored) << stored.error().message;
  return stored ? *stored : store::StoredAppointment{};
}

void World::edit_appointment(store::AppointmentId id,
                             const std::function<void(Appointment&)>& edit) {
  auto stored = store().appointment(id);
  ASSERT_TRUE(stored && *stored);
  Appointment item = (*stored)->item;
  edit(item);
  auto updated = store().update_appointment(id, item, std::nullopt);
  ASSERT_TRUE(updated) << updated.error().message;
}

void World::delete_appointment(store::AppointmentId id) {
  auto deleted = store().delete_appointment(id, std::nullopt);
  ASSERT_TRUE(deleted) << deleted.error().message;
}

std::vector<store::StoredAppointment> World::host_items(const std::string& user) {
  store::AppointmentQuery query;
  query.user = user;
  auto items = store().appointments(query);
  EXPECT_TRUE(items) << items.error().message;
  return items ? *items : std::vector<store::StoredAppointment>{};
}

nlohmann::json World::admin(const std::string& method, const std::string& path,
                            const nlohmann::json& body) {
  net::Request request;
  request.method = method;
  request.url = exsim_->base_url() + path;
  request.headers = {{"X-Exsim-Admin-Token", exsim_->admin_token()},
                     {"Content-Type", "application/json"}};
  if (!body.is_null()) request.body = body.dump();
  const auto response = admin_http_->send(request, net::Credentials{});
  EXPECT_TRUE(response) << (response ? "" : response.error().message);
  if (!response) return nlohmann::json::value_t::discarded;
  EXPECT_LT(response->status, 300) << path << ": " << response->body;
  return nlohmann::json::parse(response->body, nullptr, false);
}

std::vector<nlohmann::json> World::exchange_items(const std::string& mailbox) {
  std::vector<nlohmann::json> items;
  for (const auto& item : admin("GET", "/exsim/admin/mailboxes/" + mailbox + "/items")) {
    if (item.value("folder", "") == "calendar") items.push_back(item);
  }
  return items;
}

long World::outlook_create(const std::string& mailbox, const std::string& subject, Instant start,
                           int minutes) {
  auto created = admin("POST", "/exsim/admin/mailboxes/" + mailbox + "/items",
                       {{"subject", subject},
                        {"start", utc(start)},
                        {"end", utc(start + std::chrono::minutes{minutes})}});
  return created.value("id", -1L);
}

void World::outlook_update(const std::string& mailbox, long id, const nlohmann::json& fields) {
  admin("POST", fmt::format("/exsim/admin/mailboxes/{}/items/{}/update", mailbox, id), fields);
}

void World::outlook_delete(const std::string& mailbox, long id) {
  admin("POST", fmt::format("/exsim/admin/mailboxes/{}/items/{}/delete", mailbox, id));
}

std::string World::ews_call(const std::string& mailbox, const std::string& soap_body) {
  ews::EwsSideOptions options;
  options.endpoint = exsim_->ews_url();
  options.context = ews::RequestContext{ews::ServerVersion::kExchange2016,
                                        ews::AccessMode::kImpersonation, mailbox};
  options.credentials.method = net::AuthMethod::kBasic;
  options.credentials.user = "svc@example.com";
  options.credentials.password = Secret("s3cret");
  ews::EwsCalendarSide side(*admin_http_, options);
  auto response = side.send_raw(soap_body);
  EXPECT_TRUE(response) << (response ? "" : response.error().message);
  return response ? response->body : std::string();
}

void World::outlook_create_private(const std::string& mailbox, const std::string& subject,
                                   Instant start) {
  const std::string body = fmt::format(
      R"(<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
  xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Header><t:RequestServerVersion Version="Exchange2016"/>
<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header>
<soap:Body><m:CreateItem SendMeetingInvitations="SendToNone">
<m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId>
<m:Items><t:CalendarItem><t:Subject>{}</t:Subject><t:Sensitivity>Private</t:Sensitivity>
<t:Start>{}</t:Start><t:End>{}</t:End></t:CalendarItem></m:Items>
</m:CreateItem></soap:Body></soap:Envelope>)",
      mailbox, subject, utc(start), utc(start + std::chrono::hours{1}));
  const std::string reply = ews_call(mailbox, body);
  EXPECT_NE(reply.find("NoError"), std::string::npos) << reply;
}

void World::set_faults(const nlohmann::json& faults) {
  admin("POST", "/exsim/admin/faults", faults);
}

std::size_t World::outbox_size() { return admin("GET", "/exsim/admin/outbox").size(); }

std::unique_ptr<app::SyncApp> World::app(app::AppOptions options) {
  auto config = config::load_config(config_path_);
  EXPECT_TRUE(config) << config.error().message;
  if (!config) return nullptr;
  options.config = *config;
  options.org = org_;
  auto opened = app::SyncApp::open(store(), std::move(options));
  EXPECT_TRUE(opened) << opened.error().message;
  return opened ? std::move(*opened) : nullptr;
}

app::UserRun World::sync(const std::string& user, bool dry_run, app::AppOptions options) {
  auto sync_app = app(std::move(options));
  if (!sync_app) return {};
  auto run = sync_app->sync_user(user, dry_run);
  EXPECT_TRUE(run) << run.error().message;
  if (!run) return {};
  if (run->error) ADD_FAILURE() << user << ": " << run->error->message;
  if (run->report) {
    for (const auto& error : run->report->errors) ADD_FAILURE() << user << ": " << error;
  }
  return *run;
}

CommandResult World::cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{agendasync_binary()};
  if (!options_.postgres.empty()) argv.insert(argv.end(), {"--org", org_});
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--config");
  argv.push_back(config_path_.string());
  return run_command(argv, dir_ / "cli.out", dir_ / "cli.err");
}

}  // namespace agendasync::e2e
