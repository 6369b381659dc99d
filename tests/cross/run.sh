#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tests/cross/run.sh ARCH (arm64): cross-build ecaptop for ARCH (make ARCH=ARCH, timed), check
# that the binary, the test programs and the BPF objects are what ARCH runs, then run the unit
# and decoder tests built for ARCH under qemu-user. Results are named ARCH/... in the results
# file. The cross toolchain comes from `make deps` (deps-cross); when it is missing and cannot
# be installed here, the whole is one SKIP saying why.
set -uo pipefail
. "$(dirname "$0")/../lib/results.sh"
arch=${1:?usage: tests/cross/run.sh arm64}
top=$(cd "$(dirname "$0")/../.." && pwd)
host_out=${OUTPUT:-.output}
case $host_out in /*) ;; *) host_out=$top/$host_out ;; esac
out=$host_out/$arch
# The parent make's flags (jobserver, -k) are not this build's.
unset MAKEFLAGS MFLAGS MAKELEVEL

case $arch in
arm64)
	triplet=aarch64-linux-gnu
	qemu="qemu-aarch64"
	elf_machine=AArch64
	;;
*)
	result FAIL "$arch/build" "tests/cross/run.sh knows arm64 only"
	exit 0
	;;
esac

missing() {
	local m=""
	command -v "$triplet-gcc" >/dev/null || m="$m $triplet-gcc"
	command -v "$qemu" >/dev/null || m="$m $qemu"
	dpkg-query -W -f '${Status}' "libbpf-dev:$arch" 2>/dev/null | grep -q ' installed$' ||
		m="$m libbpf-dev:$arch"
	echo "$m"
}
mkdir -p "$out"
if [ -n "$(missing)" ]; then
	echo "$arch: missing$(missing): installing with make deps-cross"
	make -C "$top" --no-print-directory deps-cross CROSS_TEST_ARCHS="$arch" >"$out/deps.log" 2>&1
	if [ -n "$(missing)" ]; then
		result SKIP "$arch" "the cross toolchain cannot be installed here (missing$(missing));" \
			"see $out/deps.log"
		exit 0
	fi
fi

# The build, timed: the first one also downloads Debian's $arch kernel for its BTF (cached).
# Milliseconds since the epoch, printed as seconds with one decimal.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
t0=$(now_ms)
if ! make -C "$top" --no-print-directory -j"$(nproc)" ARCH="$arch" OUTPUT="$out" cross-bins \
	>"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log"
	result FAIL "$arch/build" "make ARCH=$arch failed; $out/build.log"
	exit 0
fi
build_s=$(secs $(($(now_ms) - t0)))
result PASS "$arch/build" "make ARCH=$arch cross-bins, $build_s s"

# What was built runs on $arch: ELF machine of the binary and of every test program.
bins=("$out/ecaptop" "$out"/tests/test_* "$out"/tools/*)
bad=""
for b in "${bins[@]}"; do
	readelf -h "$b" 2>/dev/null | grep -q "Machine: *$elf_machine\$" || bad="$bad $(basename "$b")"
done
if [ -z "$bad" ] && file -L "$out/ecaptop" | grep -q 'ELF 64-bit LSB .*, ARM aarch64,'; then
	result PASS "$arch/elf-machine" "${#bins[@]} programs are $elf_machine"
else
	file -L "$out/ecaptop"
	result FAIL "$arch/elf-machine" "not $elf_machine:${bad:- ecaptop}"
fi
# Every library the binary needs is an $arch one Debian ships (the multiarch :$arch packages).
libs_bad=$(readelf -d "$out/ecaptop" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' |
	while read -r lib; do
		[ -e "/usr/lib/$triplet/$lib" ] || [ -e "/lib/$triplet/$lib" ] || echo "$lib"
	done)
if [ -z "$libs_bad" ]; then
	result PASS "$arch/libraries" "every NEEDED library is in /usr/lib/$triplet"
else
	result FAIL "$arch/libraries" "not found for $arch: $libs_bad"
fi

# The BPF objects: eBPF ELF, compiled with __TARGET_ARCH_arm64 against arm64's types. The
# objects that read registers (PT_REGS_*, Go's ABI) carry arm64's struct user_pt_regs in
# their BTF and none of x86's pt_regs fields; the vmlinux.h has arm64's pt_regs.
bpf_bad=""
nobj=0
for o in "$out"/bpf/*.bpf.o; do
	nobj=$((nobj + 1))
	file "$o" | grep -q 'ELF 64-bit LSB relocatable, eBPF' || bpf_bad="$bpf_bad $(basename "$o"):not-ebpf"
	btf=$(bpftool btf dump file "$o" 2>/dev/null)
	# (here-strings: with pipefail, grep -q ending a pipe early would fail it)
	if grep -q "STRUCT 'pt_regs'\|STRUCT 'user_pt_regs'" <<<"$btf"; then
		grep -q "STRUCT 'user_pt_regs' size=272" <<<"$btf" ||
			bpf_bad="$bpf_bad $(basename "$o"):no-user_pt_regs"
		grep -q "'orig_ax'\|'r15'" <<<"$btf" && bpf_bad="$bpf_bad $(basename "$o"):x86-regs"
	fi
done
for o in tls keylog sock; do
	grep -q "STRUCT 'user_pt_regs'" <<<"$(bpftool btf dump file "$out/bpf/$o.bpf.o" 2>/dev/null)" ||
		bpf_bad="$bpf_bad $o.bpf.o:no-user_pt_regs"
done
grep -A3 '^struct pt_regs {' "$out/vmlinux.h" | grep -q 'struct user_pt_regs user_regs;' ||
	bpf_bad="$bpf_bad vmlinux.h:not-arm64-pt_regs"
if [ -z "$bpf_bad" ] && [ "$nobj" -gt 0 ]; then
	result PASS "$arch/bpf-objects" "$nobj objects, eBPF, arm64's pt_regs"
else
	result FAIL "$arch/bpf-objects" "${bpf_bad:- no objects}"
fi

# The tests under qemu-user. The libraries are the multiarch :$arch ones at their own paths,
# so no -L is needed. LeakSanitizer cannot stop the world under qemu-user (it aborts), so
# leaks are left to the host's run; ASan and UBSan errors still fail a test.
export TEST_RUNNER=$qemu
export ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
# Emulated code runs several times slower: time limits (test_store_million) are scaled.
export ECAPTOP_TEST_TIME_SCALE=10
arch_results=$out/results
rm -f "$arch_results"
t1=$(now_ms)
RESULTS=$arch_results "$top/tests/lib/run-unit.sh" "$out"/tests/test_* >"$out/unit.log" 2>&1
# The decoder tests by name: a full run would also check the tree's .gitignore, not a
# matter of $arch.
mapfile -t names < <(awk '$1 !~ /^#/ && NF {print $1}' "$top/tests/decoders/TESTLIST")
RESULTS=$arch_results OUTPUT=$out "$top/tests/decoders/run.sh" "${names[@]}" >"$out/decoders.log" 2>&1
# The binary itself, without BPF: it replays the two foreign captures (tests/integration/
# pcapng-files) as JSON; each direction's bytes must be the ones tshark extracted (*.req,
# *.resp) and the HTTP exchange must be decoded.
for cap in http-lo.pcap http-any-v6.pcapng; do
	base=$top/tests/integration/pcapng-files/${cap%.*}
	if why=$($qemu "$out/ecaptop" -r "$base.${cap##*.}" --batch --json 2>"$out/replay.err" |
		python3 -c '
import base64, json, sys
got = {"send": b"", "recv": b""}
http = []
for line in sys.stdin:
	r = json.loads(line)
	if r["type"] == "data":
		got[r["dir"]] += base64.b64decode(r["data"])
	elif r["type"] == "http":
		http.append((r["method"], r["path"], r["status"]))
for d, f in (("send", sys.argv[1]), ("recv", sys.argv[2])):
	if got[d] != open(f, "rb").read():
		sys.exit("%s: %d bytes, not the %d of %s" % (d, len(got[d]), len(open(f, "rb").read()), f))
if http != [("GET", "/hello.txt", 200)]:
	sys.exit("http records: %r" % (http,))
print("%d+%d bytes, GET /hello.txt -> 200" % (len(got["send"]), len(got["recv"])))
' "$base.req" "$base.resp" 2>&1); then
		RESULTS=$arch_results result PASS "replay/$cap" "$why" >/dev/null
	else
		RESULTS=$arch_results result FAIL "replay/$cap" "$why $(head -c 300 "$out/replay.err")" >/dev/null
	fi
done
test_s=$(secs $(($(now_ms) - t1)))

sed -E "s#^(PASS|FAIL|SKIP) #\1 $arch/#" "$arch_results" >>"$RESULTS"
grep "^FAIL" "$arch_results" | sed "s#^FAIL #FAIL $arch/#"
pass=$(grep -c '^PASS' "$arch_results")
fail=$(grep -c '^FAIL' "$arch_results")
skip=$(grep -c '^SKIP' "$arch_results")
echo "$arch: build $build_s s; tests under $qemu $test_s s:" \
	"$pass passed, $fail failed, $skip skipped (logs in $out/*.log)"
exit 0
