#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The arm64 guest smoke (make arm64-kernel-test): boot Debian's own arm64 kernel (the current
# dependency of linux-image-arm64:arm64, its vmlinuz a plain Image) under qemu-system-aarch64
# (-M virt -cpu max, TCG) and, inside, run the cross-built .output/arm64/ecaptop: --check, then
# one --batch --json capture of a TLS request and its response between openssl s_client and
# s_server on 127.0.0.1. The guest runs this machine's root (read-only over 9p) for its arm64
# multiarch libraries; its /bin is x86, so the guest's shell is a static arm64 busybox and its
# openssl the arm64 one, both downloaded with apt-get download and unpacked (never installed)
# into the cache, $ECAPTOP_KERNEL_CACHE/arm64 (default /var/cache/ecaptop-kernels/arm64).
# The guest (arm64-guest.sh) only runs the programs; the checks run here, on its output.
# ECAPTOP: the arm64 binary (default .output/arm64/ecaptop).
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$TOP/tests/lib/results.sh"
ECAPTOP=${ECAPTOP:-$TOP/${OUTPUT:-.output}/arm64/ecaptop}
OUT=$TOP/${OUTPUT:-.output}/kernels/arm64
cache=${ECAPTOP_KERNEL_CACHE:-/var/cache/ecaptop-kernels}/arm64
EVENTS="python3 $TOP/tests/integration/events.py"
t0=$SECONDS

die() { # NAME REASON: one failure, and stop
	result FAIL "arm64-kernel/$1" "$2"
	exit 1
}
for c in qemu-system-aarch64 modprobe cpio apt-get dpkg-deb openssl; do
	command -v $c >/dev/null || die setup "$c is missing (make deps)"
done
file -b "$ECAPTOP" 2>/dev/null | grep -q 'ARM aarch64' || die setup "$ECAPTOP is not an arm64 binary (make ARCH=arm64)"
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# fetch PKG:arm64 DIR: download PKG and unpack it into DIR (once; kept in the cache).
fetch() {
	local pkg=$1 dir=$2 tmp
	[ -d "$dir" ] && return 0
	tmp=$(mktemp -d "$cache/dl.XXXXXX") || return 1
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg") >&2 &&
		mkdir -p "$tmp/x" && dpkg-deb -x "$tmp"/*.deb "$tmp/x" && mv "$tmp/x" "$dir"
	local rc=$?
	rm -rf "$tmp"
	return $rc
}
version() { apt-cache show --no-all-versions "$1" 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }

kpkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {sub(/:.*/, "", $2); print $2; exit}')
[ -n "$kpkg" ] || die fetch "no linux-image-arm64:arm64 in apt's lists (make deps-cross)"
kdir=$cache/$kpkg
if [ ! -d "$kdir" ]; then
	fetch "$kpkg:arm64" "$kdir.tmp" || die fetch "cannot download $kpkg:arm64"
	# The package has no modules.dep (made at install): the initramfs needs it.
	depmod -b "$kdir.tmp" "$(ls "$kdir.tmp/lib/modules")" && mv "$kdir.tmp" "$kdir" ||
		die fetch "depmod failed for $kpkg"
fi
bbdir=$cache/busybox-static_$(version busybox-static:arm64)
ssldir=$cache/openssl_$(version openssl:arm64)
fetch busybox-static:arm64 "$bbdir" || die fetch "cannot download busybox-static:arm64"
fetch openssl:arm64 "$ssldir" || die fetch "cannot download openssl:arm64"
bb=$bbdir/bin/busybox
file -b "$bb" | grep -q 'ARM aarch64.*statically linked' || die fetch "$bb is not a static arm64 busybox"
fetched=$((SECONDS - t0))
kver=$(ls "$kdir/lib/modules")

rm -rf "$OUT"
mkdir -p "$OUT"
# The server's certificate, made here (key generation is slow under TCG).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
	-keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null || die setup "cannot make a certificate"
tag=arm64-$RANDOM$RANDOM
printf 'GET /index.txt HTTP/1.0\r\nX-Arm64-Smoke: %s\r\n\r\n' "$tag" >"$OUT/request"
printf 'body-%s\n' "$tag" >"$OUT/index.txt"

# The initramfs: the arm64 busybox, the 9p modules in load order (decompressed: busybox insmod
# reads plain .ko only; virtio_pci may be built in) and /init.
ird=$(mktemp -d)
trap 'rm -rf "$ird"' EXIT
mkdir -p "$ird"/{bin,dev,proc,sys,mnt,mods}
cp "$bb" "$ird/bin/busybox"
n=0
for m in virtio_pci 9pnet_virtio 9p; do
	modprobe -d "$kdir" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	n=$((n + 1))
	dst=$ird/mods/$(printf '%02d' "$n")-$(basename "${ko%%.ko*}").ko
	case $ko in
	*.xz) xz -dc "$ko" >"$dst" ;;
	*.zst) zstd -qdc "$ko" >"$dst" ;;
	*.gz) gzip -dc "$ko" >"$dst" ;;
	*) cp "$ko" "$dst" ;;
	esac
done
# The project's tree, the cache and OUT are shared in on their own, at their own paths (the
# guest's /tmp is a tmpfs, and a checkout or the cache may live there).
cat >"$ird/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /mods/*.ko; do insmod "\$m" || echo "init: insmod \$m failed"; done
o=trans=virtio,version=9p2000.L,msize=512000
if ! mount -t 9p -o \$o,ro,cache=loose hostroot /mnt; then
	echo "init: cannot mount the host's root"; poweroff -f
fi
mount -t proc proc /mnt/proc
mount -t sysfs sys /mnt/sys
mount -t devtmpfs dev /mnt/dev
for d in /tmp /run /var/tmp /root; do mount -t tmpfs tmpfs /mnt\$d; done
mount -t tracefs tracefs /mnt/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /mnt/sys/kernel/debug 2>/dev/null
mkdir -p /mnt$TOP /mnt$OUT /mnt$cache
mount -t 9p -o \$o,ro,cache=loose top /mnt$TOP
mount -t 9p -o \$o,ro,cache=loose kcache /mnt$cache
mount -t 9p -o \$o out /mnt$OUT
ip link set lo up
chroot /mnt $bb env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	$bb sh $TOP/tests/kernels/arm64-guest.sh $bb $ssldir $ECAPTOP $OUT >/mnt$OUT/guest.log 2>&1 </dev/null
echo \$? >/mnt$OUT/rc
sync
poweroff -f
INIT
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initrd.gz"

t1=$SECONDS
timeout "${ECAPTOP_VM_TIMEOUT:-900}" qemu-system-aarch64 -M virt -accel tcg,thread=multi \
	-cpu max,pauth-impdef=on -smp "${ECAPTOP_VM_CPUS:-2}" -m "${ECAPTOP_VM_MEM:-1024}" \
	-kernel "$kdir/boot/vmlinuz-$kver" -initrd "$OUT/initrd.gz" \
	-append "console=ttyAMA0 panic=-1 quiet loglevel=4" -nographic -no-reboot -nic none \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$TOP,mount_tag=top,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$cache,mount_tag=kcache,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$OUT,mount_tag=out,security_model=none" \
	-serial "file:$OUT/console.log" -monitor none -display none </dev/null
st=$?
booted=$((SECONDS - t1))
sed 's/^/  /' "$OUT/guest.log" 2>/dev/null
[ $st = 124 ] && die boot "the guest did not finish within ${ECAPTOP_VM_TIMEOUT:-900} s; $OUT/console.log"
[ -f "$OUT/rc" ] || die boot "the guest did not run its script; $OUT/console.log: $(tail -5 "$OUT/console.log")"

# The checks, on what the guest wrote to OUT.
rc=0
check() { # NAME COMMAND...
	local name=$1
	shift
	if "$@"; then
		result PASS "arm64-kernel/$name"
	else
		result FAIL "arm64-kernel/$name"
		rc=1
	fi
}
t_check() {
	[ "$(cat "$OUT/check.rc" 2>/dev/null)" = 0 ] && grep -q '^capture: possible' "$OUT/check.out" &&
		grep -qE '^  openssl .* works$' "$OUT/check.out"
}
# contains FILE NEEDLE_FILE: FILE holds NEEDLE_FILE's bytes.
contains() {
	python3 -c 'import sys; sys.exit(open(sys.argv[2], "rb").read() not in open(sys.argv[1], "rb").read())' "$@"
}
t_capture() {
	local c
	[ "$(cat "$OUT/guest.rc" 2>/dev/null)" = 0 ] || return 1
	$EVENTS "$OUT/cap.json" --check-json || return 1
	c=$(cat "$OUT/client.pid")
	# The exact request s_client wrote and the file s_server answered with, as s_client read
	# them. s_server -WWW reads through BIO_f_ssl, which only the ssl_read_internal probe
	# sees, and elfcallee.h finds that callee in x86 code only: on arm64 ecaptop probes
	# SSL_read/SSL_write (it says so), so s_server's side is not expected here.
	$EVENTS "$OUT/cap.json" --source openssl --pid "$c" --dir send --concat >"$OUT/client.send"
	$EVENTS "$OUT/cap.json" --source openssl --pid "$c" --dir recv --concat >"$OUT/client.recv"
	contains "$OUT/client.send" "$OUT/request" || { echo "  the client's request not captured"; return 1; }
	contains "$OUT/client.recv" "$OUT/index.txt" || { echo "  the response not captured"; return 1; }
	grep -q 'HTTP/1.0 200 ok' "$OUT/client.recv" || { echo "  no response status captured"; return 1; }
}
check check t_check
check capture t_capture
secs=$((SECONDS - t0))
st=PASS
[ $rc = 0 ] || st=FAIL
result $st arm64-kernel "$kpkg; fetch ${fetched} s, boot and run ${booted} s, total ${secs} s"
exit $rc
