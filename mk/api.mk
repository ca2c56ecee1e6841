# Query API (issue 6): load figures of /api/v1/trace with wrk over a
# 10M-event journal; EVENTS=200000 make bench-api for a quick run.
.PHONY: bench-api
BENCH_TARGETS += bench-api

bench-api: build
	bash scripts/bench-api.sh
