#include "bench/e2e/bench_env.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "config/config.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::bench {

std::string argument(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (name == argv[i]) return argv[i + 1];
  return fallback;
}

ExsimEndpoint endpoint_from(int argc, char** argv) {
  ExsimEndpoint endpoint;
  endpoint.ews_url = argument(argc, argv, "--ews-url");
  endpoint.ca_path = argument(argc, argv, "--ca");
  endpoint.user = argument(argc, argv, "--user", endpoint.user);
  endpoint.password = argument(argc, argv, "--password", endpoint.password);
  if (endpoint.ews_url.empty() || endpoint.ca_path.empty()) {
    fprintf(stderr,
            "usage: %s --ews-url https://127.0.0.1:PORT/EWS/Exchange.asmx --ca exsim-ca.pem "
            "[options]\n(scripts/bench.sh starts exsim and passes these)\n",
            argv[0]);
    std::exit(2);
  }
  return endpoint;
}

BenchAgenda::BenchAgenda(const ExsimEndpoint& endpoint) : endpoint_(endpoint) {
  dir_ =
      std::filesystem::temp_directory_path() / ("agendasync-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  config_path_ = dir_ / "agendasync.toml";
  std::ofstream(dir_ / "exchange-password") << endpoint.password << "\n";
  std::ofstream(config_path_) << "database = \"" << (dir_ / "agenda.db").string() << "\"\n"
                              << "[exchange]\nbackend = \"ews\"\nversion = \"2016\"\n"
                              << "url = \"" << endpoint.ews_url << "\"\n"
                              << "auth = \"basic\"\nuser = \"" << endpoint.user << "\"\n"
                              << "password_file = \"" << (dir_ / "exchange-password").string()
                              << "\"\nmail_domain = \"example.com\"\n"
                              << "[tls]\nca_bundle = \"" << endpoint.ca_path << "\"\n";
  store_ = must(store::open_sqlite_agenda_store(
                    dir_ / "agenda.db",
                    store::SqliteOptions{.create = true, .busy_timeout = std::chrono::seconds{10}}),
                "open the benchmark agenda");
}

BenchAgenda::~BenchAgenda() {
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::unique_ptr<app::SyncApp> BenchAgenda::open_app(std::shared_ptr<net::HttpClient> http) {
  app::AppOptions options;
  options.config = must(config::load_config(config_path_), "read the benchmark configuration");
  options.http = std::move(http);
  return must(app::SyncApp::open(*store_, std::move(options)), "open the app");
}

std::shared_ptr<net::HttpClient> BenchAgenda::make_client() const {
  net::ClientOptions options;
  options.tls.ca_bundle_path = endpoint_.ca_path;
  return net::make_curl_client(std::move(options));
}

ProcessUsage process_usage() {
  ProcessUsage usage;
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  usage.cpu_seconds = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                      static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
  usage.user_seconds =
      static_cast<double>(self.ru_utime.tv_sec) + static_cast<double>(self.ru_utime.tv_usec) / 1e6;
  usage.system_seconds =
      static_cast<double>(self.ru_stime.tv_sec) + static_cast<double>(self.ru_stime.tv_usec) / 1e6;
  usage.peak_rss_kb = self.ru_maxrss;
  long pages = 0, resident = 0;
  if (std::ifstream statm("/proc/self/statm"); statm >> pages >> resident)
    usage.current_rss_kb = resident * (::sysconf(_SC_PAGESIZE) / 1024);
  return usage;
}

double seconds_since(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace agendasync::bench
