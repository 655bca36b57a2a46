#!/usr/bin/env bash
# Installs, as root on Debian 12, exactly the packages flowgate needs to build, test and demo.
# Quiet and quick when everything is already present.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libboost-dev libsqlitecpp-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libssl-dev catch2
  libhowardhinnant-date-dev tzdata graphviz socat
  python3 chromium   # tests: the auditor's script in docs/audit.md, the HTML report rendered headless
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
