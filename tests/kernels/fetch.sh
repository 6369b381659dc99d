#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Fetch (download, never install) one of Debian's own amd64 kernels and unpack it
# into the cache: fetch.sh SERIES, SERIES one of 5.10 (Debian 11), 6.1, 6.12 (Debian 12).
# Prints the unpacked directory (boot/vmlinuz-*, lib/modules/*). Cached between runs
# in $ECAPTOP_KERNEL_CACHE (default /var/cache/ecaptop-kernels).
set -euo pipefail

series=${1:?usage: fetch.sh 5.10|6.1|6.12}
cache=${ECAPTOP_KERNEL_CACHE:-/var/cache/ecaptop-kernels}
mkdir -p "$cache"

# Debian 11's packages come from a private apt configuration, used only for this
# download: the host's own sources (Debian 12) stay as they are.
bullseye_apt() {
	local d=$cache/apt-bullseye
	mkdir -p "$d/lists/partial" "$d/archives/partial"
	if [ ! -f "$d/sources.list" ]; then
		cat >"$d/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-bullseye-security-automatic.gpg] http://deb.debian.org/debian-security bullseye-security main
deb [signed-by=/usr/share/keyrings/debian-archive-bullseye-stable.gpg] http://deb.debian.org/debian bullseye main
SRC
	fi
	local opts=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d" -o "Dir::Cache::archives=$d/archives"
		-o "Dir::State::status=/dev/null" -o APT::Architecture=amd64)
	# Refresh the package lists at most once a day.
	if [ -z "$(find "$d/lists" -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
		apt-get "${opts[@]}" update -qq >&2
	fi
	"$@" "${opts[@]}"
}

case $series in
5.10) pkg=$(bullseye_apt apt-cache depends linux-image-amd64 |
	awk '/Depends: linux-image-5\.10/ {print $2; exit}') ;;
6.1) pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6\.1\./ {print $2; exit}') ;;
6.12) pkg=$(apt-cache pkgnames linux-image-6.12. | grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
	sort -V | tail -1) ;;
*)
	echo "fetch.sh: unknown kernel series '$series' (5.10, 6.1 or 6.12)" >&2
	exit 2
	;;
esac
if [ -z "$pkg" ]; then
	echo "fetch.sh: no Debian package found for kernel $series" >&2
	exit 1
fi

dir=$cache/$pkg
if [ ! -d "$dir/boot" ]; then
	tmp=$(mktemp -d "$cache/dl.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	if [ "$series" = 5.10 ]; then
		(cd "$tmp" && bullseye_apt apt-get download -qq "$pkg") >&2
	else
		(cd "$tmp" && apt-get download -qq "$pkg") >&2
	fi
	mkdir -p "$tmp/x"
	dpkg-deb -x "$tmp"/*.deb "$tmp/x"
	# The package has no modules.dep (made at install): boot.sh needs it.
	depmod -b "$tmp/x" "$(ls "$tmp/x/lib/modules")"
	rm -rf "$dir"
	mv "$tmp/x" "$dir"
fi
echo "$dir"
