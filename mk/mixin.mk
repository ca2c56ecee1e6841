# The Prometheus mixin (mixin/): rules/ and provisioning/dashboards/ are
# generated from it with the Debian jsonnet; see mixin/README.md.
JSONNET    ?= jsonnet
JSONNETFMT ?= jsonnetfmt
MIXIN_SRC  := $(shell find mixin -name '*.libsonnet' -o -name '*.jsonnet' 2>/dev/null)

.PHONY: mixin mixin-test mixin-check mixin-fmt demo-stack

mixin:
	$(JSONNET) -J mixin -S mixin/alerts.jsonnet > rules/mailtrail-alerts.yaml
	$(JSONNET) -J mixin -S mixin/rules.jsonnet > rules/mailtrail-rules.yaml
	rm -f provisioning/dashboards/*.json
	$(JSONNET) -J mixin -m provisioning/dashboards mixin/dashboards.jsonnet >/dev/null

mixin-fmt:
	$(JSONNETFMT) -i $(MIXIN_SRC)

# jsonnetfmt, then promtool on the committed rules, then the Go tests of
# mixin/: drift, docker-compose, and the end-to-end alert test with real
# Prometheus and Alertmanager.
mixin-test: mixin-check
	$(GO) test -count=1 ./mixin/...

# What `make test` adds to `go test ./...` (which already runs the mixin's
# Go tests): formatting and promtool.
mixin-check:
	@out=$$(for f in $(MIXIN_SRC); do $(JSONNETFMT) --test $$f >/dev/null 2>&1 || echo $$f; done); \
	  if [ -n "$$out" ]; then echo "jsonnetfmt needed (make mixin-fmt):"; echo "$$out"; exit 1; fi
	promtool check rules rules/mailtrail-alerts.yaml rules/mailtrail-rules.yaml
	cd rules && promtool test rules tests/*.yaml

demo-stack: build
	bash scripts/demo-stack.sh

TEST_TARGETS += mixin-check
