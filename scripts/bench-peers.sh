#!/usr/bin/env bash
# mailtrail side by side with the exporters people would pick instead, on
# the same simulated log in the same run (the machine's speed varies from
# run to run; ratios within one run hold): lines per CPU-second of each,
# from the process's rusage, and mailtrail serve's ratio to the best peer.
#   Debian prometheus-postfix-exporter (kumina's), tailing a file the log is
#     appended to; done when its CPU time stops growing
#   Debian mtail with its packaged postfix program, --one_shot
#   Debian pflogsumm over the file
#   hsn723/postfix_exporter, tailing like kumina's, when HSN723=path/to/binary
# Missing Debian packages are installed (apt-get; root or sudo). Not part of
# `make test`. LINES (default 1000000) sets the log's size.
set -euo pipefail
lines=${LINES:-1000000}
bin=${EXPORTER:-bin/exporter}
need=()
command -v prometheus-postfix-exporter >/dev/null || need+=(prometheus-postfix-exporter)
command -v mtail >/dev/null || need+=(mtail)
command -v pflogsumm >/dev/null || need+=(pflogsumm)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mtail_prog=/usr/share/doc/mtail/examples/postfix.mtail
[ -f "$mtail_prog" ] || mtail_prog=$(dpkg -L mtail | grep -m1 'postfix\.mtail$')

dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
"$bin" simulate --lines "$lines" --seed 7 --output "$dir/src.log"
tck=$(getconf CLK_TCK)
results=()

cpu_of() { awk -v t="$tck" '{ printf "%.3f\n", ($14 + $15) / t }' "/proc/$1/stat"; }

report() { # report NAME CPU-SECONDS
  results+=("$1|$2")
  awk -v n="$1" -v c="$2" -v l="$lines" 'BEGIN { printf "%-48s %9.0f lines/CPU-s  (%.2f CPU-s)\n", n, l / c, c }'
}

# once CMD...: CPU-seconds a command spent running to its end.
once() {
  local t
  t=$(bash -c '"$@" >/dev/null 2>&1; times' _ "$@" | tail -1)
  awk -v t="$t" 'BEGIN { split(t, a, " "); gsub(/s/, "", a[1]); gsub(/s/, "", a[2]);
    split(a[1], u, "m"); split(a[2], s, "m"); printf "%.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}

# tailing NAME CMD...: a tailing exporter started on an empty $dir/tail.log,
# the log appended to it at full speed; done when its CPU time stops
# growing for 2 s.
tailing() {
  local name=$1
  shift
  rm -f "$dir/tail.log"
  : >"$dir/tail.log"
  "$@" >"$dir/peer.out" 2>&1 &
  pid=$!
  sleep 2
  dd if="$dir/src.log" of="$dir/tail.log" bs=1M oflag=append conv=notrunc status=none
  local prev=-1 cur still=0
  for _ in $(seq 1200); do
    sleep 0.5
    cur=$(cpu_of "$pid")
    if [ "$cur" = "$prev" ]; then
      still=$((still + 1))
      [ "$still" -ge 4 ] && break
    else
      still=0
    fi
    prev=$cur
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
  report "$name" "$cur"
}

echo "side by side on $lines simulated lines ($(du -h "$dir/src.log" | cut -f1)), one run:"
serve=$(LINES=$lines EXPORTER=$bin bash scripts/bench-serve.sh | tail -1)
serve_cpu=$(awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "CPU-s") print $i }' <<<"$serve")
report "mailtrail serve (tailing, journal on)" "$serve_cpu"
rm -f "$dir"/replay.db*
replay_cpu=$(once "$bin" replay --progress=never --instance=bench --log.timezone=UTC --journal.path="$dir/replay.db" "$dir/src.log")
report "mailtrail replay (journal on)" "$replay_cpu"
tailing "prometheus-postfix-exporter (Debian, tailing)" prometheus-postfix-exporter --web.listen-address=127.0.0.1:0 --postfix.logfile_path="$dir/tail.log" --postfix.showq_path="$dir/no-showq"
if [ -n "${HSN723:-}" ]; then
  tailing "hsn723/postfix_exporter (tailing)" "$HSN723" --web.listen-address=127.0.0.1:0 --postfix.logfile_path="$dir/tail.log" --postfix.showq_path="$dir/no-showq"
fi
report "mtail postfix program (Debian, --one_shot)" "$(once mtail --one_shot --one_shot_format=prometheus --progs "$mtail_prog" --logs "$dir/src.log")"
report "pflogsumm (Debian)" "$(once pflogsumm "$dir/src.log")"

best=$(printf '%s\n' "${results[@]}" | grep -v '^mailtrail' | sort -t'|' -k2 -g | head -1)
awk -v b="$best" -v s="$serve_cpu" -v r="$replay_cpu" 'BEGIN { split(b, a, "|");
  printf "mailtrail serve: %.2fx the best peer (%s); replay: %.2fx\n", a[2] / s, a[1], a[2] / r }'
