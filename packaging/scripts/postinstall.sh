#!/bin/sh
# Creates the mailtrail system user (in groups adm and postdrop, where they
# exist) and its journal directory; enables the unit without starting it, so the
# operator can review /etc/mailtrail/mailtrail.yml first.
set -e

# adm reads the mail log (Debian: /var/log/mail.log root:adm 0640); postdrop
# lets `postqueue -j` reach Postfix's queue (postqueue's setgid is ignored
# under the unit's NoNewPrivileges). Only groups this host has: the unit
# names none, or a host without one could not start it. On Debian a Postfix
# installed later fires the trigger on /usr/sbin/postqueue (nfpm.yaml).
join_groups() {
	for group in adm postdrop; do
		if getent group "$group" >/dev/null; then
			usermod --append --groups "$group" mailtrail
		fi
	done
}

if [ "$1" = "triggered" ]; then
	# Only the groups: a service the operator disabled stays disabled.
	if getent passwd mailtrail >/dev/null; then
		join_groups
		if [ -d /run/systemd/system ] && systemctl is-active --quiet mailtrail.service; then
			systemctl restart mailtrail.service || true
		fi
	fi
	exit 0
fi

if ! getent group mailtrail >/dev/null; then
	groupadd --system mailtrail
fi
if ! getent passwd mailtrail >/dev/null; then
	useradd --system --gid mailtrail --home-dir /var/lib/mailtrail \
		--no-create-home --shell /usr/sbin/nologin \
		--comment "mailtrail mail-log monitor" mailtrail
fi
join_groups

mkdir -p /var/lib/mailtrail
chown mailtrail:mailtrail /var/lib/mailtrail
chmod 0750 /var/lib/mailtrail

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
	systemctl enable mailtrail.service >/dev/null || true
	# An upgrade restarts a running service on the new binary.
	if systemctl is-active --quiet mailtrail.service; then
		systemctl restart mailtrail.service || true
	fi
fi
exit 0
