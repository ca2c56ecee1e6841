# Linux packages (.deb, .rpm) of the exporter, installed as mailtrail with a
# hardened systemd unit and a default configuration (packaging/), built by
# nfpm; `make test` builds, lints, installs and purges the .deb.
NFPM         ?= $(GOBIN)/nfpm
# The journal's SQLite driver is cgo: arm64 needs a cross C compiler
# (Debian gcc-aarch64-linux-gnu) and is skipped without one.
PKG_ARCHES   ?= amd64 $(if $(shell command -v aarch64-linux-gnu-gcc),arm64)
# Package versions must start with a digit: an untagged tree is 0.0.0+g<hash>.
PKG_VERSION  ?= $(shell v=$$(git describe --tags 2>/dev/null) && echo "$${v\#v}" | tr - '~' || \
	echo "0.0.0+g$$(git rev-parse --short HEAD 2>/dev/null || echo dev)")
PKG_DIR      := dist/package
TEST_TARGETS += package-test

.PHONY: package package-test

package:
	@mkdir -p $(PKG_DIR) && rm -f $(PKG_DIR)/*.deb $(PKG_DIR)/*.rpm
	printf 'mailtrail ($(PKG_VERSION)-1) unstable; urgency=medium\n\n  * Package built from %s.\n\n -- mailtrail maintainers <mailtrail@example.org>  %s\n' \
		"$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"$$(date -R -d @$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || date +%s)})" \
		| gzip -9n > $(PKG_DIR)/changelog.Debian.gz
	@set -e; for arch in $(PKG_ARCHES); do \
		cc=gcc; [ $$arch = amd64 ] || cc=aarch64-linux-gnu-gcc; \
		CC=$$cc CGO_ENABLED=1 GOOS=linux GOARCH=$$arch $(GO) build -ldflags "-s -w $(LDFLAGS)" -o $(PKG_DIR)/mailtrail ./exporter; \
		for p in deb rpm; do \
			ARCH=$$arch PKG_VERSION=$(PKG_VERSION) $(NFPM) package --config packaging/nfpm.yaml --packager $$p --target $(PKG_DIR)/; \
		done; \
	done
	@ls -l $(PKG_DIR)/*.deb $(PKG_DIR)/*.rpm

# Builds the packages, then checks and installs the amd64 .deb on this
# machine (packaging/package_test.go; needs root, skipped otherwise).
package-test:
	$(MAKE) package PKG_ARCHES=amd64
	MAILTRAIL_DEB=$$(ls $(CURDIR)/$(PKG_DIR)/mailtrail_*_amd64.deb) MAILTRAIL_RPM=$$(ls $(CURDIR)/$(PKG_DIR)/mailtrail-*.x86_64.rpm) \
		$(GO) test -count=1 -timeout 3m -v ./packaging
