#!/usr/bin/env bash
# Compares Shieldwall's EVTX reader (bench/evtxspeed, main module) with
# github.com/0xrawsec/golang-evtx (bench/evtxpeer, this separate module) on
# the same files, alternating, RUNS times each. The file list is given
# REPEAT times so that each run lasts long enough to time.
# Usage: bench/evtxpeer/compare.sh [corpus dir]   (from the repository root)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${1:-$root/../shared/corpora/evtx-attack-samples}
runs=${RUNS:-3}
repeat=${REPEAT:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/evtxspeed" ./bench/evtxspeed)
(cd "$root/bench/evtxpeer" && CGO_ENABLED=0 go build -o "$tmp/evtxpeer" .)
find "$corpus" -name '*.evtx' -print0 >"$tmp/one"
for _ in $(seq "$repeat"); do cat "$tmp/one"; done >"$tmp/files"
TIMEFORMAT='    wall %Rs, cpu user %Us sys %Ss'
for i in $(seq "$runs"); do
	echo "run $i"
	time (xargs -0 "$tmp/evtxspeed" <"$tmp/files")
	time (xargs -0 "$tmp/evtxpeer" <"$tmp/files" 2>/dev/null)
	time (xargs -0 "$tmp/evtxpeer" -fast <"$tmp/files" 2>/dev/null)
done
