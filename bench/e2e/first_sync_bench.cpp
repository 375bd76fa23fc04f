// Scenario 1: the first sync of 10,000 host appointments (realistic_mix.h) into one mailbox
// over EWS, through the real app (SyncApp: SQLite agenda and sync state, the engine, the EWS
// connector over libcurl) against the exsim scripts/bench.sh started. Prints one JSON object:
// wall seconds, HTTP requests, client CPU seconds (and per item), peak RSS of the sync. With
// --items-out FILE it also writes the items for the exchangelib peer.
//   bench_first_sync --ews-url URL --ca FILE [--mailbox bench@example.com] [--items 10000]
//                    [--items-out items.json]
//
// Peak RSS is the sync's, not the set-up's: the agenda is filled in chunks of 1,000, the heap
// is trimmed, and the kernel's high-water mark is reset (/proc/self/clear_refs, "5") just
// before the sync; `peak_rss_mb` is VmHWM after it (the process's resident baseline included,
// so runs of different sizes compare directly). `process_peak_rss_mb` is getrusage's figure
// for the whole process, set-up included.
#include <malloc.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include "bench/e2e/bench_env.h"
#include "bench/e2e/realistic_mix.h"

using namespace agendasync;
using namespace agendasync::bench;

namespace {

/// A field of /proc/self/status in kB ("VmHWM", "VmRSS"); 0 when absent.
long status_kb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return 0;
}

/// Starts a new peak-RSS measurement: returns false when the kernel refuses the reset.
bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

}  // namespace

int main(int argc, char** argv) {
  const ExsimEndpoint endpoint = endpoint_from(argc, argv);
  const std::string mailbox = argument(argc, argv, "--mailbox", "bench@example.com");
  const int count = std::stoi(argument(argc, argv, "--items", "10000"));
  const std::string items_out = argument(argc, argv, "--items-out");
  const std::string owner = mailbox.substr(0, mailbox.find('@'));

  BenchAgenda agenda(endpoint);
  for (const std::string& name : {owner, kColleagues[0], kColleagues[1]}) {
    User user;
    user.user_name = name;
    user.display_name = name;
    user.sync_enabled = name == owner;
    must(agenda.store().add_user(user), "add a user");
  }
  const auto today = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  constexpr int kChunk = 1000;
  for (int first = 0; first < count; first += kChunk) {
    const auto items = realistic_mix(std::min(kChunk, count - first), owner, today, first);
    for (const auto& item : items) must(agenda.store().create_appointment(item), "add an item");
  }
  if (!items_out.empty()) {
    std::ofstream(items_out)
        << to_peer_json(realistic_mix(count, owner, today), "example.com").dump();
  }

  const auto client = agenda.make_client();
  auto app = agenda.open_app(client);
  ::malloc_trim(0);
  const bool peak_reset = reset_peak_rss();
  const long rss_before_kb = status_kb("VmRSS");
  const ProcessUsage before = process_usage();
  const auto started = std::chrono::steady_clock::now();
  const app::UserRun run = must(app->sync_user(owner), "sync");
  const double wall = seconds_since(started);
  const ProcessUsage after = process_usage();
  const long sync_peak_kb = peak_reset ? status_kb("VmHWM") : after.peak_rss_kb;

  const bool synced =
      run.outcome == app::UserRun::Outcome::kSynced && run.report && run.report->errors.empty();
  const std::size_t created =
      run.report ? run.report->summary.sides[sync::Side::kRemote].created : 0;
  const auto requests = client->stats().requests;
  nlohmann::json result = {
      {"scenario", "first_sync"},
      {"items", count},
      {"synced", synced},
      {"created_in_exchange", created},
      {"wall_seconds", wall},
      {"requests", requests},
      {"items_per_request", requests ? static_cast<double>(count) / requests : 0.0},
      {"client_cpu_seconds", after.cpu_seconds - before.cpu_seconds},
      {"client_cpu_us_per_item", (after.cpu_seconds - before.cpu_seconds) * 1e6 / count},
      {"client_system_us_per_item", (after.system_seconds - before.system_seconds) * 1e6 / count},
      {"peak_rss_mb", sync_peak_kb / 1024.0},
      {"peak_rss_is_the_syncs", peak_reset},
      {"rss_before_sync_mb", rss_before_kb / 1024.0},
      {"process_peak_rss_mb", after.peak_rss_kb / 1024.0},
      {"retries", client->stats().retries}};
  if (!synced) {
    result["error"] = run.error                                   ? run.error->message
                      : run.report && !run.report->errors.empty() ? run.report->errors.front()
                                                                  : app::to_string(run.outcome);
  }
  std::cout << result.dump() << "\n";
  return synced ? 0 : 1;
}
