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
