# Shipping figures (docs/shipping.md): throughput to a real VictoriaLogs
# (events per CPU-second of the exporter's side, Go benchmarks) and the
# lag at a steady 5k lines/s (scripts/bench-ship.sh). The shipping tests
# themselves (pkg/ship, exporter TestShip*) run in `unit`, with the
# victoria-logs binary scripts/deps.sh installs; they add about 30s.
BENCH_TARGETS += bench-ship

.PHONY: bench-ship
bench-ship: build
	$(GO) test -run '^$$' -bench '^BenchmarkShip' -benchtime 3x ./pkg/ship
	bash scripts/bench-ship.sh
