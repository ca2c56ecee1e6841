# The exporter's HTTP query API (pkg/api, /api/v1/).
# api-fuzz (in make test): arbitrary query strings against every endpoint
# never give a 500 or a non-JSON answer.
# bench-api (in make bench): wrk on /api/v1/trace over a 10M-event journal;
# EVENTS=200000 make bench-api for a quick run.
API_FUZZTIME ?= 30000x

.PHONY: api-fuzz bench-api
TEST_TARGETS  += api-fuzz
BENCH_TARGETS += bench-api

api-fuzz:
	$(GO) test ./pkg/api -run '^$$' -fuzz '^FuzzQuery$$' -fuzztime $(API_FUZZTIME)

bench-api: build
	bash scripts/bench-api.sh
