#!/usr/bin/env bash
# Abandoned live streams (issue 22): starts `ikrar serve` on an existing data folder (streams
# only read it), opens STREAMS live streams over the provinces and regencies,
# holds them HOLD seconds, drops them all at once, and prints how long the node took to let them
# go and how much of a core it used before, while holding them, and in the 30 s after.
#   scripts/bench-streams.sh DATA_DIR CAMPAIGN_ID
#   (e.g. the nation of scripts/bench.sh: /tmp/ikrar-bench/nation-200000 and its `campaign` file)
# Environment: STREAMS (2000), HOLD (30), CAP (the node's --live-stream-cap; default STREAMS, so
# that every stream is held; set 1000 to see the default cap refuse the rest), PORT (18390),
# IKRAR_BIN (default target/release/ikrar, built with `cargo build --release --features bench`).
set -euo pipefail
cd "$(dirname "$0")/.."
data="$1"; campaign="$2"
streams="${STREAMS:-2000}"; hold="${HOLD:-30}"; cap="${CAP:-$streams}"; port="${PORT:-18390}"
bin="$(realpath "${IKRAR_BIN:-target/release/ikrar}")"
tmp="$(mktemp -d)"
# One stream per area, provinces first, then regencies: as many pollers as areas in use.
{ tail -n +2 assets/wilayah/provinces.csv; tail -n +2 assets/wilayah/regencies.csv; } \
  | cut -d, -f1 >"$tmp/areas"
# Each stream is a file descriptor of the node and of the client.
ulimit -n "$(( streams * 2 + 1024 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"

RUST_LOG=warn "$bin" serve --data-dir "$data" --bind "127.0.0.1:$port" \
  --live-stream-cap "$cap" >"$tmp/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
deadline=$(( $(date +%s) + 60 ))
until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "the node did not answer within 60 s" >&2; cat "$tmp/serve.log" >&2; exit 1; }
  sleep 0.1
done
echo "## live streams, $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD), $streams streams, cap $cap"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 scripts/bench/streams.py "http://127.0.0.1:$port" "$campaign" "$tmp/areas" "$pid" "$streams" "$hold"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "node peak memory: $(awk '/^VmHWM:/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status")"
