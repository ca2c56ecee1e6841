# Journal storage figures: commit cost (cpu-ns/event) and bytes per event,
# verify speed (events/s) and a trace by queue id, on the simulated mix.
BENCH_TARGETS += bench-journal

.PHONY: bench-journal
bench-journal:
	$(GO) test -run '^$$' -bench '^BenchmarkCommit$$' -benchtime 200000x ./pkg/journal
	$(GO) test -run '^$$' -bench '^Benchmark(Verify|TraceQueueID)$$' -benchtime 5x ./pkg/journal
