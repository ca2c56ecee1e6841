#!/usr/bin/env bash
# Query API load figures: build a journal of EVENTS simulated events
# (default 10,000,000) with `exporter simulate` + `exporter replay`, serve
# it, and drive /api/v1/trace?queue_id= with wrk, cycling through real queue
# ids of the log. Prints p50/p99 latency and requests per second.
# EVENTS, DURATION (wrk -d, default 30s), CONNECTIONS (default 2: one
# request in flight per core of the 2-core reference machine; with more,
# the latency measures the queue in front of the CPUs), THREADS (default 2)
# and KEEP=dir (reuse/keep the journal there) tune it.
set -euo pipefail
events=${EVENTS:-10000000}
duration=${DURATION:-30s}
conns=${CONNECTIONS:-2}
threads=${THREADS:-2}
bin=${EXPORTER:-bin/exporter}
command -v wrk >/dev/null || { echo "bench-api: wrk is needed (Debian package wrk; scripts/deps.sh installs it)" >&2; exit 1; }
[ -x "$bin" ] || go build -o "$bin" ./exporter

if [ -n "${KEEP:-}" ]; then
  dir=$KEEP; mkdir -p "$dir"
  trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; true' EXIT
else
  dir=$(mktemp -d)
  trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
fi
db=$dir/journal-$events.db
if [ ! -s "$db" ]; then
  echo "bench-api: simulating $events lines and replaying them into $db (this takes a while)"
  "$bin" simulate --lines "$events" --seed 7 --format rfc3339 --output "$dir/mail.log"
  "$bin" replay --progress=never --instance=bench --log.timezone=UTC --journal.path="$db" "$dir/mail.log" \
    | grep -E '^(journaled|took|journal size)' || true
  # 20,000 real queue ids from across the log, in shuffled order.
  grep -oE '\]: [0-9A-F]{10}: ' "$dir/mail.log" | cut -c4-13 | sort -u | shuf -n 20000 --random-source=<(yes) > "$dir/qids.txt"
  rm -f "$dir/mail.log"
fi
[ -s "$dir/qids.txt" ] || { echo "bench-api: no queue ids in $dir/qids.txt" >&2; exit 1; }

token=bench-token-0123456789abcdef
printf '%s\n' "$token" > "$dir/token"
cat > "$dir/mailtrail.yml" <<YAML
api:
  tokens:
    - {name: bench, token_file: $dir/token, role: auditor}
YAML
: > "$dir/empty.log"
"$bin" serve --config.file="$dir/mailtrail.yml" --instance=bench --journal.path="$db" --log.path="$dir/empty.log" \
  --web.listen-address=127.0.0.1:0 --postfix.postqueue= --journal.verify-interval=0 > "$dir/serve.out" 2> "$dir/serve.err" &
pid=$!
url=
for _ in $(seq 600); do
  url=$(grep -oE 'http://[^ ]+/metrics' "$dir/serve.out" | head -1 | sed 's,/metrics$,,') || true
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "bench-api: serve did not start" >&2; cat "$dir/serve.err" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/v1/trace?queue_id=$(head -1 "$dir/qids.txt")")
[ "$status" = 200 ] || { echo "bench-api: a trace answered $status" >&2; exit 1; }

cat > "$dir/trace.lua" <<LUA
local ids = {}
for line in io.lines("$dir/qids.txt") do ids[#ids + 1] = line end
local n = 0
wrk.headers["Authorization"] = "Bearer $token"
request = function()
  n = n + 1
  return wrk.format("GET", "/api/v1/trace?queue_id=" .. ids[(n % #ids) + 1])
end
LUA
out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$dir/trace.lua" "$url")
kill "$pid"; wait "$pid" 2>/dev/null || true
pid=
echo "$out" | grep -E 'Non-2xx|Socket errors' >&2 || true
p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
rps=$(echo "$out" | awk '$1 == "Requests/sec:" {print $2}')
echo "api trace by queue id over $events events ($(du -h "$db" | cut -f1) journal), wrk -t$threads -c$conns -d$duration:"
echo "  p50 $p50  p99 $p99  requests/s $rps  (goal: p99 <= 20ms)"
