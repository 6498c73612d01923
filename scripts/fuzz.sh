#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a bounded time (not part of CI):
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 600 s, every target)
# JOBS (default 2) targets run at once, at low priority. Corpora stay in fuzz/corpus/TARGET and
# crashes in fuzz/artifacts/TARGET (both outside git); a summary line per target is printed
# and the full log kept in fuzz/logs/TARGET.log.
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain, or RUSTC_BOOTSTRAP=1 on
# stable for the sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-600}"; shift || true
jobs="${JOBS:-2}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  toolchain=(); export RUSTC_BOOTSTRAP=1
fi
mkdir -p logs
# Release code with overflow checks and debug assertions (-a): an arithmetic overflow in the proof
# maths is a finding too. No sanitizer by default (SANITIZER=address to add one): the code under
# test is safe Rust, and uninstrumented runs are several times faster.
flags=(-O -a -s "${SANITIZER:-none}")
# One build of every target first, so that the timed runs measure fuzzing, not compiling.
nice -n 10 cargo "${toolchain[@]}" fuzz build "${flags[@]}"

run() {
  local target="$1"
  mkdir -p "corpus/$target"
  # Hand-made starting inputs (fuzz/seeds/TARGET): random bytes alone seldom make a whole PDF.
  if [ -d "seeds/$target" ]; then cp -n "seeds/$target"/* "corpus/$target/"; fi
  # -rss_limit_mb: a PDF or a form must not make a reader hold more than this.
  if nice -n 10 cargo "${toolchain[@]}" fuzz run "${flags[@]}" "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
      >"logs/$target.log" 2>&1; then
    verdict="no crash"
  else
    verdict="CRASH (see fuzz/artifacts/$target and fuzz/logs/$target.log)"
  fi
  runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "logs/$target.log" | grep -Eo '[0-9]+$' || echo '?')"
  echo "$target: $runs runs in ${seconds} s, $verdict"
}

running=0
for target in "${targets[@]}"; do
  run "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
