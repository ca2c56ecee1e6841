# The Grafana datasource plugin's backend (datasource-plugin/, pkg/datasource):
# the static binaries dist/gpx_mailtrail_<os>_<arch> Grafana starts, which ask
# every exporter's query API; see docs/plugin.md. `make plugin` (mk/frontend.mk) builds the whole plugin;
# `make plugin-backend` only the Go side, for every platform.
.PHONY: plugin-backend plugin-backend-check bench-plugin
TEST_TARGETS  += plugin-backend-check
BENCH_TARGETS += bench-plugin

plugin-backend:
	bash scripts/build-plugin.sh

# CI builds only the platform its tests run on; `go test ./...` has
# already driven that binary over gRPC against real exporters.
plugin-backend-check:
	bash scripts/build-plugin.sh linux/amd64
	@if ldd dist/gpx_mailtrail_linux_amd64 >/dev/null 2>&1; then echo "dist/gpx_mailtrail_linux_amd64 is dynamically linked"; exit 1; fi

# A trace over 10 exporters on loopback; reports p99-ms (goal <= 50).
bench-plugin:
	$(GO) test -run '^$$' -bench '^BenchmarkTraceFanOut10$$' -benchtime 2000x ./pkg/datasource
