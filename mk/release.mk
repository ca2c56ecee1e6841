# Release build: `make release` writes dist/release/ — the exporter as
# mailtrail-<version>.linux-<arch>.tar.gz (static binary, LICENSE, README,
# example configuration, systemd unit) for amd64 and arm64, the Grafana
# plugin's zip (every platform's backend), and SHA256SUMS; see
# scripts/release.sh and docs/install.md. The stamp it carries is checked
# in `make test` by exporter's TestVersionStamp, not by a release build.
.PHONY: release

release:
	VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' bash scripts/release.sh
