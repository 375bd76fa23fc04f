// Incremental sync cost is flat: 10 changes in a pair with 1k, 10k and 100k linked items
// (in-memory sides, in-memory state). Besides time, counters show the work done per cycle:
// status lookups, items fetched, writes. They stay the same as the pair grows (cost rule).
// Prints Google Benchmark JSON unless another --benchmark_format is given.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sync/engine.h"
#include "sync/memory_state.h"
#include "sync/testing/memory_side.h"

namespace agendasync::sync {
namespace {

constexpr int kChanges = 10;

struct BenchPair {
  testing::ManualClock clock;
  testing::MemorySide host{"host", clock, false, 1000};
  testing::MemorySide remote{"remote", clock, true, 1000};
  MemorySyncState state;
  MemoryAuditSink audit;
  EngineOptions options;
  std::vector<ItemRef> host_refs;
  int round = 0;

  explicit BenchPair(int linked) {
    clock.now = std::chrono::sys_days{std::chrono::year{2026} / 3 / 1};
    options.policy.pair_id = "BENCH";
    options.policy.host_user = "BENCH";
    options.clock = [this] { return clock.now; };
    options.write_batch = 100;
    for (int i = 0; i < linked; ++i) {
      Appointment item;
      item.subject = fmt::format("item {}", i);
      item.start = clock.now + std::chrono::hours(1 + i % 5000);
      item.end = item.start + std::chrono::hours(1);
      item.activity_type = "Appointment";
      host_refs.push_back(host.user_create(item));
    }
    auto first = SyncEngine(host, remote, state, audit, options).run();
    if (!first || state.link_count().value_or(0) != static_cast<std::size_t>(linked)) {
      throw std::runtime_error("benchmark set-up: the first sync did not link every item");
    }
    // The first incremental cycle reads the first sync's own creates back from the remote
    // feed (echoes: fetched, compared, skipped; O(n) once). Measure the steady state after it.
    if (!SyncEngine(host, remote, state, audit, options).run()) {
      throw std::runtime_error("benchmark set-up: the echo cycle failed");
    }
  }

  void edit_some() {
    ++round;
    for (int i = 0; i < kChanges; ++i) {
      const ItemRef& ref = host_refs[(round * 7919 + i * 104729) % host_refs.size()];
      (void)host.user_edit(ref, [&](Appointment& a) { a.location = fmt::format("r{}", round); });
    }
  }
};

BenchPair& pair_for(int linked) {
  static std::map<int, std::unique_ptr<BenchPair>> pairs;
  auto& pair = pairs[linked];
  if (!pair) pair = std::make_unique<BenchPair>(linked);
  return *pair;
}

void BM_IncrementalSync(benchmark::State& bench) {
  BenchPair& pair = pair_for(static_cast<int>(bench.range(0)));
  std::size_t lookups = 0, fetched = 0, writes = 0, cycles = 0;
  for (auto _ : bench) {
    bench.PauseTiming();
    pair.edit_some();
    const std::size_t lookups_before = pair.state.lookups();
    const auto host_calls = pair.host.calls();
    const auto remote_calls = pair.remote.calls();
    bench.ResumeTiming();
    auto report = SyncEngine(pair.host, pair.remote, pair.state, pair.audit, pair.options).run();
    bench.PauseTiming();
    if (!report || report->summary.sides[Side::kRemote].updated != kChanges) {
      bench.SkipWithError("the incremental sync did not update exactly the changed items");
      break;
    }
    lookups += pair.state.lookups() - lookups_before;
    fetched += pair.host.calls().fetched_items - host_calls.fetched_items +
               pair.remote.calls().fetched_items - remote_calls.fetched_items;
    writes += pair.remote.calls().writes - remote_calls.writes;
    ++cycles;
    bench.ResumeTiming();
  }
  if (cycles == 0) return;
  bench.counters["linked"] = static_cast<double>(bench.range(0));
  bench.counters["changes"] = kChanges;
  bench.counters["status_lookups"] = static_cast<double>(lookups) / cycles;
  bench.counters["items_fetched"] = static_cast<double>(fetched) / cycles;
  bench.counters["writes"] = static_cast<double>(writes) / cycles;
}

BENCHMARK(BM_IncrementalSync)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(30);

}  // namespace
}  // namespace agendasync::sync

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  bool has_format = false;
  for (int i = 1; i < argc; ++i) {
    has_format = has_format || std::string(argv[i]).starts_with("--benchmark_format");
  }
  std::string json = "--benchmark_format=json";
  if (!has_format) args.push_back(json.data());
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
