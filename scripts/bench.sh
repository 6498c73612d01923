#!/usr/bin/env bash
# Reproduces the table of docs/performance.md on this machine:
#   scripts/bench.sh            (4.7 million employees, 60% signed; about 15 minutes)
#   EMPLOYEES=200000 scripts/bench.sh   (a quick look)
#   EMPLOYEES=200000 scripts/bench.sh postgres://postgres@127.0.0.1:5432/ikrar_bench
#       (the same nation on PostgreSQL too: the HTTP rows side by side, SQLite then PostgreSQL)
# The PostgreSQL database is dropped and made anew each run (its name must contain "bench").
# Environment: EMPLOYEES, SHARE (0.6), WORK (/tmp/ikrar-bench, reused between runs), PORT (18380),
# DURATION (15s per wrk run), IKRAR_BIN, QUICK (1: only the HTTP rows: no render, import or
# in-process scan figures), PG_URL (the same as the argument). Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL="${1:-${PG_URL:-}}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ -n "$PG_URL" ]; then
  pg_name="${PG_URL##*/}"; pg_name="${pg_name%%\?*}"
  case "$pg_name" in
    *bench*) ;;
    *) echo "the PostgreSQL database is recreated each run; name one whose name contains \"bench\"" >&2; exit 1 ;;
  esac
fi
employees="${EMPLOYEES:-4700000}"; share="${SHARE:-0.6}"; port="${PORT:-18380}"
work="${WORK:-/tmp/ikrar-bench}"; mkdir -p "$work"
# IKRAR_BIN: an ikrar binary already built (nothing is compiled then); the table is only
# comparable with others from a release build.
if [ -n "${IKRAR_BIN:-}" ]; then
  bin="$(realpath "$IKRAR_BIN")"
else
  bin="$PWD/target/release/ikrar"
  cargo build --release --locked --quiet --features bench
fi
export RUST_LOG=warn

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", (b - a) / 1e9 }'; }

echo "## ikrar benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD)"
echo
[ "${QUICK:-0}" = 1 ] || "$bin" bench
echo

rows=()
# Roster import of a generated file into a fresh SQLite database (QUICK=1 leaves it out).
if [ "${QUICK:-0}" != 1 ]; then
if [ ! -s "$work/roster-$employees.csv" ]; then
  "$bin" synth --employees "$employees" --roster-file "$work/roster-$employees.csv" >/dev/null
fi
rm -rf "$work/import"
"$bin" synth --employees 0 --data-dir "$work/import" >/dev/null   # areas and key only
t0=$(date +%s%N)
"$bin" roster import "$work/roster-$employees.csv" --data-dir "$work/import" >"$work/import.log"
t1=$(date +%s%N)
rows+=("| roster import, SQLite, $employees rows (both passes, one transaction) | | $(seconds "$t0" "$t1") | | $(cat "$work/import.log") |")
rm -rf "$work/import"
fi

# The synthetic nation, made once and reused.
nation="$work/nation-$employees"
if [ ! -s "$nation/campaign" ]; then
  rm -rf "$nation"
  t0=$(date +%s%N)
  "$bin" synth --employees "$employees" --campaign-signed-share "$share" --data-dir "$nation" \
    | tee "$work/synth.log" | sed -n 's/^Penandatanganan nasional: //p' >"$nation.campaign"
  t1=$(date +%s%N)
  mv "$nation.campaign" "$nation/campaign"
  echo "synth: $(seconds "$t0" "$t1") ($(head -1 "$work/synth.log"))" >"$nation/synth-time"
fi
campaign="$(cat "$nation/campaign")"
rows+=("| ikrar synth, SQLite, $employees employees, $share signed | | $(cut -d' ' -f2-3 "$nation/synth-time") | | |")
# Each run signs new employees: a fresh copy of the nation keeps runs comparable.
rm -rf "$work/run"; cp -r "$nation" "$work/run"
"$bin" bench-signers --campaign "$campaign" --count 120000 --out "$work/signers" \
  --certificates-out "$work/ids" --data-dir "$work/run" >/dev/null
# Where a QR scan's time goes without HTTP: its own table, printed after the main one.
scans="(left out: QUICK=1)"
[ "${QUICK:-0}" = 1 ] || scans="$("$bin" bench-scans --certificates "$work/ids" --data-dir "$work/run" 2>/dev/null)"
sync; sleep 2

t0=$(date +%s%N)
"$bin" serve --data-dir "$work/run" --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.02; done
t1=$(date +%s%N)
rows+=("| ikrar serve start-up to first answer, $employees employees | | $(seconds "$t0" "$t1") | | |")
http="$(scripts/bench-http.sh "http://127.0.0.1:$port" "$campaign" "$work/signers" "$work/ids" "$pid")"
kill "$pid"; wait "$pid" 2>/dev/null || true

if [ -n "${PG_URL:-}" ]; then
  # PostgreSQL: the same nation is copied over with `ikrar db copy`, then the HTTP runs repeat.
  psql "${PG_URL%/*}/postgres" -q -c "DROP DATABASE IF EXISTS \"$pg_name\"" -c "CREATE DATABASE \"$pg_name\""
  "$bin" db copy --from "sqlite://$nation/ikrar.sqlite3" --to "$PG_URL" >/dev/null
  "$bin" bench-signers --campaign "$campaign" --count 120000 --out "$work/signers-pg" \
    --certificates-out "$work/ids-pg" --data-dir "$work/run" --database-url "$PG_URL" >/dev/null
  "$bin" serve --data-dir "$work/run" --database-url "$PG_URL" --bind "127.0.0.1:$port" \
    >"$work/serve-pg.log" 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
  http_pg="$(scripts/bench-http.sh "http://127.0.0.1:$port" "$campaign" "$work/signers-pg" "$work/ids-pg" "$pid" \
    | sed 's/^| /| PostgreSQL: /')"
  kill "$pid"; wait "$pid" 2>/dev/null || true
fi

echo "| figure | requests/s | median | p99 | notes |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo "$http"
[ -n "${http_pg:-}" ] && echo "$http_pg"
echo
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; wrk -t${THREADS:-2} -c${CONNECTIONS:-64} -d${DURATION:-15s} on loopback, same machine"
echo
echo "QR scans in process, no HTTP (ikrar bench-scans):"
echo "$scans"
