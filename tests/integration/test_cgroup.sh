# --cgroup: only processes in the given cgroup v2 (or below) are captured, filtered in
# the kernel. The test makes its own cgroups: P/a/x and P/b, and filters on P/a.

# The cgroup v2 mount point (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts).
cg_mount() {
	awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

test_cgroup_filter() {
	local mnt top port t=$RANDOM$RANDOM rel
	mnt=$(cg_mount)
	[ -n "$mnt" ] || { say "no cgroup v2 file system mounted"; return 77; }
	top=$mnt/ecaptop-test-$t
	mkdir -p "$top/a/x" "$top/b" || fail "cannot make cgroups under $mnt" || return 1
	rel=${top#"$mnt"}
	port=$(free_port)
	mkdir -p "$TMPD/cg-www"
	echo in-a >"$TMPD/cg-www/a-$t"
	echo in-b >"$TMPD/cg-www/b-$t"
	start_tls_server "$port" "$TMPD/cg-www" || { rmdir "$top/a/x" "$top/a" "$top/b" "$top"; return 1; }
	# Named as /proc/PID/cgroup shows it, and as a directory: both resolve.
	start_capture cgroup --cgroup "$rel/a" --cgroup "$top/a" || return 1
	# Each client moves itself into its cgroup, then becomes curl.
	bash -c 'echo $$ >"$0/cgroup.procs" && exec curl -sSk -o /dev/null "$1"' "$top/a/x" \
		"https://127.0.0.1:$port/a-$t" || fail "client in a/x failed"
	bash -c 'echo $$ >"$0/cgroup.procs" && exec curl -sSk -o /dev/null "$1"' "$top/b" \
		"https://127.0.0.1:$port/b-$t" || fail "client in b failed"
	stop_capture
	local rc=$?
	rmdir "$top/a/x" "$top/a" "$top/b" "$top"
	[ $rc -eq 0 ] || return 1
	say "in $rel/a/x (below the filter):"
	$EVENTS "$TMPD/cgroup.json" --source openssl --dir send --contains "GET /a-$t" >/dev/null ||
		fail "the request of the process in a/x was not captured" || return 1
	say "  captured"
	say "in $rel/b (a sibling):"
	if $EVENTS "$TMPD/cgroup.json" --contains "/b-$t" >/dev/null; then
		fail "the request of the process in b was captured" || return 1
	fi
	say "  not captured"
	# The server runs in the test's own cgroup: none of its side either.
	if $EVENTS "$TMPD/cgroup.json" --source openssl --dir recv --contains "GET /a-$t" >/dev/null; then
		fail "the server (outside the cgroup) was captured" || return 1
	fi
}

test_cgroup_bad_path() {
	if "$ECAPTOP" --batch --cgroup /no/such/cgroup-$RANDOM -d 1 >/dev/null 2>"$TMPD/cg-bad.err"; then
		fail "ecaptop accepted a cgroup that does not exist" || return 1
	fi
	say "refused: $(cat "$TMPD/cg-bad.err")"
	grep -q "not a cgroup v2 directory" "$TMPD/cg-bad.err" || fail "no clear message" || return 1
}
