#!/usr/bin/env bash
# Builds one statically linked exporter binary for linux/<arch>: the
# release tarballs and the container image run it on any Linux, whatever
# its C library. The journal's SQLite driver (mattn/go-sqlite3) is cgo, so
# each architecture needs a C compiler for it: gcc for the host's own,
# Debian's cross compiler (gcc-aarch64-linux-gnu) for arm64. Linux only:
# Postfix and Dovecot hosts run Linux, and Debian packages no cgo cross
# toolchain for macOS. Static glibc links cleanly only without NSS and
# dlopen: osusergo and netgo keep user and DNS lookups in Go, and
# sqlite_omit_load_extension drops SQLite's extension loading; timetzdata
# embeds the zone database, so --log.timezone=Europe/Berlin works in an
# image without /usr/share/zoneinfo.
#
#   scripts/build-exporter.sh linux/arm64 dist/mailtrail
#
# LDFLAGS (the version stamp, see the Makefile) is added to the link.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
platform=${1:?usage: build-exporter.sh linux/<arch> OUTPUT}
out=${2:?usage: build-exporter.sh linux/<arch> OUTPUT}
os=${platform%/*}
arch=${platform#*/}
if [ "$os" != linux ]; then
	echo "build-exporter: $platform: the exporter is built for linux only" >&2
	exit 2
fi

# Debian names its cross compilers by GNU triplet.
case $arch in
"$("$GO" env GOHOSTARCH)") cc=${CC:-gcc} ;;
arm64) cc=aarch64-linux-gnu-gcc ;;
amd64) cc=x86_64-linux-gnu-gcc ;;
*) cc="" ;;
esac
if [ -z "$cc" ] || ! command -v "$cc" >/dev/null; then
	echo "build-exporter: $platform needs a C compiler for the cgo SQLite driver (${cc:-no cross compiler known for $arch}): on Debian apt-get install crossbuild-essential-$arch" >&2
	exit 3
fi

CC=$cc CGO_ENABLED=1 GOOS=linux GOARCH=$arch "$GO" build -trimpath \
	-tags osusergo,netgo,sqlite_omit_load_extension,timetzdata \
	-ldflags "-s -w -linkmode external -extldflags -static ${LDFLAGS:-}" \
	-o "$out" ./exporter
