#!/usr/bin/env bash
# The package test (CTest label "package"; issue 19): builds the Debian packages from the tree
# the test command already built, runs lintian on them, makes a clean Debian 12 root with
# mmdebstrap from Debian's mirror and, inside it, installs, starts, reloads, upgrades,
# downgrades and purges (in_root.sh). Needs root (mmdebstrap, chroot), network to the mirror.
#   package_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
started=$SECONDS
step() { echo "=== $(date -u +%T) package: $*"; }

# Root for mmdebstrap and chroot; as install-deps.sh does, sudo when the caller is not root.
if [[ $(id -u) -ne 0 ]]; then
  sudo -n true 2>/dev/null || { echo "FAIL: the package test needs root or sudo (mmdebstrap, chroot)" >&2; exit 1; }
  exec sudo -n bash "$0" "$src" "$build"
fi

work=$(mktemp -d /var/tmp/agendasync-package.XXXXXX)
keep_on_failure() {
  local status=$?
  rm -rf "$work/root" "$work/stage"
  if ((status == 0)); then
    rm -rf "$work"
  else
    echo "package test failed; logs kept in $work/log" >&2
  fi
}
trap keep_on_failure EXIT
mkdir -p "$work/stage" "$work/log" "$work/debs"

step "dpkg-buildpackage from $build (no recompilation)"
# Only debian/ is needed in the stage: every installed file comes from the build tree's
# install rules, and dpkg-buildpackage writes its results next to the stage.
cp -rL "$src/debian" "$work/stage/"  # -L: debian/agendasync.sysusers links into packaging/
(cd "$work/stage" && AGENDASYNC_BUILD_DIR=$build dpkg-buildpackage -b -uc -us \
  >"$work/log/buildpackage.log" 2>&1) ||
  { tail -40 "$work/log/buildpackage.log" >&2; exit 1; }
mv "$work"/*.deb "$work/debs/"
ls -l "$work/debs"

step "lintian (no errors allowed)"
lintian --fail-on error --display-level '>=warning' "$work"/debs/*.deb 2>&1 | tee "$work/log/lintian.log"

step "mmdebstrap: a clean Debian 12 root from $(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
# The mirror the machine's apt uses (deb822 or one-line sources), else Debian's.
mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[[ -n $mirror ]] || mirror=http://deb.debian.org/debian
# minbase plus what the test itself uses in the root (sqlite3 to make the old-schema agenda).
# eatmydata and unsafe-io: a throw-away root needs no fsync, and dpkg's fsyncs were most of
# its wall time on a busy machine.
PKG_DEBS=$work/debs PKG_FIXTURE=$src/tests/package/fixtures/agenda-schema3.sql PKG_LOG=$work/log \
  mmdebstrap --variant=minbase --include=sqlite3,ca-certificates \
  --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata --dpkgopt=force-unsafe-io \
  --aptopt='Acquire::Languages "none"' \
  --customize-hook="bash $src/tests/package/in_root.sh \"\$1\"" \
  bookworm "$work/root" "$mirror" >"$work/log/mmdebstrap.log" 2>&1 ||
  { grep -v '^I: ' "$work/log/mmdebstrap.log" | tail -60 >&2; exit 1; }
# What the checks in the root printed, without apt's and dpkg's progress lines.
sed -n '/^=== .* in root: /,$p' "$work/log/mmdebstrap.log" |
  grep -vE '^(Setting up|Selecting|Preparing|Unpacking|\(Reading|Get:|Processing|Fetched|I: )' || true
step "passed in $((SECONDS - started)) s"
