#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# boot.sh KERNEL_DIR OUT_DIR SCRIPT [ARGS...]: boot an unpacked Debian kernel (fetch.sh)
# under qemu (TCG), with this machine's root file system shared in read-only over
# virtfs, and run SCRIPT (a path on this machine) as root inside it, chrooted into
# that file system. The guest writes to tmpfs (/tmp, /run, /var/tmp) and to OUT_DIR,
# shared read-write at the same path. SCRIPT's output goes to OUT_DIR/guest.log, the
# kernel's console to OUT_DIR/console.log; boot.sh exits with SCRIPT's status
# (124 if the guest did not finish within $ECAPTOP_VM_TIMEOUT seconds, default 1800).
set -euo pipefail

kdir=$(cd "${1:?usage: boot.sh KERNEL_DIR OUT_DIR SCRIPT [ARGS...]}" && pwd)
# The project's tree is shared in on its own, at its own path: the guest's /tmp is a
# tmpfs, and a checkout may live there (CI's fresh clone can).
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${2:?}
script=$(realpath "${3:?}")
shift 3
mkdir -p "$out"
out=$(cd "$out" && pwd)
kver=$(ls "$kdir/lib/modules")
vmlinuz=$kdir/boot/vmlinuz-$kver
busybox=$(command -v busybox) || { echo "boot.sh: busybox (busybox-static) is missing" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "boot.sh: qemu-system-x86 is missing" >&2; exit 2; }

# The initramfs: a static busybox, the 9p modules in load order (decompressed: busybox
# insmod reads plain .ko only), and /init.
ird=$(mktemp -d)
trap 'rm -rf "$ird"' EXIT
mkdir -p "$ird"/{bin,dev,proc,sys,mnt,mods}
cp "$busybox" "$ird/bin/busybox"
file "$ird/bin/busybox" | grep -q 'statically linked' ||
	{ echo "boot.sh: $busybox is not static (install busybox-static)" >&2; exit 2; }
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
{
	echo 'cd /tmp || exit 1'
	printf 'exec'
	printf ' %q' "$script" "$@"
	echo
} >"$out/run.sh"
cat >"$ird/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /mods/*.ko; do insmod "\$m" || echo "init: insmod \$m failed"; done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /mnt; then
	echo "init: cannot mount the host's root"; poweroff -f
fi
mount -t proc proc /mnt/proc
mount -t sysfs sys /mnt/sys
mount -t devtmpfs dev /mnt/dev
mkdir -p /mnt/dev/pts /mnt/dev/shm
mount -t devpts -o ptmxmode=0666 devpts /mnt/dev/pts
mount -t tmpfs tmpfs /mnt/dev/shm
for d in /tmp /run /var/tmp /root; do mount -t tmpfs tmpfs /mnt\$d; done
mount -t tracefs tracefs /mnt/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /mnt/sys/kernel/debug 2>/dev/null
mkdir -p /mnt$top
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose top /mnt$top
mkdir -p /mnt$out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /mnt$out
ip link set lo up
hostname ecaptop-vm
chroot /mnt /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TERM=xterm LANG=C.UTF-8 /bin/bash $out/run.sh \
	>/mnt$out/guest.log 2>&1 </dev/null
echo \$? >/mnt$out/rc
sync
poweroff -f
INIT
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initrd.gz"
rm -f "$out/rc" "$out/guest.log"

accel=${ECAPTOP_VM_ACCEL:-tcg,thread=multi}
timeout "${ECAPTOP_VM_TIMEOUT:-1800}" qemu-system-x86_64 -accel "$accel" -cpu max -smp "${ECAPTOP_VM_CPUS:-2}" \
	-m "${ECAPTOP_VM_MEM:-2048}" -kernel "$vmlinuz" -initrd "$out/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=4" -nographic -no-reboot -nic none \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$top,mount_tag=top,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$out,mount_tag=out,security_model=none" \
	-serial "file:$out/console.log" -monitor none -display none </dev/null || rc=$?
if [ "${rc:-0}" = 124 ]; then
	echo "boot.sh: the guest did not finish within ${ECAPTOP_VM_TIMEOUT:-1800} s" >&2
	exit 124
fi
if [ ! -f "$out/rc" ]; then
	echo "boot.sh: the guest did not run the script; console:" >&2
	tail -20 "$out/console.log" >&2
	exit 1
fi
exit "$(cat "$out/rc")"
