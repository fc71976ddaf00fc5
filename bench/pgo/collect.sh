#!/usr/bin/env bash
# Regenerates cmd/shieldwall/default.pgo, the CPU profile that `go build
# ./cmd/shieldwall` (and `go run`, `go install`) applies by default for
# profile-guided optimisation (go help build, -pgo=auto). It is merged from
# the benchmarks of the node's hot paths, each run as its package's test:
# IOC look-ups (batched, as the matcher makes them, and the map peer) and the IOC matcher over
# 1M indicators, Sigma with all Windows rules over the EVTX attack samples,
# EVTX parsing and JSON-lines field extraction. Usage, from the repository
# root with ../shared/corpora present:
#   bench/pgo/collect.sh
# Takes some 5 minutes on 2 cores. A profile only steers the compiler
# (inlining and block layout of the hot call sites); a stale one costs
# speed, never correctness.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prof() { # name package bench benchtime
	env ${ENV:-} go test -o "$tmp/$1.test" -run '^$' -bench "$3" -benchtime "$4" -cpuprofile "$tmp/$1.prof" "$2" >"$tmp/$1.log" \
		|| { cat "$tmp/$1.log"; exit 1; }
	grep -q '^Benchmark' "$tmp/$1.log" || { echo "$1: no benchmark ran"; cat "$tmp/$1.log"; exit 1; }
	grep -q -- '--- SKIP' "$tmp/$1.log" && { echo "$1: skipped (is ../shared/corpora present?)"; cat "$tmp/$1.log"; exit 1; }
	echo "$1: $(go tool pprof -top "$tmp/$1.prof" 2>/dev/null | grep -m1 'Total samples')"
}
ENV=IOC_ONLY=batch,map prof ioc ./internal/detect/ioc 'IOC1M/interleaved-hot' 100x
prof matcher ./internal/detect/ioc 'IOCMatcher1M' 2s
prof sigma ./internal/detect/sigma 'WindowsRules' 40x
prof evtx ./internal/ingest/evtx 'ReadAll' 60x
prof jsonlines ./internal/ingest/jsonlines 'Flatten/.*/ours|Parse' 3s
go tool pprof -proto "$tmp"/*.prof >cmd/shieldwall/default.pgo
echo "wrote cmd/shieldwall/default.pgo ($(wc -c <cmd/shieldwall/default.pgo) bytes)"
