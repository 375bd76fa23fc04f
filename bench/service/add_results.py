#!/usr/bin/python3
"""Puts the daemon's benchmark outputs into a results file written by scripts/bench.sh: the
rows of the scenarios service_change_latency (bench_service_latency) and service_api_load
(bench_service_load) are replaced, every other row and raw output is kept, so the file can be
shared with the other scenarios (re-read just before writing).

  add_results.py --out FILE [--latency latency.json] [--load load.json] [--command "..."]
"""
import argparse
import json
import os


def row(scenario, metric, value, unit, target=None, met=None, note=None):
    out = {"scenario": scenario, "metric": metric, "value": value, "unit": unit,
           "peer_value": None, "target": target, "met": met}
    if note:
        out["note"] = note
    return out


def last_json(path):
    """The benchmark's JSON object (the programs print one, possibly after log lines)."""
    with open(path) as f:
        text = f.read()
    return json.loads(text[text.index("{\n"):] if "{\n" in text else text)


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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--latency")
    p.add_argument("--load")
    p.add_argument("--command", default="")
    args = p.parse_args()
    rows, raw = [], {}
    if args.latency:
        raw["service_latency"] = last_json(args.latency)
        rows += latency_rows(raw["service_latency"])
    if args.load:
        raw["service_load"] = last_json(args.load)
        rows += load_rows(raw["service_load"])
    produced = {r["scenario"] for r in rows}
    data = {}
    if os.path.exists(args.out):
        with open(args.out) as f:  # re-read now: another run may have written it meanwhile
            data = json.load(f)
    data["results"] = [r for r in data.get("results", []) if r["scenario"] not in produced] + rows
    data.setdefault("raw", {}).update(raw)
    if args.command:
        data["service_command"] = args.command
    with open(args.out, "w") as f:
        json.dump(data, f, indent=1)
    missed = [f"{r['scenario']}/{r['metric']}" for r in rows if r["met"] is False]
    print(f"service: {len(rows)} rows in {args.out}; targets missed: {missed or 'none'}")


if __name__ == "__main__":
    main()
