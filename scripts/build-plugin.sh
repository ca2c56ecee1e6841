#!/usr/bin/env bash
# Builds the datasource plugin's backend the way the Grafana plugin SDK's
# mage build does: CGO off, statically linked, debug info stripped, the
# arrow_json_stdlib tag, build info (plugin id, version, time) linked in.
#
#   scripts/build-plugin.sh                 all platforms Grafana runs on
#   scripts/build-plugin.sh linux/amd64     only these (CI builds only what its tests need)
#
# Output: dist/gpx_mailtrail_<os>_<arch>[.exe]
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
OUT=${OUT:-dist}
PLUGIN_ID=mailtrail-postfix-datasource
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
platforms=("$@")
if [ ${#platforms[@]} -eq 0 ]; then
	platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
fi

# The build time is the commit's under SOURCE_DATE_EPOCH (make release), so
# a rebuild of the same commit gives the same binaries.
info=$(printf '{"time":%d,"pluginID":"%s","version":"%s"}' "$((${SOURCE_DATE_EPOCH:-$(date +%s)} * 1000))" "$PLUGIN_ID" "$VERSION")
ldflags="-w -s -extldflags \"-static\" -X 'github.com/grafana/grafana-plugin-sdk-go/build/buildinfo.buildInfoJSON=$info'"

mkdir -p "$OUT"
for p in "${platforms[@]}"; do
	os=${p%/*}
	arch=${p#*/}
	exe="$OUT/gpx_mailtrail_${os}_${arch}"
	[ "$os" = windows ] && exe="$exe.exe"
	echo "building $exe"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -tags arrow_json_stdlib -ldflags "$ldflags" -o "$exe" ./datasource-plugin
	# The binary must not need a C library on the Grafana host.
	if ! "$GO" version -m "$exe" | grep -q 'CGO_ENABLED=0'; then
		echo "$exe was not built with CGO off" >&2
		exit 1
	fi
done
