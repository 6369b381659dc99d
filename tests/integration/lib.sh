# Shared helpers for the integration tests (sourced by run.sh).
# Every test runs real programs on loopback and asserts on what ecaptop captured.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ECAPTOP=${ECAPTOP:-$TOP/ecaptop}
EVENTS="python3 $TOP/tests/integration/events.py"
TMPD=${TMPD:-$(mktemp -d /tmp/ecaptop-it.XXXXXX)}
CAP_PID=
# TEST_TIMEOUT[name]=SECONDS: a test's own limit where 300 s is not enough.
declare -A TEST_TIMEOUT 2>/dev/null || true

say() { printf '  %s\n' "$*"; }
fail() { say "FAILED: $*"; return 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

ensure_cert() {
	[ -f "$TMPD/cert.pem" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMPD/key.pem" -out "$TMPD/cert.pem" \
		-days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
		>/dev/null 2>&1
}

# start_capture NAME ARGS...: ecaptop --batch --json ARGS, output in $TMPD/NAME.json,
# standard error in $TMPD/NAME.err; returns once it said "ready".
start_capture() {
	local name=$1
	shift
	"$ECAPTOP" --batch --json "$@" >"$TMPD/$name.json" 2>"$TMPD/$name.err" &
	CAP_PID=$!
	if ! wait_for 30 grep -q ready "$TMPD/$name.err"; then
		say "ecaptop did not become ready; its stderr:"
		sed 's/^/    /' "$TMPD/$name.err"
		kill "$CAP_PID" 2>/dev/null
		return 1
	fi
}

# stop_capture [SIGNAL]: stop it and wait; fails unless it exits 0.
stop_capture() {
	local sig=${1:-INT} rc
	sleep 0.3 # let the last events reach the buffer
	kill -"$sig" "$CAP_PID" 2>/dev/null
	wait "$CAP_PID"
	rc=$?
	CAP_PID=
	if [ $rc -ne 0 ]; then
		fail "ecaptop exited with status $rc"
		return 1
	fi
}

# start_tls_server PORT DIR [-6]: openssl s_server serving files of DIR over HTTPS.
start_tls_server() {
	local port=$1 dir=$2 fam=${3:-}
	ensure_cert
	# env -C, not a subshell: $! must be the server itself, to stop it and to name it.
	env -C "$dir" openssl s_server -quiet -accept "$port" $fam -cert "$TMPD/cert.pem" \
		-key "$TMPD/key.pem" -WWW >"$TMPD/s_server.$port.log" 2>&1 &
	echo $! >"$TMPD/s_server.$port.pid"
	SERVERS+=("$!")
	local host=127.0.0.1
	[ "$fam" = "-6" ] && host="[::1]"
	wait_for 10 curl -sk -o /dev/null "https://$host:$port/" || fail "s_server did not start"
}

# has_record FILE PYTHON-EXPR: some record r satisfies the expression.
has_record() {
	python3 - "$1" "$2" <<'PY'
import json, sys
expr = sys.argv[2]
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    try:
        if eval(expr, {}, {"r": r}):
            print("  match:", json.dumps({k: v for k, v in r.items() if k not in ("data", "resp_body", "req_headers", "resp_headers")})[:400])
            sys.exit(0)
    except (KeyError, TypeError):
        pass
sys.exit(1)
PY
}

start_http_plain() { # PORT DIR
	python3 -m http.server "$1" --bind 127.0.0.1 --directory "$2" >"$TMPD/http.$1.log" 2>&1 &
	SERVERS+=("$!")
	wait_for 20 curl -s -o /dev/null "http://127.0.0.1:$1/" || fail "http.server did not start"
}

cleanup_all() {
	local p
	[ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
	for p in "${SERVERS[@]}"; do
		kill "$p" 2>/dev/null
	done
	SERVERS=()
}
SERVERS=()
