#!/usr/bin/env bash
# vendor.sh rebuilds internal/web/static/vendor from the versions pinned in
# package-lock.json: npm ci, then a copy of each library's minified dist
# file and its licence. The result is committed and embedded with go:embed,
# so go build never needs npm; .ci/run runs this in a temporary copy and
# fails if the committed files differ.
#
# Usage: vendor.sh [OUT]   (OUT defaults to ../static/vendor beside this script)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../static/vendor}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
mkdir -p "$out"
rm -f "$out"/*
m="$work/node_modules"
cp "$m/htmx.org/dist/htmx.min.js" "$out/htmx.min.js"
cp "$m/htmx.org/LICENSE" "$out/htmx.LICENSE"
cp "$m/echarts/dist/echarts.min.js" "$out/echarts.min.js"
cp "$m/echarts/LICENSE" "$out/echarts.LICENSE"
cp "$m/cytoscape/dist/cytoscape.min.js" "$out/cytoscape.min.js"
cp "$m/cytoscape/LICENSE" "$out/cytoscape.LICENSE"
