#!/usr/bin/env bash
# Shipping lag at a steady rate: a real VictoriaLogs on loopback, `exporter
# serve` tailing a log shipped to it, and `exporter simulate --rate` writing
# RATE lines/s (default 5000) for SECS seconds (default 30). Every half
# second the exporter's mailtrail_ship_lag_seconds and _lag_events are
# sampled, and the events journaled but not yet accepted by the store
# (mailtrail_journal_events_total less mailtrail_ship_events_total: the
# shipper's gauges are as of its last step); printed: their median, p99 and
# max, the time from the last line written to the store holding every
# event, and the exporter's CPU use.
# EXPORTER the binary (default bin/exporter), VICTORIA_LOGS victoria-logs'.
set -euo pipefail
rate=${RATE:-5000}
secs=${SECS:-30}
bin=${EXPORTER:-bin/exporter}
vlbin=${VICTORIA_LOGS:-$(command -v victoria-logs || echo "$(go env GOPATH)/bin/victoria-logs")}
[ -x "$vlbin" ] || { echo "victoria-logs not found (scripts/deps.sh installs it)"; exit 1; }
lines=$((rate * secs))
dir=$(mktemp -d)
vlpid='' pid='' simpid=''
cleanup() {
  for p in "$simpid" "$pid" "$vlpid"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$dir"
}
trap cleanup EXIT

# A free loopback port for VictoriaLogs: one nothing answers on.
for _ in $(seq 50); do
  vlport=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$vlport") 2>/dev/null; then break; fi
done
"$vlbin" -httpListenAddr="127.0.0.1:$vlport" -storageDataPath="$dir/vl" -retentionPeriod=100y -loggerLevel=WARN >"$dir/vl.out" 2>&1 &
vlpid=$!
vl="http://127.0.0.1:$vlport"
for _ in $(seq 300); do curl -fsS "$vl/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$vl/health" >/dev/null || { echo "victoria-logs did not start:"; cat "$dir/vl.out"; exit 1; }

: >"$dir/mail.log"
"$bin" serve --instance=bench --log.timezone=UTC --journal.path="$dir/journal.db" --log.path="$dir/mail.log" \
  --no-journald --web.listen-address=127.0.0.1:0 --log.level=warn \
  --ship.victorialogs.url="$vl" --ship.victorialogs.max-age=0 >"$dir/out" 2>&1 &
pid=$!
addr=
for _ in $(seq 300); do
  addr=$(sed -n 's|.*metrics: http://\([^/]*\)/.*|\1|p' "$dir/out" | head -1)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "serve did not start:"; cat "$dir/out"; exit 1; }
metric() { # metric NAME: its value for sink victorialogs (0 if absent)
  curl -fsS "http://$addr/metrics" 2>/dev/null |
    awk -v n="$1" '$1 == n "{sink=\"victorialogs\"}" || $1 == n { v = $2 } END { printf "%s\n", v + 0 }'
}

tck=$(getconf CLK_TCK)
cpu0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
"$bin" simulate --lines "$lines" --rate "$rate" --start "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --append --output "$dir/mail.log" &
simpid=$!
: >"$dir/samples"
while kill -0 "$simpid" 2>/dev/null; do
  m=$(curl -fsS "http://$addr/metrics" 2>/dev/null || true)
  awk '$1 == "mailtrail_ship_lag_seconds{sink=\"victorialogs\"}" { s = $2 }
    $1 == "mailtrail_ship_lag_events{sink=\"victorialogs\"}" { e = $2 }
    $1 == "mailtrail_journal_events_total" { j = $2 }
    $1 == "mailtrail_ship_events_total{sink=\"victorialogs\"}" { a = $2 }
    END { printf "%s %s %d\n", s + 0, e + 0, j - a }' <<<"$m" >>"$dir/samples"
  sleep 0.5
done
wait "$simpid"
simpid=
written=$(date +%s.%N)
shipped=0
for _ in $(seq 1200); do
  shipped=$(metric mailtrail_ship_events_total)
  [ "${shipped%.*}" -ge "$lines" ] && break
  sleep 0.05
done
caught=$(date +%s.%N)
[ "${shipped%.*}" -ge "$lines" ] || { echo "shipped $shipped of $lines events within 60s of the last line"; tail "$dir/out"; exit 1; }
cpu=$(awk -v t="$tck" -v c0="$cpu0" '{ printf "%.2f\n", ($14 + $15 - c0) / t }' "/proc/$pid/stat")

pct() { # pct COLUMN P: the P-th percentile of a column of the samples
  sort -g -k"$1","$1" "$dir/samples" | awk -v c="$1" -v p="$2" '{ v[NR] = $c } END { i = int((NR - 1) * p / 100) + 1; print v[i] }'
}
echo "serve at $rate lines/s for ${secs}s ($lines lines), shipped to VictoriaLogs on loopback; $(wc -l <"$dir/samples") samples:"
echo "  lag seconds: median $(pct 1 50)  p99 $(pct 1 99)  max $(pct 1 100)"
echo "  lag events:  median $(pct 2 50)  p99 $(pct 2 99)  max $(pct 2 100)"
echo "  journaled, not yet in the store: median $(pct 3 50)  p99 $(pct 3 99)  max $(pct 3 100) events (at $rate/s: $(awk -v n="$(pct 3 50)" -v r="$rate" 'BEGIN { printf "%.2f", n / r }')s median, $(awk -v n="$(pct 3 99)" -v r="$rate" 'BEGIN { printf "%.2f", n / r }')s p99)"
awk -v w="$written" -v c="$caught" -v cpu="$cpu" -v s="$secs" 'BEGIN {
  printf "  every event in the store %.2fs after the last line was written; exporter CPU %.2fs (%.0f%% of a core: tail, parse, journal and ship)\n", c - w, cpu, 100 * cpu / s }'
