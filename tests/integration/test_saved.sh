# Saved files tshark trusts (issue 13): live captures of real programs with both ends
# on loopback, saved with -w, opened in tshark: no TCP expert warnings, time never
# runs backwards, the handshake goes from the client, each byte once.

# tshark_check FILE: prints the analysis-flag count and the backwards-time count;
# fails unless both are 0.
tshark_check() {
	local f=$1 flags back
	flags=$(tshark -r "$f" -Y 'tcp.analysis.flags && !tcp.analysis.window_update' 2>/dev/null | wc -l)
	back=$(tshark -r "$f" -T fields -e frame.time_epoch 2>/dev/null |
		awk 'NR > 1 && $1 < prev { n++ } { prev = $1 } END { print n + 0 }')
	say "$(basename "$f"): $(tshark -r "$f" 2>/dev/null | wc -l) frames, $flags TCP warnings, time backwards $back times"
	if [ "$flags" != 0 ]; then
		tshark -r "$f" -Y 'tcp.analysis.flags && !tcp.analysis.window_update' 2>/dev/null | head -5 |
			sed 's/^/    /'
		fail "tshark reports $flags TCP warnings in $f"
		return 1
	fi
	[ "$back" = 0 ] || fail "time runs backwards $back times in $f"
}

# syn_from_client FILE SERVER-PORT: every SYN goes to the server's port.
syn_from_client() {
	local bad
	bad=$(tshark -r "$1" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.port == $2 && tcp.dstport != $2" \
		2>/dev/null | wc -l)
	[ "$bad" = 0 ] || fail "$bad SYNs from the server port $2 in $1"
}

# one_stream_per_conn FILE PORT: both ends captured, each connection is one stream whose
# data packets name both processes.
both_processes_named() {
	local n
	n=$(tshark -r "$1" -Y "tcp.port == $2 && tcp.len > 0 && frame.comment contains \"Peer PID\"" \
		2>/dev/null | wc -l)
	[ "$n" -gt 0 ] || fail "no data packet on port $2 names both processes"
}

start_nginx_saved() { # PORT-TLS PORT-PLAIN DIR
	local tport=$1 pport=$2 dir=$3
	mkdir -p "$dir/www" "$dir/tmp"
	ensure_cert
	head -c 200000 /dev/urandom >"$dir/www/big.bin"
	echo "small body" >"$dir/www/s.txt"
	cat >"$dir/nginx.conf" <<EOC
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
		listen 127.0.0.1:$tport ssl http2;
		ssl_certificate $TMPD/cert.pem;
		ssl_certificate_key $TMPD/key.pem;
		root $dir/www;
	}
	server {
		listen 127.0.0.1:$pport;
		root $dir/www;
	}
}
EOC
	nginx -c "$dir/nginx.conf" || fail "nginx did not start" || return 1
	SERVERS+=("$(cat "$dir/nginx.pid")")
	wait_for 10 curl -sk -o /dev/null "https://127.0.0.1:$tport/s.txt" || fail "nginx not answering"
}

# curl and nginx: HTTP/1.1 keep-alive in plain text, HTTP/2 and HTTP/1.1 over TLS.
test_saved_http_tshark_clean() {
	local tport pport dir
	command -v tshark >/dev/null || { say "tshark not installed"; return 77; }
	command -v nginx >/dev/null || { say "nginx not installed"; return 77; }
	tport=$(free_port)
	pport=$(free_port)
	dir=$TMPD/saved-nginx
	start_nginx_saved "$tport" "$pport" "$dir" || return 1
	start_capture saved-http -w "$TMPD/saved-http.pcapng" || return 1
	curl -s "http://127.0.0.1:$pport/s.txt" "http://127.0.0.1:$pport/big.bin" -o /dev/null -o /dev/null
	curl -sk --http2 "https://127.0.0.1:$tport/s.txt" "https://127.0.0.1:$tport/big.bin" \
		-o /dev/null -o /dev/null
	curl -sk --http1.1 "https://127.0.0.1:$tport/s.txt" -o /dev/null
	stop_capture || return 1
	kill "$(cat "$dir/nginx.pid")" 2>/dev/null
	tshark_check "$TMPD/saved-http.pcapng" || return 1
	syn_from_client "$TMPD/saved-http.pcapng" "$pport" || return 1
	syn_from_client "$TMPD/saved-http.pcapng" "$tport" || return 1
	both_processes_named "$TMPD/saved-http.pcapng" "$pport" || return 1
	both_processes_named "$TMPD/saved-http.pcapng" "$tport" || return 1
	# Each request once, though curl and nginx both saw it.
	local n
	n=$(tshark -r "$TMPD/saved-http.pcapng" -o tcp.desegment_tcp_streams:TRUE \
		-d "tcp.port==$pport,http" -Y "http.request.uri == \"/s.txt\" && tcp.port == $pport" \
		2>/dev/null | wc -l)
	[ "$n" = 1 ] || fail "the plain /s.txt request appears $n times (want 1)" || return 1
	# The replay still has both processes' events.
	"$ECAPTOP" -r "$TMPD/saved-http.pcapng" --batch --json >"$TMPD/saved-http.replay.json" \
		2>"$TMPD/saved-http.replay.err" || fail "replay failed: $(cat "$TMPD/saved-http.replay.err")" ||
		return 1
	has_record "$TMPD/saved-http.replay.json" "r['type']=='http' and r['comm']=='nginx' and \
r['path']=='/s.txt'" || fail "the replay lost nginx's records" || return 1
	has_record "$TMPD/saved-http.replay.json" "r['type']=='http' and r['comm']=='curl' and \
r['path']=='/big.bin' and r['status']==200" || fail "the replay lost curl's records"
}

# mariadb client and server, TLS and plain; the server greets first.
test_saved_mariadb_tshark_clean() {
	command -v tshark >/dev/null || { say "tshark not installed"; return 77; }
	start_mariadb
	case $? in 0) ;; 77) say "mariadb-server not installed"; return 77 ;; *) return 1 ;; esac
	start_capture saved-mdb -w "$TMPD/saved-mdb.pcapng" || return 1
	mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --ssl --ssl-verify-server-cert=0 \
		-e "select name from shop.items; select * from shop.nosuch;" >/dev/null 2>&1
	mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --skip-ssl \
		-e "select id, 'plain-saved' from shop.items" >/dev/null 2>&1
	stop_capture || return 1
	tshark_check "$TMPD/saved-mdb.pcapng" || return 1
	syn_from_client "$TMPD/saved-mdb.pcapng" "$MDB_PORT" || return 1
	both_processes_named "$TMPD/saved-mdb.pcapng" "$MDB_PORT" || return 1
	local n
	n=$(tshark -r "$TMPD/saved-mdb.pcapng" -d "tcp.port==$MDB_PORT,mysql" \
		-Y 'mysql.query contains "plain-saved"' 2>/dev/null | wc -l)
	[ "$n" = 1 ] || fail "the plain query appears $n times (want 1)"
}

# psql and postgres, TLS and plain.
test_saved_postgres_tshark_clean() {
	command -v tshark >/dev/null || { say "tshark not installed"; return 77; }
	start_postgres
	case $? in 0) ;; 77) say "postgresql not installed"; return 77 ;; *) return 1 ;; esac
	start_capture saved-pg -w "$TMPD/saved-pg.pcapng" || return 1
	"$PSQL" "host=127.0.0.1 port=$PG_PORT user=postgres sslmode=require" \
		-c "select generate_series(1,50)" -c "select * from nosuch" >/dev/null 2>&1
	"$PSQL" "host=127.0.0.1 port=$PG_PORT user=postgres sslmode=disable" \
		-c "select 42 /* plain-saved */" >/dev/null 2>&1
	stop_capture || return 1
	tshark_check "$TMPD/saved-pg.pcapng" || return 1
	syn_from_client "$TMPD/saved-pg.pcapng" "$PG_PORT" || return 1
	both_processes_named "$TMPD/saved-pg.pcapng" "$PG_PORT" || return 1
	local n
	n=$(tshark -r "$TMPD/saved-pg.pcapng" -d "tcp.port==$PG_PORT,pgsql" \
		-Y 'pgsql.query contains "plain-saved"' 2>/dev/null | wc -l)
	[ "$n" = 1 ] || fail "the plain query appears $n times (want 1)"
}

# rec_decode_opts ERR-FILE: the tshark options ecaptop printed when its -w recording ended.
rec_decode_opts() {
	sed -n 's/^ecaptop: decode .* with: tshark \(.*\)$/\1/p' "$1" | tail -1
}

# A -w recording of MariaDB, PostgreSQL and HTTP/1.1 on ports tshark does not know them
# by: ecaptop prints the -d options when the recording ends, the same hint is in the file's
# section header comment (rewritten at close), and with those options tshark decodes each
# protocol (without them it finds none of the MySQL queries).
test_saved_record_decode_hint() {
	local f=$TMPD/rec-hint.pcapng hport opts n
	command -v tshark >/dev/null && command -v capinfos >/dev/null ||
		{ say "tshark/capinfos not installed"; return 77; }
	start_mariadb
	case $? in 0) ;; 77) say "mariadb-server not installed"; return 77 ;; *) return 1 ;; esac
	start_postgres
	case $? in 0) ;; 77) say "postgresql not installed"; return 77 ;; *) return 1 ;; esac
	hport=$(free_port)
	mkdir -p "$TMPD/hint-www"
	echo "hint body" >"$TMPD/hint-www/hint.txt"
	start_http_plain "$hport" "$TMPD/hint-www" || return 1
	start_capture rec-hint -w "$f" || return 1
	mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --skip-ssl \
		-e "select id, 'hint-mdb' from shop.items" >/dev/null 2>&1
	"$PSQL" "host=127.0.0.1 port=$PG_PORT user=postgres sslmode=disable" \
		-c "select 7 /* hint-pg */" >/dev/null 2>&1
	curl -s "http://127.0.0.1:$hport/hint.txt" "http://127.0.0.1:$hport/hint.txt" -o /dev/null -o /dev/null
	stop_capture || return 1
	opts=$(rec_decode_opts "$TMPD/rec-hint.err")
	say "printed: tshark $opts"
	for want in "tcp.port==$MDB_PORT,mysql" "tcp.port==$PG_PORT,pgsql" "tcp.port==$hport,http"; do
		case " $opts " in *" -d $want "*) ;; *) fail "no -d $want in the printed hint" || return 1 ;; esac
	done
	capinfos "$f" 2>/dev/null | grep -F "Capture comment:" | sed 's/ *$//' | grep -qxF \
		"Capture comment:     Decode with: tshark $opts" ||
		fail "the section header comment does not hold the hint: $(capinfos "$f" 2>&1 | grep comment)" ||
		return 1
	# One tshark run with the options: the queries and requests it decodes, and any TCP
	# warning.
	# shellcheck disable=SC2086 # the options are words
	tshark -r "$f" $opts -Y "mysql.query contains \"hint-mdb\" || pgsql.query contains \"hint-pg\" ||
		(http.request.uri == \"/hint.txt\" && tcp.port == $hport) ||
		(tcp.analysis.flags && !tcp.analysis.window_update)" \
		-T fields -e frame.protocols -e tcp.analysis.flags >"$TMPD/rec-hint.tshark" 2>/dev/null
	n=$(grep -c ':mysql' "$TMPD/rec-hint.tshark")
	say "with the hint tshark decodes: $n MySQL frames, $(grep -c ':pgsql' "$TMPD/rec-hint.tshark") \
PostgreSQL frames, $(grep -c ':http' "$TMPD/rec-hint.tshark") HTTP request frames"
	[ "$n" -ge 1 ] || fail "tshark with the hint finds no MySQL query" || return 1
	grep -q ':pgsql' "$TMPD/rec-hint.tshark" || fail "tshark with the hint finds no PostgreSQL query" ||
		return 1
	n=$(grep -c ':http' "$TMPD/rec-hint.tshark")
	[ "$n" = 2 ] || fail "tshark with the hint finds $n HTTP requests for /hint.txt (want 2)" || return 1
	n=$(awk -F'\t' '$2 != ""' "$TMPD/rec-hint.tshark" | wc -l)
	[ "$n" = 0 ] || fail "$n TCP warnings with the hint's options" || return 1
	n=$(tshark -r "$f" -Y 'mysql.query contains "hint-mdb"' 2>/dev/null | wc -l)
	say "without the hint: $n MySQL frames"
	[ "$n" = 0 ] || fail "tshark decodes MySQL without the hint: the test proves nothing" || return 1
	tshark_check "$f"
}

# The .gz variant: the section header is a gzip member of its own, rewritten the same
# way; gzip, tshark and the replay read the file whole.
test_saved_record_decode_hint_gz() {
	local f=$TMPD/rec-hint.pcapng.gz hport opts n
	command -v tshark >/dev/null && command -v capinfos >/dev/null ||
		{ say "tshark/capinfos not installed"; return 77; }
	hport=$(free_port)
	mkdir -p "$TMPD/hintgz-www"
	echo "hint body" >"$TMPD/hintgz-www/hint.txt"
	start_http_plain "$hport" "$TMPD/hintgz-www" || return 1
	start_capture rec-hint-gz -w "$f" || return 1
	curl -s "http://127.0.0.1:$hport/hint.txt" -o /dev/null
	stop_capture || return 1
	opts=$(rec_decode_opts "$TMPD/rec-hint-gz.err")
	say "printed: tshark $opts"
	case " $opts " in *" -d tcp.port==$hport,http "*) ;; *) fail "no -d tcp.port==$hport,http printed" || return 1 ;; esac
	capinfos "$f" 2>/dev/null | sed 's/ *$//' | grep -qxF "Capture comment:     Decode with: tshark $opts" ||
		fail "the section header comment does not hold the hint" || return 1
	gzip -t "$f" || fail "not a valid gzip file" || return 1
	# shellcheck disable=SC2086
	n=$(tshark -r "$f" $opts -Y "http.request.uri == \"/hint.txt\" && tcp.port == $hport" 2>/dev/null | wc -l)
	[ "$n" = 1 ] || fail "tshark with the hint finds $n requests (want 1)" || return 1
	"$ECAPTOP" -r "$f" --batch --json >"$TMPD/rec-hint-gz.replay.json" 2>"$TMPD/rec-hint-gz.replay.err" ||
		fail "replay failed: $(cat "$TMPD/rec-hint-gz.replay.err")" || return 1
	has_record "$TMPD/rec-hint-gz.replay.json" "r['type']=='http' and r['path']=='/hint.txt'" ||
		fail "the replay lost the HTTP exchange"
}

# exit_line FILE PID: the batch JSON exit line of PID, normalised (ts_ns, pid, ppid, comm,
# cmdline, exit_code, exited), or nothing.
exit_line() {
	python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("type") == "exit" and r.get("pid") == int(sys.argv[2]):
        print(json.dumps({k: r.get(k) for k in ("ts_ns", "pid", "ppid", "comm", "cmdline", "exit_code", "exited")}))
PY
}

# A process that exits during a -w recording: --batch --json prints its exit with its
# whole command line, and the replay of the file prints the same line, also with a pcap
# filter (-f) that keeps only its packets.
test_saved_replay_process_state() {
	local f=$TMPD/procs.pcapng hport mark=exitmark-$$ pid live replay filtered
	hport=$(free_port)
	mkdir -p "$TMPD/procs-www"
	echo "procs body" >"$TMPD/procs-www/p.txt"
	start_http_plain "$hport" "$TMPD/procs-www" || return 1
	start_capture procs -w "$f" || return 1
	curl -s "http://127.0.0.1:$hport/p.txt" -H "X-Mark: $mark" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture || return 1
	live=$(exit_line "$TMPD/procs.json" $pid)
	say "live:     $live"
	case $live in
	*"\"cmdline\": \"curl -s http://127.0.0.1:$hport/p.txt -H X-Mark: $mark -o /dev/null\""*'"exited": true'*) ;;
	*) fail "live: no exit line with curl's command line" || return 1 ;;
	esac
	"$ECAPTOP" -r "$f" --batch --json >"$TMPD/procs.replay.json" 2>/dev/null || fail "replay failed" || return 1
	replay=$(exit_line "$TMPD/procs.replay.json" $pid)
	[ "$replay" = "$live" ] || fail "replay: '$replay' (live: '$live')" || return 1
	"$ECAPTOP" -r "$f" -f "tcp port $hport" --batch --json >"$TMPD/procs.filtered.json" 2>/dev/null ||
		fail "filtered replay failed" || return 1
	filtered=$(exit_line "$TMPD/procs.filtered.json" $pid)
	[ "$filtered" = "$live" ] || fail "replay -f: '$filtered' (live: '$live')"
}
