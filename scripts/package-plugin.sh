#!/usr/bin/env bash
# Packs dist/ (frontend + backend binaries) into a plugin archive laid out
# like Grafana's: <plugin id>/ at the top of bin/<plugin id>-<version>.zip,
# with executable bits kept, and a .sha1 beside it (what the plugin catalog
# shows). Install with:
#   grafana cli --pluginUrl file://$PWD/bin/<zip> plugins install mailtrail-postfix-datasource
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=${DIST:-dist}
PLUGIN_ID=$(node -p "require('./src/plugin.json').id")
VERSION=$(node -p "require('./package.json').version")
OUTDIR=${OUTDIR:-bin}
ZIP="$OUTDIR/$PLUGIN_ID-$VERSION.zip"

for f in module.js plugin.json; do
	[ -f "$DIST/$f" ] || { echo "package-plugin: $DIST/$f missing: run npm run build first" >&2; exit 1; }
done
if ! ls "$DIST"/gpx_mailtrail_* >/dev/null 2>&1; then
	echo "package-plugin: no backend binaries in $DIST: run make plugin-backend first" >&2
	exit 1
fi
if grep -q '%VERSION%' "$DIST/plugin.json"; then
	echo "package-plugin: $DIST/plugin.json still has %VERSION%" >&2
	exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -a "$DIST" "$stage/$PLUGIN_ID"
chmod 0755 "$stage/$PLUGIN_ID"/gpx_mailtrail_*
# Entries carry the commit's time under SOURCE_DATE_EPOCH (make release):
# the same commit gives the same zip.
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi

mkdir -p "$OUTDIR"
rm -f "$ZIP" "$ZIP.sha1"
zip_abs="$PWD/$ZIP"
# python's zipfile keeps the mode bits, so Grafana finds the binaries executable.
(cd "$stage" && python3 -m zipfile -c "$zip_abs" "$PLUGIN_ID")
sha1sum "$ZIP" | cut -d' ' -f1 >"$ZIP.sha1"
echo "$ZIP ($(du -h "$ZIP" | cut -f1), sha1 $(cat "$ZIP.sha1"))"
