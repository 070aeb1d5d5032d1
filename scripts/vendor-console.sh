#!/usr/bin/env bash
# Refresh the console's vendored browser libraries from the npm registry (versions pinned in
# services/api/console-vendor/package-lock.json). The copies are committed: the api serves them
# itself, so neither a deployment nor a test run needs Node.js or the network.
set -euo pipefail
cd "$(dirname "$0")/../services/api/console-vendor"
npm ci --ignore-scripts --no-audit --no-fund
out=../src/switchboard_api/console/static/vendor
mkdir -p "$out"
cp node_modules/chart.js/dist/chart.umd.min.js "$out/chart.umd.min.js"
cp node_modules/chart.js/LICENSE.md "$out/chart.js.LICENSE.md"
cp node_modules/chartjs-chart-funnel/build/index.umd.min.js "$out/chartjs-chart-funnel.umd.min.js"
cp node_modules/chartjs-chart-funnel/LICENSE "$out/chartjs-chart-funnel.LICENSE"
rm -rf node_modules
(cd "$out" && sha256sum chart.umd.min.js chartjs-chart-funnel.umd.min.js > SHA256SUMS)
echo "vendored into $out"
