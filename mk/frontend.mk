# The Grafana datasource plugin's frontend (src/, package.json): the query
# and config editors Grafana shows, built with webpack, tested with jest
# against the frames the Go backend serialises; see src/README.md and
# docs/plugin-frontend.md.
#   make frontend   npm ci from the lockfile, typecheck, lint, jest, webpack build (CI runs it)
#   make plugin     the whole plugin: dist/ (frontend + backend for every platform)
#                   and bin/mailtrail-postfix-datasource-<version>.zip
.PHONY: frontend frontend-build plugin
TEST_TARGETS += frontend
NPM ?= npm

frontend:
	@command -v $(NPM) >/dev/null || { echo "frontend: npm not found (Node.js 20 or newer is needed)"; exit 1; }
	$(NPM) ci --no-audit --no-fund
	$(NPM) run typecheck
	$(NPM) run lint
	$(NPM) run test:ci
	$(NPM) run build

# The build alone, installing from the lockfile only when node_modules is missing.
frontend-build:
	@[ -d node_modules ] || $(NPM) ci --no-audit --no-fund
	$(NPM) run build

plugin: frontend-build
	$(MAKE) plugin-backend
	bash scripts/package-plugin.sh
