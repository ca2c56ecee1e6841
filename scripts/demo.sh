#!/usr/bin/env bash
# The main job: the exporter following a bundled sample log that the
# simulator keeps appending to, with its journal in a local SQLite file.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${DEMO_DIR:-demo}
listen=${DEMO_LISTEN:-localhost:9744}
mkdir -p "$dir"
rm -f "$dir"/mail.log* "$dir"/journal.db*
cp testdata/sample/mail.log "$dir/mail.log"
bin/exporter simulate --rate 20 --append --output "$dir/mail.log" --seed "$RANDOM" \
  --start "$(date -u +%Y-%m-%dT%H:%M:%SZ)" &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
echo "simulator appending to $dir/mail.log (pid $sim)"
echo "journal: $dir/journal.db — try: bin/exporter events --journal.path=$dir/journal.db --kind=auth_failure --format=table"
echo "query API (anonymous, on loopback only): curl 'http://$listen/api/v1/events?kind=delivery&limit=3'"
# No Postfix runs here, so there is no queue to ask postqueue about.
bin/exporter serve --log.path="$dir/mail.log" --journal.path="$dir/journal.db" --instance=demo \
  --log.timezone=UTC --web.listen-address="$listen" --postfix.postqueue= --tenant.domains=example.com \
  --api.allow-anonymous
