#pragma once
/// What the end-to-end benchmarks share: the exsim they are pointed at (scripts/bench.sh
/// starts it), a throw-away folder with an agenda database and a configuration file for it,
/// the process's CPU time and memory, and the one-line JSON they print.
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/app.h"
#include "net/http.h"
#include "store/agenda_store.h"

namespace agendasync::bench {

/// The exsim under test: `--ews-url URL --ca FILE [--user U --password P]` on the command
/// line; the service account has the ApplicationImpersonation role.
struct ExsimEndpoint {
  std::string ews_url;
  std::string ca_path;
  std::string user = "svc@example.com";
  std::string password = "s3cret";
};

/// The value of `--name` in argv, or `fallback`.
std::string argument(int argc, char** argv, const std::string& name,
                     const std::string& fallback = "");

/// Reads --ews-url and --ca (required; exits with a usage message without them).
ExsimEndpoint endpoint_from(int argc, char** argv);

/// A fresh folder with a new SQLite agenda and an `agendasync.toml` that points the app at
/// `endpoint` (Basic auth, the mail domain example.com). Removed when destroyed.
class BenchAgenda {
 public:
  explicit BenchAgenda(const ExsimEndpoint& endpoint);
  ~BenchAgenda();
  BenchAgenda(const BenchAgenda&) = delete;
  BenchAgenda& operator=(const BenchAgenda&) = delete;

  store::AgendaStore& store() { return *store_; }
  /// The app on this agenda with `http` as its client (so its request counters can be read).
  std::unique_ptr<app::SyncApp> open_app(std::shared_ptr<net::HttpClient> http);
  /// A libcurl client that trusts exsim's CA.
  std::shared_ptr<net::HttpClient> make_client() const;

 private:
  ExsimEndpoint endpoint_;
  std::filesystem::path dir_;
  std::filesystem::path config_path_;
  std::unique_ptr<store::AgendaStore> store_;
};

/// CPU time (user + system, every thread) and memory of this process.
struct ProcessUsage {
  double cpu_seconds = 0;
  double user_seconds = 0;    ///< of cpu_seconds, in the process itself
  double system_seconds = 0;  ///< of cpu_seconds, in the kernel on its behalf (syscalls)
  long peak_rss_kb = 0;       ///< getrusage's ru_maxrss
  long current_rss_kb = 0;    ///< /proc/self/statm resident pages
};
ProcessUsage process_usage();

/// Seconds on the steady clock since `started`.
double seconds_since(std::chrono::steady_clock::time_point started);

/// Exits with a message on stderr when `result` holds an error (set-up must not fail).
template <typename T>
T must(Result<T> result, const char* what) {
  if (!result) {
    fprintf(stderr, "%s: %s\n", what, result.error().message.c_str());
    std::exit(1);
  }
  return std::move(*result);
}

/// The same for a step that returns no value.
inline void must(const Result<void>& result, const char* what) {
  if (!result) {
    fprintf(stderr, "%s: %s\n", what, result.error().message.c_str());
    std::exit(1);
  }
}

}  // namespace agendasync::bench
