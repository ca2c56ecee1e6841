#!/usr/bin/env bash
# Installs what the build and tests need on a fresh Debian machine with Go.
# Idempotent: anything already present is left alone, so it is cheap to run
# before every `make test`.
set -euo pipefail

gobin=$(go env GOPATH)/bin
if [ ! -x "$gobin/staticcheck" ]; then
  echo "deps: installing staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
go mod download
