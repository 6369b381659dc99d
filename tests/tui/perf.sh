#!/usr/bin/env bash
# TUI tests of issue 17 (performance, as behaviour; the figures are make bench's):
# --max-memory bounds what the store holds and counts what it evicts, and an idle
# `-p PID` capture runs no timer. Driven in tmux against a python HTTP server this
# script starts. Needs root.
#   ECAPTOP=/path/to/ecaptop tests/tui/perf.sh [TEST...]
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/results.sh"
. "$top/tests/tui/lib.sh"
ECAPTOP=${ECAPTOP:-$top/ecaptop}

ALL_TESTS="max_memory_evicts idle_no_timer"

skip_all() {
	for t in $ALL_TESTS; do result SKIP "tui/$t" "$1"; done
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root"
for p in tmux python3; do
	command -v $p >/dev/null || skip_all "$p is not installed"
done
[ -x "$ECAPTOP" ] || skip_all "no binary at $ECAPTOP"

work=$(mktemp -d /tmp/ecaptop-tuip.XXXXXX)
TUI_HOME=$work/home
mkdir -p "$TUI_HOME"
pids=()
cleanup() {
	tui_stop
	tmx kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A keep-alive HTTP/1.1 server answering every GET with a 64 KiB body.
cat >"$work/server.py" <<'EOF'
import http.server, sys
BODY = b'x' * 65536
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
EOF
# N requests on one connection: N * 64 KiB of responses.
cat >"$work/client.py" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]))
for i in range(int(sys.argv[2])):
    c.request('GET', '/m%d' % i)
    c.getresponse().read()
EOF
PORT=$(free_port)
python3 "$work/server.py" "$PORT" &
SERVER_PID=$!
pids+=("$SERVER_PID")
for _ in $(seq 50); do
	python3 "$work/client.py" "$PORT" 1 2>/dev/null && break
	sleep 0.1
done

fail() {
	tui_dump "$1"
	echo "FAIL: $1"
	return 1
}

# The pid of the ecaptop the tmux session runs.
tui_pid() {
	pgrep -f -n "^$ECAPTOP .*-p $SERVER_PID"
}

kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# 1200 responses of 64 KiB (75 MiB) through a store with a 4 MiB budget: the header
# shows the budget and evictions, resident memory grows by far less than what
# passed, and the summary at q counts the evictions the budget made.
t_max_memory_evicts() {
	local pid rss0 hwm
	# ASan keeps freed memory in quarantine; make RSS show what the program holds.
	TUI_ENV="ASAN_OPTIONS=quarantine_size_mb=8" tui_start 200 30 --max-memory 4M -p "$SERVER_PID"
	tui_wait "Exchanges" 30 || { fail "ecaptop did not start"; return 1; }
	pid=$(tui_pid)
	[ -n "$pid" ] || { fail "no ecaptop process"; return 1; }
	python3 "$work/client.py" "$PORT" 1
	tui_wait "stored [0-9.]+[KM]?/" 10 || { fail "the first response was not stored"; return 1; }
	rss0=$(kib "$pid" VmRSS)
	python3 "$work/client.py" "$PORT" 1200
	tui_wait "/4\.0MB +evicted [1-9]" 30 || { fail "no evictions shown under a 4 MiB budget"; return 1; }
	hwm=$(kib "$pid" VmHWM)
	echo "    VmRSS before $((rss0 / 1024)) MiB, VmHWM after 75 MiB of responses $((hwm / 1024)) MiB"
	[ "$hwm" -lt $((rss0 + 40 * 1024)) ] ||
		{ fail "resident memory grew by $(((hwm - rss0) / 1024)) MiB under a 4 MiB budget"; return 1; }
	tui_keys q
	tui_wait "evicted [1-9][0-9]* \([1-9][0-9]* by --max-memory\)" 10 ||
		{ fail "the summary does not count the budget's evictions"; return 1; }
}

# An idle `ecaptop -p PID` (the TUI) runs no timer: over 5 s its threads are switched
# in a few times (the once-a-second header, the engine's safety timeout, the 5 s
# rescan of the pid's maps), not hundreds (a 20 ms poll, a 100 ms key loop).
t_idle_no_timer() {
	local pid n0 n1 t
	sleep 1000 &
	local idle=$!
	pids+=("$idle")
	tui_start 120 30 -p "$idle"
	tui_wait "Exchanges" 30 || { fail "ecaptop did not start"; return 1; }
	pid=$(pgrep -f -n "^$ECAPTOP -p $idle")
	[ -n "$pid" ] || { fail "no ecaptop process"; return 1; }
	# past the start and the first rescans
	sleep 3
	n0=0
	for t in /proc/"$pid"/task/*; do n0=$((n0 + $(awk '{print $3}' "$t/schedstat"))); done
	sleep 5
	n1=0
	for t in /proc/"$pid"/task/*; do n1=$((n1 + $(awk '{print $3}' "$t/schedstat"))); done
	echo "    $((n1 - n0)) wake-ups in 5 s"
	kill "$idle" 2>/dev/null
	[ $((n1 - n0)) -lt 60 ] || { fail "an idle capture woke $((n1 - n0)) times in 5 s"; return 1; }
}

tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=($ALL_TESTS)
for t in "${tests[@]}"; do
	if "t_$t"; then
		result PASS "tui/$t"
	else
		result FAIL "tui/$t"
	fi
	tui_stop
done
exit 0
