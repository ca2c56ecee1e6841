#!/usr/bin/env bash
# End-to-end ingest figures: replay a simulated log into a fresh journal and
# print lines per CPU-second, journal bytes per event and peak RSS.
# LINES (default 1000000) sets the log's size.
set -euo pipefail
lines=${LINES:-1000000}
bin=${EXPORTER:-bin/exporter}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" simulate --lines "$lines" --seed 7 --output "$dir/mail.log"
echo "replay of $lines simulated lines ($(du -h "$dir/mail.log" | cut -f1)):"
"$bin" replay --progress=never --instance=bench --log.timezone=UTC --journal.path="$dir/journal.db" "$dir/mail.log" \
  | grep -E '^(replayed|journaled|unparsed|took|journal size|peak RSS)'
