#!/usr/bin/env bash
# The unsigned list of a whole province, as its BKD admin opens it (issue 19: first page ≤ 200 ms
# and ≤ 100 KB for a 50,000-employee province). Adds a province admin, starts `ikrar serve`, signs
# in through the pages with the emailed code (read from the data folder's outbox), then times
# `/admin/kampanye/{id}/belum` with curl: the first request, REPEAT more, and the second page.
#   scripts/bench-unsigned-list.sh DATA_DIR CAMPAIGN_ID PROVINCE_CODE
# A 50,000-employee Jawa Timur (35) needs a nation of about 492,000:
#   ikrar synth --employees 492000 --campaign-signed-share 0.02 --data-dir DIR
# Environment: REPEAT (30), PORT (18391), IKRAR_BIN (default target/release/ikrar).
set -euo pipefail
cd "$(dirname "$0")/.."
data="$1"; campaign="$2"; province="$3"
repeat="${REPEAT:-30}"; port="${PORT:-18391}"
bin="$(realpath "${IKRAR_BIN:-target/release/ikrar}")"
base="http://127.0.0.1:$port"
tmp="$(mktemp -d)"
email="bkd-$province-$(date +%s)@contoh.go.id"
"$bin" admin add --email "$email" --name "Admin BKD Uji" --role province --scope "$province" \
  --data-dir "$data" >/dev/null

RUST_LOG=warn "$bin" serve --data-dir "$data" --bind "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
deadline=$(( $(date +%s) + 60 ))
until curl -fs "$base/healthz" >/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "the node did not answer within 60 s" >&2; exit 1; }
  sleep 0.1
done

jar="$tmp/cookies"
csrf() { curl -fs -c "$jar" -b "$jar" "$1" | grep -o 'name="csrf" value="[^"]*"' | head -1 | cut -d'"' -f4; }
token="$(csrf "$base/admin/masuk")"
curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "email=$email" \
  --data-urlencode "csrf=$token" "$base/admin/masuk"
code=""
for _ in $(seq 50); do
  letter="$(grep -l "$email" "$data"/outbox/* 2>/dev/null | xargs -r grep -l 'Kode masuk ikrar: ' | head -1 || true)"
  [ -n "$letter" ] && code="$(grep -o 'Kode masuk ikrar: [0-9]\{6\}' "$letter" | head -1 | grep -o '[0-9]\{6\}')" && break
  sleep 0.1
done
[ -n "$code" ] || { echo "no sign-in code for $email in $data/outbox" >&2; exit 1; }
status="$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "email=$email" \
  --data-urlencode "code=$code" --data-urlencode "authenticator=" --data-urlencode "csrf=$token" \
  "$base/admin/masuk/kode")"
[ "$status" = 303 ] || { echo "sign-in answered $status" >&2; exit 1; }

url="$base/admin/kampanye/$campaign/belum"
# One line per request: status, seconds, bytes.
get() { curl -s -o "$tmp/page" -w '%{http_code} %{time_total} %{size_download}\n' -b "$jar" "$1"; }
echo "## unsigned list, $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD), province $province"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "first request: $(get "$url")"
head="$(grep -o 'dari [0-9.]* pegawai\|[0-9.]* pegawai belum' "$tmp/page" | head -1 || true)"
[ -n "$head" ] && echo "page says: $head"
next="$(grep -o 'href="[^"]*setelah=[^"]*"' "$tmp/page" | head -1 | cut -d'"' -f2 | sed 's/&amp;/\&/g' || true)"
for _ in $(seq "$repeat"); do get "$url"; done >"$tmp/times"
awk -v n="$repeat" '{ s[NR] = $2 * 1000; b = $3; if ($1 != 200) bad++ }
  END {
    asort(s)
    printf "first page, %d more requests: median %.1f ms, slowest %.1f ms, %d bytes, %d not 200\n",
      n, s[int((n + 1) / 2)], s[n], b, bad
  }' "$tmp/times"
if [ -n "$next" ]; then
  for _ in $(seq "$repeat"); do get "$base$next"; done >"$tmp/times2"
  awk -v n="$repeat" '{ s[NR] = $2 * 1000; b = $3; if ($1 != 200) bad++ }
    END {
      asort(s)
      printf "second page (keyset link): median %.1f ms, slowest %.1f ms, %d bytes, %d not 200\n",
        s[int((n + 1) / 2)], s[n], b, bad
    }' "$tmp/times2"
else
  echo "no link to a second page found"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
