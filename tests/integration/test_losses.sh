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
