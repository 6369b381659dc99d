#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# target-btf.sh DEB_ARCH OUT: the BTF of Debian's own kernel for DEB_ARCH (arm64), written
# raw to OUT, for a cross build's vmlinux.h (bpftool btf dump file OUT format c). The
# kernel package (linux-image-DEB_ARCH's current dependency) is downloaded with apt-get
# download, never installed; its BTF is the .BTF section the kernel image carries for
# /sys/kernel/btf/vmlinux, found by its header (include/uapi/linux/btf.h: magic 0xeB9F,
# version 1, 24-byte header, then the type and string sections it sizes). Cached in
# $ECAPTOP_KERNEL_CACHE/DEB_ARCH (default /var/cache/ecaptop-kernels/DEB_ARCH).
set -euo pipefail

arch=${1:?usage: target-btf.sh DEB_ARCH OUT}
out=${2:?usage: target-btf.sh DEB_ARCH OUT}
cache=${ECAPTOP_KERNEL_CACHE:-/var/cache/ecaptop-kernels}/$arch
mkdir -p "$cache"

# The :arch package lists exist once dpkg knows the architecture (make deps-cross).
pkg=$(apt-cache depends "linux-image-$arch:$arch" 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {sub(/:.*/, "", $2); print $2; exit}')
if [ -z "$pkg" ]; then
	echo "target-btf.sh: no linux-image-$arch:$arch in apt's lists (run make deps-cross)" >&2
	exit 1
fi

btf=$cache/$pkg.btf
if [ ! -s "$btf" ]; then
	tmp=$(mktemp -d "$cache/dl.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg:$arch") >&2
	dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
	img=$(echo "$tmp"/boot/vmlinuz-*)
	# arm64's vmlinuz is a plain Image on Debian 12; a gzip one is unpacked first.
	if [ "$(head -c 2 "$img" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
		zcat "$img" >"$tmp/Image"
		img=$tmp/Image
	fi
	python3 - "$img" "$tmp/btf" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
# struct btf_header: magic, version, flags, hdr_len, type_off, type_len, str_off, str_len
at = data.find(b"\x9f\xeb\x01\x00\x18\x00\x00\x00")
if at < 0:
	sys.exit("target-btf.sh: no BTF in " + sys.argv[1] + " (a kernel without CONFIG_DEBUG_INFO_BTF?)")
_, _, _, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data, at)
if type_off != 0 or str_off != type_len:
	sys.exit("target-btf.sh: the BTF header at %d does not frame a type and a string section" % at)
end = at + hdr_len + str_off + str_len
if end > len(data):
	sys.exit("target-btf.sh: the BTF at %d runs past the image" % at)
open(sys.argv[2], "wb").write(data[at:end])
PY
	mv "$tmp/btf" "$btf"
fi
echo "target-btf.sh: $pkg ($arch), $(stat -c %s "$btf") bytes of BTF" >&2
cp "$btf" "$out"
