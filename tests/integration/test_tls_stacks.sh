# Every TLS stack (issue 6): GnuTLS, NSS, Go crypto/tls (normal, PIE, stripped) and
# OpenSSL linked statically into an executable, each against real programs on loopback.
# Every stack moves a body over 1 MiB that must arrive complete and byte-exact, and
# the attribution fields (pid, tid, uid, comm, fd, both endpoints) are checked.

GO_SRC=$TOP/tests/integration/go

# check_attr JSON PID LADDR LPORT RADDR RPORT: one event's attribution (tid must be a
# thread of PID, uid 0, fd a socket number). LPORT or RPORT may be "-" (not checked).
check_attr() {
	python3 - "$@" <<'PY'
import json, os, sys
e = json.loads(sys.argv[1]); pid = int(sys.argv[2])
want = {"pid": pid, "uid": 0, "laddr": sys.argv[3], "raddr": sys.argv[5], "family": "ipv4"}
if sys.argv[4] != "-": want["lport"] = int(sys.argv[4])
if sys.argv[6] != "-": want["rport"] = int(sys.argv[6])
bad = {k: (e.get(k), v) for k, v in want.items() if e.get(k) != v}
if e.get("fd", -1) < 0: bad["fd"] = (e.get("fd"), ">= 0")
if e.get("tid", 0) <= 0: bad["tid"] = (e.get("tid"), "> 0")
comm = open("/proc/%d/comm" % pid).read().strip()[:15] if os.path.exists("/proc/%d" % pid) else None
if comm is not None and e.get("comm") != comm: bad["comm"] = (e.get("comm"), comm)
print("    %s %s pid %s tid %s uid %s fd %s %s:%s -> %s:%s" % (e["source"], e["comm"], e["pid"],
      e["tid"], e["uid"], e["fd"], e["laddr"], e["lport"], e["raddr"], e["rport"]))
if bad:
    print("    wrong attribution (got, want):", bad); sys.exit(1)
PY
}

# same_bytes CAPTURED EXPECTED [SKIP_HEADER]: byte-exact comparison with hashes shown;
# with SKIP_HEADER the captured bytes start with an HTTP header ended by CRLF CRLF.
same_bytes() {
	python3 - "$@" <<'PY'
import hashlib, sys
cap = open(sys.argv[1], "rb").read(); want = open(sys.argv[2], "rb").read()
if len(sys.argv) > 3:
    i = cap.find(b"\r\n\r\n")
    cap = cap[i + 4:] if i >= 0 else b""
h = lambda b: hashlib.sha256(b).hexdigest()[:16]
print("    captured %d bytes, expected %d; sha256 %s vs %s" % (len(cap), len(want), h(cap), h(want)))
sys.exit(0 if cap == want else 1)
PY
}

no_losses() {
	local k
	for k in ring_reserve perf_lost queue_full read_fault truncated; do
		[ "$($EVENTS "$1" --stats "lost.$k")" = 0 ] || fail "lost.$k is not 0" || return 1
	done
}

# Build tlspeer.go offline with Debian's golang-go, once: normal, PIE, stripped.
go_build() {
	local out=$TMPD/go
	[ -x "$out/tlspeer.normal" ] && [ -x "$out/tlspeer.pie" ] && [ -x "$out/tlspeer.stripped" ] &&
		return 0
	command -v go >/dev/null || { say "golang-go is not installed"; return 77; }
	mkdir -p "$out"
	export GOCACHE=$TMPD/go/cache GOPATH=$TMPD/go/path GOPROXY=off GOFLAGS= GO111MODULE=auto
	(cd "$GO_SRC" &&
		go build -o "$out/tlspeer.normal" tlspeer.go &&
		go build -buildmode=pie -o "$out/tlspeer.pie" tlspeer.go &&
		go build -ldflags "-s -w" -o "$out/tlspeer.stripped" tlspeer.go) \
		>"$TMPD/go-build.log" 2>&1 || { cat "$TMPD/go-build.log"; fail "go build failed"; return 1; }
}

# go_stack VARIANT: a Go HTTPS server and a Go client, both of the same build variant.
# The client GETs a 1.5 MiB file and POSTs a 1.2 MiB body; all four directions are
# captured byte-exact with both endpoints right.
go_stack() {
	local v=$1 bin port www tag spid cpid ppid lport json rc
	go_build || return $?
	bin=$TMPD/go/tlspeer.$v
	ensure_cert
	www=$TMPD/www-go-$v
	mkdir -p "$www"
	head -c 1572864 /dev/urandom >"$www/big.bin"
	head -c 1258291 /dev/urandom >"$TMPD/go-$v.upload"
	rm -f "$TMPD/go-$v.port"
	"$bin" server -cert "$TMPD/cert.pem" -key "$TMPD/key.pem" -dir "$www" \
		-portfile "$TMPD/go-$v.port" >"$TMPD/go-$v.server.log" 2>&1 &
	spid=$!
	SERVERS+=("$spid")
	wait_for 10 test -s "$TMPD/go-$v.port" || fail "the Go server did not start" || return 1
	port=$(cat "$TMPD/go-$v.port")
	start_capture "go-$v" || return 1
	tag="go-$v-$RANDOM$RANDOM"
	# The clients request at once: the server runs the same file, so its probes are
	# there from the start.
	"$bin" client -url "https://127.0.0.1:$port/big.bin" -header "X-Ecaptop-Go: $tag" \
		-out "$TMPD/go-$v.body" >"$TMPD/go-$v.client.out" 2>&1 &
	cpid=$!
	wait $cpid
	rc=$?
	"$bin" post -url "https://127.0.0.1:$port/upload" -file "$TMPD/go-$v.upload" \
		>"$TMPD/go-$v.post.out" 2>&1 &
	ppid=$!
	wait $ppid
	stop_capture || return 1
	[ $rc -eq 0 ] || fail "the Go client failed: $(cat "$TMPD/go-$v.client.out")" || return 1
	cmp -s "$www/big.bin" "$TMPD/go-$v.body" || fail "the client itself did not get the file" ||
		return 1
	grep "attached Go crypto/tls probes to $bin" "$TMPD/go-$v.err" | sed 's/^/    /'
	grep -q "attached Go crypto/tls probes to $bin" "$TMPD/go-$v.err" ||
		fail "no log line for the Go binary: $(cat "$TMPD/go-$v.err")" || return 1
	lport=$(awk '/^lport/ {print $2}' "$TMPD/go-$v.client.out")
	say "client request (send):"
	json=$($EVENTS "$TMPD/go-$v.json" --source gotls --pid "$cpid" --dir send --contains "$tag") ||
		fail "the client's request with $tag not captured" || return 1
	check_attr "$json" "$cpid" 127.0.0.1 "$lport" 127.0.0.1 "$port" || return 1
	say "server request (recv):"
	json=$($EVENTS "$TMPD/go-$v.json" --source gotls --pid "$spid" --dir recv --contains "$tag") ||
		fail "the server's view of the request not captured" || return 1
	check_attr "$json" "$spid" 127.0.0.1 "$port" 127.0.0.1 "$lport" || return 1
	say "client response body (recv):"
	$EVENTS "$TMPD/go-$v.json" --source gotls --pid "$cpid" --dir recv --concat >"$TMPD/go-$v.crecv"
	same_bytes "$TMPD/go-$v.crecv" "$www/big.bin" skip-header || fail "client recv not byte-exact" ||
		return 1
	json=$($EVENTS "$TMPD/go-$v.json" --source gotls --pid "$cpid" --dir recv --contains "HTTP/1.1 200") ||
		fail "response header not captured" || return 1
	check_attr "$json" "$cpid" 127.0.0.1 "$lport" 127.0.0.1 "$port" || return 1
	say "server response body (send):"
	$EVENTS "$TMPD/go-$v.json" --source gotls --pid "$spid" --dir send --rport "$lport" --concat \
		>"$TMPD/go-$v.ssend"
	same_bytes "$TMPD/go-$v.ssend" "$www/big.bin" skip-header || fail "server send not byte-exact" ||
		return 1
	say "upload: client send, server recv:"
	$EVENTS "$TMPD/go-$v.json" --source gotls --pid "$ppid" --dir send --concat >"$TMPD/go-$v.psend"
	same_bytes "$TMPD/go-$v.psend" "$TMPD/go-$v.upload" skip-header ||
		fail "client upload not byte-exact" || return 1
	json=$($EVENTS "$TMPD/go-$v.json" --source gotls --pid "$ppid" --dir send --contains "POST /upload") ||
		fail "the POST header not captured" || return 1
	lport=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["lport"])' "$json")
	$EVENTS "$TMPD/go-$v.json" --source gotls --pid "$spid" --dir recv --rport "$lport" --concat \
		>"$TMPD/go-$v.precv"
	same_bytes "$TMPD/go-$v.precv" "$TMPD/go-$v.upload" skip-header ||
		fail "server's received upload not byte-exact" || return 1
	grep -q "$(sha256sum <"$TMPD/go-$v.upload" | cut -c1-64)" "$TMPD/go-$v.post.out" ||
		fail "the server did not get the upload intact" || return 1
	no_losses "$TMPD/go-$v.json"
}

test_gotls_normal() { go_stack normal; }
test_gotls_pie() { go_stack pie; }
test_gotls_stripped() { go_stack stripped; }

# gnutls-serv (echo mode) and gnutls-cli: both sides of one exchange.
test_gnutls_serv_cli() {
	local port tag spid cpid json lport
	command -v gnutls-serv >/dev/null || { say "gnutls-bin is not installed"; return 77; }
	ensure_cert
	port=$(free_port)
	gnutls-serv --echo --crlf -q -a --x509certfile "$TMPD/cert.pem" --x509keyfile "$TMPD/key.pem" \
		-p "$port" >"$TMPD/gnutls-serv.log" 2>&1 &
	spid=$!
	SERVERS+=("$spid")
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || fail "gnutls-serv did not start" ||
		return 1
	start_capture gnutls || return 1
	tag="gnutls-echo-$RANDOM$RANDOM"
	(sleep 1; echo "$tag"; sleep 1) | gnutls-cli --insecure -p "$port" 127.0.0.1 \
		>"$TMPD/gnutls-cli.out" 2>&1 &
	cpid=$!
	wait $cpid
	stop_capture || return 1
	grep -q "attached GnuTLS probes" "$TMPD/gnutls.err" || fail "no GnuTLS log line" || return 1
	grep -q "$tag" "$TMPD/gnutls-cli.out" || fail "gnutls-cli did not get the echo" || return 1
	# The pipeline's last process is gnutls-cli: find it by comm instead of by $!.
	json=$($EVENTS "$TMPD/gnutls.json" --source gnutls --comm gnutls-cli --dir send --contains "$tag") ||
		fail "gnutls-cli's send not captured" || return 1
	cpid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pid"])' "$json")
	lport=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["lport"])' "$json")
	check_attr "$json" "$cpid" 127.0.0.1 - 127.0.0.1 "$port" || return 1
	json=$($EVENTS "$TMPD/gnutls.json" --source gnutls --pid "$spid" --dir recv --contains "$tag") ||
		fail "gnutls-serv's recv not captured" || return 1
	check_attr "$json" "$spid" 127.0.0.1 "$port" 127.0.0.1 "$lport" || return 1
	json=$($EVENTS "$TMPD/gnutls.json" --source gnutls --pid "$spid" --dir send --contains "$tag") ||
		fail "gnutls-serv's echo (send) not captured" || return 1
	check_attr "$json" "$spid" 127.0.0.1 "$port" 127.0.0.1 "$lport" || return 1
	json=$($EVENTS "$TMPD/gnutls.json" --source gnutls --pid "$cpid" --dir recv --contains "$tag") ||
		fail "gnutls-cli's recv of the echo not captured" || return 1
	check_attr "$json" "$cpid" 127.0.0.1 "$lport" 127.0.0.1 "$port"
}

# wget (GnuTLS on Debian) fetches 1.5 MiB from openssl s_server: complete and exact.
test_gnutls_wget_1mib() {
	local port www pid json
	command -v wget >/dev/null || { say "wget is not installed"; return 77; }
	ldd "$(command -v wget)" | grep -q libgnutls || { say "this wget does not use GnuTLS"; return 77; }
	port=$(free_port)
	www=$TMPD/www-wget
	mkdir -p "$www"
	head -c 1572864 /dev/urandom >"$www/big.bin"
	start_tls_server "$port" "$www" || return 1
	start_capture wget || return 1
	bash -c "sleep 1; exec wget -q --no-check-certificate --header 'X-Wget: w$port' \
		-O '$TMPD/wget.out' https://127.0.0.1:$port/big.bin" &
	pid=$!
	wait $pid
	stop_capture || return 1
	cmp -s "$www/big.bin" "$TMPD/wget.out" || fail "wget itself did not get the file" || return 1
	json=$($EVENTS "$TMPD/wget.json" --source gnutls --pid "$pid" --dir send --contains "X-Wget: w$port") ||
		fail "wget's request not captured" || return 1
	check_attr "$json" "$pid" 127.0.0.1 - 127.0.0.1 "$port" || return 1
	$EVENTS "$TMPD/wget.json" --source gnutls --pid "$pid" --dir recv --concat >"$TMPD/wget.captured"
	same_bytes "$TMPD/wget.captured" "$www/big.bin" skip-header || fail "wget recv not byte-exact" ||
		return 1
	no_losses "$TMPD/wget.json"
}

# NSS: selfserv and tstclnt with a certificate database made here. selfserv -g 70
# answers with 70 blocks of 16 KiB (1.1 MiB) after echoing the request.
test_nss_selfserv_tstclnt() {
	local db port spid cpid tag json lport
	command -v selfserv >/dev/null && command -v certutil >/dev/null ||
		{ say "libnss3-tools is not installed"; return 77; }
	db=$TMPD/nssdb
	rm -rf "$db"
	mkdir -p "$db"
	head -c 64 /dev/urandom >"$TMPD/nss.noise"
	certutil -N -d "sql:$db" --empty-password >/dev/null 2>&1 &&
		certutil -S -s CN=localhost -n server -x -t CT,C,C -k rsa -g 2048 -d "sql:$db" \
			-z "$TMPD/nss.noise" -8 localhost,127.0.0.1 -v 12 >/dev/null 2>&1 ||
		fail "certutil could not create the test database" || return 1
	port=$(free_port)
	selfserv -d "sql:$db" -n server -p "$port" -g 70 >"$TMPD/selfserv.log" 2>&1 &
	spid=$!
	SERVERS+=("$spid")
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || fail "selfserv did not start" || return 1
	start_capture nss || return 1
	tag="nss-$RANDOM$RANDOM"
	printf 'GET /nss HTTP/1.0\r\nX-Nss: %s\r\n\r\n' "$tag" >"$TMPD/nss.req"
	bash -c "sleep 1; exec tstclnt -h 127.0.0.1 -p $port -d 'sql:$db' -o -A '$TMPD/nss.req'" \
		>"$TMPD/nss.out" 2>"$TMPD/tstclnt.err" &
	cpid=$!
	wait $cpid
	stop_capture || return 1
	grep "NSS" "$TMPD/nss.err" | sed 's/^/    /'
	[ "$(stat -c %s "$TMPD/nss.out")" -gt 1048576 ] || fail "tstclnt got too little" || return 1
	json=$($EVENTS "$TMPD/nss.json" --source nss --pid "$cpid" --dir send --contains "$tag") ||
		fail "tstclnt's request not captured" || return 1
	check_attr "$json" "$cpid" 127.0.0.1 - 127.0.0.1 "$port" || return 1
	lport=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["lport"])' "$json")
	json=$($EVENTS "$TMPD/nss.json" --source nss --pid "$spid" --dir recv --contains "$tag") ||
		fail "selfserv's recv not captured" || return 1
	check_attr "$json" "$spid" 127.0.0.1 "$port" 127.0.0.1 "$lport" || return 1
	say "tstclnt recv vs what it printed:"
	$EVENTS "$TMPD/nss.json" --source nss --pid "$cpid" --dir recv --concat >"$TMPD/nss.crecv"
	same_bytes "$TMPD/nss.crecv" "$TMPD/nss.out" || fail "tstclnt recv not byte-exact" || return 1
	say "selfserv send vs what tstclnt printed:"
	$EVENTS "$TMPD/nss.json" --source nss --pid "$spid" --dir send --rport "$lport" --concat \
		>"$TMPD/nss.ssend"
	same_bytes "$TMPD/nss.ssend" "$TMPD/nss.out" || fail "selfserv send not byte-exact" || return 1
	# tstclnt read its request from a file with PR_Read (the same function): had that
	# been reported, its recv bytes above would not equal what it printed. Its send
	# bytes are exactly the request.
	say "tstclnt send vs the request file:"
	$EVENTS "$TMPD/nss.json" --source nss --pid "$cpid" --dir send --concat >"$TMPD/nss.csend"
	same_bytes "$TMPD/nss.csend" "$TMPD/nss.req" || fail "tstclnt send not byte-exact" || return 1
	no_losses "$TMPD/nss.json"
}

# OpenSSL linked statically: SSL_read/SSL_write only in .symtab. Then a stripped copy:
# a clear log line names it.
test_openssl_static_symtab() {
	local port www bin pid json lport
	[ -r /usr/lib/x86_64-linux-gnu/libssl.a ] || { say "libssl-dev (libssl.a) is not installed"; return 77; }
	bin=$TMPD/sslget
	cc -O1 -o "$bin" "$GO_SRC/sslget.c" /usr/lib/x86_64-linux-gnu/libssl.a \
		/usr/lib/x86_64-linux-gnu/libcrypto.a -ldl -lpthread 2>"$TMPD/sslget.cc" ||
		fail "cannot build sslget: $(cat "$TMPD/sslget.cc")" || return 1
	! nm -D "$bin" | grep -q ' T SSL_read$' || fail "SSL_read is exported: not the case to test" ||
		return 1
	cp "$bin" "$bin.stripped"
	strip "$bin.stripped"
	port=$(free_port)
	www=$TMPD/www-static
	mkdir -p "$www"
	head -c 1572864 /dev/urandom >"$www/big.bin"
	start_tls_server "$port" "$www" || return 1
	start_capture static || return 1
	# A new executable's first run is captured from the moment its probes attach
	# (test_discover.sh); the run checked here is its second.
	"$bin" 127.0.0.1 "$port" /big.bin "X-First: s$port" "$TMPD/static.first" >/dev/null
	# The promise for a second run holds from the attach line on (judging a new file
	# takes 30-200 ms in a release build, seconds under ASan on a loaded machine).
	wait_for 30 grep -q "attached OpenSSL probes to $bin " "$TMPD/static.err"
	"$bin" 127.0.0.1 "$port" /big.bin "X-Static: s$port" "$TMPD/static.out" >"$TMPD/static.lport" &
	pid=$!
	wait $pid
	"$bin.stripped" 127.0.0.1 "$port" /big.bin "X-Stripped: s$port" "$TMPD/static2.out" >/dev/null
	wait_for 10 grep -q "$bin.stripped contains" "$TMPD/static.err"
	stop_capture || return 1
	grep -q "attached OpenSSL probes to $bin " "$TMPD/static.err" ||
		fail "the static binary was not attached: $(cat "$TMPD/static.err")" || return 1
	lport=$(awk '/^lport/ {print $2}' "$TMPD/static.lport")
	json=$($EVENTS "$TMPD/static.json" --source openssl --pid "$pid" --dir send --contains "X-Static: s$port") ||
		fail "the request not captured" || return 1
	check_attr "$json" "$pid" 127.0.0.1 "$lport" 127.0.0.1 "$port" || return 1
	$EVENTS "$TMPD/static.json" --source openssl --pid "$pid" --dir recv --concat >"$TMPD/static.cap"
	same_bytes "$TMPD/static.cap" "$www/big.bin" skip-header || fail "recv not byte-exact" || return 1
	grep "$bin.stripped" "$TMPD/static.err" | sed 's/^/    /'
	grep -q "$bin.stripped contains OpenSSL/BoringSSL code but no SSL_read/SSL_write symbol" \
		"$TMPD/static.err" || fail "no clear message about the stripped copy" || return 1
	no_losses "$TMPD/static.json"
}
