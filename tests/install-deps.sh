#!/bin/sh
# Installs the Debian packages tokenportal needs to build, test and run the demo.
# Idempotent: asks dpkg first and calls apt-get only for what is missing, so a
# machine that already has everything is left untouched (and needs no network).
set -eu

BUILD="build-essential pkg-config libfcgi-dev clearsilver-dev libldap-dev
libqrencode-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev libpam0g-dev
libcmocka-dev zlib1g-dev"
RUNTIME="nginx slapd ldap-utils oathtool zbar-tools librsvg2-bin sqlite3
python3 curl chromium ca-certificates openssl"

missing=""
for p in $BUILD $RUNTIME; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
# Node.js is only needed for the browser tests; any node >= 18 will do, so a
# machine that has one from elsewhere keeps it.
command -v node >/dev/null 2>&1 || missing="$missing nodejs npm"

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages:$missing (run as root to install)" >&2
		exit 1
	fi
	echo "install-deps: installing$missing"
	echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
	# The package starts system daemons we never use; tests run their own.
	for svc in slapd nginx; do
		if command -v systemctl >/dev/null 2>&1; then systemctl stop $svc 2>/dev/null || true; fi
		service $svc stop >/dev/null 2>&1 || true
	done
fi
