#!/usr/bin/env bash
# TUI tests of issue 14: the Exchanges and Aggregates panels, honest filters,
# time order, the screen at 80x24, help and the summary on quit, driven in tmux
# against real servers this script starts (python's http.server with a slow
# endpoint, a private PostgreSQL cluster). Needs root.
#   ECAPTOP=/path/to/ecaptop tests/tui/exchanges.sh [TEST...]
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/results.sh"
. "$top/tests/tui/lib.sh"
ECAPTOP=${ECAPTOP:-$top/ecaptop}

ALL_TESTS="exch_pending exch_merged exch_sort exch_detail exch_80x24 conns_80x24 aggr_endpoints aggr_enter
	exch_sql sql_rows_pg sql_rows_mariadb h2_frames shell_tree cli_pid_kept key_P_keeps events_time_order help_keys
	quit_summary cgroup_filter"

skip_all() {
	for t in $ALL_TESTS; do result SKIP "tui/$t" "$1"; done
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root"
for p in tmux curl python3; do
	command -v $p >/dev/null || skip_all "$p is not installed"
done
[ -x "$ECAPTOP" ] || skip_all "no binary at $ECAPTOP"

work=$(mktemp -d /tmp/ecaptop-tuix.XXXXXX)
chmod 0711 "$work"
TUI_HOME=$work/home
mkdir -p "$TUI_HOME"
pids=()
cleanup() {
	tui_stop
	tmx kill-server 2>/dev/null
	shx kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$PG_DATA" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# An HTTP/1.0 server (python's http.server): /slow/* answers after SLOW seconds,
# /fail/* with 500, everything else with 200.
cat >"$work/server.py" <<'EOF'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith('/slow'):
            time.sleep(float(sys.argv[2]))
        code = 500 if self.path.startswith('/fail') else 200
        body = b'hello ' + self.path.encode() + b'\n'
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
EOF
PORT=$(free_port)
SLOW=6
python3 "$work/server.py" "$PORT" "$SLOW" &
SERVER_PID=$!
pids+=("$SERVER_PID")
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
	sleep 0.1
done

shx() { tmux -L "$TUI_SOCKET-sh" "$@"; }

fail() {
	tui_dump "$1"
	echo "FAIL: $1"
	return 1
}

# Start at W x H (more args go to ecaptop), show only our server's port, open the
# Exchanges panel.
start_exch() {
	local w=$1 h=$2
	shift 2
	tui_start "$w" "$h" "$@"
	tui_wait "Exchanges" 20 || { fail "ecaptop did not start"; return 1; }
	tui_keys F4
	tui_type "port:$PORT"
	tui_keys Enter
	tui_wait "filter: port:$PORT" 5 || { fail "the filter was not applied"; return 1; }
	tui_keys e
	tui_wait "TIME.*CLIENT.*SERVER.*STATUS.*LATENCY" 5 || { fail "e did not open Exchanges"; return 1; }
}

get() { curl -s -o /dev/null "http://127.0.0.1:$PORT$1"; }

# A request to a slow endpoint is a row at once, pending, its age ticking; the
# answer completes the same row with its status and latency.
t_exch_pending() {
	start_exch 120 30 || return 1
	(get /slow/pend) &
	local a b
	tui_wait "GET +pending +[0-9.]+ [mµu]?s .*/slow/pend" 3 ||
		{ fail "the waiting request is not shown as pending within 3 s"; return 1; }
	a=$(tui_screen | grep -E "/slow/pend" | grep -oE "pending +[0-9.]+ [mµu]?s")
	sleep 1.5
	b=$(tui_screen | grep -E "/slow/pend" | grep -oE "pending +[0-9.]+ [mµu]?s")
	[ -n "$a" ] && [ "$a" != "$b" ] || { fail "the pending age does not tick ($a, then $b)"; return 1; }
	tui_wait "GET +200 +[6-9]\.[0-9]+ s .*/slow/pend" $((SLOW + 5)) ||
		{ fail "the answer did not complete the row with 200 and about ${SLOW} s"; return 1; }
	[ "$(tui_screen | grep -c "/slow/pend")" = 1 ] || { fail "the exchange has more than one row"; return 1; }
}

# Client and server both captured: one row with curl and python3; a fast answer
# has a latency with a unit that is not "0 ms".
t_exch_merged() {
	start_exch 120 30 || return 1
	get /merge/1
	tui_wait "[0-9]+ curl +$SERVER_PID python3 +http +GET +200 .*/merge/1" 5 ||
		{ fail "no merged row of curl and python3 ($SERVER_PID)"; return 1; }
	tui_screen | grep "/merge/1" | grep -qE "200 +[0-9.]+ (ns|µs|ms) " ||
		{ fail "the latency lacks a readable unit"; return 1; }
	tui_screen | grep "/merge/1" | grep -q " 0 ms" && { fail "latency shown as 0 ms"; return 1; }
	return 0
}

# F6 latency then I: the slowest first; F6 status: 500 sorts apart from 200.
t_exch_sort() {
	start_exch 120 30 || return 1
	get /sort/fast1
	get /fail/sort
	get /slow/sort &
	tui_wait "/slow/sort" 5 || { fail "no slow row"; return 1; }
	tui_wait "GET +200 +[6-9]\.[0-9]+ s .*/slow/sort" $((SLOW + 5)) || { fail "the slow row did not complete"; return 1; }
	tui_keys F6
	tui_wait "Sort by" 3 || { fail "F6 did not open the sort picker"; return 1; }
	# the picker lists time client server proto method target status latency req resp
	tui_keys Down Down Down Down Down Down Down Enter
	tui_wait "LATENCY\^" 3 || { fail "latency is not the sort column"; return 1; }
	tui_keys I
	tui_wait "LATENCYv" 3 || { fail "I did not invert"; return 1; }
	tui_screen | sed -n '5p' | grep -q "/slow/sort" || { fail "the slowest is not first under LATENCYv"; return 1; }
	tui_keys F6 Up Enter
	tui_wait "STATUSv" 3 || { fail "status is not the sort column"; return 1; }
	tui_screen | sed -n '5,$p' | grep -E "/sort/|/fail/sort" | head -1 | grep -q "/fail/sort" ||
		{ fail "500 does not sort before 200 under STATUSv"; return 1; }
}

# Enter opens the exchange: both ends, status, latency, the request and the
# response as captured; Backspace comes back.
t_exch_detail() {
	start_exch 120 40 || return 1
	get /detail/42
	tui_wait "/detail/42" 5 || { fail "no row"; return 1; }
	tui_keys End Enter
	tui_wait "^exchange .* http GET /detail/42" 5 || { fail "Enter did not open the exchange"; return 1; }
	tui_wait "^client [0-9]+ curl  server $SERVER_PID python3 at 127.0.0.1:$PORT" 3 ||
		{ fail "the detail lacks both ends"; return 1; }
	tui_wait "^status 200  latency [0-9.]+ (ns|µs|ms)" 3 || { fail "no status and latency"; return 1; }
	tui_wait "^GET /detail/42 HTTP/1.1" 3 || { fail "no request line"; return 1; }
	tui_wait "^hello /detail/42" 3 || { fail "no response body"; return 1; }
	tui_keys BSpace
	tui_wait "TIME.*CLIENT.*SERVER" 3 || { fail "Backspace did not return to Exchanges"; return 1; }
}

# 80x24: the numbers keep every digit (pid, port, status, latency, sizes); the
# names are cut first.
t_exch_80x24() {
	start_exch 80 24 || return 1
	kill -STOP "$SERVER_PID"
	get /narrow/12345 &
	local cpid=$!
	tui_wait "pending" 5 || { kill -CONT "$SERVER_PID"; fail "no pending row"; return 1; }
	local row
	row=$(tui_screen | grep "pending")
	kill -CONT "$SERVER_PID"
	wait $cpid
	# the server did not answer yet: no server pid, its port shown whole
	echo "$row" | grep -qE "[0-9]+ c[a-z]* +:$PORT +http +GET +pending" ||
		{ fail "the pending row cuts a number: $row"; return 1; }
	tui_wait "$SERVER_PID [a-z0-9]* *http +GET +200 +[0-9.]+ (ns|µs|ms|s) +[0-9.]+[KM]? +[0-9.]+[KM]? /narrow" 10 ||
		{ fail "the completed row cuts a number"; return 1; }
}

# Connections at 80x24: both endpoints keep their port whole (the names give
# way); a resize to 80x24 and back refills the rows at once.
t_conns_80x24() {
	start_exch 120 30 || return 1
	get /conns/1
	tui_keys Tab Tab Tab # Exchanges -> Aggregates -> Processes -> Connections
	tui_wait "127\.0\.0\.1:$PORT " 5 || { fail "no connection rows"; return 1; }
	tui_resize 80 24
	tui_wait "127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:$PORT " 2 || { fail "the port is cut at 80x24 (or the rows did not refill at once)"; return 1; }
	tui_wait "127\.0\.0\.1:$PORT +127\.0\.0\.1:[0-9]{4,5} " 2 || { fail "the server's peer port is cut at 80x24"; return 1; }
	tui_resize 120 30
	tui_wait "127\.0\.0\.1:$PORT " 2 || { fail "the rows did not refill at once after growing"; return 1; }
}

# The Aggregates panel: /users/1..5 are one endpoint /users/{n} with count 5,
# 500s counted as errors, percentiles with units.
t_aggr_endpoints() {
	start_exch 120 30 || return 1
	for i in 1 22 333 4444 55555; do get "/users/$i"; done
	get /fail/1
	get /fail/2
	tui_wait "/fail/2" 5 || { fail "the exchanges did not arrive"; return 1; }
	tui_keys a
	tui_wait "PROTO.*COUNT.*ERR.*P50.*P95.*P99.*ENDPOINT" 5 || { fail "a did not open Aggregates"; return 1; }
	tui_wait "http +5 +0 +0\.0% .* GET /users/\{n\}" 5 || { fail "no /users/{n} row with count 5"; return 1; }
	tui_wait "http +2 +2 +100\.0% .* GET /fail/\{n\}" 5 || { fail "no /fail/{n} row with 2 errors"; return 1; }
	# sort by errors, descending: /fail first (the picker opens on count)
	tui_keys F6 Down Enter
	tui_wait "ERRv" 3 || { fail "errors is not the sort column"; return 1; }
	tui_screen | sed -n '5,$p' | grep -m1 "GET /" | grep -q "/fail/" || { fail "errors do not sort first"; return 1; }
}

# Enter on an Aggregates row lists that endpoint's exchanges only; Esc goes
# back to the Aggregates.
t_aggr_enter() {
	start_exch 120 30 || return 1
	for i in 7 88 999; do get "/items/$i"; done
	get /other/1
	tui_wait "/other/1" 5 || { fail "the exchanges did not arrive"; return 1; }
	tui_keys a
	tui_wait "http +3 +0 +0\.0% .* GET /items/\{n\}" 5 || { fail "no /items/{n} row with count 3"; return 1; }
	tui_keys /
	tui_type "items"
	tui_keys Enter Enter
	tui_wait "exchanges of GET /items/\{n\}" 5 || { fail "Enter on the row did not open its exchanges"; return 1; }
	tui_wait "TIME.*CLIENT.*SERVER.*STATUS" 3 || { fail "not the Exchanges list"; return 1; }
	for i in 7 88 999; do
		tui_wait "GET +200 .*/items/$i\b" 3 || { fail "/items/$i is missing"; return 1; }
	done
	tui_screen | grep -q "/other/1" && { fail "another endpoint's exchange is listed"; return 1; }
	# The status line shows the row count once the filter's message has had its time.
	tui_wait " [0-9]/3 rows" 10 || { fail "the list does not hold exactly the 3 exchanges"; return 1; }
	tui_keys Escape
	tui_wait "PROTO.*COUNT.*ERR.*P50.*ENDPOINT" 5 || { fail "Esc did not return to the Aggregates"; return 1; }
	tui_keys e
	tui_wait "/other/1" 5 || { fail "the Exchanges list is still limited after Esc"; return 1; }
}

# PostgreSQL: each query is a row with its result or its SQLSTATE; the
# aggregate key has its literals as ?.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_DATA=
start_pg() {
	[ -n "$PG_BIN" ] && id postgres >/dev/null 2>&1 || return 77
	[ -n "$PG_PORT" ] && return 0
	PG_PORT=$(free_port)
	PG_DATA=$work/pg
	mkdir -p "$PG_DATA"
	chown postgres "$PG_DATA"
	runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust >"$work/initdb.log" 2>&1 || return 1
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w \
		-o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 || return 1
}
t_exch_sql() {
	start_pg
	case $? in 0) ;; 77) echo "SKIP: postgresql is not installed"; return 0 ;; *) fail "postgres did not start"; return 1 ;; esac
	tui_start 120 30
	tui_wait "Exchanges" 20 || { fail "ecaptop did not start"; return 1; }
	tui_keys F4
	tui_type "port:$PG_PORT"
	tui_keys Enter e
	tui_wait "filter: port:$PG_PORT" 5 || { fail "the filter was not applied"; return 1; }
	psql "host=127.0.0.1 port=$PG_PORT user=postgres sslmode=disable" -q \
		-c "select 7 as n, 'x' as s" -c "select id from nosuchtable where id = 12" \
		-c "select 8 as n, 'yy' as s" >/dev/null 2>&1
	tui_wait "psql +[0-9]+ postgres +pgsql +Query +OK 1 .*select 7 as n, 'x' as s" 10 ||
		{ fail "no merged psql/postgres row for the first query"; return 1; }
	tui_wait "pgsql +Query +ERR 42P01 .*nosuchtable" 5 || { fail "the failing query lacks its SQLSTATE"; return 1; }
	tui_keys a
	tui_wait "pgsql +2 +0 +0\.0% .* select \? as n, \? as s" 5 ||
		{ fail "the two selects are not one normalised query with count 2"; return 1; }
}

# A query's row has its request and response bytes; its detail the column
# names and the first rows, then how many more there are.
t_sql_rows_pg() {
	start_pg
	case $? in 0) ;; 77) echo "SKIP: postgresql is not installed"; return 0 ;; *) fail "postgres did not start"; return 1 ;; esac
	tui_start 120 40
	tui_wait "Exchanges" 20 || { fail "ecaptop did not start"; return 1; }
	tui_keys F4
	tui_type "port:$PG_PORT"
	tui_keys Enter e
	tui_wait "filter: port:$PG_PORT" 5 || { fail "the filter was not applied"; return 1; }
	psql "host=127.0.0.1 port=$PG_PORT user=postgres sslmode=disable" -q \
		-c "select g as num, 'val-' || g as label from generate_series(1,25) g" >/dev/null 2>&1
	tui_wait "pgsql +Query +OK 25 +[0-9.]+ [mµ]?s +[0-9]+ +[0-9.]+K? +select g as num" 10 ||
		{ fail "the query's row lacks its request and response bytes"; return 1; }
	tui_keys /
	tui_type "generate_series"
	tui_keys Enter Enter
	tui_wait "^exchange .* pgsql Query select g as num" 5 || { fail "Enter did not open the query"; return 1; }
	tui_wait "request [0-9]+  response [0-9.]+K?( |$)" 3 || { fail "the detail lacks the byte counts"; return 1; }
	tui_wait "^num +\| label" 3 || { fail "the detail lacks the column names"; return 1; }
	tui_wait "^1 +\| val-1$" 3 || { fail "the detail lacks the first row"; return 1; }
	tui_wait "^10 +\| val-10$" 3 || { fail "the detail lacks the 10th row"; return 1; }
	tui_screen | grep -q "val-11" && { fail "more than 10 rows shown"; return 1; }
	tui_wait "^\.\.\. 15 more rows" 3 || { fail "the detail does not say how many rows are not shown"; return 1; }
}

# The same for MariaDB (client and server both captured).
MDB_PORT=
start_mdb() {
	command -v mariadbd >/dev/null || return 77
	[ -n "$MDB_PORT" ] && return 0
	MDB_PORT=$(free_port)
	mkdir -p "$work/mdb"
	mariadb-install-db --no-defaults --datadir="$work/mdb/data" --user=root \
		--auth-root-authentication-method=normal >"$work/mdb/install.log" 2>&1 || return 1
	mariadbd --no-defaults --datadir="$work/mdb/data" --user=root --bind-address=127.0.0.1 \
		--port="$MDB_PORT" --socket="$work/mdb/sock" --pid-file="$work/mdb/pid" >"$work/mdb/server.log" 2>&1 &
	pids+=("$!")
	for _ in $(seq 100); do
		mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --skip-ssl -e 'select 1' >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
t_sql_rows_mariadb() {
	start_mdb
	case $? in 0) ;; 77) echo "SKIP: mariadb is not installed"; return 0 ;; *) fail "mariadbd did not start"; return 1 ;; esac
	tui_start 120 40
	tui_wait "Exchanges" 20 || { fail "ecaptop did not start"; return 1; }
	tui_keys F4
	tui_type "port:$MDB_PORT"
	tui_keys Enter e
	tui_wait "filter: port:$MDB_PORT" 5 || { fail "the filter was not applied"; return 1; }
	mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --skip-ssl -D mysql \
		-e "select seq as num, concat('row-', seq) as label from seq_1_to_12" >/dev/null 2>&1
	tui_wait "mysql +COM_QU[A-Z_]* +OK 12 +[0-9.]+ [mµ]?s +[0-9]+ +[0-9.]+K? +select seq as num" 10 ||
		{ fail "the query's row lacks its request and response bytes"; return 1; }
	tui_keys /
	tui_type "select seq"
	tui_keys Enter Enter
	tui_wait "^exchange .* mysql COM_QUERY select seq as num" 5 || { fail "Enter did not open the query"; return 1; }
	tui_wait "request [0-9]+  response [0-9.]+K?( |$)" 3 || { fail "the detail lacks the byte counts"; return 1; }
	tui_wait "^num +\| label" 3 || { fail "the detail lacks the column names"; return 1; }
	tui_wait "^1 +\| row-1$" 3 || { fail "the detail lacks the first row"; return 1; }
	tui_wait "^\.\.\. 2 more rows" 3 || { fail "the detail does not say how many rows are not shown"; return 1; }
}

# HTTP/2 (curl --http2 and nginx over TLS): under proto:http2 the Events list
# names the control frames each side sent (SETTINGS with its values,
# WINDOW_UPDATE, ACKs) instead of raw bytes; Enter shows them all.
t_h2_frames() {
	command -v nginx >/dev/null && command -v openssl >/dev/null || { echo "SKIP: no nginx or openssl"; return 0; }
	local port dir=$work/nginx
	port=$(free_port)
	mkdir -p "$dir/www" "$dir/tmp"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
		-days 1 -subj /CN=localhost >/dev/null 2>&1 || { fail "no certificate"; return 1; }
	echo "h2-frames" >"$dir/www/f.txt"
	cat >"$dir/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
	server {
		listen 127.0.0.1:$port ssl http2;
		ssl_certificate $dir/cert.pem;
		ssl_certificate_key $dir/key.pem;
		root $dir/www;
	}
}
EOF
	nginx -c "$dir/nginx.conf" || { fail "nginx did not start"; return 1; }
	pids+=("$(cat "$dir/nginx.pid")")
	tui_start 140 40
	tui_wait "Exchanges" 60 || { fail "ecaptop did not start"; return 1; }
	tui_keys F4
	tui_type "port:$port proto:http2"
	tui_keys Enter
	tui_wait "filter: port:$port proto:http2" 5 || { fail "the filter was not applied"; return 1; }
	tui_keys e
	tui_wait "TIME.*CLIENT.*SERVER.*STATUS" 5 || { fail "e did not open Exchanges"; return 1; }
	tui_keys Tab Tab Tab Tab # Exchanges -> Aggregates -> Processes -> Connections -> Events
	tui_wait "TIME.*SUMMARY" 5 || { fail "not in Events"; return 1; }
	curl -sk --http2 -o /dev/null "https://127.0.0.1:$port/f.txt"
	tui_wait "GET /f.txt" 10 || { fail "the request is not shown"; return 1; }
	tui_wait "nginx +http2 +server: SETTINGS .*MAX_CONCURRENT_STREAMS=[0-9]+" 10 ||
		{ fail "nginx's SETTINGS are not named"; return 1; }
	tui_wait "curl +http2 +client: SETTINGS .*INITIAL_WINDOW_SIZE=[0-9]+" 5 ||
		{ fail "curl's SETTINGS are not named"; return 1; }
	tui_wait "curl +http2 +server: SETTINGS ACK|curl +http2 +client: SETTINGS ACK" 5 ||
		{ fail "no SETTINGS ACK named"; return 1; }
	tui_screen | grep -E "http2 .*(PRI \* HTTP|send [0-9]+ bytes|recv [0-9]+ bytes)" &&
		{ fail "raw frame bytes shown"; return 1; }
	# Enter on nginx's SETTINGS: every frame of that write named, WINDOW_UPDATE too
	tui_keys /
	tui_type "server: SETTINGS"
	tui_keys Enter Enter
	tui_wait "^HTTP/2 control frames sent by the server \([0-9]+\):" 5 || { fail "no detail of the frames"; return 1; }
	tui_wait "^SETTINGS MAX_CONCURRENT_STREAMS=[0-9]+ .*, WINDOW_UPDATE \+[0-9]+" 3 ||
		{ fail "the detail lacks the WINDOW_UPDATE"; return 1; }
	return 0
}

# A bash command is an exchange with its exit status and duration (non-zero
# highlighted); Enter on it lists the exchanges its process tree made while it
# ran, and Backspace goes back to all of them.
t_shell_tree() {
	command -v bash >/dev/null || { echo "SKIP: no bash"; return 0; }
	start_exch 120 30 || return 1
	tui_keys F4 C-u
	tui_type "port:$PORT or proto:bash"
	tui_keys Enter
	tui_wait "filter: port:$PORT or proto:bash" 5 || { fail "the or filter was not applied"; return 1; }
	# a tmux server of its own (a second session or window beside the manual-size
	# one makes this tmux exit)
	shx new-session -d -s sh -x 100 -y 10 "env HOME=$TUI_HOME PS1='$ ' bash --norc --noprofile -i"
	# the shell's prompt: it is reading its first line
	for _ in $(seq 50); do
		shx capture-pane -p -t sh | grep -q '^\$ ' && break
		sleep 0.1
	done
	shx send-keys -t sh "curl -s http://127.0.0.1:$PORT/tree/1 >/dev/null; curl -s http://127.0.0.1:$PORT/fail/tree >/dev/null; false" Enter
	tui_wait "bash +- +bash +cmd +(pending|exit 1) .* curl -s http" 5 || { fail "the command is not an exchange"; return 1; }
	shx send-keys -t sh "echo after" Enter
	tui_wait "bash +cmd +exit 1 +[0-9.]+ (µs|ms|s) .* curl -s http" 5 || { fail "no exit 1 and duration"; return 1; }
	tui_wait "bash +cmd +exit 0 .* echo after" 5 || { fail "the next command is missing"; return 1; }
	get /tree/outside
	tui_wait "/tree/outside" 5 || { fail "no outside request"; return 1; }
	# select the command's row (search finds it) and press Enter
	tui_keys /
	tui_type "exit 1"
	tui_keys Enter Enter
	tui_wait "tree of [0-9]+ bash: curl -s" 5 || { fail "Enter did not scope to the command's tree"; return 1; }
	tui_wait "GET +200 .*/tree/1" 3 || { fail "the tree lacks its first request"; return 1; }
	tui_wait "GET +500 .*/fail/tree" 3 || { fail "the tree lacks its second request"; return 1; }
	tui_screen | grep -q "/tree/outside" && { fail "the tree holds a request made outside it"; return 1; }
	tui_screen | grep -q "echo after" && { fail "the tree holds a later command"; return 1; }
	tui_keys BSpace
	tui_wait "/tree/outside" 3 || { fail "Backspace did not bring every exchange back"; return 1; }
	shx kill-server
}

# -p from the command line is never widened from the TUI: clearing the filter
# (F4, Ctrl-U, Enter) keeps the kernel-side pid set, which the header shows.
t_cli_pid_kept() {
	local other
	tui_start 120 30 -p "$SERVER_PID"
	tui_wait "kernel: pid $SERVER_PID" 20 || { fail "the header does not show the kernel filter"; return 1; }
	tui_keys F4 C-u Enter
	tui_wait "filter: \(none\)" 5 || { fail "the filter did not clear"; return 1; }
	tui_wait "kernel: pid $SERVER_PID" 3 || { fail "clearing the filter widened the kernel filter"; return 1; }
	tui_keys e
	# a curl of another server is not captured; our server's own side still is
	python3 -m http.server --bind 127.0.0.1 0 >/dev/null 2>&1 &
	other=$!
	pids+=("$other")
	get /cli/kept
	tui_wait "$SERVER_PID python3 +http +GET +200 .*/cli/kept" 5 || { fail "the server's exchange is missing"; return 1; }
	tui_screen | sed -n '5,$p' | grep -E "^[0-9:.]+ +[0-9]+ curl" && { fail "curl's side was captured under -p"; return 1; }
	return 0
}

# P narrows the display only: P and P again bring back what was captured
# meanwhile from other processes, and the kernel filter stays open.
t_key_P_keeps() {
	start_exch 120 30 || return 1
	get /p/one
	tui_wait "/p/one" 5 || { fail "no row"; return 1; }
	tui_keys End P
	tui_wait "filter: .*pid:" 5 || { fail "P did not filter"; return 1; }
	tui_wait "kernel: all" 3 || { fail "P narrowed the kernel filter"; return 1; }
	get /p/two
	tui_keys P
	tui_wait_not "filter: .*pid:" 5 || { fail "P again did not clear"; return 1; }
	tui_wait "/p/two" 5 || { fail "traffic of other processes captured meanwhile was lost"; return 1; }
}

# Events sorted by time are in timestamp order, not arrival order: every
# TIME cell of the events panel is >= the one above it.
t_events_time_order() {
	start_exch 120 40 || return 1
	local jobs=()
	for i in 1 2 3 4 5 6; do
		get "/order/$i" &
		jobs+=("$!")
	done
	wait "${jobs[@]}"
	tui_keys Tab Tab Tab Tab # Exchanges -> Aggregates -> Processes -> Connections -> Events
	tui_wait "TIME\^.*SUMMARY" 5 || { fail "not in Events"; return 1; }
	tui_wait "/order/" 5 || { fail "no events"; return 1; }
	tui_screen | sed -n '5,38p' | grep -oE "^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}" >"$work/times"
	sort -c "$work/times" || { fail "events are not in time order"; return 1; }
	[ -s "$work/times" ] || { fail "no time cells"; return 1; }
}

# h, ? and F1 open the help; it starts with the filter syntax and stops
# scrolling at its end.
t_help_keys() {
	tui_start 100 24
	tui_wait "Exchanges" 20 || { fail "ecaptop did not start"; return 1; }
	for k in h '?' F1; do
		tui_keys "$k"
		tui_wait "^Filter" 3 || { fail "$k did not open the help with the filter syntax first"; return 1; }
		tui_keys Escape
		tui_wait_not "^Filter" 3 || { fail "Escape did not close the help"; return 1; }
	done
	tui_keys h
	for _ in $(seq 200); do tui_keys Down; done
	sleep 0.5
	local a b
	a=$(tui_screen)
	tui_keys Down Down
	sleep 0.3
	b=$(tui_screen)
	[ "$a" = "$b" ] || { fail "the help scrolls past its end"; return 1; }
	echo "$a" | grep -q "q *quit" || { fail "the end of the help is not shown"; return 1; }
}

# q restores the terminal at once and prints a one-line summary.
t_quit_summary() {
	tui_start 100 24
	tui_wait "Exchanges" 20 || { fail "ecaptop did not start"; return 1; }
	get /quit/1
	# the request is in the store (its process row is shown) before q
	tui_wait " curl " 10 || { fail "the request's process is not shown"; return 1; }
	tui_keys q
	tui_wait "^ecaptop: [0-9]+ events, [0-9.]+[KMG]? bytes.*lost: reserve [0-9]+ read [0-9]+" 5 ||
		{ fail "no summary after q"; return 1; }
}

# cgroup:PATH shows the processes of that cgroup v2 and below, never a sibling's: two
# curls in two cgroups made here, the sibling's request first; the process row names
# its cgroup.
t_cgroup_filter() {
	local mnt top rel t=$RANDOM rc=0
	mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$mnt" ] || { echo "no cgroup v2 file system"; return 0; }
	top=$mnt/ecaptop-tui-$t
	mkdir -p "$top/a/x" "$top/b" || { fail "cannot make cgroups"; return 1; }
	rel=${top#"$mnt"}
	tui_start 200 30
	tui_wait "Exchanges" 20 || { fail "ecaptop did not start"; rc=1; }
	if [ $rc -eq 0 ]; then
		tui_keys F4
		tui_type "cgroup:$rel/a port:$PORT"
		tui_keys Enter
		tui_wait "filter: cgroup:$rel/a" 5 || { fail "the filter was not applied"; rc=1; }
	fi
	if [ $rc -eq 0 ]; then
		bash -c 'echo $$ >"$0/cgroup.procs" && exec curl -s -o /dev/null "$1"' "$top/b" \
			"http://127.0.0.1:$PORT/cg-b-$t"
		bash -c 'echo $$ >"$0/cgroup.procs" && exec curl -s -o /dev/null "$1"' "$top/a/x" \
			"http://127.0.0.1:$PORT/cg-a-$t"
		tui_wait "curl .*cgroup:$rel/a/x" 10 || { fail "no curl row in $rel/a/x"; rc=1; }
	fi
	if [ $rc -eq 0 ]; then
		tui_screen | grep -q "cgroup:$rel/b" && { fail "a process of the sibling cgroup is shown"; rc=1; }
		tui_keys e
		tui_wait "GET .*/cg-a-$t" 5 || { fail "the exchange in $rel/a/x is not shown"; rc=1; }
		tui_screen | grep -q "/cg-b-$t" && { fail "the sibling's exchange is shown"; rc=1; }
	fi
	tui_stop
	rmdir "$top/a/x" "$top/a" "$top/b" "$top" 2>/dev/null
	return $rc
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
