#!/bin/sh
# Removal keeps the journal (/var/lib/mailtrail) and the user that owns it,
# so a reinstall finds its data. Purging (dpkg --purge) deletes both, with
# the configuration dpkg already removes.
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi

if [ "$1" = "purge" ]; then
	rm -rf /var/lib/mailtrail
	rmdir /etc/mailtrail 2>/dev/null || true
	if getent passwd mailtrail >/dev/null; then
		userdel mailtrail >/dev/null 2>&1 || true
	fi
	if getent group mailtrail >/dev/null; then
		groupdel mailtrail >/dev/null 2>&1 || true
	fi
fi
exit 0
