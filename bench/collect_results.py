#!/usr/bin/python3
"""Merges the outputs of one scripts/bench.sh run into ONE results file: per scenario and
metric the value, its unit, the peer's value where a peer runs, the target and whether it was
met, plus the machine (cpu model, cores, RAM, kernel, compiler, build type, git commit, load).

  collect_results.py --raw DIR --build DIR --source DIR --command "..." --out FILE
DIR holds first_sync.json, peer.json, idle.json, incremental.json, ews_parse.json,
graph_parse.json, exsim_throughput.json, service_latency.json, service_load.json and
graph_realtime.json and multinode.json (whichever ran). An existing FILE is updated: the
scenarios this run produced replace their rows, every other row (parts not run this time,
other layers' entries) is kept, and `commands` lists the runs the file's rows come from."""
import argparse
import json
import os
import platform
import re
import subprocess


def load(raw, name):
    path = os.path.join(raw, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read().strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # Log lines before a pretty-printed object (the daemon's benchmarks), or one JSON
        # object per line: take the object that ends the output.
        if "{\n" in text:
            return json.loads(text[text.index("{\n"):])
        return json.loads(text.splitlines()[-1])


def machine(build, source):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
    cache = {}
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"(CMAKE_CXX_COMPILER|CMAKE_BUILD_TYPE):\w+=(.*)", line.strip())
            if m:
                cache[m.group(1)] = m.group(2)
    compiler = cache.get("CMAKE_CXX_COMPILER", "c++")
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout
    git = lambda *a: subprocess.run(["git", "-C", source, *a], capture_output=True,
                                    text=True).stdout.strip()
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "compiler": version.splitlines()[0] if version else compiler,
        "build_type": cache.get("CMAKE_BUILD_TYPE", ""),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "load_average_at_end": list(os.getloadavg()),
    }


def row(scenario, metric, value, unit, target=None, met=None, peer=None, note=None):
    out = {"scenario": scenario, "metric": metric, "value": value, "unit": unit,
           "peer_value": peer, "target": target, "met": met}
    if note:
        out["note"] = note
    return out


def first_sync_rows(s1, peer):
    rows = [
        row("1_first_sync_10k", "wall_time", round(s1["wall_seconds"], 2), "s", "< 15 s",
            s1["wall_seconds"] < 15 and s1["synced"]),
        row("1_first_sync_10k", "requests", s1["requests"], "requests",
            f"<= {s1['items'] // 50} (1 per 50 items)", s1["requests"] <= s1["items"] / 50),
        row("1_first_sync_10k", "items_per_request", round(s1["items_per_request"], 1),
            "items/request"),
        row("1_first_sync_10k", "client_cpu", round(s1["client_cpu_seconds"], 2), "s"),
        row("1_first_sync_10k", "peak_rss", round(s1["peak_rss_mb"], 1), "MB"),
        row("1_first_sync_10k", "synced_without_errors", s1["synced"], "bool", "true",
            s1["synced"]),
    ]
    if peer:
        ratio = s1["wall_seconds"] / peer["wall_seconds"]
        rows += [
            row("2_peer_exchangelib", "wall_time", round(s1["wall_seconds"], 2), "s",
                peer=round(peer["wall_seconds"], 2),
                note=f"exchangelib {peer.get('exchangelib_version')}: create + exceptions "
                     f"{peer['create_seconds']:.1f} s, full read-back {peer['read_seconds']:.1f} s"),
            row("2_peer_exchangelib", "our_time_over_peer_time", round(ratio, 3), "ratio",
                "<= 0.2 (5x faster)", ratio <= 0.2),
        ]
    return rows


def idle_rows(s3):
    n = s3["mailboxes"]
    ok = s3["idle_cycle_failed"] == 0
    return [
        row(f"3_idle_{n}_mailboxes", "requests_per_mailbox_cycle",
            round(s3["requests_per_mailbox_cycle"], 3), "requests", "<= 1",
            ok and s3["requests_per_mailbox_cycle"] <= 1),
        row(f"3_idle_{n}_mailboxes", "client_cpu_per_mailbox_cycle",
            round(s3["client_cpu_us_per_mailbox_cycle"], 1), "us", "< 200",
            ok and s3["client_cpu_us_per_mailbox_cycle"] < 200),
        row(f"3_idle_{n}_mailboxes", "rss_per_mailbox", round(s3["rss_kb_per_mailbox"], 2),
            "KB", "< 8", s3["rss_kb_per_mailbox"] < 8),
        row(f"3_idle_{n}_mailboxes", "idle_cycle_wall_time",
            round(s3["idle_cycle_wall_seconds"], 2), "s"),
        row(f"3_idle_{n}_mailboxes", "failed_pairs", s3["idle_cycle_failed"], "pairs", "0", ok),
    ]


def scale_rows(raw_dir):
    """Issue 14: first syncs of several sizes (peak RSS flat: the largest within 20 MB of the
    smallest; client CPU <= 100 us per item) and the idle cycle (<= 100 us, <= 8 KB per
    mailbox). Scenario names carry no number, so they sit beside scenarios 1 and 3."""
    rows, runs = [], {}
    for name in os.listdir(raw_dir):
        m = re.match(r"scale_first_sync_(\d+)\.json$", name)
        if m:
            runs[int(m.group(1))] = load(raw_dir, name)
    for size, s in sorted(runs.items()):
        ok = s["synced"]
        rows += [
            row("scale_first_sync", f"peak_rss_{size}_items", round(s["peak_rss_mb"], 1), "MB",
                note="VmHWM reset before the sync (the set-up's memory is not counted)"
                if s.get("peak_rss_is_the_syncs") else "whole process"),
            row("scale_first_sync", f"client_cpu_per_item_{size}_items",
                round(s["client_cpu_us_per_item"], 1), "us", "<= 100",
                ok and s["client_cpu_us_per_item"] <= 100),
            row("scale_first_sync", f"wall_time_{size}_items", round(s["wall_seconds"], 2), "s"),
            row("scale_first_sync", f"requests_{size}_items", s["requests"], "requests"),
            row("scale_first_sync", f"synced_{size}_items", ok, "bool", "true", ok),
        ]
    if len(runs) >= 2:
        small, large = runs[min(runs)], runs[max(runs)]
        growth = large["peak_rss_mb"] - small["peak_rss_mb"]
        rows.append(row("scale_first_sync", "peak_rss_growth_largest_over_smallest",
                        round(growth, 1), "MB", "<= 20", growth <= 20,
                        note=f"{max(runs)} items over {min(runs)} items"))
    if (idle := load(raw_dir, "scale_idle.json")):
        n = idle["mailboxes"]
        ok = idle["idle_cycle_failed"] == 0
        rows += [
            row("scale_idle", f"client_cpu_per_mailbox_cycle_{n}",
                round(idle["client_cpu_us_per_mailbox_cycle"], 1), "us", "<= 100",
                ok and idle["client_cpu_us_per_mailbox_cycle"] <= 100),
            row("scale_idle", f"rss_per_mailbox_{n}", round(idle["rss_kb_per_mailbox"], 2), "KB",
                "<= 8", ok and idle["rss_kb_per_mailbox"] <= 8),
            row("scale_idle", f"requests_per_mailbox_cycle_{n}",
                round(idle["requests_per_mailbox_cycle"], 3), "requests", "<= 1",
                ok and idle["requests_per_mailbox_cycle"] <= 1),
        ]
    return rows


def incremental_rows(s4):
    runs = {int(b["linked"]): b for b in s4["benchmarks"] if "linked" in b}
    rows = []
    for size, b in sorted(runs.items()):
        ms = b["real_time"] / {"ns": 1e6, "us": 1e3, "ms": 1, "s": 1e-3}[b["time_unit"]]
        rows.append(row("4_incremental_10_changes", f"cycle_time_{size}_items", round(ms, 3),
                        "ms"))
        rows.append(row("4_incremental_10_changes", f"items_fetched_{size}_items",
                        b["items_fetched"], "items",
                        note="in-memory sides: fetches + writes stand for requests"))
        rows.append(row("4_incremental_10_changes", f"writes_{size}_items", b["writes"], "writes"))
    if len(runs) >= 2:
        small, large = runs[min(runs)], runs[max(runs)]
        same_work = all(small[k] == large[k] for k in ("items_fetched", "writes", "status_lookups"))
        growth = large["real_time"] / small["real_time"]
        rows.append(row("4_incremental_10_changes", "time_growth_largest_over_smallest",
                        round(growth, 2), "ratio",
                        "flat: same fetches/writes/lookups, time ratio <= 2",
                        same_work and growth <= 2))
    return rows


def latency_rows(s):
    ok = s["failures"] == 0 and s["daemon_exit_code"] == 0
    rows = []
    for key, name in (("host_to_exchange", "host_to_exchange"),
                      ("exchange_to_host_streaming", "exchange_to_host_streaming")):
        d = s[key]
        rows += [
            row("service_change_latency", f"{name}_p50", round(d["p50_ms"], 1), "ms"),
            row("service_change_latency", f"{name}_p99", round(d["p99_ms"], 1), "ms", "< 1000",
                ok and d["samples"] == s["changes_per_direction"] and d["p99_ms"] < 1000,
                note=f"{d['samples']} changes, max {d['max_ms']:.1f} ms"),
        ]
    rows.append(row("service_change_latency", "failures", s["failures"], "changes", "0",
                    s["failures"] == 0))
    return rows


def load_rows(s):
    ok = s["errors"] == 0
    rate = s["target_rate_per_s"]
    lat = s["latency_ms"]
    note = (f"{s['seconds']} s, {s['clients']} clients, {s['syncs_run']} syncs alongside, "
            f"read window {s.get('read_window_days', 0)} days, "
            f"fsync every write: {s.get('fsync_every_write', True)}")
    return [
        row("service_api_load", "achieved_rate", round(s["achieved_rate_per_s"], 1), "requests/s",
            f">= {rate} for {s['seconds']} s", ok and s["achieved_rate_per_s"] >= 0.99 * rate,
            note=note),
        row("service_api_load", "latency_p50", round(lat["all"]["p50"], 1), "ms"),
        row("service_api_load", "latency_p99", round(lat["all"]["p99"], 1), "ms",
            note="from each request's scheduled send time (no coordinated omission)"),
        row("service_api_load", "read_latency_p99", round(lat["reads"]["p99"], 1), "ms"),
        row("service_api_load", "write_latency_p99", round(lat["writes"]["p99"], 1), "ms"),
        row("service_api_load", "errors", s["errors"], "requests", "0", ok),
    ]


def graph_realtime_rows(g):
    rows = []
    for run in g["runs"]:
        n = run["mailboxes"]
        scenario = f"graph_realtime_{n}_mailboxes"
        wake = run["wake"]
        exsim = run.get("exsim") or {}
        ok = run["failures"] == 0 and run["daemon_exit_code"] == 0 and run["all_subscribed"]
        rows += [
            row(scenario, "subscription_creation", round(run["subscribe_seconds"], 1), "s",
                note=f"{int(run['subscribed'])} of {n} subscribed; Graph allows 1,000 writes "
                     f"per 20 s per app; 429s answered: {exsim.get('refused_rate')}"),
            row(scenario, "wake_p50", round(wake["p50_ms"], 1), "ms"),
            row(scenario, "wake_p99", round(wake["p99_ms"], 1), "ms", "< 1000",
                ok and wake["samples"] == g["changes_per_size"] and wake["p99_ms"] < 1000,
                note=f"{wake['samples']} changes through Graph, from exsim's 201 to the host "
                     f"feed; max {wake['max_ms']:.1f} ms"),
            row(scenario, "rss_per_mailbox", round(run["rss_kb_per_mailbox"], 1), "KB",
                note=f"whole daemon RSS {run['rss_kb']} KB / {n}"),
            row(scenario, "threads", run["threads"], "threads", "< 64", run["threads"] < 64),
            row(scenario, "failed_or_slow_deliveries",
                exsim.get("failed", -1) + exsim.get("slow", -1), "notifications", "0",
                exsim.get("failed", -1) == 0 and exsim.get("slow", -1) == 0,
                note=f"Graph's 3 s deadline as exsim applies it; slowest answer "
                     f"{exsim.get('max_elapsed_ms')} ms"),
        ]
    if "rss_kb_per_added_mailbox" in g:
        added = g["rss_kb_per_added_mailbox"]
        rows.append(row("graph_realtime_rss", "rss_per_added_mailbox", round(added, 2), "KB",
                        "<= 8", added <= 8,
                        note="RSS difference between the two sizes / mailboxes added"))
    return rows


def multinode_rows(m):
    """Issue 17: per node count the first sync's throughput and the idle cycle's cost, then
    each count against one node (the scaling ratio is the figure)."""
    rows = []
    for run in m["runs"]:
        scenario = f"multinode_{run['nodes']}_nodes"
        first, idle = run["first_sync"], run["idle"]
        rows += [
            row(scenario, "first_sync_pairs_per_second", round(first["pairs_per_second"], 1),
                "pairs/s", note=f"{int(first['pairs'])} pairs, "
                f"{first['appointments_linked']} appointments; serve CPU "
                f"{first['serve_cpu_ms_per_pair']:.1f} ms/pair, PostgreSQL "
                f"{first['postgres_statements_per_pair']:.1f} statements/pair"),
            row(scenario, "idle_cpu_per_mailbox_cycle",
                round(idle["serve_cpu_us_per_mailbox_cycle"]), "us",
                note=f"all serve processes over {idle['window_seconds']:.0f} s, "
                     f"{int(idle['mailbox_cycles'])} mailbox-cycles, background included "
                     f"({idle['serve_background_cpu_ms_per_second']:.1f} ms/s)"),
            row(scenario, "postgres_statements_per_idle_mailbox_cycle",
                round(idle["postgres_statements_per_mailbox_cycle"], 1), "statements",
                note=f"pg_stat_statements; "
                     f"{idle['postgres_statements_per_mailbox_cycle_without_begin_commit']:.1f}"
                     f" without BEGIN/COMMIT, "
                     f"{idle['postgres_transactions_per_mailbox_cycle']:.1f} transactions"),
            row(scenario, "postgres_cpu_per_idle_mailbox_cycle",
                round(idle["postgres_cpu_us_per_mailbox_cycle"]), "us"),
            row(scenario, "pair_lease_takes_per_second_idle",
                round(idle["leases"]["pair_lease_takes_per_second"], 1), "1/s"),
            row(scenario, "lease_renewals_per_second_idle",
                round(idle["leases"]["pair_lease_renewals_per_second"] +
                      idle["leases"]["organisation_lease_renewals_per_second"], 2), "1/s",
                note=f"pair leases {idle['leases']['pair_lease_renewals_per_second']:.2f}/s, "
                     f"organisation leases "
                     f"{idle['leases']['organisation_lease_renewals_per_second']:.2f}/s"),
        ]
    for s in m.get("scaling", []):
        if s["nodes"] == s["over_nodes"]:
            continue
        scenario = f"multinode_scaling_{s['nodes']}_over_{s['over_nodes']}"
        rows += [
            row(scenario, "first_sync_pairs_per_second_ratio",
                round(s["first_sync_pairs_per_second_ratio"], 2), "x",
                note="all processes share the machine's cores"),
            row(scenario, "idle_cpu_per_mailbox_cycle_ratio",
                round(s["idle_cpu_per_mailbox_cycle_ratio"], 2), "x", note="flat is ideal"),
            row(scenario, "idle_statements_per_mailbox_cycle_ratio",
                round(s["idle_statements_per_mailbox_cycle_ratio"], 2), "x"),
        ]
    return rows


def google_benchmark_rows(scenario, data):
    rows = []
    for b in data.get("benchmarks", []):
        if "bytes_per_second" in b:
            rows.append(row(scenario, f"{b['name']}_throughput",
                            round(b["bytes_per_second"] / 1e6, 1), "MB/s"))
        if "items_per_second" in b:
            rows.append(row(scenario, f"{b['name']}_items", round(b["items_per_second"]),
                            "items/s"))
    return rows


def main():
    p = argparse.ArgumentParser()
    for name in ("--raw", "--build", "--source", "--command", "--out"):
        p.add_argument(name, required=True)
    args = p.parse_args()
    results = []
    s1, peer = load(args.raw, "first_sync.json"), load(args.raw, "peer.json")
    if s1:
        results += first_sync_rows(s1, peer)
    if (s3 := load(args.raw, "idle.json")):
        results += idle_rows(s3)
    if (s4 := load(args.raw, "incremental.json")):
        results += incremental_rows(s4)
    results += scale_rows(args.raw)
    for name, scenario in (("ews_parse.json", "5_parse_ews"), ("graph_parse.json", "5_parse_graph")):
        if (data := load(args.raw, name)):
            results += google_benchmark_rows(scenario, data)
    if (lat := load(args.raw, "service_latency.json")):
        results += latency_rows(lat)
    if (sl := load(args.raw, "service_load.json")):
        results += load_rows(sl)
    if (gr := load(args.raw, "graph_realtime.json")):
        results += graph_realtime_rows(gr)
    if (mn := load(args.raw, "multinode.json")):
        results += multinode_rows(mn)
    if (ex := load(args.raw, "exsim_throughput.json")):
        results.append(row("exsim_throughput", "operations_per_second",
                           round(ex.get("operations_per_second", 0)), "ops/s", ">= 2000",
                           ex.get("operations_per_second", 0) >= 2000,
                           note="the simulator must not be the bottleneck"))
    raw = {name[:-5]: load(args.raw, name) for name in sorted(os.listdir(args.raw))
           if name.endswith(".json")}
    commands = [args.command]  # newest first: the runs whose results the file holds
    if os.path.exists(args.out):
        # A run of some parts (--only) or another layer's benchmarks (the daemon's service
        # entries) share the file: keep every scenario and raw output this run did not produce.
        with open(args.out) as f:
            previous = json.load(f)
        # Numbered scenarios by number: "3_idle_2000_mailboxes" is replaced by "3_idle_10000_...".
        def part(scenario):
            return scenario.split("_")[0] if scenario[:1].isdigit() else scenario
        produced = {part(r["scenario"]) for r in results}
        results += [r for r in previous.get("results", []) if part(r["scenario"]) not in produced]
        for name, value in previous.get("raw", {}).items():
            raw.setdefault(name, value)
        commands += [c for c in previous.get("commands", [previous.get("command")])
                     if c and c not in commands]
    out = {"command": args.command, "commands": commands,
           "machine": machine(args.build, args.source), "results": results, "raw": raw}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    missed = [f"{r['scenario']}/{r['metric']}" for r in results if r["met"] is False]
    print(f"bench: {len(results)} results in {args.out}; targets missed: {missed or 'none'}")


if __name__ == "__main__":
    main()
