#!/usr/bin/env bash
# End-to-end figures of `serve`, the path users run: a real exporter tails a
# file while the simulated log is appended to it at full speed, with
# everything on (journal, Merkle leaves and checkpoints, correlator,
# metrics, offender windows). Once the journal holds every line, the CPU the
# process spent (its rusage, /proc/PID/stat utime+stime) gives lines per
# CPU-second; also lines per wall-clock second (until every line is parsed
# and handed to the committer, and until the journal holds it), journal
# bytes per event and peak RSS (VmHWM).
# LINES (default 1000000) sets the log's size, EXPORTER the binary, RUNS
# how many runs (default 1; the median is printed when more),
# CPUPROFILE and MEMPROFILE files for the (last run's) CPU and allocation
# profiles, SERVE_FLAGS more flags for serve, CPUS a CPU list for taskset (CPUS=0: one core, the
# single-core rate that the wall-clock rate on two is compared with).
set -euo pipefail
lines=${LINES:-1000000}
bin=${EXPORTER:-bin/exporter}
runs=${RUNS:-1}
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
"$bin" simulate --lines "$lines" --seed 7 --output "$dir/src.log"
# The poller that times the run: one process, far cheaper than a curl and
# an awk every poll, whose CPU on a two-core run was taken from serve.
go build -o "$dir/waitmetric" ./scripts/waitmetric
tck=$(getconf CLK_TCK)
# SERVE_FLAGS: more flags for serve (e.g. --journal.batch-size=2048).
read -ra extra <<<"${SERVE_FLAGS:-}"
pin=(env)
if [ -n "${CPUS:-}" ]; then pin=(taskset -c "$CPUS"); fi

one() {
  rm -f "$dir"/journal.db* "$dir/mail.log" "$dir/out"
  : >"$dir/mail.log"
  MAILTRAIL_CPUPROFILE=${CPUPROFILE:-} MAILTRAIL_MEMPROFILE=${MEMPROFILE:-} "${pin[@]}" "$bin" serve --instance=bench --log.timezone=UTC \
    --journal.path="$dir/journal.db" --log.path="$dir/mail.log" --no-journald \
    --web.listen-address=127.0.0.1:0 --log.level=warn "${extra[@]}" >"$dir/out" 2>&1 &
  pid=$!
  addr=
  for _ in $(seq 300); do
    addr=$(sed -n 's|.*metrics: http://\([^/]*\)/.*|\1|p' "$dir/out" | head -1)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "serve did not start:"; cat "$dir/out"; exit 1; }
  local start end parsed times
  start=$EPOCHREALTIME
  # Full speed: the whole log in 1 MiB appends, as fast as cat writes.
  dd if="$dir/src.log" of="$dir/mail.log" bs=1M oflag=append conv=notrunc status=none
  # The throughput's end: every line parsed, correlated and handed to the
  # committer (mailtrail_log_lines_total counts them there). The journal
  # has them a commit later, and the last, partial batch waits for the
  # flush interval (1 s): that wait is latency, not throughput, and it
  # would make the wall-clock rate depend on the timer's phase. Ten polls a
  # second; each costs serve ~2 ms of CPU, counted in its figure.
  if ! times=$("$dir/waitmetric" -url "http://$addr/metrics" -every 100ms -timeout 300s \
    mailtrail_log_lines_total="$lines" mailtrail_journal_events_total="$lines"); then
    echo "the journal does not hold all $lines events after 300s"
    cat "$dir/out"
    exit 1
  fi
  parsed=$(awk '$1 == "mailtrail_log_lines_total" { print $2 }' <<<"$times")
  end=$(awk '$1 == "mailtrail_journal_events_total" { print $2 }' <<<"$times")
  local cpu rss
  cpu=$(awk -v t="$tck" '{ printf "%.3f\n", ($14 + $15) / t }' "/proc/$pid/stat")
  rss=$(awk '/^VmHWM/ { printf "%.1f\n", $2 / 1024 }' "/proc/$pid/status")
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
  local size
  size=$(( $(stat -c %s "$dir/journal.db") + $(stat -c %s "$dir/journal.db-wal" 2>/dev/null || echo 0) ))
  awk -v l="$lines" -v c="$cpu" -v s="$start" -v p="$parsed" -v e="$end" -v b="$size" -v r="$rss" 'BEGIN {
    printf "%.0f lines/CPU-s  %.0f lines/s  %.2f CPU-s  %.1f bytes/event  peak RSS %.1f MiB  (%.0f lines/s until journaled)\n", l / c, l / (p - s), c, b / l, r, l / (e - s) }'
}

echo "serve tailing $lines simulated lines ($(du -h "$dir/src.log" | cut -f1)) appended at full speed, $runs run(s):"
for _ in $(seq "$runs"); do
  one >"$dir/last"
  cat "$dir/last"
  cat "$dir/last" >>"$dir/results"
done
if [ "$runs" -gt 1 ]; then
  sort -n "$dir/results" | awk -v m=$(( (runs + 1) / 2 )) 'NR == m { print "median: " $0 }'
fi
