#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-19 and runs each one.
#   scripts/fuzz.sh --ci         30 s per target (the test command does this)
#   scripts/fuzz.sh [SECONDS]    a long run, per target
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-600}
[[ "$seconds" == "--ci" ]] && seconds=30
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzzers
shopt -s nullglob
targets=(build/fuzz/fuzz/fuzz_*)
if ((${#targets[@]} == 0)); then
  echo "fuzz: no fuzz targets built yet"
  exit 0
fi
for t in "${targets[@]}"; do
  name=$(basename "$t")
  corpus="build/fuzz/corpus/$name"
  mkdir -p "$corpus"
  seeds="fuzz/corpus/${name#fuzz_}"
  echo "=== fuzz: $name for ${seconds}s"
  "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "$corpus" $( [[ -d $seeds ]] && echo "$seeds" ) 2>&1 | tail -3
done
