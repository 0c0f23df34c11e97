#!/bin/sh
# Installs the Debian packages smsgwd needs to build, test and run it.
# Idempotent: does nothing (and needs no network) when everything is there.
set -eu

PKGS="make gcc pkg-config perl sqlite3
libevent-dev libsmpp34-dev libsqlite3-dev libpcre2-dev libinih-dev
libcmocka-dev libjansson-dev libsystemd-dev libmimalloc-dev libnet-smpp-perl
nettle-dev tshark
systemd groff-base man-db
clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run 'make deps' as root, or install them with apt-get" >&2
	exit 1
fi
echo "deps: installing$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
