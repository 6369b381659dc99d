# BoringSSL (issue 12 §7, issue 18): Debian's android-libboringssl (a shared libssl.so.0,
# stripped, in /usr/lib/<arch>/android/). A client and a server built here against its
# headers, and Debian's own bssl-tool, on loopback against OpenSSL peers: every byte of
# both directions exact, with the connection's ports; then the key log.

BORING_LIB=/usr/lib/x86_64-linux-gnu/android

# boring_build NAME: tests/integration/go/NAME.c against BoringSSL, once, as $TMPD/NAME-boring.
boring_build() {
	local bin=$TMPD/$1-boring
	[ -x "$bin" ] && return 0
	if [ ! -r /usr/include/android/openssl/ssl.h ] || [ ! -r "$BORING_LIB/libssl.so" ]; then
		say "android-libboringssl-dev is not installed"
		return 77
	fi
	cc -O1 -I/usr/include/android -o "$bin" "$GO_SRC/$1.c" -L"$BORING_LIB" -lssl -lcrypto \
		-Wl,-rpath,"$BORING_LIB" 2>"$TMPD/$1-boring.cc" ||
		fail "cannot build $1 against BoringSSL: $(cat "$TMPD/$1-boring.cc")" || return 1
	ldd "$bin" | grep -q "$BORING_LIB/libssl.so.0" || fail "$bin is not linked to BoringSSL" || return 1
}

# boring_attached NAME: the log names the library as BoringSSL.
boring_attached() {
	grep "BoringSSL probes" "$TMPD/$1.err" | sed 's/^/    /'
	grep -q "attached BoringSSL probes to $BORING_LIB/libssl.so.0 (SSL_read, SSL_write)" \
		"$TMPD/$1.err" || fail "BoringSSL's libssl was not attached as BoringSSL" || return 1
}

# A BoringSSL client built here (1.5 MiB from openssl s_server -WWW) and Debian's
# bssl-tool client (its request on standard input): requests and responses exact.
test_boringssl_client() {
	local port www pid lport json bpid
	command -v bssl-tool >/dev/null || { say "android-boringssl is not installed"; return 77; }
	boring_build sslget || return $?
	port=$(free_port)
	www=$TMPD/www-boring
	mkdir -p "$www"
	head -c 1572864 /dev/urandom >"$www/big.bin"
	echo "small file for bssl-tool $port" >"$www/small.txt"
	start_tls_server "$port" "$www" || return 1
	start_capture boring-cl || return 1
	"$TMPD/sslget-boring" 127.0.0.1 "$port" /big.bin "X-Boring: b$port" "$TMPD/boring-cl.out" \
		>"$TMPD/boring-cl.lport" &
	pid=$!
	wait $pid || fail "the BoringSSL client failed" || return 1
	printf 'GET /small.txt HTTP/1.0\r\nX-Bssl: b%s\r\n\r\n' "$port" >"$TMPD/bssl.req"
	bssl-tool client -connect "127.0.0.1:$port" <"$TMPD/bssl.req" >"$TMPD/bssl.out" \
		2>"$TMPD/bssl.err" &
	bpid=$!
	wait $bpid || fail "bssl-tool client failed: $(cat "$TMPD/bssl.err")" || return 1
	stop_capture || return 1
	lport=$(awk '/^lport/ {print $2}' "$TMPD/boring-cl.lport")
	json=$($EVENTS "$TMPD/boring-cl.json" --source openssl --pid "$pid" --dir send \
		--contains "X-Boring: b$port") || fail "the BoringSSL client's request not captured" ||
		return 1
	check_attr "$json" "$pid" 127.0.0.1 "$lport" 127.0.0.1 "$port" || return 1
	json=$($EVENTS "$TMPD/boring-cl.json" --source openssl --pid "$pid" --dir recv \
		--contains "HTTP/1.0 200") || fail "the BoringSSL client's response not captured" ||
		return 1
	check_attr "$json" "$pid" 127.0.0.1 "$lport" 127.0.0.1 "$port" || return 1
	say "client send vs the request it makes:"
	printf 'GET /big.bin HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Boring: b%s\r\n\r\n' "$port" >"$TMPD/boring-cl.req"
	$EVENTS "$TMPD/boring-cl.json" --source openssl --pid "$pid" --dir send --lport "$lport" \
		--concat >"$TMPD/boring-cl.csend"
	same_bytes "$TMPD/boring-cl.csend" "$TMPD/boring-cl.req" || fail "send not byte-exact" || return 1
	say "client recv vs what it received:"
	$EVENTS "$TMPD/boring-cl.json" --source openssl --pid "$pid" --dir recv --lport "$lport" \
		--concat >"$TMPD/boring-cl.crecv"
	same_bytes "$TMPD/boring-cl.crecv" "$TMPD/boring-cl.out" || fail "recv not byte-exact" || return 1
	same_bytes "$TMPD/boring-cl.crecv" "$www/big.bin" skip-header || fail "body not exact" || return 1
	json=$($EVENTS "$TMPD/boring-cl.json" --source openssl --pid "$bpid" --dir send \
		--contains "X-Bssl: b$port") || fail "bssl-tool's request not captured" || return 1
	check_attr "$json" "$bpid" 127.0.0.1 - 127.0.0.1 "$port" || return 1
	say "bssl-tool send vs its standard input, recv vs its standard output:"
	$EVENTS "$TMPD/boring-cl.json" --source openssl --pid "$bpid" --dir send --rport "$port" \
		--concat >"$TMPD/bssl.csend"
	same_bytes "$TMPD/bssl.csend" "$TMPD/bssl.req" || fail "bssl-tool send not byte-exact" || return 1
	$EVENTS "$TMPD/boring-cl.json" --source openssl --pid "$bpid" --dir recv --rport "$port" \
		--concat >"$TMPD/bssl.crecv"
	grep -q "small file for bssl-tool $port" "$TMPD/bssl.out" ||
		fail "bssl-tool did not get the file" || return 1
	same_bytes "$TMPD/bssl.crecv" "$TMPD/bssl.out" || fail "bssl-tool recv not byte-exact" || return 1
	no_losses "$TMPD/boring-cl.json" || return 1
	boring_attached boring-cl
}

# A BoringSSL server built here, hit by curl: the request as the server read it and
# the 1.5 MiB response as it sent it, attributed to the server's side of the connection.
# ecaptop traces the server only (--pid) and writes the key log: tshark decrypts the
# loopback recording of that connection (TLS 1.3) with it, and not without it.
test_boringssl_server() {
	local pid port peer json tpid keys=$TMPD/boring-sv.keys got
	boring_build sslserv || return $?
	ensure_cert
	{
		printf 'HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n'
		printf 'Content-Length: 1572864\r\n\r\n'
	} >"$TMPD/boring-sv.resp"
	head -c 1572864 /dev/urandom >"$TMPD/boring-sv.body"
	cat "$TMPD/boring-sv.body" >>"$TMPD/boring-sv.resp"
	"$TMPD/sslserv-boring" "$TMPD/cert.pem" "$TMPD/key.pem" "$TMPD/boring-sv.resp" \
		"$TMPD/boring-sv.req" >"$TMPD/boring-sv.out" 2>"$TMPD/boring-sv.log" &
	pid=$!
	SERVERS+=("$pid")
	wait_for 10 grep -q '^port ' "$TMPD/boring-sv.out" || fail "sslserv did not start" || return 1
	port=$(awk '/^port/ {print $2}' "$TMPD/boring-sv.out")
	tcpdump -i lo -U -n -w "$TMPD/boring-sv.pcap" "tcp port $port" 2>"$TMPD/boring-sv.tcpdump" &
	tpid=$!
	SERVERS+=("$tpid")
	wait_for 10 grep -q "listening on" "$TMPD/boring-sv.tcpdump" ||
		fail "tcpdump did not start: $(cat "$TMPD/boring-sv.tcpdump")" || return 1
	rm -f "$keys"
	start_capture boring-sv --pid "$pid" --keylog "$keys" || return 1
	curl -sSk -o "$TMPD/boring-sv.curl" -H "X-Curl: c$port" "https://127.0.0.1:$port/boring-$port" ||
		fail "curl failed" || return 1
	wait "$pid" || fail "sslserv failed: $(cat "$TMPD/boring-sv.log")" || return 1
	stop_capture || return 1
	kill -INT "$tpid"
	wait "$tpid"
	cmp -s "$TMPD/boring-sv.curl" "$TMPD/boring-sv.body" || fail "curl did not get the body" || return 1
	peer=$(awk '/^peer/ {print $2}' "$TMPD/boring-sv.out")
	json=$($EVENTS "$TMPD/boring-sv.json" --source openssl --pid "$pid" --dir recv \
		--contains "X-Curl: c$port") || fail "the server's recv not captured" || return 1
	check_attr "$json" "$pid" 127.0.0.1 "$port" 127.0.0.1 "$peer" || return 1
	json=$($EVENTS "$TMPD/boring-sv.json" --source openssl --pid "$pid" --dir send \
		--contains "HTTP/1.0 200 OK") || fail "the server's send not captured" || return 1
	check_attr "$json" "$pid" 127.0.0.1 "$port" 127.0.0.1 "$peer" || return 1
	say "server recv vs the request it read:"
	$EVENTS "$TMPD/boring-sv.json" --source openssl --pid "$pid" --dir recv --rport "$peer" \
		--concat >"$TMPD/boring-sv.crecv"
	same_bytes "$TMPD/boring-sv.crecv" "$TMPD/boring-sv.req" || fail "recv not byte-exact" || return 1
	grep -q "GET /boring-$port HTTP/1.1" "$TMPD/boring-sv.req" || fail "not curl's request" || return 1
	say "server send vs the response it sent:"
	$EVENTS "$TMPD/boring-sv.json" --source openssl --pid "$pid" --dir send --rport "$peer" \
		--concat >"$TMPD/boring-sv.csend"
	same_bytes "$TMPD/boring-sv.csend" "$TMPD/boring-sv.resp" || fail "send not byte-exact" || return 1
	no_losses "$TMPD/boring-sv.json" || return 1
	boring_attached boring-sv || return 1
	grep -E "key log: (attached to BoringSSL|[0-9]+ lines)" "$TMPD/boring-sv.err" | sed 's/^/    /'
	# shellcheck disable=SC2086
	kl_check_keys "$keys" $KL13 EXPORTER_SECRET || { sed 's/^/    /' "$keys"; return 1; }
	got=$(tshark -r "$TMPD/boring-sv.pcap" -o "tls.keylog_file:$keys" -d "tcp.port==$port,tls" \
		-Y http.request -T fields -e http.request.method -e http.request.uri 2>/dev/null)
	say "tshark -o tls.keylog_file:boring-sv.keys -Y http.request: $got"
	[ "$got" = "GET	/boring-$port" ] || fail "tshark did not decrypt curl's request" || return 1
	[ -z "$(tshark -r "$TMPD/boring-sv.pcap" -d "tcp.port==$port,tls" -Y http.request 2>/dev/null)" ] ||
		fail "the request is readable without the key log: the test proves nothing"
}

# Key log (issue 18): bssl-tool client, TLS 1.2 and 1.3, against openssl s_server; only
# the client is filtered in, so every line comes from BoringSSL's ssl_log_secret probe.
test_keylog_boringssl() {
	local t=$RANDOM$RANDOM a=127.0.0.1
	command -v bssl-tool >/dev/null || { say "android-boringssl is not installed"; return 77; }
	kl_server || return 1
	a=$a:$KL_PORT
	# shellcheck disable=SC2016 # the client's own bash expands $0 and $1
	kl_run kl-boring12 CLIENT_RANDOM "/b12-$t" -- bash -c 'read -r _; exec bssl-tool client \
		-max-version tls1.2 -connect "$0" < <(printf "GET %s HTTP/1.0\r\n\r\n" "$1")' \
		"$a" "/b12-$t" || return 1
	grep -q "key log: attached to BoringSSL ssl_log_secret in $BORING_LIB/libssl.so.0" \
		"$TMPD/kl-boring12.err" || fail "no BoringSSL key-log probe" || return 1
	# shellcheck disable=SC2016
	kl_run kl-boring13 "$KL13 EXPORTER_SECRET" "/b13-$t" -- bash -c 'read -r _; exec bssl-tool \
		client -min-version tls1.3 -connect "$0" < <(printf "GET %s HTTP/1.0\r\n\r\n" "$1")' \
		"$a" "/b13-$t"
}

# NSS's secrets are not logged (README: its key-log code gets a PKCS #11 key handle):
# ecaptop says so once, naming NSPR's library, instead of staying silent.
test_keylog_nss_says_why() {
	local n
	[ -r /usr/lib/x86_64-linux-gnu/libnspr4.so ] || { say "libnspr4 is not installed"; return 77; }
	start_capture kl-nss --keylog "$TMPD/kl-nss.keys" || return 1
	stop_capture || return 1
	grep "NSS secrets" "$TMPD/kl-nss.err" | sed 's/^/    /'
	n=$(grep -c "key log: NSS secrets are not logged (/usr/lib/x86_64-linux-gnu/libnspr4.so)" \
		"$TMPD/kl-nss.err")
	[ "$n" = 1 ] || fail "the NSS key-log gap was said $n times, not once" || return 1
}
