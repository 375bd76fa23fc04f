#include "bench/multinode/dedicated_postgres.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "bench/multinode/process_cpu.h"
#include "store/pg_connection.h"
#include "tests/e2e/world.h"

namespace agendasync::bench {

namespace {

constexpr const char* kSettings =
    "listen_addresses=127.0.0.1 shared_preload_libraries=pg_stat_statements "
    "pg_stat_statements.track=top pg_stat_statements.track_utility=on "
    "pg_stat_statements.max=10000 max_connections=1000";

/// The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin).
std::filesystem::path server_bin() {
  std::filesystem::path best;
  int best_major = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const int major = std::atoi(entry.path().filename().c_str());
    if (major > best_major && std::filesystem::exists(entry.path() / "bin" / "initdb")) {
      best_major = major;
      best = entry.path() / "bin";
    }
  }
  return best;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

/// Runs `argv` (as `postgres` when we are root), its output appended to `log`; the exit code.
int run(std::vector<std::string> argv, const std::filesystem::path& log) {
  if (::geteuid() == 0) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    std::vector<char*> raw;
    for (auto& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::int64_t StatementCounts::total_calls() const {
  std::int64_t total = 0;
  for (const auto& [statement, n] : calls) total += n;
  return total;
}

namespace {
std::int64_t sum_starting(const std::map<std::string, std::int64_t>& counts,
                          const std::string& prefix) {
  std::int64_t n = 0;
  for (const auto& [statement, count] : counts) {
    if (statement.rfind(prefix, 0) == 0) n += count;
  }
  return n;
}
}  // namespace

std::int64_t StatementCounts::calls_starting(const std::string& prefix) const {
  return sum_starting(calls, prefix);
}

std::int64_t StatementCounts::rows_starting(const std::string& prefix) const {
  return sum_starting(rows, prefix);
}

StatementCounts StatementCounts::minus(const StatementCounts& earlier) const {
  StatementCounts out;
  for (const auto& [statement, n] : calls) {
    const auto before = earlier.calls.find(statement);
    const std::int64_t delta = n - (before == earlier.calls.end() ? 0 : before->second);
    if (delta != 0) out.calls[statement] = delta;
  }
  for (const auto& [statement, n] : rows) {
    const auto before = earlier.rows.find(statement);
    const std::int64_t delta = n - (before == earlier.rows.end() ? 0 : before->second);
    if (delta != 0) out.rows[statement] = delta;
  }
  out.transactions = transactions - earlier.transactions;
  out.cpu_seconds = cpu_seconds - earlier.cpu_seconds;
  return out;
}

Result<std::unique_ptr<DedicatedPostgres>> DedicatedPostgres::start(
    const std::filesystem::path& dir) {
  const auto bin = server_bin();
  if (bin.empty()) {
    return fail(ErrorKind::kNotFound,
                "no PostgreSQL server under /usr/lib/postgresql: install postgresql "
                "(scripts/install-deps.sh does)");
  }
  std::filesystem::create_directories(dir / "data");
  // The server's user must reach its folders (a temporary parent is 0700 otherwise).
  for (auto path = dir; !path.empty() && path != path.root_path(); path = path.parent_path()) {
    if (path == std::filesystem::temp_directory_path()) break;
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                  std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                  std::filesystem::perms::others_exec);
  }
  if (::geteuid() == 0) {
    const passwd* postgres = ::getpwnam("postgres");
    if (!postgres) return fail(ErrorKind::kNotFound, "no `postgres` user to run the server as");
    for (const auto& path : {dir, dir / "data"}) {
      if (::chown(path.c_str(), postgres->pw_uid, postgres->pw_gid) != 0) {
        return fail(ErrorKind::kPermanent, "cannot hand " + path.string() + " to postgres");
      }
    }
  }
  const auto log = dir / "server.log";
  if (run({(bin / "initdb").string(), "-D", (dir / "data").string(), "-A", "trust", "-U",
           "postgres"},
          log) != 0) {
    return fail(ErrorKind::kTransient, "initdb failed: " + e2e::read_text(log));
  }
  const int port = free_port();
  std::string options = fmt::format("-p {} -k {}", port, (dir / "data").string());
  std::istringstream settings(kSettings);
  for (std::string setting; settings >> setting;) options += " -c " + setting;
  // The server writes its own log as `postgres`; ours (the commands' output) is root's.
  const auto server_log = dir / "postgres.log";
  if (run({(bin / "pg_ctl").string(), "-D", (dir / "data").string(), "-o", options, "-l",
           server_log.string(), "-w", "-t", "120", "start"},
          log) != 0) {
    return fail(ErrorKind::kTransient, "the benchmark's PostgreSQL did not start: " +
                                           e2e::read_text(log) + e2e::read_text(server_log));
  }
  std::unique_ptr<DedicatedPostgres> server(new DedicatedPostgres(dir, bin, port));
  if (auto made = server->admin("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); !made) {
    return std::unexpected(made.error());
  }
  return server;
}

DedicatedPostgres::~DedicatedPostgres() {
  (void)run(
      {(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"},
      dir_ / "server.log");
}

std::string DedicatedPostgres::conninfo(const std::string& name) const {
  return fmt::format("host=127.0.0.1 port={} user=postgres dbname={}", port_, name);
}

const char* DedicatedPostgres::settings() { return kSettings; }

Result<void> DedicatedPostgres::admin(const std::string& sql) const {
  auto db = store::pg::Connection::open({conninfo("postgres"), ""});
  if (!db) return std::unexpected(db.error());
  return (*db)->exec(sql);
}

pid_t DedicatedPostgres::postmaster() const {
  std::ifstream in(dir_ / "data" / "postmaster.pid");
  pid_t pid = 0;
  in >> pid;
  return pid;
}

Result<StatementCounts> DedicatedPostgres::counts(const std::string& name) const {
  auto db = store::pg::Connection::open({conninfo("postgres"), ""});
  if (!db) return std::unexpected(db.error());
  StatementCounts out;
  auto rows = (*db)->query(
      "SELECT query, sum(calls)::bigint, sum(rows)::bigint FROM pg_stat_statements WHERE dbid = "
      "(SELECT oid FROM pg_database WHERE datname = $1) GROUP BY query",
      {name});
  if (!rows) return std::unexpected(rows.error());
  for (int row = 0; row < rows->size(); ++row) {
    out.calls[rows->text_at(row, 0)] += rows->int_at(row, 1);
    out.rows[rows->text_at(row, 0)] += rows->int_at(row, 2);
  }
  auto xacts = (*db)->query_int(
      "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = $1",
      {name});
  if (!xacts) return std::unexpected(xacts.error());
  out.transactions = xacts->value_or(0);
  // The server's processes: the postmaster, its children now, and the children it reaped.
  const pid_t root = postmaster();
  long long ticks = 0;
  if (auto own = proc_stat(root)) ticks += own->own_ticks + own->children_ticks;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    auto child = proc_stat(static_cast<pid_t>(std::stol(pid)));
    if (child && child->ppid == root) ticks += child->own_ticks;
  }
  out.cpu_seconds = ticks_to_seconds(ticks);
  return out;
}

}  // namespace agendasync::bench
