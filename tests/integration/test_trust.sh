# Trust the capture (issue 12): the socket source never reports ciphertext (peeks, short
# first reads, STARTTLS in MySQL and PostgreSQL, TLS on any port), while the TLS source
# still gives the plaintext. Real servers on loopback, started here.

# socket_stream_check PCAPNG PORT KIND: every socket-source data event the kernel sent
# (all of them are in the -w recording, even those the front end recognises as
# ciphertext and hides) on connections with PORT at one end must be plaintext of KIND
# (none: no event at all; mysql: the greeting from the server and the SSL request from
# the client, nothing more; pgsql: the 8-byte SSLRequest and the 1-byte 'S', nothing
# more). Prints what it saw.
socket_stream_check() {
	tshark -r "$1" -Y "tcp.len>0 && tcp.port==$2" -T fields -E separator=/t -e frame.comment \
		-e tcp.srcport -e tcp.dstport -e tcp.payload 2>/dev/null >"$1.txt"
	python3 - "$1.txt" "$2" "$3" <<'PY'
import collections, re, sys
path, port, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
streams = collections.defaultdict(bytes)
n = 0
tls_like = 0
for line in open(path):
    f = line.rstrip("\n").split("\t")
    if len(f) < 4 or "Source: socket" not in f[0]:
        continue
    pid = re.search(r"PID: (\d+)", f[0]).group(1)
    sport, dport, b = int(f[1]), int(f[2]), bytes.fromhex(f[3].replace(":", ""))
    n += 1
    if len(b) >= 3 and 20 <= b[0] <= 23 and b[1] == 3 and b[2] <= 4:
        tls_like += 1
    d = "server->client" if sport == port else "client->server"
    streams[(pid, sport, dport, d)] += b
print("  socket-source events on port %d: %d, starting with a TLS record header: %d" % (port, n, tls_like))
bad = []
for key, b in streams.items():
    d = key[3]
    if kind == "none":
        bad.append((key, len(b)))
    elif kind == "pgsql":
        want = b"\x00\x00\x00\x08\x04\xd2\x16\x2f" if d == "client->server" else b"S"
        if b != want:
            bad.append((key, b[:16].hex(), len(b)))
    elif kind == "mysql":
        # Whole packets (3-byte length, sequence number): the greeting (sequence 0)
        # one way, the SSL request (sequence 1, 32 bytes) the other.
        want_seq = 0 if d == "server->client" else 1
        ln = b[0] | b[1] << 8 | b[2] << 16 if len(b) >= 4 else -1
        if len(b) != ln + 4 or b[3] != want_seq or (d == "client->server" and ln != 32):
            bad.append((key, b[:16].hex(), len(b)))
if tls_like or bad:
    print("  ciphertext or unexpected bytes from the socket source:", bad[:6])
    sys.exit(1)
PY
}

# start_nginx_tls DIR PORT: nginx serving DIR/www over TLS (HTTP/1.1) on 127.0.0.1:PORT.
start_nginx_tls() {
	local dir=$1 port=$2
	mkdir -p "$dir/www" "$dir/tmp"
	ensure_cert
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
		listen 127.0.0.1:$port ssl;
		ssl_certificate $TMPD/cert.pem;
		ssl_certificate_key $TMPD/key.pem;
		root $dir/www;
	}
}
EOF
	nginx -c "$dir/nginx.conf" || fail "nginx did not start" || return 1
	SERVERS+=("$(cat "$dir/nginx.pid")")
	wait_for 10 curl -sk -o /dev/null "https://127.0.0.1:$port/" || fail "nginx not answering"
}

# nginx peeks one byte (MSG_PEEK) before it reads the ClientHello: neither that peek
# nor anything after it is socket data; the plaintext is the TLS source's.
test_trust_nginx_tls_no_socket_ciphertext() {
	local port dir pid
	command -v nginx >/dev/null || { say "nginx not installed"; return 77; }
	port=$(free_port)
	dir=$TMPD/nginx-trust
	mkdir -p "$dir/www"
	echo "trust-body-$port" >"$dir/www/t.txt"
	start_nginx_tls "$dir" "$port" || return 1
	start_capture ngtrust -w "$TMPD/ngtrust.pcapng" || return 1
	curl -sk "https://127.0.0.1:$port/t.txt" -H "X-Trust: $port" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture
	kill "$(cat "$dir/nginx.pid")" 2>/dev/null
	socket_stream_check "$TMPD/ngtrust.pcapng" "$port" none || return 1
	$EVENTS "$TMPD/ngtrust.json" --source openssl --comm nginx --dir recv --contains "X-Trust: $port" \
		>/dev/null || fail "nginx's plaintext request not captured by the TLS source" || return 1
	$EVENTS "$TMPD/ngtrust.json" --source openssl --pid "$pid" --dir recv --contains "trust-body-$port" \
		>/dev/null || fail "curl's plaintext response not captured by the TLS source"
}

# MariaDB's TLS starts after a plaintext greeting (STARTTLS): the socket source gives
# the greeting and the SSL request, never the handshake or the records after it.
test_trust_mariadb_starttls_no_socket_ciphertext() {
	local pid
	start_mariadb
	case $? in 0) ;; 77) say "mariadb-server not installed"; return 77 ;; *) return 1 ;; esac
	start_capture mdbtrust -w "$TMPD/mdbtrust.pcapng" || return 1
	mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --ssl --ssl-verify-server-cert=0 \
		-e "select 'trust-$MDB_PORT'" >/dev/null 2>&1 &
	pid=$!
	wait $pid
	stop_capture || return 1
	socket_stream_check "$TMPD/mdbtrust.pcapng" "$MDB_PORT" mysql || return 1
	has_record "$TMPD/mdbtrust.json" "r['type']=='mysql' and r['pid']==$pid and r['source']=='openssl' \
and 'trust-$MDB_PORT' in r['query']" || fail "no MySQL record from the TLS plaintext"
}

# PostgreSQL's SSLRequest, 'S', then TLS on the same socket.
test_trust_postgres_starttls_no_socket_ciphertext() {
	local pid
	start_postgres
	case $? in 0) ;; 77) say "postgresql not installed"; return 77 ;; *) return 1 ;; esac
	start_capture pgtrust -w "$TMPD/pgtrust.pcapng" || return 1
	"$PSQL" "host=127.0.0.1 port=$PG_PORT user=postgres sslmode=require" \
		-c "select 'trust-$PG_PORT'" >/dev/null 2>&1 &
	pid=$!
	wait $pid
	stop_capture || return 1
	socket_stream_check "$TMPD/pgtrust.pcapng" "$PG_PORT" pgsql || return 1
	has_record "$TMPD/pgtrust.json" "r['type']=='pgsql' and r['pid']==$pid and r['source']=='openssl' \
and 'trust-$PG_PORT' in r['query']" || fail "no PostgreSQL record from the TLS plaintext"
}

# A TCP relay (no TLS library of its own) between curl and an HTTPS server: it reads
# one byte first, then the rest (a short first read), on an arbitrary port. Its
# sockets carry nothing but TLS records: the socket source reports none of them.
test_trust_relay_short_first_read_no_ciphertext() {
	local port rport www pid relay
	port=$(free_port)
	rport=$(free_port)
	www=$TMPD/www-relay
	mkdir -p "$www"
	echo "relay-body-$port" >"$www/r.txt"
	start_tls_server "$port" "$www" || return 1
	python3 - "$rport" "$port" >"$TMPD/relay.log" 2>&1 <<'PY' &
import selectors, socket, sys
lport, dport = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport))
ls.listen(8)
print("listening", flush=True)
ls.settimeout(60)
while True:
    c, _ = ls.accept()
    c.settimeout(30)
    first = c.recv(1)  # a short first read, as protocol sniffers do
    u = socket.create_connection(("127.0.0.1", dport))
    u.sendall(first)
    sel = selectors.DefaultSelector()
    sel.register(c, selectors.EVENT_READ, u)
    sel.register(u, selectors.EVENT_READ, c)
    done = False
    while not done:
        for k, _ in sel.select(30):
            b = k.fileobj.recv(65536)
            if not b:
                done = True
                break
            k.data.sendall(b)
    c.close()
    u.close()
PY
	relay=$!
	SERVERS+=("$relay")
	wait_for 10 grep -q listening "$TMPD/relay.log" || fail "relay did not start" || return 1
	start_capture relay -w "$TMPD/relay.pcapng" || return 1
	curl -sk "https://127.0.0.1:$rport/r.txt" -H "X-Relay: $rport" -o "$TMPD/relay.out" &
	pid=$!
	wait $pid
	stop_capture || return 1
	grep -q "relay-body-$port" "$TMPD/relay.out" || fail "curl got nothing through the relay" || return 1
	socket_stream_check "$TMPD/relay.pcapng" "$rport" none || return 1
	socket_stream_check "$TMPD/relay.pcapng" "$port" none || return 1
	$EVENTS "$TMPD/relay.json" --source openssl --pid "$pid" --dir send --contains "X-Relay: $rport" \
		>/dev/null || fail "curl's plaintext not captured by the TLS source"
}

# Plaintext whose short first reads look like the start of an SSH banner or a TLS
# record ("SS", then 0x16 0x03 in a later message) is held only until the next bytes
# tell, then reported whole and in order: nothing is lost to the ciphertext test.
test_trust_short_first_reads_plaintext_complete() {
	local port srv got
	port=$(free_port)
	python3 - "$port" >"$TMPD/shortrd.log" 2>&1 <<'PY' &
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(1)
print("listening", flush=True)
ls.settimeout(60)
c, _ = ls.accept()
got = c.recv(1) + c.recv(1)  # two one-byte reads, as a protocol sniffer does
c.settimeout(20)
while not got.endswith(b"bytes"):
    b = c.recv(100)
    if not b:
        break
    got += b
c.sendall(b"ok " + got)
c.close()
PY
	srv=$!
	SERVERS+=("$srv")
	wait_for 10 grep -q listening "$TMPD/shortrd.log" || fail "server did not start" || return 1
	start_capture shortrd || return 1
	python3 - "$port" <<'PY' || { stop_capture; fail "client failed"; return 1; }
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"SS")
time.sleep(0.2)
s.sendall(b"-plain-\x16\x03\x01-then-more-bytes")
print(s.recv(100))
PY
	stop_capture || return 1
	got=$($EVENTS "$TMPD/shortrd.json" --source socket --pid "$srv" --dir recv --concat | od -An -c | tr -d ' \n')
	say "server's captured reads: $got"
	[ "$got" = 'SS-plain-026003001-then-more-bytes' ] || fail "the short reads were not reported whole"
}

# ---- TLS through memory BIOs (issue 12 section 2) ----
# Event-loop programs (node, python asyncio) read and write the socket themselves and
# hand OpenSSL the ciphertext through memory BIOs: no socket syscall happens inside
# SSL_read/SSL_write. Every TLS event of theirs must still carry the connection's
# ports, as the program itself logged them.

# bio_ports_check FILE PID LPORT RPORT [TAG LPORT RPORT]...: every openssl data event
# of PID has an fd, a family and one of the port pairs given (the first pair when no
# tag is given), an event whose bytes contain TAG has that TAG's pair, and there is at
# least one event each way.
bio_ports_check() {
	python3 - "$@" <<'PY'
import base64, json, sys
path, pid = sys.argv[1], int(sys.argv[2])
args = sys.argv[3:]
if len(args) == 2:
    tags = {None: (int(args[0]), int(args[1]))}
else:
    tags = {args[i].encode(): (int(args[i + 1]), int(args[i + 2])) for i in range(0, len(args), 3)}
pairs = set(tags.values())
n = {"send": 0, "recv": 0}
bad = []
for line in open(path):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("type") != "data" or e.get("pid") != pid or e.get("source") != "openssl":
        continue
    n[e["dir"]] += 1
    got = (e["lport"], e["rport"])
    data = base64.b64decode(e["data"])
    want = [p for t, p in tags.items() if t is not None and t in data]
    if got not in pairs or e["fd"] < 0 or e["family"] == "unknown" or (want and want[0] != got):
        bad.append((e["dir"], e["fd"], e["family"], got, want, e["len"]))
print("  pid %d: %d send, %d recv TLS events; %d not on their connection %s: %s" %
      (pid, n["send"], n["recv"], len(bad), sorted(pairs), bad[:4]))
sys.exit(0 if n["send"] and n["recv"] and not bad else 1)
PY
}

# A node https client against nginx: the client logs its local port.
# node_probed NAME: a node whose binary carries OpenSSL itself (the upstream builds)
# is a program discovery judges when it first runs; what is tested here is the
# attribution, so a first run (node -e 0) comes before, and the test waits for the
# attach line (a first run before it is discover's subject: test_discover.sh).
node_probed() {
	local bin
	bin=$(readlink -f "$(command -v node)")
	nm -D "$bin" 2>/dev/null | grep -q ' T SSL_read$' || return 0
	node -e 0
	wait_for 60 grep -q "attached OpenSSL probes to $bin " "$TMPD/$1.err" ||
		fail "node's OpenSSL was not probed: $(cat "$TMPD/$1.err")"
}

test_trust_bio_node_client() {
	local port dir pid lport
	command -v node >/dev/null || { say "node not installed"; return 77; }
	command -v nginx >/dev/null || { say "nginx not installed"; return 77; }
	port=$(free_port)
	dir=$TMPD/nginx-bio
	mkdir -p "$dir/www"
	echo "bio-body-$port" >"$dir/www/b.txt"
	start_nginx_tls "$dir" "$port" || return 1
	start_capture bionode -w "$TMPD/bionode.pcapng" || return 1
	node_probed bionode || return 1
	node -e '
const https = require("https");
const req = https.get({host: "127.0.0.1", port: +process.argv[1], path: "/b.txt",
                       rejectUnauthorized: false, headers: {"X-Bio": "node"}}, (res) => {
  const lport = res.socket.localPort;
  res.on("data", () => {});
  res.on("end", () => { console.log(lport); });
});' "$port" >"$TMPD/bionode.out" &
	pid=$!
	wait $pid
	stop_capture
	kill "$(cat "$dir/nginx.pid")" 2>/dev/null
	lport=$(cat "$TMPD/bionode.out")
	[ -n "$lport" ] || fail "the node client did not finish" || return 1
	bio_ports_check "$TMPD/bionode.json" "$pid" "$lport" "$port"
}

# A node https server, curl as the client: curl logs its local port.
test_trust_bio_node_server() {
	local port pid lport
	command -v node >/dev/null || { say "node not installed"; return 77; }
	port=$(free_port)
	ensure_cert
	node -e '
const https = require("https"), fs = require("fs");
https.createServer({key: fs.readFileSync(process.argv[2]), cert: fs.readFileSync(process.argv[3])},
  (req, res) => { res.end("node-server-body\n"); }).listen(+process.argv[1], "127.0.0.1",
  () => console.log("listening"));' "$port" "$TMPD/key.pem" "$TMPD/cert.pem" >"$TMPD/bionodes.log" 2>&1 &
	pid=$!
	SERVERS+=("$pid")
	wait_for 10 grep -q listening "$TMPD/bionodes.log" || fail "node server did not start" || return 1
	start_capture bionodes || return 1
	curl -sk "https://127.0.0.1:$port/x" -o /dev/null -w '%{local_port}\n' >"$TMPD/bionodes.lport"
	stop_capture || return 1
	lport=$(cat "$TMPD/bionodes.lport")
	bio_ports_check "$TMPD/bionodes.json" "$pid" "$port" "$lport"
}

# python asyncio over TLS (ssl.MemoryBIO inside asyncio's SSL protocol): a client
# with four connections at once and a server, on one event loop each; each logs its
# own view of every connection's ports.
test_trust_bio_python_asyncio() {
	local port spid cpid sview cview nconn=4
	port=$(free_port)
	ensure_cert
	python3 - "$port" "$TMPD/cert.pem" "$TMPD/key.pem" >"$TMPD/bioasync.srv" 2>&1 <<'PY' &
import asyncio, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
async def handle(r, w):
    line = await r.readline()
    w.write(b"asyncio-reply-" + line)
    await w.drain()
    print(line.decode().strip(), w.get_extra_info("sockname")[1], w.get_extra_info("peername")[1],
          flush=True)
    w.close()
async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = await asyncio.start_server(handle, "127.0.0.1", port, ssl=ctx)
    print("listening", flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
PY
	spid=$!
	SERVERS+=("$spid")
	wait_for 10 grep -q listening "$TMPD/bioasync.srv" || fail "asyncio server did not start" || return 1
	start_capture bioasync || return 1
	python3 - "$port" "$nconn" >"$TMPD/bioasync.cli" 2>&1 <<'PY' &
import asyncio, ssl, sys
async def one(i, ctx):
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]), ssl=ctx)
    w.write(b"hello-asyncio-%d\n" % i)
    await w.drain()
    await r.read(100)
    print("hello-asyncio-%d" % i, w.get_extra_info("sockname")[1], w.get_extra_info("peername")[1],
          flush=True)
    w.close()
async def main():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    await asyncio.gather(*(one(i, ctx) for i in range(int(sys.argv[2]))))
asyncio.run(main())
PY
	cpid=$!
	wait $cpid
	wait_for 5 sh -c "[ \$(grep -c ^hello '$TMPD/bioasync.srv') = $nconn ]"
	stop_capture || return 1
	cview=$(grep ^hello "$TMPD/bioasync.cli" | tr '\n' ' ')
	sview=$(grep ^hello "$TMPD/bioasync.srv" | tr '\n' ' ')
	say "client: $cview"
	say "server: $sview"
	[ "$(grep -c ^hello "$TMPD/bioasync.cli")" = "$nconn" ] &&
		[ "$(grep -c ^hello "$TMPD/bioasync.srv")" = "$nconn" ] ||
		fail "the asyncio programs did not finish" || return 1
	bio_ports_check "$TMPD/bioasync.json" "$cpid" $cview || return 1
	bio_ports_check "$TMPD/bioasync.json" "$spid" $sview
}

# ---- Ordering across processes (issue 12 section 3, kernel side) ----
# A send is stamped when the program handed the bytes over (the call's entry), so the
# peer's read of the same bytes is never stamped before it: 40 requests on one
# keep-alive TLS connection to nginx, each side's send before the other's read.
test_trust_send_stamped_before_peer_read() {
	local port dir pid urls i
	command -v nginx >/dev/null || { say "nginx not installed"; return 77; }
	port=$(free_port)
	dir=$TMPD/nginx-order
	mkdir -p "$dir/www"
	echo "order-body" >"$dir/www/o.txt"
	start_nginx_tls "$dir" "$port" || return 1
	urls=()
	for i in $(seq 1 40); do urls+=("https://127.0.0.1:$port/o.txt?seq=$i"); done
	start_capture order || return 1
	curl -sk "${urls[@]}" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture
	kill "$(cat "$dir/nginx.pid")" 2>/dev/null
	python3 - "$TMPD/order.json" "$pid" <<'PY'
import base64, json, re, sys
path, pid = sys.argv[1], int(sys.argv[2])
req_send, req_recv, resp = {}, {}, []
ev = []
for line in open(path):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("type") != "data" or e.get("source") != "openssl":
        continue
    b = base64.b64decode(e["data"])
    m = re.search(rb"GET /o.txt\?seq=(\d+) ", b)
    if m:
        (req_send if e["pid"] == pid and e["dir"] == "send" else req_recv if e["comm"] == "nginx" and e["dir"] == "recv" else {})[int(m.group(1))] = e["ts_ns"]
    if b.startswith(b"HTTP/1.1 200"):
        ev.append((e["ts_ns"], e["pid"] == pid, e["dir"]))
inv = [i for i in req_send if i in req_recv and req_send[i] > req_recv[i]]
sends = sorted(t for t, cl, d in ev if not cl and d == "send")
recvs = sorted(t for t, cl, d in ev if cl and d == "recv")
rinv = sum(1 for s, r in zip(sends, recvs) if s > r)
print("  requests matched %d of 40; request sends stamped after the peer's read: %d; responses: %d of %d"
      % (len(set(req_send) & set(req_recv)), len(inv), rinv, min(len(sends), len(recvs))))
sys.exit(0 if len(set(req_send) & set(req_recv)) == 40 and len(sends) == 40 and len(recvs) == 40
         and not inv and not rinv else 1)
PY
}
