#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The capture smoke run inside each guest kernel (run.sh boots it with boot.sh):
# --check, then one capture that must hold OpenSSL (curl and python against
# s_server), GnuTLS, Go, plain HTTP and a bash command, each attributed, and a call
# larger than the kernel's per-call bound; then the same through --perf-buffer.
# smoke.sh GO_BIN: GO_BIN is tests/integration/go/tlspeer.go built on the host.
# Prints "ok NAME" or "FAILED NAME: why" per check; exits 1 if any failed.

GO_BIN=${1:?usage: smoke.sh GO_BIN}
TMPD=$(mktemp -d /tmp/ecaptop-smoke.XXXXXX)
export HOME=$TMPD
source "$(dirname "$(realpath "$0")")/../integration/lib.sh"
FAILED=0

check() { # NAME COMMAND...: run one check
	local name=$1
	shift
	if "$@"; then
		echo "ok $name"
	else
		echo "FAILED $name"
		FAILED=1
	fi
}

# What the kernel lacks (bpf_loop 5.17, attach cookies 5.15) decides what to expect.
kver=$(uname -r)
kv() { printf '%d%03d' "${1%%.*}" "$(echo "$1" | cut -d. -f2)"; }
HAS_LOOP=0
[ "$(kv "$kver")" -ge "$(kv 5.17)" ] && HAS_LOOP=1
HAS_COOKIE=0
[ "$(kv "$kver")" -ge "$(kv 5.15)" ] && HAS_COOKIE=1
say "kernel $kver: bpf_loop $HAS_LOOP, attach cookies $HAS_COOKIE"

t_check() {
	local out t0=$SECONDS
	out=$("$ECAPTOP" --check 2>&1)
	printf '%s\n' "$out" | sed 's/^/    /'
	say "--check took $((SECONDS - t0)) s"
	printf '%s\n' "$out" | grep -q '^capture: possible' || fail "no 'capture: possible'" || return 1
	if [ $HAS_LOOP = 0 ]; then
		printf '%s\n' "$out" | grep -q 'openssl .*degraded (calls cut at 128 KiB' ||
			fail "OpenSSL not reported degraded without bpf_loop" || return 1
	else
		printf '%s\n' "$out" | grep -qE '^  openssl .* works$' || fail "OpenSSL not 'works'"
	fi
}

# The servers, started before the capture (as users' servers are).
setup() {
	local www=$TMPD/www
	mkdir -p "$www"
	echo "smoke-body-$RANDOM" >"$www/index.txt"
	ensure_cert || return 1
	TLS_PORT=$(free_port)
	start_tls_server "$TLS_PORT" "$www" || return 1
	HTTP_PORT=$(free_port)
	start_http_plain "$HTTP_PORT" "$www" || return 1
	GNUTLS_PORT=$(free_port)
	gnutls-serv --echo --crlf -q -a --x509certfile "$TMPD/cert.pem" --x509keyfile "$TMPD/key.pem" \
		-p "$GNUTLS_PORT" >"$TMPD/gnutls-serv.log" 2>&1 &
	SERVERS+=("$!")
	wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$GNUTLS_PORT" || fail "gnutls-serv did not start" ||
		return 1
	"$GO_BIN" server -cert "$TMPD/cert.pem" -key "$TMPD/key.pem" -dir "$www" \
		-portfile "$TMPD/go.port" >"$TMPD/go-server.log" 2>&1 &
	GO_SPID=$!
	SERVERS+=("$GO_SPID")
	wait_for 20 test -s "$TMPD/go.port" || fail "the Go server did not start" || return 1
	GO_PORT=$(cat "$TMPD/go.port")
}

# One python process: an HTTPS GET to s_server, then a 1 MiB write in one SSL_write
# to its own TLS sink (larger than the per-call bound of kernels without bpf_loop).
PY_CLIENT='
import os, socket, ssl, sys, threading, urllib.request
port, tag, big = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
req = urllib.request.Request("https://127.0.0.1:%d/index.txt" % port, headers={"X-Smoke-Py": tag})
urllib.request.urlopen(req, context=ctx).read()
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); sctx.load_cert_chain(sys.argv[4], sys.argv[5])
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
got = []
data = open(big, "rb").read()
def sink():
    c, _ = ls.accept(); s = sctx.wrap_socket(c, server_side=True); n = 0
    while n < len(data):
        b = s.recv(65536)
        if not b: break
        n += len(b)
    got.append(n)
    s.sendall(b"ok")
    s.close()
t = threading.Thread(target=sink); t.start()
c = ctx.wrap_socket(socket.create_connection(ls.getsockname()))
c.sendall(data)
c.recv(2)
c.close(); t.join()
print("sink got", got[0])
'

t_capture() {
	local tag=smoke-$RANDOM$RANDOM json pid lport
	start_capture smoke || return 1
	# OpenSSL: curl.
	curl -sk -H "X-Smoke: $tag" "https://127.0.0.1:$TLS_PORT/index.txt" -o /dev/null \
		-w '%{local_port}\n' >"$TMPD/curl.lport" &
	CURL_PID=$!
	wait $CURL_PID
	# OpenSSL: python (HTTPS, then one large write).
	head -c 1048576 /dev/urandom >"$TMPD/big.bin"
	python3 -c "$PY_CLIENT" "$TLS_PORT" "$tag" "$TMPD/big.bin" "$TMPD/cert.pem" "$TMPD/key.pem" \
		>"$TMPD/py.out" 2>&1 &
	PY_PID=$!
	wait $PY_PID || say "python: $(cat "$TMPD/py.out")"
	# GnuTLS.
	(sleep 1; echo "gnutls-$tag"; sleep 1) | gnutls-cli --insecure -p "$GNUTLS_PORT" 127.0.0.1 \
		>"$TMPD/gnutls-cli.out" 2>&1
	# Go: the client is the server's executable, probed since the start.
	"$GO_BIN" client -url "https://127.0.0.1:$GO_PORT/index.txt" -header "X-Smoke-Go: $tag" \
		-out "$TMPD/go.body" >"$TMPD/go-client.out" 2>&1 &
	GO_CPID=$!
	wait $GO_CPID
	# Plain HTTP.
	curl -s "http://127.0.0.1:$HTTP_PORT/index.txt" -H "X-Smoke-Plain: $tag" -o /dev/null &
	PLAIN_PID=$!
	wait $PLAIN_PID
	# bash, typed into a terminal.
	shell_session "bash --norc --noprofile" ecaptop-smoke-bash '[#$] ?$' bash || say "bash session failed"
	stop_capture || return 1
	TAG=$tag
	$EVENTS "$TMPD/smoke.json" --check-json || fail "output is not valid JSON lines"
}

t_openssl() {
	local json
	json=$($EVENTS "$TMPD/smoke.json" --source openssl --pid "$CURL_PID" --dir send --contains "$TAG") ||
		fail "curl's request not captured" || return 1
	python3 - "$json" "$CURL_PID" "$TLS_PORT" "$(cat "$TMPD/curl.lport")" <<'PY'
import json, sys
e = json.loads(sys.argv[1]); pid, port, lport = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
want = {"pid": pid, "comm": "curl", "laddr": "127.0.0.1", "raddr": "127.0.0.1", "rport": port, "lport": lport}
bad = {k: (e.get(k), v) for k, v in want.items() if e.get(k) != v}
print("    curl:", {k: e.get(k) for k in want}, "bad:" if bad else "", bad or "")
sys.exit(1 if bad else 0)
PY
}

t_python() {
	$EVENTS "$TMPD/smoke.json" --source openssl --pid "$PY_PID" --comm python3 --dir send \
		--contains "X-Smoke-Py: $TAG" >/dev/null || fail "python's HTTPS request not captured"
}

# The 1 MiB write: whole with bpf_loop; without it, the first 128 KiB and a truncation.
t_bigcall() {
	local want trunc
	grep -q 'sink got 1048576' "$TMPD/py.out" || fail "python's sink: $(cat "$TMPD/py.out")" || return 1
	$EVENTS "$TMPD/smoke.json" --source openssl --pid "$PY_PID" --dir send --concat >"$TMPD/big.cap"
	python3 - "$TMPD/big.cap" "$TMPD/big.bin" "$HAS_LOOP" <<'PY' || return 1
import sys
cap = open(sys.argv[1], "rb").read(); big = open(sys.argv[2], "rb").read()
# The sink's own "ok" is a send of the same process: look at the write's bytes only.
i = cap.find(big[:64])
want = big if sys.argv[3] == "1" else big[:128 * 1024]
got = cap[i:i + len(want)] if i >= 0 else b""
more = i >= 0 and cap[i + len(want):i + len(want) + 64] == big[len(want):len(want) + 64] != b""
print("    captured %d bytes of the 1 MiB write as expected: %s; more than the bound: %s" %
      (len(want), got == want, more))
sys.exit(0 if got == want and not more else 1)
PY
	trunc=$($EVENTS "$TMPD/smoke.json" --stats lost.truncated)
	say "lost.truncated: $trunc"
	if [ "$HAS_LOOP" = 1 ]; then
		[ "$trunc" = 0 ] || fail "truncation counted with bpf_loop"
	else
		[ "${trunc:-0}" -ge 1 ] || fail "the cut call not counted as truncated"
	fi
}

t_gnutls() {
	$EVENTS "$TMPD/smoke.json" --source gnutls --comm gnutls-cli --dir send --contains "gnutls-$TAG" \
		>/dev/null || fail "gnutls-cli's send not captured" || return 1
	$EVENTS "$TMPD/smoke.json" --source gnutls --comm gnutls-serv --dir recv --contains "gnutls-$TAG" \
		>/dev/null || fail "gnutls-serv's recv not captured"
}

t_go() {
	$EVENTS "$TMPD/smoke.json" --source gotls --pid "$GO_CPID" --dir send --contains "X-Smoke-Go: $TAG" \
		>/dev/null || fail "the Go client's request not captured" || return 1
	$EVENTS "$TMPD/smoke.json" --source gotls --pid "$GO_SPID" --dir recv --contains "X-Smoke-Go: $TAG" \
		>/dev/null || fail "the Go server's view of the request not captured"
}

t_plain_http() {
	$EVENTS "$TMPD/smoke.json" --source socket --pid "$PLAIN_PID" --dir send --contains "X-Smoke-Plain: $TAG" \
		>/dev/null || fail "curl's plain request not captured" || return 1
	has_record "$TMPD/smoke.json" "r['type']=='http' and r['pid']==$PLAIN_PID and r['path']=='/index.txt' \
and r['status']==200 and r['rport']==$HTTP_PORT" || fail "no HTTP record for the plain request"
}

t_bash() {
	local id
	has_record "$TMPD/smoke.json" "r['type']=='command' and r['shell']=='bash' and \
r['command']=='echo typed-in-bash-$$'" || fail "the bash command was not captured" || return 1
	id=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") == "command" and r.get("command") == "false":
        print(r["command_id"]); break' "$TMPD/smoke.json")
	[ -n "$id" ] || fail "'false' not captured" || return 1
	if [ "$HAS_COOKIE" = 1 ]; then
		has_record "$TMPD/smoke.json" "r['type']=='command_exit' and r['command_id']=='$id' and \
r['exit_status']==1" || fail "no exit status 1 for 'false'"
	else
		say "no attach cookies: exit status not expected"
	fi
}

t_perf_buffer() {
	local pid
	start_capture perf --perf-buffer || return 1
	grep -q "perf buffer" "$TMPD/perf.err" || fail "not using the perf buffer" || return 1
	curl -sk -H "X-Smoke-Perf: yes" "https://127.0.0.1:$TLS_PORT/index.txt" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture || return 1
	$EVENTS "$TMPD/perf.json" --source openssl --pid "$pid" --dir send --contains "X-Smoke-Perf: yes" \
		>/dev/null || fail "request not captured through the perf buffer" || return 1
	[ "$($EVENTS "$TMPD/perf.json" --stats buffer)" = perfbuf ] || fail "stats do not say perfbuf"
}

# shell_session is the integration tests' (test_sources.sh).
source "$TOP/tests/integration/test_sources.sh"
check check t_check
if ! setup; then
	echo "FAILED setup"
	cleanup_all
	exit 1
fi
t0=$SECONDS
if t_capture; then
	echo "ok capture"
	say "capture took $((SECONDS - t0)) s"
	for t in openssl python bigcall gnutls go plain_http bash; do
		check "$t" "t_$t"
	done
else
	echo "FAILED capture"
	sed 's/^/    /' "$TMPD/smoke.err"
	FAILED=1
fi
check perf_buffer t_perf_buffer
grep -h 'kernel .* lacks\|refused' "$TMPD"/*.err 2>/dev/null | sort -u | sed 's/^/    log: /'
cleanup_all
exit $FAILED
