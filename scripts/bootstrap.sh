#!/usr/bin/env bash
# Install what a fresh Debian machine lacks for Switchboard: uv, redis-server, PostgreSQL, and the
# Python workspace; with --browser also Chromium and fonts for the console's browser tests (the
# tests drive Debian's /usr/bin/chromium through Playwright; no browser download).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
if [ "${1:-}" = "--browser" ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  [ -d /usr/share/fonts/truetype/dejavu ] || need_apt+=(fonts-dejavu-core)
  [ -d /usr/share/fonts/truetype/liberation ] || need_apt+=(fonts-liberation)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages uv
fi

if ! command -v uv >/dev/null 2>&1; then
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true  # pyenv makes the shim on rehash
fi
UV=uv
command -v uv >/dev/null 2>&1 || UV="python3 -m uv"
$UV sync --locked --quiet
