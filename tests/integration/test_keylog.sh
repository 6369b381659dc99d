# TLS key log (--keylog): tcpdump records a client's loopback TLS 1.2 and 1.3 traffic
# while ecaptop, filtered to that one client process, writes the key log; tshark must
# then decrypt every HTTP request of the recording with that file alone.

KL_PORT=

# An openssl s_server -WWW (TLS 1.2 and 1.3) over a folder with one file per request.
kl_server() {
	[ -n "$KL_PORT" ] && return 0
	mkdir -p "$TMPD/kl-www"
	KL_PORT=$(free_port)
	start_tls_server "$KL_PORT" "$TMPD/kl-www" || return 1
}

# kl_check_keys FILE LABEL...: each label present, no line twice, mode 0600.
kl_check_keys() {
	local keys=$1 l
	shift
	[ "$(stat -c %a "$keys")" = 600 ] || fail "$keys has mode $(stat -c %a "$keys")" || return 1
	for l in "$@"; do
		grep -q "^$l [0-9a-f]\{64\} [0-9a-f]\{64,128\}$" "$keys" ||
			fail "no $l line in the key log" || return 1
	done
	[ -z "$(sort "$keys" | uniq -d)" ] || fail "a key line written twice" || return 1
	grep -qv '^[A-Z0-9_]* [0-9a-f]* [0-9a-f]*$' "$keys" && fail "a malformed line" && return 1
	return 0
}

# kl_run NAME "LABEL..." URI... -- CLIENT...: start CLIENT (it waits for a line on its
# standard input), tcpdump on lo, ecaptop --pid CLIENT --keylog; let the client go;
# then tshark with the key log must show a request for every URI, and none without it.
# LABEL... must be in the key log by the time ecaptop reports the client's first data.
kl_run() {
	local name=$1 labels=$2 keys pcap gate cpid tpid wpid gfd uris=() u rc got l
	shift 2
	while [ "$1" != -- ]; do
		uris+=("$1")
		echo "keylog test $1" >"$TMPD/kl-www/${1#/}"
		shift
	done
	shift
	keys=$TMPD/$name.keys
	pcap=$TMPD/$name.pcap
	gate=$TMPD/$name.gate
	rm -f "$keys" "$gate"
	mkfifo "$gate"
	# Read-write: opening a FIFO that way does not wait for the other end.
	exec {gfd}<>"$gate"
	"$@" <&$gfd >"$TMPD/$name.client.out" 2>&1 &
	cpid=$!
	tcpdump -i lo -U -n -w "$pcap" "tcp port $KL_PORT" 2>"$TMPD/$name.tcpdump.err" &
	tpid=$!
	SERVERS+=("$tpid")
	wait_for 10 grep -q "listening on" "$TMPD/$name.tcpdump.err" ||
		fail "tcpdump did not start: $(cat "$TMPD/$name.tcpdump.err")" || return 1
	start_capture "$name" --pid "$cpid" --keylog "$keys" || return 1
	# Watch the JSON output: when the client's first data record appears, copy the
	# key log as it is at that moment.
	python3 - "$TMPD/$name.json" "$cpid" "$keys" "$TMPD/$name.keys-at-data" <<'PY' &
import json, shutil, sys, time
path, pid, keys, snap = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
end = time.time() + 60
with open(path) as f:
    buf = ""
    while time.time() < end:
        chunk = f.readline()
        if not chunk:
            time.sleep(0.001)
            continue
        buf += chunk
        if not buf.endswith("\n"):
            continue
        line, buf = buf, ""
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("type") == "data" and r.get("pid") == pid:
            shutil.copyfile(keys, snap)
            sys.exit(0)
sys.exit(1)
PY
	wpid=$!
	echo go >&$gfd
	wait "$cpid"
	rc=$?
	exec {gfd}>&-
	wait "$wpid" || fail "ecaptop reported no data of the client" || return 1
	stop_capture || return 1
	sleep 0.2
	kill -INT "$tpid"
	wait "$tpid"
	[ $rc -eq 0 ] || fail "the client failed: $(cat "$TMPD/$name.client.out")" || return 1
	grep "key log:" "$TMPD/$name.err" | sed 's/^/    /'
	# shellcheck disable=SC2086
	kl_check_keys "$keys" $labels || { sed 's/^/    /' "$keys"; return 1; }
	for l in $labels; do
		grep -q "^$l " "$TMPD/$name.keys-at-data" ||
			fail "$l was not in the key log when the first data was reported" || return 1
	done
	say "key log ($(wc -l <"$keys") lines): $(cut -d' ' -f1 "$keys" | sort | tr '\n' ' ')"
	got=$(tshark -r "$pcap" -o "tls.keylog_file:$keys" -d "tcp.port==$KL_PORT,tls" \
		-Y http.request -T fields -e frame.number -e tls.record.version -e http.request.method \
		-e http.request.uri 2>/dev/null)
	say "negotiated (ServerHello version, supported_versions): $(tshark -r "$pcap" \
		-d "tcp.port==$KL_PORT,tls" -Y tls.handshake.type==2 -T fields -e tls.handshake.version \
		-e tls.handshake.extensions.supported_version 2>/dev/null | sort | uniq -c | tr -s ' \n\t' ' ')"
	say "tshark -o tls.keylog_file:$name.keys -Y http.request:"
	printf '%s\n' "$got" | sed 's/^/    /'
	for u in "${uris[@]}"; do
		printf '%s\n' "$got" | grep -q "GET	$u$" ||
			fail "tshark did not decrypt the request for $u" || return 1
	done
	[ -z "$(tshark -r "$pcap" -d "tcp.port==$KL_PORT,tls" -Y http.request 2>/dev/null)" ] ||
		fail "requests readable without the key log: the test proves nothing" || return 1
}

KL13="CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET CLIENT_TRAFFIC_SECRET_0 SERVER_TRAFFIC_SECRET_0"

test_keylog_curl() {
	local t=$RANDOM$RANDOM url
	kl_server || return 1
	url=https://127.0.0.1:$KL_PORT
	kl_run kl-curl12 CLIENT_RANDOM "/c12-$t-a" "/c12-$t-b" -- bash -c \
		'read -r _; exec curl -sSk --tls-max 1.2 "$0" "$1"' "$url/c12-$t-a" "$url/c12-$t-b" ||
		return 1
	kl_run kl-curl13 "$KL13 EXPORTER_SECRET" "/c13-$t-a" "/c13-$t-b" -- bash -c \
		'read -r _; exec curl -sSk --tlsv1.3 "$0" "$1"' "$url/c13-$t-a" "$url/c13-$t-b"
}

test_keylog_python() {
	local t=$RANDOM$RANDOM url
	kl_server || return 1
	url=https://127.0.0.1:$KL_PORT
	kl_run kl-py "CLIENT_RANDOM $KL13 EXPORTER_SECRET" "/p12-$t" "/p13-$t" -- python3 -c '
import ssl, sys, urllib.request
sys.stdin.readline()
for uri, v in ((sys.argv[1], ssl.TLSVersion.TLSv1_2), (sys.argv[2], ssl.TLSVersion.TLSv1_3)):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = v
    print(urllib.request.urlopen(uri, context=ctx).status, uri)
' "$url/p12-$t" "$url/p13-$t"
}

kl_go_build() {
	local out=$TMPD/go
	[ -x "$out/keylogget" ] && return 0
	command -v go >/dev/null || { say "golang-go is not installed"; return 77; }
	mkdir -p "$out"
	export GOCACHE=$TMPD/go/cache GOPATH=$TMPD/go/path GOPROXY=off GOFLAGS= GO111MODULE=auto
	(cd "$TOP/tests/integration/go/keylog" && go build -o "$out/keylogget" keylogget.go) \
		>"$TMPD/kl-go-build.log" 2>&1 || { cat "$TMPD/kl-go-build.log"; fail "go build"; return 1; }
}

test_keylog_go() {
	local t=$RANDOM$RANDOM url
	kl_server || return 1
	kl_go_build || return $?
	url=https://127.0.0.1:$KL_PORT
	# Go 1.19's crypto/tls logs no EXPORTER_SECRET (nor is one needed to decrypt).
	kl_run kl-go12 CLIENT_RANDOM "/g12-$t-a" "/g12-$t-b" -- \
		"$TMPD/go/keylogget" -max 1.2 "$url/g12-$t-a" "$url/g12-$t-b" || return 1
	kl_run kl-go13 "$KL13" "/g13-$t-a" "/g13-$t-b" -- \
		"$TMPD/go/keylogget" -max 1.3 "$url/g13-$t-a" "$url/g13-$t-b"
}

# The key log is never written through a symbolic link, and an existing file keeps
# what it had (appended).
test_keylog_file_safety() {
	local target=$TMPD/kl-target
	echo "precious" >"$target"
	ln -sf "$target" "$TMPD/kl-link"
	if "$ECAPTOP" --batch --keylog "$TMPD/kl-link" -d 1 >/dev/null 2>"$TMPD/kl-link.err"; then
		fail "ecaptop accepted a symbolic link as its key log" || return 1
	fi
	grep -q "symbolic link" "$TMPD/kl-link.err" || fail "no clear message: $(cat "$TMPD/kl-link.err")" ||
		return 1
	say "refused: $(cat "$TMPD/kl-link.err")"
	[ "$(cat "$target")" = precious ] || fail "the link's target was changed" || return 1
	if "$ECAPTOP" -r /dev/null --keylog "$TMPD/kl-x" 2>"$TMPD/kl-r.err"; then
		fail "--keylog accepted with -r" || return 1
	fi
	say "refused: $(cat "$TMPD/kl-r.err")"
}

# GnuTLS: wget, TLS 1.2 (a priority string that allows no other version) and 1.3.
test_keylog_wget() {
	local t=$RANDOM$RANDOM url
	command -v wget >/dev/null || { say "wget is not installed"; return 77; }
	kl_server || return 1
	url=https://127.0.0.1:$KL_PORT
	kl_run kl-wget12 CLIENT_RANDOM "/w12-$t" -- bash -c 'read -r _; exec wget -q -O /dev/null \
		--no-check-certificate --ciphers "NORMAL:-VERS-ALL:+VERS-TLS1.2" "$0"' "$url/w12-$t" ||
		return 1
	kl_run kl-wget13 "$KL13 EXPORTER_SECRET" "/w13-$t" -- bash -c 'read -r _; exec wget -q \
		-O /dev/null --no-check-certificate --secure-protocol=TLSv1_3 "$0"' "$url/w13-$t"
}
