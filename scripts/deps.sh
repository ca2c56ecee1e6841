#!/usr/bin/env bash
# Installs what the build and tests need on a fresh Debian machine with Go.
# Idempotent: anything already present is left alone, so it is cheap to run
# before every `make test`.
set -euo pipefail

# Debian packages the tests run for real: logrotate rotates logs under the
# tailer, sqlite3 lets tests edit journals the way a tamperer would,
# prometheus brings promtool to lint the exporter's metrics (and the
# Prometheus server of the alert test).
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v logrotate >/dev/null || [ -x /usr/sbin/logrotate ] || need+=(logrotate)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v gcc >/dev/null || need+=(gcc)
# The mixin's end-to-end alert test runs Alertmanager; jsonnet renders the
# mixin; wrk loads the query API in `make bench`.
command -v prometheus-alertmanager >/dev/null || [ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
command -v jsonnet >/dev/null || need+=(jsonnet)
command -v wrk >/dev/null || need+=(wrk)
# `make lint` checks the shell scripts with shellcheck.
command -v shellcheck >/dev/null || need+=(shellcheck)
# The Grafana plugin frontend (make frontend) builds and tests with Node.js and npm.
command -v npm >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

gobin=$(go env GOPATH)/bin
if [ ! -x "$gobin/staticcheck" ]; then
  echo "deps: installing staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
go mod download
