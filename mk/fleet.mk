# The fleet store (issue 16, docs/fleet.md): bench-fleet ships INSTANCES
# (10) journals of EVENTS (1,000,000) simulated events each into a real
# VictoriaLogs and compares a central trace's p50/p99 with fan-out's over
# the same data (QUERIES=200 traces; KEEP=dir keeps the journals). Not part
# of make test: it takes minutes and gigabytes.
BENCH_TARGETS += bench-fleet

.PHONY: bench-fleet
bench-fleet: build
	bash scripts/bench-fleet.sh
