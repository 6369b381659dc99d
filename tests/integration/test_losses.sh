# Never silently short (issue 15): BPF state that cannot leak, and every loss counted.

# blocked_tls_round N: one python process whose N client threads block in SSL_read
# (a TLS server in the same process that never answers), then SIGKILLed: no thread
# returns from its call.
blocked_tls_round() {
	local n=$1 pid
	python3 - "$n" "$TMPD/cert.pem" "$TMPD/key.pem" >"$TMPD/blocked.log" 2>&1 <<'PY' &
import socket, ssl, sys, threading, time
n, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(cert, key)
cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
cctx.check_hostname = False
cctx.verify_mode = ssl.CERT_NONE
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(n)
port = ls.getsockname()[1]
held = []
def serve():
    while True:
        c, _ = ls.accept()
        threading.Thread(target=lambda c=c: held.append(sctx.wrap_socket(c, server_side=True)),
                         daemon=True).start()
threading.Thread(target=serve, daemon=True).start()
started = threading.Semaphore(0)
def client():
    s = cctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
    started.release()
    s.recv(100)  # blocks inside SSL_read: the server never writes
for _ in range(n):
    threading.Thread(target=client, daemon=True).start()
for _ in range(n):
    started.acquire()
print("blocked", flush=True)
time.sleep(120)
PY
	pid=$!
	wait_for 30 grep -q blocked "$TMPD/blocked.log" || { kill -9 $pid; fail "the threads did not start"; return 1; }
	sleep 0.5 # from recv() into SSL_read: microseconds
	kill -9 $pid
	wait $pid 2>/dev/null
	return 0
}

# tls_calls (keyed by thread) is filled at a TLS call's entry and emptied by its return;
# threads killed inside a call never return. With the map shrunk to 64 entries
# (ECAPTOP_TEST_TLS_CALLS), 5 rounds of 40 threads killed in SSL_read (200 dead
# threads) must leave capture working; and a round of 100 threads blocked at once
# (more than the map holds) must be counted as lost.map_full, not silently dropped.
test_losses_threads_killed_in_ssl_read() {
	local port www i pid full
	ensure_cert
	port=$(free_port)
	www=$TMPD/www-dead
	mkdir -p "$www"
	echo "after-dead-threads" >"$www/d.txt"
	start_tls_server "$port" "$www" || return 1
	ECAPTOP_TEST_TLS_CALLS=64 start_capture dead || return 1
	for i in 1 2 3 4 5; do
		blocked_tls_round 40 || { stop_capture; return 1; }
	done
	curl -sk "https://127.0.0.1:$port/d.txt" -H "X-After-Dead: 1" -o /dev/null &
	pid=$!
	wait $pid
	sleep 0.3
	blocked_tls_round 100 || { stop_capture; return 1; }
	stop_capture || return 1
	$EVENTS "$TMPD/dead.json" --source openssl --pid "$pid" --dir send --contains "X-After-Dead: 1" \
		>/dev/null || fail "nothing captured after 200 threads died inside SSL_read" || return 1
	full=$($EVENTS "$TMPD/dead.json" --stats lost.map_full)
	say "lost.map_full after 100 threads blocked at once in a 64-entry map: $full"
	[ "$full" -ge 36 ] || fail "calls not followed for a full map were not counted"
}

# overload_check JSON PORT SOURCE WANT: the bytes nginx sent on PORT, as captured from
# SOURCE, plus what the loss counters say was lost (a lost record carries at most 16 KiB;
# only nginx passes the kernel filter, so every loss counted is nginx's), account for
# the WANT bytes the clients received: captured <= WANT <= captured + lost records x
# 16 KiB, and exactly WANT when nothing was lost.
overload_check() {
	python3 - "$@" <<'PY'
import json, sys
path, port, source, want = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
cap = 0
stats = None
for line in open(path):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("type") == "stats":
        stats = e
    elif (e.get("type") == "data" and e.get("source") == source and e.get("dir") == "send"
          and e.get("lport") == port):
        cap += e["len"]
l = stats["lost"]
recs = l["ring_reserve"] + l["perf_lost"] + l["queue_full"] + l["malformed"] + l["alloc"] + l["map_full"]
bytes_lost = sum(e for e in [l["read_fault"], l["truncated"]])
print("  %s: sent %d, captured %d, missing %d; lost records %s (<= %d bytes)"
      % (source, want, cap, want - cap, l, recs * 16384))
ok = cap <= want and want - cap <= recs * 16384 and (recs or bytes_lost or cap == want)
sys.exit(0 if ok else 1)
PY
}

# overload SCHEME PORT N SIZE NAME: N parallel downloads of a SIZE-byte file from nginx,
# far more than the JSON writer keeps up with; prints the bytes the clients received.
overload() {
	local scheme=$1 port=$2 n=$3 name=$5 i total=0 pids=()
	for i in $(seq 1 "$n"); do
		curl -sk "$scheme://127.0.0.1:$port/big.bin" -o /dev/null \
			-w '%{size_header} %{size_download}\n' >"$TMPD/$name.$i.size" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 1 "$n"); do
		read -r h b <"$TMPD/$name.$i.size"
		total=$((total + h + b))
	done
	echo "$total"
}

# start_nginx_both DIR TLSPORT PLAINPORT: one worker serving DIR/www over TLS and plain
# HTTP; sets NGX_WORKER.
start_nginx_both() {
	local dir=$1 tport=$2 pport=$3
	mkdir -p "$dir/www" "$dir/tmp"
	ensure_cert
	cat >"$dir/nginx.conf" <<EOC
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
	sendfile off;
	server {
		listen 127.0.0.1:$tport ssl;
		listen 127.0.0.1:$pport;
		ssl_certificate $TMPD/cert.pem;
		ssl_certificate_key $TMPD/key.pem;
		root $dir/www;
	}
}
EOC
	nginx -c "$dir/nginx.conf" || fail "nginx did not start" || return 1
	SERVERS+=("$(cat "$dir/nginx.pid")")
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$pport/" || fail "nginx not answering" || return 1
	NGX_WORKER=$(pgrep -P "$(cat "$dir/nginx.pid")" | head -1)
	SERVERS+=("$NGX_WORKER")
}

# Every loss accounted, OpenSSL and socket sources: 12 parallel 8 MiB downloads each.
test_losses_overload_accounted() {
	local tport pport dir want
	command -v nginx >/dev/null || { say "nginx not installed"; return 77; }
	tport=$(free_port)
	pport=$(free_port)
	dir=$TMPD/nginx-overload
	mkdir -p "$dir/www"
	head -c 8388608 /dev/urandom >"$dir/www/big.bin"
	start_nginx_both "$dir" "$tport" "$pport" || return 1
	start_capture overload -p "$NGX_WORKER" || return 1
	want=$(overload https "$tport" 12 8388608 ovtls)
	stop_capture
	overload_check "$TMPD/overload.json" "$tport" openssl "$want" || return 1
	start_capture overplain -p "$NGX_WORKER" || return 1
	want=$(overload http "$pport" 12 8388608 ovplain)
	stop_capture
	kill "$(cat "$dir/nginx.pid")" 2>/dev/null
	overload_check "$TMPD/overplain.json" "$pport" socket "$want"
}
