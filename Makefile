# mailtrail: `make test` is the test command (it installs what it needs first),
# `make demo` the main job. See README.md.
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
VERSION   ?= $(patsubst v%,%,$(shell git describe --tags --always --dirty 2>/dev/null || echo dev))
# Build stamp, as Prometheus exporters carry it (promu's variables in
# prometheus/common/version): `exporter --version` and mailtrail_build_info
# show it. The date is the commit's (or SOURCE_DATE_EPOCH), so a rebuild
# of the same commit stamps the same date.
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER ?= $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || date +%s)} +%Y%m%d-%H:%M:%S)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS   := -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildUser=$(BUILD_USER) -X $(VERSION_PKG).BuildDate=$(BUILD_DATE)
# Fuzz budgets are counts, not durations: Go 1.26's fuzz coordinator can
# fail a run with "context deadline exceeded" when a -fuzztime duration
# ends (golang/go#75804, fixed in Go 1.27); a count has no deadline.
FUZZTIME  ?= 400000x
BENCHTIME ?= 1s

.PHONY: all build test deps lint vet fmt-check tidy-check shellcheck unit fuzz bench soak corpus-coverage golden demo clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/exporter ./exporter

# Areas add their own targets in mk/*.mk: TEST_TARGETS run by `make test`,
# BENCH_TARGETS by `make bench`.
TEST_TARGETS  :=
BENCH_TARGETS :=
-include mk/*.mk

# test: everything CI runs, in one go, on a fresh machine.
test: deps lint unit fuzz $(TEST_TARGETS)

deps:
	bash scripts/deps.sh

lint: fmt-check tidy-check vet shellcheck
	$(GOBIN)/staticcheck ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# go.mod and go.sum say exactly what the code imports: `go mod tidy` would
# change nothing (it prints the diff it would make and fails otherwise).
tidy-check:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }

# The shell scripts (scripts/, the CI entry point) pass shellcheck (Debian's
# package, installed by scripts/deps.sh).
shellcheck:
	shellcheck -x scripts/*.sh packaging/scripts/*.sh .ci/run

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

# A short coverage-guided run of the parser fuzz target beyond its seeds.
fuzz:
	$(GO) test ./pkg/parser -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

# Micro-benchmarks (parser, journal, simulator), then end-to-end replay.
bench: build
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./pkg/...
	bash scripts/bench-replay.sh
	@for t in $(BENCH_TARGETS); do $(MAKE) --no-print-directory $$t || exit 1; done

# The kill -9 crash test for 300 rounds (CI's `unit` runs 30).
soak:
	MAILTRAIL_SOAK_ROUNDS=300 $(GO) test -count=1 -timeout 30m -run '^TestCrashKill9$$' -v ./exporter

# The share of the lines of both corpus sets (testdata/corpus and ../shared/corpus)
# written by Postfix or Dovecot that parse to a
# known kind, per family.
corpus-coverage:
	$(GO) test -count=1 ./pkg/parser -run '^TestCorpusCoverage$$' -v | sed -n '/family/,/TOTAL without/p'

golden:
	$(GO) test ./pkg/parser -run '^TestGolden$$' -update

# The main job: serve on the bundled sample log while the simulator keeps
# appending to it; journal in demo/journal.db. Ctrl-C to stop.
demo: build
	bash scripts/demo.sh

clean:
	rm -rf bin dist
