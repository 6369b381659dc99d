# Kernels (issue 16): a kernel whose BTF is not in /sys/kernel/btf. The file is hidden
# in a private mount namespace (a tmpfs over /sys/kernel/btf) for ecaptop alone.

# btf_hidden_wrapper FILE: a script that runs ecaptop with /sys/kernel/btf hidden.
btf_hidden_wrapper() {
	cat >"$1" <<WRAP
#!/bin/bash
exec unshare -m bash -c 'mount -t tmpfs none /sys/kernel/btf && exec "\$0" "\$@"' "$ECAPTOP" "\$@"
WRAP
	chmod 700 "$1"
}

# Without --btf: one line naming the flag, status 1. With --btf and a copy of this
# kernel's BTF: the OpenSSL capture works.
test_btf_hidden_needs_flag() {
	local w=$TMPD/ecaptop-nobtf out rc port www pid tag
	[ -r /sys/kernel/btf/vmlinux ] || { say "this kernel has no BTF to hide"; return 77; }
	btf_hidden_wrapper "$w"
	out=$("$w" --batch 2>&1)
	rc=$?
	say "without --btf (status $rc): $out"
	[ $rc -ne 0 ] || fail "ecaptop ran without BTF" || return 1
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "not one line" || return 1
	printf '%s\n' "$out" | grep -q -- '--btf FILE' || fail "the message does not name --btf" || return 1
	"$w" --check >"$TMPD/nobtf.check" 2>&1
	grep -q '^BTF (/sys/kernel/btf/vmlinux): no' "$TMPD/nobtf.check" ||
		fail "the namespace did not hide the BTF: $(cat "$TMPD/nobtf.check")" || return 1
	cp /sys/kernel/btf/vmlinux "$TMPD/vmlinux.btf"
	port=$(free_port)
	www=$TMPD/www-btf
	mkdir -p "$www"
	echo btf >"$www/b.txt"
	start_tls_server "$port" "$www" || return 1
	ECAPTOP=$w start_capture btf --btf "$TMPD/vmlinux.btf" || return 1
	tag="btf-$RANDOM$RANDOM"
	curl -sk -H "X-Btf: $tag" "https://127.0.0.1:$port/b.txt" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture || return 1
	$EVENTS "$TMPD/btf.json" --source openssl --pid "$pid" --dir send --contains "$tag" >/dev/null ||
		fail "curl's request not captured with --btf"
}

# A program the kernel refuses is switched off alone (the 5.10 report: NSS's helper
# took every TLS source down). ECAPTOP_BPF_REFUSE makes the kernel really refuse it.
test_refused_program_switched_off_alone() {
	local port www pid tag n
	ECAPTOP_BPF_REFUSE=nss_write_enter "$ECAPTOP" --check >"$TMPD/refuse.check" 2>&1 ||
		fail "--check failed: $(cat "$TMPD/refuse.check")" || return 1
	grep -E '^  (openssl|nss|gnutls) ' "$TMPD/refuse.check" | sed 's/^/  /'
	grep -qE '^  nss .* off \(program nss_write_enter refused' "$TMPD/refuse.check" ||
		fail "NSS not reported off" || return 1
	grep -qE '^  openssl .* works$' "$TMPD/refuse.check" || fail "OpenSSL not reported working" ||
		return 1
	grep -q '^capture: possible' "$TMPD/refuse.check" || fail "capture not possible" || return 1
	port=$(free_port)
	www=$TMPD/www-refuse
	mkdir -p "$www"
	echo refuse >"$www/r.txt"
	start_tls_server "$port" "$www" || return 1
	ECAPTOP_BPF_REFUSE=nss_write_enter start_capture refuse || return 1
	tag="refuse-$RANDOM$RANDOM"
	curl -sk -H "X-Refuse: $tag" "https://127.0.0.1:$port/r.txt" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture || return 1
	n=$(grep -c 'refused BPF program nss_write_enter' "$TMPD/refuse.err")
	grep 'refused BPF program' "$TMPD/refuse.err" | sed 's/^/  /'
	[ "$n" = 1 ] || fail "$n log lines about the refusal, not 1" || return 1
	if grep -q 'load failed\|PROG LOAD LOG' "$TMPD/refuse.err"; then
		fail "libbpf's load warnings shown besides that line"
		return 1
	fi
	$EVENTS "$TMPD/refuse.json" --source openssl --pid "$pid" --dir send --contains "$tag" >/dev/null ||
		fail "OpenSSL capture lost with NSS's program"
}
