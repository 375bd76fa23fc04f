#!/usr/bin/env bash
# The benchmark command: builds with -DAGENDASYNC_BENCH=ON, starts exsim (TLS on a free
# 127.0.0.1 port), runs every scenario and writes ONE JSON results file (see bench/README.md).
#   scripts/bench.sh [--out FILE] [--items N] [--mailboxes N] [--build-dir DIR] [--only PARTS]
#                    [--scale-sizes 1000,10000,100000]
# Defaults: --out bench/results/latest.json, 10,000 items, 10,000 mailboxes, build/bench, every
# part. PARTS is a comma list of e2e (scenarios 1 and 3), peer (2, needs e2e), sync (4),
# parse (5), exsim, service (the daemon's change latency and API load), graph (Graph real time
# at 1,000 and --mailboxes mailboxes), and scale (issue 14: first syncs of --scale-sizes items,
# each into its own mailbox, and the idle cycle over --mailboxes; not in the default set: the
# 100,000-item run takes minutes), and multinode (issue 17: --mailboxes over 1, 2 and 3
# `agendasync serve` nodes on a PostgreSQL of its own; not in the default set: about half an
# hour at 10,000); an existing FILE keeps the rows of the parts not run (collect_results.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command_line="scripts/bench.sh $*"

out=bench/results/latest.json items=10000 mailboxes=10000 build=build/bench
scale_sizes=1000,10000,100000
only=e2e,peer,sync,parse,exsim,service,graph
while (($#)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --items) items=$2; shift 2 ;;
    --mailboxes) mailboxes=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --scale-sizes) scale_sizes=$2; shift 2 ;;
    *) echo "usage: scripts/bench.sh [--out FILE] [--items N] [--mailboxes N] [--build-dir DIR]" \
            "[--only e2e,peer,sync,parse,exsim,service,graph,scale,multinode]" \
            "[--scale-sizes N,N,...]" >&2
       exit 2 ;;
  esac
done

runs() { [[ ",$only," == *",$1,"* ]]; }
targets=(exsim)
{ runs e2e || runs scale; } && targets+=(bench_first_sync bench_idle_mailboxes)
runs sync && targets+=(bench_sync_incremental)
runs parse && targets+=(bench_ews bench_graph)
runs exsim && targets+=(exsim_throughput)
runs service && targets+=(bench_service_latency bench_service_load)
runs graph && targets+=(bench_graph_realtime)
runs multinode && targets+=(bench_multinode)

export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAGENDASYNC_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target "${targets[@]}"

work=$(mktemp -d)
raw="$work/raw"
mkdir -p "$raw"
exsim_pid=
cleanup() {
  [[ -n "$exsim_pid" ]] && kill "$exsim_pid" 2>/dev/null && wait "$exsim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if runs e2e; then
# One exsim for scenarios 1-3: our mailbox, the peer's mailbox and the idle mailboxes.
/usr/bin/python3 - "$work" "$mailboxes" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
json.dump({"version": "Exchange2016", "auth": ["basic"],
           "mailboxes": ["bench@example.com", "peer@example.com"] +
                        [f"idle{i}@example.com" for i in range(n)],
           "accounts": [{"user": "svc@example.com", "password": "s3cret", "impersonation": True}],
           "tls": {"enabled": True, "min_version": "1.2", "ca_out": f"{work}/ca.pem"}},
          open(f"{work}/exsim.json", "w"))
PY
coproc EXSIM { exec "$build/tools/exsim/exsim" --config "$work/exsim.json" --port 0; }
exsim_pid=$EXSIM_PID
read -r -t 120 base_url <&"${EXSIM[0]}" || { echo "bench: exsim did not start" >&2; exit 1; }
ews_url="$base_url/EWS/Exchange.asmx"
echo "=== exsim at $base_url"

echo "=== 1: first sync of $items host appointments into one mailbox (our engine)"
"$build/bench/e2e/bench_first_sync" --ews-url "$ews_url" --ca "$work/ca.pem" --items "$items" \
  --mailbox bench@example.com --items-out "$work/items.json" | tee "$raw/first_sync.json"
if runs peer; then
  echo "=== 2: the peer: exchangelib creates and reads back the same items"
  /usr/bin/python3 bench/peer/exchangelib_peer.py --ews-url "$ews_url" --ca "$work/ca.pem" \
    --items "$work/items.json" --mailbox peer@example.com | tee "$raw/peer.json"
fi
echo "=== 3: idle incremental cycle over $mailboxes mailboxes"
"$build/bench/e2e/bench_idle_mailboxes" --ews-url "$ews_url" --ca "$work/ca.pem" \
  --mailboxes "$mailboxes" | tee "$raw/idle.json"
kill "$exsim_pid"; wait "$exsim_pid" 2>/dev/null || true; exsim_pid=
fi

if runs scale; then
# Issue 14: memory bounded by the batch. Each size syncs into a mailbox of its own; then the
# idle cycle over the idle mailboxes (the safety net's cost per mailbox).
IFS=, read -r -a sizes <<<"$scale_sizes"
/usr/bin/python3 - "$work" "$mailboxes" "${sizes[@]}" <<'PY'
import json, sys
work, n, sizes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
json.dump({"version": "Exchange2016", "auth": ["basic"],
           "mailboxes": [f"first{s}@example.com" for s in sizes] +
                        [f"idle{i}@example.com" for i in range(n)],
           "accounts": [{"user": "svc@example.com", "password": "s3cret", "impersonation": True}],
           "tls": {"enabled": True, "min_version": "1.2", "ca_out": f"{work}/scale-ca.pem"}},
          open(f"{work}/exsim-scale.json", "w"))
PY
coproc EXSIM { exec "$build/tools/exsim/exsim" --config "$work/exsim-scale.json" --port 0; }
exsim_pid=$EXSIM_PID
read -r -t 120 base_url <&"${EXSIM[0]}" || { echo "bench: exsim did not start" >&2; exit 1; }
ews_url="$base_url/EWS/Exchange.asmx"
for size in "${sizes[@]}"; do
  echo "=== scale: first sync of $size host appointments into first$size@example.com"
  "$build/bench/e2e/bench_first_sync" --ews-url "$ews_url" --ca "$work/scale-ca.pem" \
    --items "$size" --mailbox "first$size@example.com" | tee "$raw/scale_first_sync_$size.json"
done
echo "=== scale: idle cycle over $mailboxes mailboxes"
"$build/bench/e2e/bench_idle_mailboxes" --ews-url "$ews_url" --ca "$work/scale-ca.pem" \
  --mailboxes "$mailboxes" | tee "$raw/scale_idle.json"
kill "$exsim_pid"; wait "$exsim_pid" 2>/dev/null || true; exsim_pid=
fi

if runs sync; then
  echo "=== 4: 10 changes in pairs of 1k, 10k, 100k items"
  "$build/bench/sync/bench_sync_incremental" --benchmark_format=json >"$raw/incremental.json"
fi
if runs parse; then
  echo "=== 5: EWS and Graph parse throughput"
  "$build/bench/ews/bench_ews" --benchmark_format=json >"$raw/ews_parse.json"
  "$build/bench/graph/bench_graph" --benchmark_format=json >"$raw/graph_parse.json"
fi
if runs exsim; then
  echo "=== exsim throughput (the simulator must not be the bottleneck)"
  "$build/bench/exsim/exsim_throughput" 5 4 | tail -1 >"$raw/exsim_throughput.json"
fi
if runs service; then
  # Each starts its own exsim / daemon (bench/README.md); JSON after their log lines.
  echo "=== daemon: change latency over 200 changes each way"
  "$build/bench/service/bench_service_latency" --changes 200 >"$raw/service_latency.json"
  echo "=== daemon: API load, 500 requests/s for 60 s while syncs run"
  "$build/bench/service/bench_service_load" --rate 500 --seconds 60 >"$raw/service_load.json"
fi

if runs graph; then
  # Its own exsim (Graph's limits on) and daemon per size (bench/README.md).
  echo "=== daemon: Graph real time at 1,000 and $mailboxes mailboxes, 200 changes each"
  "$build/bench/service/bench_graph_realtime" --mailboxes "1000,$mailboxes" --changes 200 \
    >"$raw/graph_realtime.json"
fi

if runs multinode; then
  # Its own PostgreSQL (pg_stat_statements preloaded), exsim and nodes (bench/README.md).
  echo "=== issue 17: $mailboxes mailboxes over 1, 2 and 3 serve nodes on one PostgreSQL"
  "$build/bench/multinode/bench_multinode" --mailboxes "$mailboxes" --nodes 1,2,3 \
    --safety-net-seconds 120 --idle-periods 2 >"$raw/multinode.json"
fi

mkdir -p "$(dirname "$out")"
/usr/bin/python3 bench/collect_results.py --raw "$raw" --build "$build" --source "$root" \
  --command "$command_line" --out "$out"
