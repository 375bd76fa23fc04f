// Scenario 1: the first sync of 10,000 host appointments (realistic_mix.h) into one mailbox
// over EWS, through the real app (SyncApp: SQLite agenda and sync state, the engine, the EWS
// connector over libcurl) against the exsim scripts/bench.sh started. Prints one JSON object:
// wall seconds, HTTP requests, client CPU seconds, peak RSS. With --items-out FILE it also
// writes the items for the exchangelib peer.
//   bench_first_sync --ews-url URL --ca FILE [--mailbox bench@example.com] [--items 10000]
//                    [--items-out items.json]
#include <chrono>
#include <fstream>
#include <iostream>

#include "bench/e2e/bench_env.h"
#include "bench/e2e/realistic_mix.h"

using namespace agendasync;
using namespace agendasync::bench;

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
  const auto items = realistic_mix(count, owner, today);
  for (const auto& item : items) must(agenda.store().create_appointment(item), "add an item");
  if (!items_out.empty()) std::ofstream(items_out) << to_peer_json(items, "example.com").dump();

  const auto client = agenda.make_client();
  auto app = agenda.open_app(client);
  const ProcessUsage before = process_usage();
  const auto started = std::chrono::steady_clock::now();
  const app::UserRun run = must(app->sync_user(owner), "sync");
  const double wall = seconds_since(started);
  const ProcessUsage after = process_usage();

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
      {"peak_rss_mb", after.peak_rss_kb / 1024.0},
      {"retries", client->stats().retries}};
  if (!synced) {
    result["error"] = run.error                                   ? run.error->message
                      : run.report && !run.report->errors.empty() ? run.report->errors.front()
                                                                  : app::to_string(run.outcome);
  }
  std::cout << result.dump() << "\n";
  return synced ? 0 : 1;
}
