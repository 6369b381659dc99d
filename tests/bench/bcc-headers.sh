#!/bin/sh
# Run a bcc tool where this kernel has no headers package: inside a private mount
# namespace (nothing outside changes), /lib/modules/$(uname -r)/{build,source} point
# at the newest Debian linux-headers package installed, and tracefs is mounted (bcc
# creates its uprobe events there). bcc programs that use only pt_regs and helpers
# (as sslsniff does) do not depend on the kernel's struct layouts.
# Usage: unshare -m --propagation private bcc-headers.sh COMMAND...
set -e
build=$(ls -d /usr/src/linux-headers-*-amd64 /usr/src/linux-headers-*-arm64 2>/dev/null |
	sort -V | tail -n 1)
[ -n "$build" ] || { echo "bcc-headers: no linux-headers package installed" >&2; exit 1; }
common=$(echo "$build" | sed 's/-[a-z0-9]*$/-common/')
mkdir -p /lib/modules
mount -t tmpfs bench-modules /lib/modules
mkdir -p "/lib/modules/$(uname -r)"
ln -s "$build" "/lib/modules/$(uname -r)/build"
ln -s "$common" "/lib/modules/$(uname -r)/source"
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
exec "$@"
