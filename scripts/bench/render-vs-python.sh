#!/usr/bin/env bash
# The certificate render against its Python peer, side by side in one run on one core:
# `ikrar bench` (claim, QR, PDF, PDF signature) and scripts/bench/reportlab_certificate.py
# (PyNaCl claim, qrcode QR, reportlab PDF of the same one-page layout).
#   PYTHONPATH=/work/wt/pylib scripts/bench/render-vs-python.sh [samples]
set -euo pipefail
cd "$(dirname "$0")/../.."
samples="${1:-1000}"
bin="$PWD/target/release/ikrar"
cargo build --release --locked --quiet --features bench
echo "## render vs Python peer, $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD), load $(cut -d' ' -f1 /proc/loadavg)"
taskset -c 0 "$bin" bench --samples "$samples" | grep -E "mesin|render one certificate|of which"
taskset -c 0 python3 scripts/bench/reportlab_certificate.py "$(( samples / 5 ))"
