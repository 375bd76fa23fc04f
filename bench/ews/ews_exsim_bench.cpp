// Creating 10,000 items in one mailbox through the connector, against exsim over HTTPS on
// loopback: wall seconds, SOAP requests used, items per second. One iteration (it fills a
// mailbox); JSON with --benchmark_format=json.
#include <benchmark/benchmark.h>

#include <chrono>

#include "connectors/ews/ews_side.h"
#include "tools/exsim/launcher/exsim_process.h"

namespace {

using namespace std::chrono_literals;
using namespace agendasync;

void BM_Create10kItemsInBatches(benchmark::State& state) {
  const int total = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  exsimtest::ExsimProcess exsim({"--mailbox", "bench@example.com", "--account",
                                 "svc@example.com:s3cret:impersonation", "--auth", "basic"});
  net::ClientOptions client_options;
  client_options.tls.ca_bundle_path = exsim.ca_path();
  const auto http = net::make_curl_client(client_options);
  ews::EwsSideOptions options;
  options.endpoint = exsim.ews_url();
  options.context.mailbox = "bench@example.com";
  options.credentials.method = net::AuthMethod::kBasic;
  options.credentials.user = "svc@example.com";
  options.credentials.password = Secret("s3cret");
  options.batch_size = batch;
  for (auto _ : state) {
    ews::EwsCalendarSide side(*http, options);
    int failed = 0;
    for (int begin = 0; begin < total; begin += batch) {
      std::vector<Write> writes;
      for (int i = begin; i < std::min(total, begin + batch); ++i) {
        Write w;
        w.op = WriteOp::kCreate;
        w.key = IdempotencyKey("bench-" + std::to_string(i));
        w.item.subject = "Bench item " + std::to_string(i);
        w.item.time_zone = "Europe/Berlin";
        w.item.start =
            std::chrono::sys_days{std::chrono::year{2030} / 1 / 1} + std::chrono::hours{i};
        w.item.end = w.item.start + 30min;
        writes.push_back(std::move(w));
      }
      for (const auto& result : side.apply(writes)) failed += result.outcome ? 0 : 1;
    }
    if (failed != 0) state.SkipWithError("some creates failed");
    state.counters["requests"] = side.requests_sent();
  }
  state.counters["items"] = total;
  state.SetItemsProcessed(state.iterations() * total);
}
BENCHMARK(BM_Create10kItemsInBatches)
    ->Args({10'000, 100})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
