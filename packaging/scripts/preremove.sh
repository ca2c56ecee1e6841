#!/bin/sh
# Stops the service before its binary goes. On an upgrade (deb: "upgrade",
# rpm: $1 >= 1) it keeps running and postinstall restarts it.
set -e

case "$1" in
remove | purge | 0)
	if [ -d /run/systemd/system ]; then
		systemctl stop mailtrail.service >/dev/null 2>&1 || true
		systemctl disable mailtrail.service >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
