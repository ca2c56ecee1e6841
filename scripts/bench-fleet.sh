#!/usr/bin/env bash
# The fleet figure (issue 16, docs/fleet.md): INSTANCES journals (default
# 10) of EVENTS simulated lines each (default 1,000,000), made with
# `exporter simulate` + `exporter replay`, shipped by the real shipper into
# a real VictoriaLogs, served by as many real exporters; then QUERIES
# traces (default 200, real queue ids spread over the instances) are asked
# of the plugin's logic in central mode (one LogsQL query) and in fan-out
# mode (every exporter), one at a time. Prints each mode's p50/p99 and
# whether the answers were the same. KEEP=dir keeps/reuses the journals;
# FLEET_BENCH_VL=URL uses a VictoriaLogs that already holds them (shipped
# by an earlier run with FLEET_BENCH_SHIP=1) to measure queries only.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${EVENTS:-1000000}
instances=${INSTANCES:-10}
queries=${QUERIES:-200}
bin=${EXPORTER:-bin/exporter}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
[ -x "$bin" ] || go build -o "$bin" ./exporter
if [ -n "${KEEP:-}" ]; then
  dir=$KEEP; mkdir -p "$dir"
else
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi
per=$(( (queries + instances - 1) / instances ))
for i in $(seq "$instances"); do
  db=$dir/mx$i.db
  [ -s "$db" ] && [ -s "$dir/qids-$i.txt" ] && continue
  echo "bench-fleet: mx$i: simulating $events lines and replaying them"
  "$bin" simulate --lines "$events" --seed $((100 + i)) --format rfc3339 --output "$dir/mail.log"
  rm -f "$db"*
  "$bin" replay --progress=never --instance="mx$i" --log.timezone=UTC --journal.path="$db" "$dir/mail.log" \
    | grep -E '^(journaled|took)' || true
  grep -oE '\]: [0-9A-F]{10}: ' "$dir/mail.log" | cut -c4-13 | sort -u | shuf -n "$per" --random-source=<(yes) \
    | sed "s/^/mx$i /" > "$dir/qids-$i.txt"
  rm -f "$dir/mail.log"
done
# A fresh copy per run: shipping keeps its cursor in the journal, and the
# exporters add their access records to it.
run=$dir/run
rm -rf "$run"; mkdir -p "$run"
for i in $(seq "$instances"); do cp "$dir/mx$i.db"* "$run/"; rm -f "$run/mx$i.db.lock"; done
cat "$dir"/qids-*.txt > "$run/qids.txt"
trap 'rm -rf "$run"; if [ -z "${KEEP:-}" ]; then rm -rf "$dir"; fi' EXIT
FLEET_BENCH_DIR=$run EXPORTER=$bin FLEET_BENCH_VL=${FLEET_BENCH_VL:-} FLEET_BENCH_SHIP=${FLEET_BENCH_SHIP:-} go test ./pkg/fleet -run '^$' -bench BenchmarkCentralTraceVsFanOut -benchtime=1x -timeout 2h \
  | grep -vE '^(goos|goarch|pkg|cpu):'
