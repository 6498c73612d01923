#!/usr/bin/env bash
# The HTTP figures of docs/performance.md, from wrk on loopback against a running node.
#   scripts/bench-http.sh BASE_URL CAMPAIGN_ID SIGNERS_FILE CERTIFICATE_IDS_FILE [NODE_PID]
# SIGNERS_FILE and CERTIFICATE_IDS_FILE come from `ikrar bench-signers`. Prints table rows
# `| figure | requests/s | median | p99 | notes |`. DURATION (default 15s), CONNECTIONS (64) and
# THREADS (2) may be set in the environment; SKIP_SIGNING=1 leaves the database unchanged.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wilayah="$here/../assets/wilayah"
base="$1"; campaign="$2"; signers="$3"; ids="$4"; pid="${5:-}"
duration="${DURATION:-15s}"; connections="${CONNECTIONS:-64}"; threads="${THREADS:-2}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

# wrk prints latencies as 812.00us, 1.20ms or 1.02s: normalise to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n = n * 60000; else if (v ~ /s$/) n = n * 1000
    printf "%.2f ms", n }'
}

# run NAME NOTE wrk-arguments...: one row of the table.
run() {
  local name="$1" note="$2"; shift 2
  wrk --latency -t"$threads" -c"$connections" -d"$duration" "$@" >"$tmp/out" 2>&1 || true
  local rps p50 p99 extra
  rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$tmp/out")"
  p50="$(awk '$1 == "50%" { print $2 }' "$tmp/out")"
  p99="$(awk '$1 == "99%" { print $2 }' "$tmp/out")"
  extra="$(grep -E '^created=' "$tmp/out" | tr '\n' ' ' || true)"
  if grep -q "Non-2xx or 3xx responses" "$tmp/out"; then
    extra="$extra $(grep 'Non-2xx' "$tmp/out" | tr -s ' ')"
  fi
  echo "| $name | $rps | $(to_ms "$p50") | $(to_ms "$p99") | $note ${extra:-} |"
}

run "verification API /api/v1/verify/{id}" "$connections connections" \
  -s "$here/bench/pick.lua" "$base" -- "$ids" "/api/v1/verify/"
run "verification page /v/{id}" "$connections connections" \
  -s "$here/bench/pick.lua" "$base" -- "$ids" "/v/"

echo "nasional" >"$tmp/nation"
tail -n +2 "$wilayah/provinces.csv" | cut -d, -f1 >"$tmp/province"
tail -n +2 "$wilayah/regencies.csv" | cut -d, -f1 >"$tmp/regency"
tail -n +2 "$wilayah/districts.csv" | cut -d, -f1 >"$tmp/district"
tail -n +2 "$wilayah/villages.csv" | cut -d, -f1 >"$tmp/village"
for level in nation province regency district village; do
  run "coverage drill-down, $level level (/api/v1/coverage)" "$connections connections, random areas" \
    -s "$here/bench/pick.lua" "$base" -- "$tmp/$level" "/api/v1/coverage?campaign=$campaign&area="
done

if [ "${SKIP_SIGNING:-0}" != 1 ]; then
  run "signings over HTTP (POST .../signatures)" "$connections connections, each a new certificate" \
    -s "$here/bench/sign.lua" "$base" -- "$signers" "$campaign" "$threads"
fi

if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
  hwm="$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")"
  rss="$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")"
  echo "| peak memory of the node (VmHWM) | | | | $hwm MB peak, $rss MB now |"
fi
