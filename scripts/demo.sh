#!/usr/bin/env bash
# The README's demo command (interim version): installs what is missing, builds the
# `agendasync` CLI, creates a SQLite agenda in a temporary folder with a few users and
# appointments through the CLI, and prints them. Later issues grow it into the sync demo
# (daemon + exsim + first sync).
#   scripts/demo.sh            build, run, and remove the temporary folder afterwards
#   scripts/demo.sh --keep     keep the folder (its path is printed) to look around
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    *) echo "usage: scripts/demo.sh [--keep]" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh
echo "=== build: agendasync (default preset)"
cmake --preset default >/dev/null
cmake --build --preset default --target agendasync

bin="$root/build/default/src/cli/agendasync"
work=$(mktemp -d -t agendasync-demo-XXXXXX)
if ((keep == 0)); then trap 'rm -rf "$work"' EXIT; fi
export AGENDASYNC_CONFIG="$work/agendasync.toml"
as() {
  echo "\$ agendasync $(printf '%q ' "$@")"
  "$bin" "$@"
}

echo
echo "=== a new agenda in $work"
as init --mail-domain example.com

echo
echo "=== users (one with a deviating Exchange address, one blocked)"
as users add DMARTINA --display-name "Daniela Martina" --sync on
as users add JDOE --display-name "John Doe" --exchange-address john.doe@contoso.example --sync on
as users add PVRIES --display-name "Pieter de Vries" --sync on --direction to-exchange
as users add OLDUSER --display-name "Former colleague" --blocked
as activity-types add Meeting --default
as activity-types add "Project task" --not-synced

echo
echo "=== appointments"
as appointments add --subject "Project kick-off" --start 2026-03-02T09:00 --end 2026-03-02T10:30 \
  --zone Europe/Amsterdam --owner DMARTINA --participant JDOE --activity-type Meeting \
  --location "Room 4.12" --reminder 15
as appointments add --subject "Weekly stand-up" --start 2026-03-23T09:00 --end 2026-03-23T09:15 \
  --zone "W. Europe Standard Time" --rrule "FREQ=WEEKLY;BYDAY=MO;COUNT=8" \
  --exdate 2026-04-06T09:00 --move "2026-04-13T09:00=2026-04-13T11:00/2026-04-13T11:15" \
  --owner DMARTINA --participant PVRIES --activity-type Meeting
as appointments add --subject "Trade fair" --all-day --start 2026-03-05 --end 2026-03-07 \
  --zone America/New_York --owner JDOE
as appointments add --subject "Dentist" --start 2026-03-03T16:00 --end 2026-03-03T17:00 \
  --zone Europe/Amsterdam --owner PVRIES --private --show-as out-of-office

echo
echo "=== what would be rejected (each changes nothing)"
as users add BROKEN --exchange-address "not an address" || echo "(exit code $?)"
as appointments add --subject x --start 2026-03-02T09:00 --end 2026-03-02T10:00 \
  --zone Mars/Olympus_Mons --owner DMARTINA || echo "(exit code $?)"

echo
echo "=== the agenda"
as settings show
echo
as users list
echo
as appointments list
echo
as appointments list --user PVRIES
if ((keep)); then echo; echo "Kept: $work (AGENDASYNC_CONFIG=$AGENDASYNC_CONFIG)"; fi
