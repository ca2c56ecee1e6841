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
# The real-mail test (exporter/realmail_test.go) runs Postfix and Dovecot
# from private configurations; swaks drives its SMTP sessions.
[ -x /usr/sbin/postfix ] || need+=(postfix)
[ -x /usr/sbin/dovecot ] || need+=(dovecot-core)
[ -x /usr/lib/dovecot/imap-login ] || need+=(dovecot-imapd)
[ -x /usr/lib/dovecot/lmtp ] || need+=(dovecot-lmtpd)
command -v swaks >/dev/null || need+=(swaks)
# The rsyslog test forwards through a private rsyslogd (imfile, omfwd) and
# its RELP output (omrelp, in rsyslog-relp).
command -v rsyslogd >/dev/null || [ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
dpkg-query -W -f='${Status}' rsyslog-relp 2>/dev/null | grep -q 'ok installed' || need+=(rsyslog-relp)
# `make package-test` lints the .deb (lintian), verifies the unit
# (systemd-analyze, in systemd) and lists the .rpm (rpm).
command -v lintian >/dev/null || need+=(lintian)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v rpm >/dev/null || need+=(rpm)
# The PDF report tests render every page with poppler (pdftotext, pdftoppm).
command -v pdftoppm >/dev/null || need+=(poppler-utils)
# `make package` and `make release` build arm64 too: the cgo SQLite driver
# needs Debian's aarch64 cross compiler and C library.
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Postfix asks how to configure the machine's own mail system: not at
  # all (the test brings its own configuration).
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# s3rver, the S3-compatible server the cold archive tests (pkg/s3test) run
# on loopback; a global npm install puts it on PATH (/usr/bin with
# Debian's npm).
if ! command -v s3rver >/dev/null; then
  echo "deps: installing s3rver"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo npm install -g --no-audit --no-fund s3rver@3.7.1 >/dev/null
fi

gobin=$(go env GOPATH)/bin
if [ ! -x "$gobin/staticcheck" ]; then
  echo "deps: installing staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
if [ ! -x "$gobin/nfpm" ]; then
  echo "deps: installing nfpm"
  go install github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
fi
# VictoriaLogs, the fleet store the shipper and central queries are tested
# against (pkg/vltest runs it on loopback); about two minutes cold.
if [ ! -x "$gobin/victoria-logs" ]; then
  echo "deps: installing victoria-logs"
  go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@v1.52.2
fi
go mod download
