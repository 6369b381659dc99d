#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The install tests: make install/uninstall into a DESTDIR, and the .deb (make deb)
# installed with apt-get in a fresh root: a copy-on-write view of this machine's
# root (overlayfs in a private mount namespace), so nothing here is changed. There:
# apt-get install ./ecaptop_*.deb, ecaptop --check, apt-get purge, nothing left.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$TOP/tests/lib/results.sh"
OUT=$TOP/${OUTPUT:-.output}
tmp=$(mktemp -d /tmp/ecaptop-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rc=0

# make install / uninstall with PREFIX and DESTDIR.
d=$tmp/destdir
if make -C "$TOP" --no-print-directory -s install DESTDIR="$d" PREFIX=/opt/ec >"$tmp/inst.log" 2>&1 &&
	[ -x "$d/opt/ec/sbin/ecaptop" ] && [ -f "$d/opt/ec/share/man/man8/ecaptop.8" ] &&
	[ -f "$d/opt/ec/share/ecaptop/themes/dark.theme" ] &&
	make -C "$TOP" --no-print-directory -s uninstall DESTDIR="$d" PREFIX=/opt/ec >>"$tmp/inst.log" 2>&1 &&
	[ -z "$(find "$d" -type f)" ]; then
	result PASS install/make-install-uninstall
else
	cat "$tmp/inst.log"
	find "$d" | sed 's/^/  /'
	result FAIL install/make-install-uninstall
	rc=1
fi

deb=$(make -C "$TOP" --no-print-directory -s deb 2>"$tmp/deb.err" | tail -1)
[ -z "$deb" ] || deb=$(cd "$TOP" && realpath "$deb")
if [ ! -f "$deb" ]; then
	cat "$tmp/deb.err"
	result FAIL install/deb "make deb built nothing"
	exit 1
fi
dpkg-deb -f "$deb" Depends | sed 's/^/  Depends: /'

cat >"$tmp/inroot.sh" <<'IN'
set -e
export DEBIAN_FRONTEND=noninteractive
# Every dependency is already installed here: apt needs no download.
apt-get install -y -qq /tmp/ecaptop.deb >/tmp/apt-install.log 2>&1 ||
	{ cat /tmp/apt-install.log; exit 1; }
dpkg -s ecaptop | grep -q '^Status: install ok installed'
command -v ecaptop | grep -qx /usr/sbin/ecaptop
ecaptop --version
ecaptop --check >/tmp/check.out 2>&1 || { cat /tmp/check.out; exit 1; }
grep '^capture:' /tmp/check.out
man -w ecaptop | grep -q /usr/share/man/man8/ecaptop.8
apt-get purge -y -qq ecaptop >/tmp/apt-purge.log 2>&1 || { cat /tmp/apt-purge.log; exit 1; }
! dpkg -s ecaptop >/dev/null 2>&1
for f in /usr/sbin/ecaptop /usr/share/ecaptop /usr/share/man/man8/ecaptop.8.gz /usr/share/doc/ecaptop; do
	[ ! -e "$f" ] || { echo "left behind: $f"; exit 1; }
done
echo removed cleanly
IN
root=$tmp/root
mkdir -p "$root"
unshare -m bash -c '
set -e
t=$1 deb=$2 script=$3
mount -t tmpfs tmpfs "$t"
mkdir -p "$t/up" "$t/work" "$t/m"
mount -t overlay overlay -o "lowerdir=/,upperdir=$t/up,workdir=$t/work" "$t/m"
for d in proc sys dev; do mount --rbind "/$d" "$t/m/$d"; done
mount -t tmpfs tmpfs "$t/m/tmp"
cp "$deb" "$t/m/tmp/ecaptop.deb"
cp "$script" "$t/m/tmp/inroot.sh"
exec chroot "$t/m" /bin/bash /tmp/inroot.sh
' fresh-root "$root" "$deb" "$tmp/inroot.sh" >"$tmp/root.log" 2>&1
st=$?
sed 's/^/  /' "$tmp/root.log"
if [ $st -eq 0 ]; then
	result PASS install/deb-apt-install-check-purge "$(basename "$deb")"
else
	result FAIL install/deb-apt-install-check-purge "status $st"
	rc=1
fi
exit $rc
