#!/usr/bin/env bash
# Release build (`make release`): the exporter for every Linux platform as
# a tarball laid out like Prometheus exporters' (mailtrail-<version>.linux-
# <arch>/ with the binary, LICENSE, README.md, install.md, the example
# configuration and the systemd unit), the Grafana plugin's archive (frontend and backend
# for every platform Grafana runs on), and SHA256SUMS over them.
#
# The Makefile passes VERSION and LDFLAGS (the version stamp). The
# exporter's platforms need a C compiler each (scripts/build-exporter.sh);
# EXPORTER_PLATFORMS="linux/amd64" builds fewer.
#
# Output: dist/release/. The exporters build first (a missing cross
# compiler fails early), in a directory of their own: the plugin's
# frontend build (webpack) empties dist/ except its backend binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
VERSION=${VERSION#v}
EXPORTER_PLATFORMS=${EXPORTER_PLATFORMS:-linux/amd64 linux/arm64}
OUT=dist/release
# Tarball entries carry the commit's time, so the same commit gives the
# same archives.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

case $VERSION in
*dirty*) echo "release: warning: the work tree has uncommitted changes; version $VERSION" >&2 ;;
esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for p in $EXPORTER_PLATFORMS; do
	arch=${p#*/}
	name=mailtrail-$VERSION.linux-$arch
	dir=$stage/$name
	mkdir -p "$dir"
	echo "release: exporter $p"
	bash scripts/build-exporter.sh "$p" "$dir/mailtrail"
	# The binary is what was asked for: static, for this architecture, and
	# (where this machine runs it) stamped with this version.
	if ! "$GO" version -m "$dir/mailtrail" | grep -q "GOARCH=$arch\$"; then
		echo "release: $dir/mailtrail is not built for $arch" >&2
		exit 1
	fi
	if readelf -l "$dir/mailtrail" | grep -q 'INTERP'; then
		echo "release: $dir/mailtrail is dynamically linked" >&2
		exit 1
	fi
	# Another architecture's static binary runs under qemu-user where it
	# is installed (Debian package qemu-user).
	runner=()
	if [ "$arch" != "$("$GO" env GOHOSTARCH)" ]; then
		case $arch in arm64) runner=(qemu-aarch64) ;; amd64) runner=(qemu-x86_64) ;; esac
		command -v "${runner[0]:-none}" >/dev/null || runner=(skip)
	fi
	if [ "${runner[*]}" != skip ] && ! "${runner[@]}" "$dir/mailtrail" --version | grep -qF "version $VERSION "; then
		echo "release: $dir/mailtrail --version does not show $VERSION:" >&2
		"${runner[@]}" "$dir/mailtrail" --version >&2 || true
		exit 1
	fi
	cp LICENSE README.md docs/install.md packaging/mailtrail.yml packaging/mailtrail.service "$dir/"
	chmod 0755 "$dir/mailtrail"
	chmod 0644 "$dir"/LICENSE "$dir"/README.md "$dir"/install.md "$dir"/mailtrail.yml "$dir"/mailtrail.service
done

echo "release: Grafana plugin (frontend, backend for every platform)"
make --no-print-directory frontend-build
VERSION=$VERSION bash scripts/build-plugin.sh
rm -rf "$OUT"
OUTDIR=$OUT bash scripts/package-plugin.sh
rm -f "$OUT"/*.sha1 # SHA256SUMS covers it

for p in $EXPORTER_PLATFORMS; do
	name=mailtrail-$VERSION.linux-${p#*/}
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
		-C "$stage" -cf - "$name" | gzip -9n >"$OUT/$name.tar.gz"
done

(cd "$OUT" && sha256sum -- *.tar.gz *.zip >SHA256SUMS && sha256sum --quiet -c SHA256SUMS)
echo "release: $OUT (version $VERSION)"
ls -l "$OUT"
