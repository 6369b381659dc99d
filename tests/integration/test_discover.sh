# Discovery (issue 12 section 1, issue 15 point 3): programs that live a few
# milliseconds, started the way a user starts them, with no delay of their own.
#  - a Go client installed in a system program folder before ecaptop starts is
#    captured whole on its first run (the background scan of the program folders);
#  - a program new to ecaptop (Go, static OpenSSL) started after "ready": its first
#    run is captured from the moment its probes attach (logged in ms), and a run that
#    starts once they are (its second) whole, although the first one had exited
#    before discovery looked at it;
#  - `go run` with --hold-new: the fresh binary is stopped at exec until attached;
#  - two ecaptop instances at once both take OpenSSL's internal-function path.
# Uses check_attr, same_bytes and no_losses from test_tls_stacks.sh. The Go client is
# go/tlsget (crypto/tls without net/http: quick to build).

DISC_UID=65534 # nobody: --hold-new is narrowed to this user (-u), so that programs of
# anything else running on this machine are never held by these tests.

# disc_wait_folders NAME: the background scan of the program folders has finished.
disc_wait_folders() {
	wait_for 240 grep -q "discovery: program folders done" "$TMPD/$1.err" ||
		fail "the program folders were not scanned: $(tail -3 "$TMPD/$1.err")" || return 1
	grep "discovery: program folders done" "$TMPD/$1.err" | sed 's/^/    /'
}

# Go's own build cache (as a user's builds use it): a PIE build of the standard
# library takes minutes on a busy machine the first time only.
DISC_GOENV="GOPATH=$TMPD/disc-go/path GOPROXY=off GOFLAGS= GO111MODULE=auto"

# disc_go_build OUT [GO BUILD FLAGS...]: build tlsget.
disc_go_build() {
	local out=$1
	shift
	command -v go >/dev/null || { say "golang-go is not installed"; return 77; }
	mkdir -p "$TMPD/disc-go"
	env $DISC_GOENV go build "$@" -o "$out" "$GO_SRC/tlsget/tlsget.go" \
		>"$TMPD/disc-go/build.log" 2>&1 || fail "go build: $(cat "$TMPD/disc-go/build.log")"
}

# disc_go_client NAME BIN PORT WWW: run BIN (tlsget) GETting big.bin at once; its pid
# in $DISC_PID.
disc_go_client() {
	"$2" "127.0.0.1:$3" /big.bin "X-Disc: $1" "$TMPD/$1.body" >"$TMPD/$1.out" 2>&1 &
	DISC_PID=$!
	wait $DISC_PID || fail "$2 failed: $(cat "$TMPD/$1.out")" || return 1
	cmp -s "$4/big.bin" "$TMPD/$1.body" || fail "$2 itself did not get the file"
}

# disc_whole JSON SOURCE PID TAG WWW PORT OUT: that process's request and the whole
# response body were captured, with its connection's endpoints.
disc_whole() {
	local json lport
	json=$($EVENTS "$1" --source "$2" --pid "$3" --dir send --contains "$4") ||
		fail "pid $3: the request with $4 not captured" || return 1
	lport=$(awk '/^lport/ {print $2}' "$7")
	check_attr "$json" "$3" 127.0.0.1 "${lport:--}" 127.0.0.1 "$6" || return 1
	$EVENTS "$1" --source "$2" --pid "$3" --dir recv --concat >"$TMPD/disc.$3.cap"
	same_bytes "$TMPD/disc.$3.cap" "$5/big.bin" skip-header ||
		fail "pid $3: response body not byte-exact" || return 1
}

# disc_suffix JSON SOURCE PID WWW: what was captured of that process's response is a
# tail of it made of whole reads (probes attached while it ran); prints the figure.
disc_suffix() {
	$EVENTS "$1" --source "$2" --pid "$3" --dir recv --concat >"$TMPD/disc.$3.cap"
	python3 - "$TMPD/disc.$3.cap" "$4/big.bin" <<'PY'
import sys
cap = open(sys.argv[1], "rb").read(); body = open(sys.argv[2], "rb").read()
i = cap.find(b"\r\n\r\n")
if cap.startswith(b"HTTP/") and i >= 0:
    ok = cap[i + 4:] == body
else:
    ok = body.endswith(cap)
print("    first run: %d bytes captured of %d (response header and %d-byte body)" %
      (len(cap), len(cap) if i >= 0 and cap.startswith(b"HTTP/") else len(body), len(body)))
sys.exit(0 if ok else 1)
PY
}

# disc_whole_many JSON SOURCE WWW PORT PID:TAG:LPORT...: one pass over the capture for
# several processes: each one's request with TAG, sent from 127.0.0.1:LPORT to PORT,
# and its whole response body, byte-exact.
disc_whole_many() {
	python3 - "$@" <<'PY'
import base64, hashlib, json, sys
path, source, www, port = sys.argv[1:5]
want = {}
for spec in sys.argv[5:]:
    pid, tag, lport = spec.split(":")
    want[int(pid)] = (tag, int(lport))
body = open(www + "/big.bin", "rb").read()
sent = {p: False for p in want}; recv = {p: bytearray() for p in want}; bad = []
for line in open(path):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    p = e.get("pid")
    if e.get("type") != "data" or e.get("source") != source or p not in want:
        continue
    data = base64.b64decode(e["data"])
    if (e["laddr"], e["lport"], e["raddr"], e["rport"]) != ("127.0.0.1", want[p][1], "127.0.0.1", int(port)) or e["fd"] < 0:
        bad.append((p, e["laddr"], e["lport"], e["raddr"], e["rport"], e["fd"]))
    if e["dir"] == "send" and want[p][0].encode() in data:
        sent[p] = True
    elif e["dir"] == "recv":
        recv[p] += data
ok = not bad
for p in want:
    cap = bytes(recv[p]); i = cap.find(b"\r\n\r\n"); cap = cap[i + 4:] if i >= 0 else b""
    h = lambda b: hashlib.sha256(b).hexdigest()[:16]
    print("    pid %d: request %s; response body %d bytes of %d, sha256 %s vs %s" %
          (p, "captured" if sent[p] else "MISSING", len(cap), len(body), h(cap), h(body)))
    ok = ok and sent[p] and cap == body
if bad:
    print("    wrong attribution:", bad[:5])
sys.exit(0 if ok else 1)
PY
}

# disc_installed VARIANT GO-BUILD-FLAGS...: a Go client of that build variant,
# installed in /usr/local/bin before ecaptop starts, is captured whole on its first
# run (each variant a test of its own: a PIE build of the standard library alone can
# take minutes on a busy machine).
disc_installed() {
	local v=$1 port www bin tag spec
	shift
	disc_go_build "$TMPD/disc-go/tlsget.$v" "$@" || return $?
	port=$(free_port)
	www=$TMPD/www-disc-inst-$v
	mkdir -p "$www"
	head -c 1572864 /dev/urandom >"$www/big.bin"
	start_tls_server "$port" "$www" || return 1
	bin=$DISC_INSTALLED
	install -m 0755 "$TMPD/disc-go/tlsget.$v" "$bin" || return 1
	start_capture "disc-inst-$v" || return 1
	disc_wait_folders "disc-inst-$v" || return 1
	grep -q "attached Go crypto/tls probes to $bin " "$TMPD/disc-inst-$v.err" ||
		fail "$bin not attached by the folder scan" || return 1
	tag="disc-inst-$v-$RANDOM"
	disc_go_client "$tag" "$bin" "$port" "$www" || return 1
	spec="$DISC_PID:$tag:$(awk '/^lport/ {print $2}' "$TMPD/$tag.out")"
	stop_capture || return 1
	say "$v, installed before ecaptop started, first run:"
	disc_whole_many "$TMPD/disc-inst-$v.json" gotls "$www" "$port" "$spec" ||
		fail "not captured whole" || return 1
	no_losses "$TMPD/disc-inst-$v.json"
}

# disc_installed_test VARIANT FLAGS...: with the installed file removed however the
# test ends (run.sh's timeout sends SIGTERM).
disc_installed_test() {
	local rc
	DISC_INSTALLED=/usr/local/bin/ecaptop-test-goclient-$1-$$
	trap 'rm -f "$DISC_INSTALLED"; cleanup_all' EXIT
	trap 'exit 143' TERM
	disc_installed "$@"
	rc=$?
	rm -f "$DISC_INSTALLED"
	return $rc
}

test_discover_go_installed_normal() { disc_installed_test normal; }
test_discover_go_installed_pie() { disc_installed_test pie -buildmode=pie; }
test_discover_go_installed_stripped() { disc_installed_test stripped -ldflags "-s -w"; }

# A Go client built in a temporary folder after "ready": the first run is captured
# from the moment its probes attach, the second whole.
test_discover_go_new_binary() {
	local port www bin p1 p2 ms
	command -v go >/dev/null || { say "golang-go is not installed"; return 77; }
	disc_go_build "$TMPD/disc-go/warm" || return $? # the build cache, before ecaptop
	port=$(free_port)
	www=$TMPD/www-disc-new
	mkdir -p "$www" "$TMPD/disc-new"
	head -c 1572864 /dev/urandom >"$www/big.bin"
	start_tls_server "$port" "$www" || return 1
	start_capture disc-new || return 1
	bin=$TMPD/disc-new/goclient
	disc_go_build "$bin" || return 1
	disc_go_client disc-new-1 "$bin" "$port" "$www" || return 1
	p1=$DISC_PID
	# The promise: every run that starts once the probes are attached (the log line
	# says when) is captured whole.
	wait_for 20 grep -q "$bin: TLS probes attached" "$TMPD/disc-new.err"
	disc_go_client disc-new-2 "$bin" "$port" "$www" || return 1
	p2=$DISC_PID
	stop_capture || return 1
	grep "$bin" "$TMPD/disc-new.err" | sed 's/^/    /'
	ms=$(sed -n "s|.*$bin: TLS probes attached \([0-9]*\) ms after pid $p1 started it.*|\1|p" \
		"$TMPD/disc-new.err")
	[ -n "$ms" ] || fail "no log line saying when the first run's probes attached" || return 1
	say "first run (pid $p1): probes attached $ms ms after its exec"
	disc_suffix "$TMPD/disc-new.json" gotls "$p1" "$www" ||
		fail "the first run's capture is not a tail of its response" || return 1
	say "second run (pid $p2):"
	disc_whole "$TMPD/disc-new.json" gotls "$p2" disc-new-2 "$www" "$port" "$TMPD/disc-new-2.out"
}

# A statically linked OpenSSL client built after "ready": the same promise.
test_discover_static_openssl_new_binary() {
	local port www bin p1 p2 ms
	[ -r /usr/lib/x86_64-linux-gnu/libssl.a ] || { say "libssl-dev (libssl.a) is not installed"; return 77; }
	port=$(free_port)
	www=$TMPD/www-disc-static
	mkdir -p "$www" "$TMPD/disc-static"
	head -c 1572864 /dev/urandom >"$www/big.bin"
	start_tls_server "$port" "$www" || return 1
	start_capture disc-static || return 1
	bin=$TMPD/disc-static/sslget
	cc -O1 -o "$bin" "$GO_SRC/sslget.c" /usr/lib/x86_64-linux-gnu/libssl.a \
		/usr/lib/x86_64-linux-gnu/libcrypto.a -ldl -lpthread 2>"$TMPD/disc-static.cc" ||
		fail "cannot build sslget: $(cat "$TMPD/disc-static.cc")" || return 1
	"$bin" 127.0.0.1 "$port" /big.bin "X-Disc: s1-$port" "$TMPD/disc-static.1" \
		>"$TMPD/disc-static.1.out" &
	p1=$!
	wait $p1 || fail "sslget failed" || return 1
	wait_for 20 grep -q "$bin: TLS probes attached" "$TMPD/disc-static.err"
	"$bin" 127.0.0.1 "$port" /big.bin "X-Disc: s2-$port" "$TMPD/disc-static.2" \
		>"$TMPD/disc-static.2.out" &
	p2=$!
	wait $p2 || fail "sslget failed" || return 1
	stop_capture || return 1
	grep "$bin" "$TMPD/disc-static.err" | sed 's/^/    /'
	ms=$(sed -n "s|.*$bin: TLS probes attached \([0-9]*\) ms after pid $p1 started it.*|\1|p" \
		"$TMPD/disc-static.err")
	[ -n "$ms" ] || fail "no log line saying when the first run's probes attached" || return 1
	say "first run (pid $p1): probes attached $ms ms after its exec"
	disc_suffix "$TMPD/disc-static.json" openssl "$p1" "$www" ||
		fail "the first run's capture is not a tail of its response" || return 1
	say "second run (pid $p2):"
	disc_whole "$TMPD/disc-static.json" openssl "$p2" "X-Disc: s2-$port" "$www" "$port" \
		"$TMPD/disc-static.2.out"
}

# `go run` builds a new binary each time and runs it at once: with --hold-new the
# binary is stopped at its exec until its probes are attached, so even this first
# and only run is captured whole. As user nobody, with -u, so only its programs are
# ever held.
test_discover_go_run_hold_new() {
	local port www dir tag pid rc
	# A build cache of its own for user nobody, warmed before ecaptop starts.
	GOCACHE=$TMPD/disc-go/cache disc_go_build "$TMPD/disc-go/warm" || return $?
	port=$(free_port)
	www=$TMPD/www-disc-hold
	mkdir -p "$www"
	head -c 1572864 /dev/urandom >"$www/big.bin"
	start_tls_server "$port" "$www" || return 1
	dir=$(mktemp -d /tmp/ecaptop-gorun.XXXXXX)
	cp "$GO_SRC/tlsget/tlsget.go" "$dir/"
	cp -a "$TMPD/disc-go/cache" "$dir/cache" # warm: only the link step is left to do
	chown -R "$DISC_UID:$DISC_UID" "$dir"
	chmod 0755 "$dir"
	start_capture disc-hold --hold-new -u "$DISC_UID" || { rm -rf "$dir"; return 1; }
	tag="disc-hold-$RANDOM$RANDOM"
	setpriv --reuid="$DISC_UID" --regid="$DISC_UID" --clear-groups \
		env -C "$dir" HOME="$dir" GOCACHE="$dir/cache" GOPATH="$dir/path" GOPROXY=off \
		GOFLAGS= GO111MODULE=auto go run tlsget.go "127.0.0.1:$port" /big.bin \
		"X-Disc: $tag" "$dir/body" >"$TMPD/disc-hold.out" 2>&1
	rc=$?
	wait_for 10 grep -q "/exe/tlsget: pid [0-9]* held" "$TMPD/disc-hold.err"
	stop_capture || { rm -rf "$dir"; return 1; }
	cmp -s "$www/big.bin" "$dir/body" || {
		fail "go run did not get the file (exit $rc): $(cat "$TMPD/disc-hold.out")"
		rm -rf "$dir"
		return 1
	}
	rm -rf "$dir"
	grep "/exe/tlsget" "$TMPD/disc-hold.err" | sed 's/^/    /'
	pid=$(sed -n 's|.*/exe/tlsget: pid \([0-9]*\) held [0-9]* ms after its exec.*|\1|p' \
		"$TMPD/disc-hold.err")
	[ -n "$pid" ] || fail "the go run binary was not held until attached" || return 1
	say "go run's binary (pid $pid), held at exec:"
	$EVENTS "$TMPD/disc-hold.json" --source gotls --pid "$pid" --dir send --contains "$tag" \
		>/dev/null || fail "its request not captured" || return 1
	$EVENTS "$TMPD/disc-hold.json" --source gotls --pid "$pid" --dir recv --concat \
		>"$TMPD/disc-hold.cap"
	same_bytes "$TMPD/disc-hold.cap" "$www/big.bin" skip-header ||
		fail "its response not byte-exact"
}

# Issue 15 point 3: two instances at once. Each reads OpenSSL's code from the file
# (pread), not through a mapping the other's breakpoints show through, so both take
# the internal-function path and both see s_server -WWW's own side (BIO_f_ssl).
test_discover_two_instances_s_server() {
	local port www tag srv first n
	port=$(free_port)
	www=$TMPD/www-disc-two
	mkdir -p "$www"
	echo "two-body-$RANDOM$RANDOM" >"$www/t.txt"
	start_tls_server "$port" "$www" || return 1
	srv=$(cat "$TMPD/s_server.$port.pid")
	start_capture disc-two-a || return 1
	first=$CAP_PID
	start_capture disc-two-b || { kill "$first"; return 1; }
	tag="two-hdr-$RANDOM$RANDOM"
	curl -sk -H "X-Ecaptop-Test: $tag" "https://127.0.0.1:$port/t.txt" -o /dev/null
	stop_capture || { kill "$first"; return 1; }
	CAP_PID=$first
	stop_capture || return 1
	for n in disc-two-a disc-two-b; do
		grep 'libssl.so.3' "$TMPD/$n.err" | grep -i openssl | sed 's/^/    /'
		grep -q 'libssl.so.3 (ssl_read_internal at' "$TMPD/$n.err" ||
			fail "$n did not probe ssl_read_internal in libssl.so.3" || return 1
		$EVENTS "$TMPD/$n.json" --source openssl --pid "$srv" --dir recv --contains "$tag" \
			>/dev/null || fail "$n: s_server's side of the request not captured" || return 1
		$EVENTS "$TMPD/$n.json" --source openssl --pid "$srv" --dir send \
			--contains "$(cat "$www/t.txt")" >/dev/null ||
			fail "$n: s_server's response not captured" || return 1
	done
}

# --hold-new's safety: the stop happens in the kernel at exec, and a held process is
# continued when ecaptop dies of a signal it can catch. ecaptop is frozen (SIGSTOP)
# so that the program stays held; then it gets SIGABRT: the program must finish.
test_discover_hold_released_on_fatal_signal() {
	local bin port www pid state i
	port=$(free_port)
	www=$TMPD/www-disc-rel
	mkdir -p "$www" "$TMPD/disc-rel"
	head -c 65536 /dev/urandom >"$www/big.bin"
	start_tls_server "$port" "$www" || return 1
	chmod 0755 "$TMPD" "$TMPD/disc-rel"
	bin=$TMPD/disc-rel/sslget
	cc -O1 -o "$bin" "$GO_SRC/sslget.c" -lssl -lcrypto 2>"$TMPD/disc-rel.cc" ||
		fail "cannot build sslget: $(cat "$TMPD/disc-rel.cc")" || return 1
	start_capture disc-rel --hold-new -u "$DISC_UID" || return 1
	kill -STOP "$CAP_PID"
	setpriv --reuid="$DISC_UID" --regid="$DISC_UID" --clear-groups \
		"$bin" 127.0.0.1 "$port" /big.bin "X-Disc: rel" /dev/null >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
		[ "$state" = T ] && break
		sleep 0.1
	done
	say "new program as uid $DISC_UID while ecaptop is frozen: state ${state:-gone}"
	[ "$state" = T ] || { kill -CONT "$CAP_PID"; fail "the program was not held at exec"; return 1; }
	kill -ABRT "$CAP_PID"
	kill -CONT "$CAP_PID"
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -CONT "$pid"
		fail "the held program was not continued when ecaptop died of SIGABRT"
		return 1
	fi
	wait "$pid" || fail "the held program failed after it was continued"
}

# A multiarch system holds libraries of other machines (arm64's libssl beside
# x86-64's): they are never probed, and never named in a warning. A copy of this
# machine's libssl with e_machine set to another machine's stands in for one, in
# a folder the library scan covers.
test_discover_foreign_arch_left_alone() {
	local lib real foreign=/usr/local/lib/libssl.so.99-ecaptop-test f bad=0
	lib=$(ldconfig -p | awk '/libssl.so.3 .*x86-64/ {print $NF; exit}')
	[ -n "$lib" ] || { say "SKIP: no x86-64 libssl.so.3"; return 77; }
	real=$(readlink -f "$lib")
	python3 - "$real" "$foreign" <<'PY' || return 1
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<H", b, 18, 183)  # EM_AARCH64
open(sys.argv[2], "wb").write(b)
PY
	start_capture disc-foreign || { rm -f "$foreign"; return 1; }
	stop_capture
	rm -f "$foreign"
	grep -q "attached OpenSSL probes to $real\|attached OpenSSL probes to $lib" "$TMPD/disc-foreign.err" ||
		fail "the native libssl ($real) was not probed: the check proves nothing" || return 1
	grep "libssl.so.99-ecaptop-test" "$TMPD/disc-foreign.err" | sed 's/^/    /' | grep . && bad=1
	# Every file named in an attach line is of this machine.
	for f in $(sed -n 's/^ecaptop: attached .* probes to \([^ ]*\) .*/\1/p' "$TMPD/disc-foreign.err" | sort -u); do
		[ -f "$f" ] || continue
		readelf -h "$f" 2>/dev/null | grep -q 'Machine: *Advanced Micro Devices X86-64' ||
			{ say "attached to a non-native file: $f"; bad=1; }
	done
	[ "$bad" -eq 0 ] || fail "a library of another machine was probed or named"
}
