# Capture core (issue 2): OpenSSL plaintext with attribution, batch output.

# curl's request (with a unique header value) is captured as "send" by curl's pid with
# the right addresses and ports; the response body as "recv".
test_openssl_curl_request_and_response() {
	local port www tag json curl_pid lport
	port=$(free_port)
	www=$TMPD/www-basic
	mkdir -p "$www"
	echo "response-body-$RANDOM$RANDOM" >"$www/index.txt"
	start_tls_server "$port" "$www" || return 1
	start_capture basic || return 1
	tag="hdr-$RANDOM$RANDOM"
	curl -sk -H "X-Ecaptop-Test: $tag" "https://127.0.0.1:$port/index.txt" \
		-o "$TMPD/basic.body" -w '%{local_port}\n' >"$TMPD/basic.lport" &
	curl_pid=$!
	wait $curl_pid
	stop_capture || return 1
	lport=$(cat "$TMPD/basic.lport")
	$EVENTS "$TMPD/basic.json" --check-json || fail "output is not valid JSON lines" || return 1
	json=$($EVENTS "$TMPD/basic.json" --source openssl --comm curl --dir send --contains "$tag") ||
		fail "curl's request with $tag not captured" || return 1
	say "request: $json"
	python3 - "$json" "$curl_pid" "$port" "$lport" <<'PY' || return 1
import json, sys
e = json.loads(sys.argv[1]); pid, port, lport = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
want = {"pid": pid, "tid": pid, "comm": "curl", "dir": "send", "family": "ipv4",
        "laddr": "127.0.0.1", "raddr": "127.0.0.1", "rport": port, "lport": lport, "uid": 0}
bad = {k: (e.get(k), v) for k, v in want.items() if e.get(k) != v}
if bad or e["fd"] < 0:
    print("  wrong attribution (got, want):", bad, "fd", e["fd"]); sys.exit(1)
PY
	$EVENTS "$TMPD/basic.json" --pid "$curl_pid" --dir recv --contains "$(cat "$www/index.txt")" \
		>/dev/null || fail "response body not captured as recv" || return 1
	[ "$($EVENTS "$TMPD/basic.json" --stats lost.queue_full)" = 0 ] || fail "queue losses"
}

# A 1 MiB body: the recv bytes of that connection, in order, equal the served file.
test_openssl_1mib_body_complete() {
	local port www pid want got
	port=$(free_port)
	www=$TMPD/www-big
	mkdir -p "$www"
	head -c 1048576 /dev/urandom >"$www/big.bin"
	start_tls_server "$port" "$www" || return 1
	start_capture big || return 1
	curl -sk "https://127.0.0.1:$port/big.bin" -o "$TMPD/big.out" &
	pid=$!
	wait $pid
	stop_capture || return 1
	cmp -s "$www/big.bin" "$TMPD/big.out" || fail "curl itself did not get the file" || return 1
	# The response is "HTTP/1.0 200 ok\r\nContent-type: ...\r\n\r\n" + the file.
	$EVENTS "$TMPD/big.json" --pid "$pid" --dir recv --concat >"$TMPD/big.captured"
	python3 - "$TMPD/big.captured" "$www/big.bin" <<'PY' || return 1
import hashlib, sys
cap = open(sys.argv[1], "rb").read(); body = open(sys.argv[2], "rb").read()
i = cap.find(b"\r\n\r\n")
got = cap[i + 4:] if i >= 0 else b""
print("  captured %d bytes (%d body), served %d; sha256 %s vs %s" % (len(cap), len(got), len(body),
      hashlib.sha256(got).hexdigest()[:16], hashlib.sha256(body).hexdigest()[:16]))
sys.exit(0 if got == body else 1)
PY
	for k in ring_reserve perf_lost queue_full read_fault truncated; do
		[ "$($EVENTS "$TMPD/big.json" --stats "lost.$k")" = 0 ] || fail "lost.$k is not 0" || return 1
	done
}

# An IPv6 loopback connection is attributed as ipv6 with ::1.
test_openssl_ipv6() {
	local port www json
	port=$(free_port)
	www=$TMPD/www-v6
	mkdir -p "$www"
	echo v6 >"$www/x.txt"
	start_tls_server "$port" "$www" -6 || return 1
	start_capture v6 || return 1
	curl -sk -g "https://[::1]:$port/x.txt" -o /dev/null -H "X-V6: yes-$port"
	stop_capture || return 1
	json=$($EVENTS "$TMPD/v6.json" --comm curl --dir send --contains "yes-$port") ||
		fail "IPv6 request not captured" || return 1
	python3 -c '
import json, sys
e = json.loads(sys.argv[1])
ok = e["family"] == "ipv6" and e["laddr"] == "::1" and e["raddr"] == "::1" and e["rport"] == int(sys.argv[2])
print("  ", e["family"], e["laddr"], e["lport"], e["raddr"], e["rport"])
sys.exit(0 if ok else 1)' "$json" "$port"
}

# python3's ssl module (SSL_read_ex/SSL_write_ex) is captured.
test_openssl_python_ex_path() {
	local port www pid
	port=$(free_port)
	www=$TMPD/www-py
	mkdir -p "$www"
	echo "python-body-$port" >"$www/p.txt"
	start_tls_server "$port" "$www" || return 1
	start_capture py || return 1
	/usr/bin/env python3 - "$port" <<'PY' &
import ssl, sys, urllib.request
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
req = urllib.request.Request("https://127.0.0.1:%s/p.txt" % sys.argv[1], headers={"X-Py": "ex-path"})
print(urllib.request.urlopen(req, context=ctx).read())
PY
	pid=$!
	wait $pid
	stop_capture || return 1
	$EVENTS "$TMPD/py.json" --pid "$pid" --dir send --contains "X-Py: ex-path" >/dev/null ||
		fail "python's request not captured" || return 1
	$EVENTS "$TMPD/py.json" --pid "$pid" --dir recv --contains "python-body-$port" >/dev/null ||
		fail "python's response not captured"
}

# A process started after "ready" that loads a TLS library file nobody had mapped
# before (a private copy of libssl): discovered from its exec and captured.
test_openssl_new_library_after_ready() {
	local port www lib libdir pid
	port=$(free_port)
	www=$TMPD/www-late
	mkdir -p "$www"
	echo late >"$www/l.txt"
	lib=$(ldd "$(command -v curl)" | awk '/libssl\.so/ {print $3}')
	[ -n "$lib" ] || fail "curl links no libssl here" || return 1
	libdir=$TMPD/privlib
	mkdir -p "$libdir"
	cp "$lib" "$libdir/" # a new inode: not attached at start
	start_tls_server "$port" "$www" || return 1
	start_capture late || return 1
	# Keep the connection open a little so the first rescan after exec lands before the
	# request: curl --next with a delay between two requests on one process.
	LD_LIBRARY_PATH=$libdir curl -sk "https://127.0.0.1:$port/l.txt" -o /dev/null \
		--next -sk "https://127.0.0.1:$port/l.txt" -o /dev/null -H "X-Late: second" \
		--rate 1/s &
	pid=$!
	wait $pid
	stop_capture || return 1
	grep -q "attached OpenSSL probes to $libdir" "$TMPD/late.err" ||
		fail "the private libssl copy was not attached: $(cat "$TMPD/late.err")" || return 1
	$EVENTS "$TMPD/late.json" --pid "$pid" --dir send --contains "X-Late: second" >/dev/null ||
		fail "traffic through the late library not captured"
}

# --pid: traffic of other processes is absent.
test_pid_filter() {
	local port www keep other n
	port=$(free_port)
	www=$TMPD/www-pid
	mkdir -p "$www"
	echo pid >"$www/p.txt"
	start_tls_server "$port" "$www" || return 1
	# The filtered process: a shell that runs curl via exec, so its pid is known up front.
	bash -c "sleep 2; exec curl -sk -H 'X-Who: kept' https://127.0.0.1:$port/p.txt -o /dev/null" &
	keep=$!
	start_capture pidf --pid "$keep" || return 1
	curl -sk -H "X-Who: other" "https://127.0.0.1:$port/p.txt" -o /dev/null &
	other=$!
	wait $other
	wait $keep
	stop_capture || return 1
	$EVENTS "$TMPD/pidf.json" --pid "$keep" --dir send --contains "X-Who: kept" >/dev/null ||
		fail "the filtered pid's traffic is missing" || return 1
	n=$($EVENTS "$TMPD/pidf.json" --count --type data)
	n_keep=$($EVENTS "$TMPD/pidf.json" --count --pid "$keep")
	[ "$n" = "$n_keep" ] || fail "$((n - n_keep)) data events of other processes present"
}

# --perf-buffer passes the basic test.
test_perf_buffer() {
	local port www pid
	port=$(free_port)
	www=$TMPD/www-perf
	mkdir -p "$www"
	head -c 300000 /dev/urandom >"$www/b.bin"
	start_tls_server "$port" "$www" || return 1
	start_capture perf --perf-buffer || return 1
	grep -q "perf buffer" "$TMPD/perf.err" || fail "not using the perf buffer" || return 1
	curl -sk -H "X-Perf: yes" "https://127.0.0.1:$port/b.bin" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture || return 1
	$EVENTS "$TMPD/perf.json" --pid "$pid" --dir send --contains "X-Perf: yes" >/dev/null ||
		fail "request not captured through the perf buffer" || return 1
	[ "$($EVENTS "$TMPD/perf.json" --stats buffer)" = perfbuf ] || fail "stats do not say perfbuf" ||
		return 1
	$EVENTS "$TMPD/perf.json" --pid "$pid" --dir recv --concat | tail -c 300000 | cmp -s - "$www/b.bin" ||
		fail "body incomplete through the perf buffer"
}

# --check on this machine reports capture possible.
test_check() {
	local out
	out=$("$ECAPTOP" --check 2>&1) || fail "--check failed: $out" || return 1
	printf '%s\n' "$out" | sed 's/^/    /'
	printf '%s\n' "$out" | grep -q '^capture: possible' || fail "no 'capture: possible' line"
}

# SIGTERM ends cleanly with a stats record and status 0; text mode prints people's format.
test_sigterm_and_text_mode() {
	local port www
	port=$(free_port)
	www=$TMPD/www-text
	mkdir -p "$www"
	echo text >"$www/t.txt"
	start_tls_server "$port" "$www" || return 1
	"$ECAPTOP" --batch >"$TMPD/text.out" 2>"$TMPD/text.err" &
	CAP_PID=$!
	wait_for 30 grep -q ready "$TMPD/text.err" || fail "not ready" || return 1
	curl -sk -H "X-Text: mode" "https://127.0.0.1:$port/t.txt" -o /dev/null
	stop_capture TERM || return 1
	grep -q '^--- ecaptop stats: ' "$TMPD/text.out" || fail "no stats line" || return 1
	grep -q 'openssl curl pid [0-9]* tid [0-9]* uid 0 fd [0-9]* send 127.0.0.1:[0-9]* -> 127.0.0.1:'"$port" \
		"$TMPD/text.out" || fail "no header line for curl's send" || return 1
	grep -q '    X-Text: mode\\r\\n' "$TMPD/text.out" || fail "payload not shown as escaped text"
}

# --duration stops by itself.
test_duration() {
	local start end
	start=$(date +%s)
	"$ECAPTOP" --batch --json -d 2 >"$TMPD/dur.json" 2>"$TMPD/dur.err" || fail "exit status $?" || return 1
	end=$(date +%s)
	[ $((end - start)) -lt 20 ] || fail "took $((end - start)) s" || return 1
	$EVENTS "$TMPD/dur.json" --stats events >/dev/null || fail "no stats record"
}

# Without privileges: one clear line and exit status 1.
test_not_root_message() {
	local out rc
	command -v setpriv >/dev/null || { say "setpriv missing"; return 77; }
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ECAPTOP" --batch 2>&1)
	rc=$?
	say "$out"
	[ $rc -eq 1 ] || fail "exit status $rc, want 1" || return 1
	printf '%s\n' "$out" | grep -q 'needs root' || fail "message does not say root is needed"
}

# Bad arguments: a clear message and exit status 1.
test_bad_arguments() {
	local out
	out=$("$ECAPTOP" --pid abc 2>&1) && fail "accepted --pid abc" && return 1
	printf '%s\n' "$out" | grep -q "invalid pid 'abc'" || fail "unclear message: $out" || return 1
	out=$("$ECAPTOP" -d -3 2>&1) && fail "accepted -d -3" && return 1
	printf '%s\n' "$out" | grep -q "invalid duration" || fail "unclear message: $out"
}

# Every option of the usage text (built from tui/cli.c's table) is in the manual
# page and the README, so a new row of the table cannot go undocumented.
test_every_option_documented() {
	local help opts o m n=0
	help=$("$ECAPTOP" --help) || fail "--help failed" || return 1
	opts=$(printf '%s\n' "$help" | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+')
	for o in $opts; do
		n=$((n + 1))
		m=$(printf '%s' "$o" | sed 's/-/\\-/g')
		grep -qF -- "$m" "$TOP/man/ecaptop.8" || fail "man/ecaptop.8 lacks $o" || return 1
		grep -qF -- "$o" "$TOP/README.md" || fail "README.md lacks $o" || return 1
	done
	[ "$n" -ge 20 ] || fail "only $n options found in --help"
}

# Records are delivered while the capture runs, not only when it stops: the kernel
# wakes ecaptop at most every few milliseconds (bpf/common.bpf.h: rb_flags), so the
# last records of a burst are committed without a wake-up, and the engine must read
# them at its next poll timeout. A TLS server writes 20 chunks a millisecond apart
# and then stays silent (and alive); 1 s later every chunk must be in the output of
# the still running ecaptop. Nothing may start a process in that second: an exec
# record would wake ecaptop and hide the fault. So the client itself waits and
# counts, and -p keeps other programs' TLS records out.
test_burst_tail_delivered_while_running() {
	local port srv n
	port=$(free_port)
	ensure_cert
	python3 - "$port" "$TMPD/cert.pem" "$TMPD/key.pem" >"$TMPD/burst-server.log" 2>&1 <<'PY' &
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(1)
c = ctx.wrap_socket(ls.accept()[0], server_side=True)
c.recv(100)
for i in range(20):
    c.sendall(b"burst-chunk-%02d;" % i)
    time.sleep(0.001)
time.sleep(30)
PY
	srv=$!
	SERVERS+=("$srv")
	wait_for 10 ss -ltn "sport = :$port" -H | grep -q LISTEN
	start_capture burst -p "$srv" || return 1
	timeout 20 python3 - "$port" "$TMPD/burst.json" "$srv" >"$TMPD/burst-client.log" 2>&1 <<'PY'
import base64, json, socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
c = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
c.sendall(b"go")
got = b""
while got.count(b";") < 20:
    got += c.recv(4096)
time.sleep(1.0)
n = 0
for line in open(sys.argv[2]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("pid") == int(sys.argv[3]) and e.get("dir") == "send":
        n += base64.b64decode(e.get("data", "")).count(b"burst-chunk-")
print("captured", n)
PY
	n=$(awk '/^captured/ {print $2}' "$TMPD/burst-client.log")
	say "chunks in the output of the running ecaptop 1 s after the burst: ${n:-none} of 20"
	kill -0 "$CAP_PID" 2>/dev/null || fail "ecaptop is not running" || return 1
	stop_capture || return 1
	[ "$n" = 20 ] || fail "only ${n:-0} of 20 chunks delivered while the capture ran"
}

# openssl s_server -WWW reads and writes through BIO_f_ssl, which calls OpenSSL's
# internal ssl_read_internal/ssl_write_internal and never SSL_read/SSL_write: only
# the probes on those internal functions (engine/discover/elfcallee.c) see the server's side.
test_openssl_bio_ssl_server_side() {
	local port www tag srv
	port=$(free_port)
	www=$TMPD/www-bio
	mkdir -p "$www"
	echo "bio-body-$RANDOM$RANDOM" >"$www/b.txt"
	start_tls_server "$port" "$www" || return 1
	srv=$(cat "$TMPD/s_server.$port.pid")
	start_capture bio || return 1
	tag="bio-hdr-$RANDOM$RANDOM"
	curl -sk -H "X-Ecaptop-Test: $tag" "https://127.0.0.1:$port/b.txt" -o /dev/null
	stop_capture || return 1
	grep -q 'ssl_read_internal at' "$TMPD/bio.err" ||
		say "(no internal-function probes here: see $TMPD/bio.err)"
	$EVENTS "$TMPD/bio.json" --source openssl --pid "$srv" --dir recv --contains "$tag" \
		>/dev/null || fail "s_server's side of the request not captured" || return 1
	$EVENTS "$TMPD/bio.json" --source openssl --pid "$srv" --dir send \
		--contains "$(cat "$www/b.txt")" >/dev/null ||
		fail "s_server's response not captured" || return 1
	has_record "$TMPD/bio.json" "r['type']=='http' and r['pid']==$srv and r['role']=='server' \
		and r['path']=='/b.txt' and r['status']==200" ||
		fail "no server-side HTTP record for s_server"
}

# The public-function path (SSL_read, SSL_write and the _ex pair), which is what
# libraries other than OpenSSL's own builds get: forced with ECAPTOP_OPENSSL_PUBLIC.
test_openssl_public_functions_path() {
	local port www tag pid
	port=$(free_port)
	www=$TMPD/www-public
	mkdir -p "$www"
	echo "public-body-$RANDOM$RANDOM" >"$www/p.txt"
	start_tls_server "$port" "$www" || return 1
	ECAPTOP_OPENSSL_PUBLIC=1 start_capture public || return 1
	tag="pub-hdr-$RANDOM$RANDOM"
	curl -sk -H "X-Ecaptop-Test: $tag" "https://127.0.0.1:$port/p.txt" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture || return 1
	grep -q 'attached OpenSSL probes to .*libssl.so.3 (SSL_read, SSL_write' "$TMPD/public.err" ||
		fail "not attached to the public functions: $(grep OpenSSL "$TMPD/public.err")" ||
		return 1
	! grep -q 'ssl_read_internal at' "$TMPD/public.err" ||
		fail "internal functions probed despite ECAPTOP_OPENSSL_PUBLIC" || return 1
	$EVENTS "$TMPD/public.json" --source openssl --pid "$pid" --dir send --contains "$tag" \
		>/dev/null || fail "curl's request not captured" || return 1
	$EVENTS "$TMPD/public.json" --source openssl --pid "$pid" --dir recv \
		--contains "$(cat "$www/p.txt")" >/dev/null || fail "the response not captured"
}
