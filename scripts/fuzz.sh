#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-19 and runs each one.
#   scripts/fuzz.sh --ci         15 s per target, two at a time (the test command does this)
#   scripts/fuzz.sh [SECONDS]    a long run, per target
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-600}
parallel=1
if [[ "$seconds" == "--ci" ]]; then seconds=15; parallel=2; fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzzers
shopt -s nullglob
targets=(build/fuzz/fuzz/fuzz_*)
if ((${#targets[@]} == 0)); then
  echo "fuzz: no fuzz target was built (build/fuzz/fuzz/fuzz_*): check the fuzz preset" >&2
  exit 1
fi
run_target() {
  local t=$1 name corpus seeds
  name=$(basename "$t")
  corpus="build/fuzz/corpus/$name"
  mkdir -p "$corpus"
  seeds="fuzz/corpus/${name#fuzz_}"
  local log="build/fuzz/$name.log"
  if "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "$corpus" \
      $( [[ -d $seeds ]] && echo "$seeds" ) >"$log" 2>&1; then
    echo "=== fuzz: $name ${seconds}s: $(tail -1 "$log")"
  else
    echo "=== fuzz: $name FAILED"; cat "$log"; return 1
  fi
}
failed=0
pids=()
for t in "${targets[@]}"; do
  run_target "$t" & pids+=($!)
  if ((${#pids[@]} >= parallel)); then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
