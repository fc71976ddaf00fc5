#!/usr/bin/env bash
# Runs all Windows Sigma rules over the EVTX attack samples with Shieldwall's
# engine (bench/sigmaspeed, main module) and with the two peers of this
# separate module, writes per-rule counts and matches to OUT, and compares
# ours with each peer. Usage (from the repository root):
#   bench/sigmapeer/run.sh [out dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/bench/sigmapeer/out}
corpora=${CORPORA:-$root/../shared/corpora}
events=$corpora/evtx-attack-samples/python-evtx.jsonl
rules=$corpora/sigma/rules/windows
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/sigmaspeed" ./bench/sigmaspeed)
(cd "$root/bench/sigmapeer" && CGO_ENABLED=0 go build -o "$tmp/sigmapeer" .)

"$tmp/sigmaspeed" -events "$events" -rules "$rules" -rounds 30 \
	-counts "$out/ours.counts.jsonl" -matches "$out/ours.matches.jsonl" | tee "$out/ours.log"
GOMAXPROCS=1 "$tmp/sigmaspeed" -events "$events" -rules "$rules" -rounds 30 | tee "$out/ours.gomaxprocs1.log"
"$tmp/sigmaspeed" -evtx "$corpora/evtx-attack-samples" -rules "$rules" -rounds 30 \
	-counts "$out/ours-evtx.counts.jsonl" | tee "$out/ours-evtx.log"
cmp "$out/ours.counts.jsonl" "$out/ours-evtx.counts.jsonl" && echo "jsonl and .evtx inputs: same counts"

GOMAXPROCS=1 "$tmp/sigmapeer" -peer sigmago -events "$events" -rules "$rules" \
	-counts "$out/sigmago.counts.jsonl" -matches "$out/sigmago.matches.jsonl" \
	-errors "$out/sigmago.errors.jsonl" | tee "$out/sigmago.log"
GOMAXPROCS=1 "$tmp/sigmapeer" -peer markuskont -events "$events" -rules "$rules" \
	-counts "$out/markuskont.counts.jsonl" -matches "$out/markuskont.matches.jsonl" | tee "$out/markuskont.log"

for peer in sigmago markuskont; do
	"$tmp/sigmapeer" -compare "$out/ours.counts.jsonl,$out/$peer.counts.jsonl" >"$out/ours-vs-$peer.txt"
	head -1 "$out/ours-vs-$peer.txt"
done
