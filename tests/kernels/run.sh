#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The kernel matrix: boot each of Debian's kernels under qemu (fetch.sh, boot.sh) and
# run the capture smoke (smoke.sh) inside; one result line per check and kernel.
# run.sh [SERIES...] (default: 5.10 6.1 6.12). ECAPTOP: the binary (default ./ecaptop).
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$TOP/tests/lib/results.sh"
export ECAPTOP=${ECAPTOP:-$TOP/ecaptop}
OUT=$TOP/${OUTPUT:-.output}/kernels
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(5.10 6.1 6.12)
mkdir -p "$OUT"

# The Go peer, built here once (the guests share this file system read-only).
go_bin=$OUT/tlspeer
if [ ! -x "$go_bin" ] || [ "$TOP/tests/integration/go/tlspeer.go" -nt "$go_bin" ]; then
	(cd "$TOP/tests/integration/go" && GOCACHE=$OUT/gocache GOPATH=$OUT/gopath GOPROXY=off \
		GO111MODULE=auto GOFLAGS= go build -o "$go_bin" tlspeer.go) || {
		result FAIL kernel-matrix "cannot build the Go peer"
		exit 1
	}
fi

rc=0
for s in "${series[@]}"; do
	t0=$SECONDS
	if ! kdir=$("$TOP/tests/kernels/fetch.sh" "$s"); then
		result FAIL "kernel-$s" "cannot fetch Debian's $s kernel"
		rc=1
		continue
	fi
	out=$OUT/$s
	rm -rf "$out"
	"$TOP/tests/kernels/boot.sh" "$kdir" "$out" "$TOP/tests/kernels/smoke.sh" "$go_bin"
	st=$?
	secs=$((SECONDS - t0))
	sed 's/^/  /' "$out/guest.log" 2>/dev/null
	if [ -s "$out/guest.log" ]; then
		while read -r word name; do
			case $word in
			ok) result PASS "kernel-$s/$name" ;;
			FAILED) result FAIL "kernel-$s/$name" ;;
			esac
		done < <(grep -E '^(ok|FAILED) ' "$out/guest.log")
	fi
	if [ $st -eq 0 ]; then
		result PASS "kernel-$s" "$(basename "$kdir"), ${secs} s"
	else
		result FAIL "kernel-$s" "$(basename "$kdir"), status $st, ${secs} s; $out/console.log"
		rc=1
	fi
done
exit $rc
