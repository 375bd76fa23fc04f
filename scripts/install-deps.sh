#!/usr/bin/env bash
# Installs, from Debian 12 packages only, whatever the build, the tests and the demo
# need and this machine lacks. Idempotent: a second run installs nothing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-19 libclang-rt-19-dev clang-format
  # libraries
  libcurl4-openssl-dev libpugixml-dev nlohmann-json3-dev libsqlite3-dev libpq-dev libssl-dev
  libicu-dev libical-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libcpp-httplib-dev libboost1.81-dev libgtest-dev libgmock-dev libbenchmark-dev libxml2-dev librapidcheck-dev zlib1g-dev
  tzdata sqlite3 libxml2-utils
  # independent peers and servers used by the tests
  python3 python3-exchangelib python3-requests-ntlm python3-dateutil python3-msal
  postgresql radicale curl openssl
  # the demo reads JSON answers with it
  jq
  # the admin console's browser tests (tests/browser) drive Debian's headless Chromium
  chromium
  # systemd integration (sd_notify) and the Debian packages: build, man pages, lint, a clean
  # Debian 12 root to install them in (tests/package)
  libsystemd-dev systemd debhelper help2man lintian mmdebstrap eatmydata
)
# Node.js brings npm on machines whose nodejs package bundles it; Debian's splits them.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install-deps: every Debian package is present"
fi

# npm packages for the conformance suites (ews-javascript-api, Graph client, msal-node).
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -f "$root/tests/conformance/js/package.json" && ! -d "$root/tests/conformance/js/node_modules" ]]; then
  (cd "$root/tests/conformance/js" && npm ci --no-audit --no-fund)
fi
if [[ -f "$root/tests/conformance/graph_js/package.json" && ! -d "$root/tests/conformance/graph_js/node_modules" ]]; then
  (cd "$root/tests/conformance/graph_js" && npm ci --no-audit --no-fund)
fi
# playwright-core (the driver only: it downloads no browser) and axe-core for tests/browser.
if [[ -f "$root/tests/browser/package.json" && ! -d "$root/tests/browser/node_modules" ]]; then
  (cd "$root/tests/browser" && npm ci --no-audit --no-fund)
fi
