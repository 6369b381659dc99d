#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# mkdeb.sh VERSION OUTDIR: build OUTDIR/ecaptop_VERSION_ARCH.deb from ./ecaptop with
# dpkg-deb. Installed under /usr (make install PREFIX=/usr); the runtime dependencies
# are the Debian packages of the libraries the binary links, from dpkg-shlibdeps.
set -euo pipefail

version=${1:?usage: mkdeb.sh VERSION OUTDIR}
outdir=${2:?}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
arch=$(dpkg --print-architecture)
mkdir -p "$outdir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage

make -C "$top" --no-print-directory install DESTDIR="$stage" PREFIX=/usr >/dev/null
gzip -9n "$stage/usr/share/man/man8/ecaptop.8"
install -d "$stage/usr/share/doc/ecaptop"
gzip -9nc "$top/README.md" >"$stage/usr/share/doc/ecaptop/README.md.gz"

# dpkg-shlibdeps reads a debian/control: a minimal one, in a scratch folder.
mkdir -p "$tmp/src/debian"
printf 'Source: ecaptop\n\nPackage: ecaptop\nArchitecture: any\n' >"$tmp/src/debian/control"
deps=$(cd "$tmp/src" && dpkg-shlibdeps -O "$stage/usr/sbin/ecaptop" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$deps" ] || { echo "mkdeb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CTL
Package: ecaptop
Version: $version
Architecture: $arch
Maintainer: ecaptop developers <ecaptop@localhost>
Installed-Size: $size
Depends: $deps
Section: net
Priority: optional
Description: top-like viewer of TLS plaintext, HTTP, SQL and shell activity (eBPF)
 ecaptop captures what processes send and receive through OpenSSL, GnuTLS, NSS and
 Go crypto/tls, plain sockets, bash and zsh, decodes HTTP/1, HTTP/2, MySQL and
 PostgreSQL, and shows it per process in a terminal UI or as JSON lines.
CTL
deb=$outdir/ecaptop_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
