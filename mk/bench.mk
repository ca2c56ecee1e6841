# End-to-end ingest figures of serve, the path users run (issue 15):
# bench-serve tails a file the simulated log is appended to at full speed
# (RUNS=3: the median), bench-peers runs the exporters people would pick
# instead on the same log in the same run (HSN723=path adds hsn723's).
# CPU from the processes' rusage. See docs/performance.md.
BENCH_TARGETS += bench-serve bench-peers

.PHONY: bench-serve bench-peers
bench-serve: build
	RUNS=$${RUNS:-3} bash scripts/bench-serve.sh

bench-peers: build
	bash scripts/bench-peers.sh
