#!/usr/bin/env bash
# The docker-compose stack without Docker: two exporters following two
# simulated Postfix hosts and shipping their journals to VictoriaLogs (the
# fleet store, docs/fleet.md), the Debian prometheus with the mixin's rules
# and prometheus-alertmanager, all on loopback. Grafana is not packaged for
# Debian, so it is not started: point a Grafana at these URLs with
# provisioning/ to see the dashboards. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=${DEMO_STACK_DIR:-demo/stack}
prom_port=${DEMO_PROMETHEUS_PORT:-9090}
am_port=${DEMO_ALERTMANAGER_PORT:-9093}
hook_port=${DEMO_WEBHOOK_PORT:-9099}
vl_port=${DEMO_VICTORIALOGS_PORT:-9428}

for bin in prometheus prometheus-alertmanager; do
  command -v "$bin" >/dev/null || { echo "demo-stack: $bin is not installed (bash scripts/deps.sh)" >&2; exit 1; }
done
[ -x bin/exporter ] || { echo "demo-stack: bin/exporter missing (make build)" >&2; exit 1; }
# scripts/deps.sh installs VictoriaLogs with go install.
vl=$(command -v victoria-logs || echo "$(go env GOPATH)/bin/victoria-logs")
[ -x "$vl" ] || { echo "demo-stack: victoria-logs is not installed (bash scripts/deps.sh)" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The fleet store: -retentionPeriod is how long it keeps rows (older ones
# are refused at insert: the exporters' --ship.victorialogs.max-age is the
# same), -delete.enable lets forget erase a subject's rows there too.
"$vl" -storageDataPath="$dir/victorialogs" -retentionPeriod=30d -delete.enable \
  -httpListenAddr="127.0.0.1:$vl_port" >"$dir/victorialogs.log" 2>&1 &
pids+=($!)

start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
targets=""
i=0
for host in mx1:9744:20 relay:9745:10; do
  IFS=: read -r name port rate <<<"$host"
  i=$((i + 1))
  mkdir -p "$dir/$name"
  : >"$dir/$name/mail.log"
  bin/exporter simulate --rate "$rate" --append --output "$dir/$name/mail.log" --seed "$i" --start "$start" &
  pids+=($!)
  bin/exporter serve --instance="$name" --log.path="$dir/$name/mail.log" --log.timezone=UTC \
    --journal.path="$dir/$name/journal.db" --web.listen-address="127.0.0.1:$port" \
    --postfix.postqueue= --tenant.domains=example.com \
    --ship.victorialogs.url="http://127.0.0.1:$vl_port" --ship.victorialogs.max-age=30d >"$dir/$name/exporter.log" 2>&1 &
  pids+=($!)
  targets+="      - targets: ['127.0.0.1:$port']
        labels: {instance: $name}
"
done

# Alertmanager posts to a tiny receiver that appends each notification to
# a file, the local stand-in for the compose stack's webhook service.
command -v python3 >/dev/null && python3 - "$hook_port" "$dir/notifications.jsonl" <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(out, 'ab') as f:
            f.write(body.strip() + b'\n')
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
try:
    http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()
except KeyboardInterrupt:
    pass
PY
pids+=($!)

sed "s|http://webhook:8080/alertmanager|http://127.0.0.1:$hook_port/|" provisioning/alertmanager/alertmanager.yml >"$dir/alertmanager.yml"
prometheus-alertmanager --config.file="$dir/alertmanager.yml" --storage.path="$dir/alertmanager" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$dir/alertmanager.log" 2>&1 &
pids+=($!)

cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - $root/rules/mailtrail-alerts.yaml
  - $root/rules/mailtrail-rules.yaml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am_port']
scrape_configs:
  - job_name: mailtrail
    static_configs:
$targets
YAML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prometheus" \
  --web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
pids+=($!)

cat <<MSG
mailtrail demo stack (logs and data in $dir/):
  exporter mx1     http://127.0.0.1:9744/metrics
  exporter relay   http://127.0.0.1:9745/metrics
  Prometheus       http://127.0.0.1:$prom_port/alerts   (rules from rules/)
  Alertmanager     http://127.0.0.1:$am_port/
  VictoriaLogs     http://127.0.0.1:$vl_port/select/vmui   (the fleet store; central mode's victoriaLogsUrl)
  notifications    $dir/notifications.jsonl
Grafana is not packaged for Debian and is not started here; with a Grafana
of your own, use provisioning/ (set the Prometheus URL to the one above) or
run the full stack with docker compose. Ctrl-C stops everything.
MSG
wait -n "${pids[@]}" || true
echo "demo-stack: a process exited; see the logs in $dir/" >&2
