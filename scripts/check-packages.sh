#!/usr/bin/env bash
# Each app alone (STYLE §1): sync one package into its own environment and import its composition
# root, so an import that only works through the shared development environment fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=uv
command -v uv >/dev/null 2>&1 || UV="python3 -m uv"
check() {  # package module
  local env; env=$(mktemp -d)
  UV_PROJECT_ENVIRONMENT="$env" $UV sync --locked --quiet --no-dev --package "$1"
  "$env/bin/python" -c "import $2; print('$1: ok')"
  rm -rf "$env"
}
check switchboard-webhook-ingress switchboard_ingress.app
check switchboard-api "switchboard_api.app, switchboard_api.local"
check switchboard-flow-runner switchboard_flow_runner.app
check switchboard-dialer switchboard_dialer.app
check switchboard-notifier switchboard_notifier.app
check switchboard-cdr-sink "switchboard_cdr_sink.app, switchboard_cdr_sink.migrate"
check switchboard-provider-sim switchboard_provider_sim.app
check switchboard-cli switchboard_cli.main
