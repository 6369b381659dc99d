# Faults (issue 15): a stalled reader, signals during a recording, bad files, FIFOs,
# full disks and symlinks. Each test starts ecaptop as a user would and checks that
# it stops when asked, says what went wrong, and loses nothing silently.

# big_download_loop PORT: fetch big.bin over and over (run in the background).
big_download_loop() {
	while :; do curl -s "http://127.0.0.1:$1/big.bin" -o /dev/null || sleep 0.1; done
}

# ms_since T0: milliseconds since T0 (from date +%s%N).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# Standard output into a FIFO that is held open but never read (`| sleep 600`),
# heavy traffic, then SIGINT: ecaptop ends within a second, its memory stays
# bounded, the -w file is complete and the stats go to stderr.
test_fault_stalled_stdout_stop() {
	local port www load t0 ms hwm bin=$ECAPTOP
	# A time limit is about the program, not the sanitizer (ASan makes the pcapng
	# writer several times slower): the release build when it is there.
	[ -x "$TOP/ecaptop" ] && bin=$TOP/ecaptop
	port=$(free_port)
	www=$TMPD/www-stall
	mkdir -p "$www"
	head -c 8388608 /dev/urandom >"$www/big.bin"
	start_http_plain "$port" "$www" || return 1
	mkfifo "$TMPD/stall.fifo"
	exec 8<>"$TMPD/stall.fifo" # a reader that never reads
	# ASan keeps freed memory in quarantine; make RSS show what the program holds.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8 \
		"$bin" --batch --json -w "$TMPD/stall.pcapng" >"$TMPD/stall.fifo" 2>"$TMPD/stall.err" &
	CAP_PID=$!
	wait_for 30 grep -q ready "$TMPD/stall.err" || fail "not ready: $(cat "$TMPD/stall.err")" || return 1
	big_download_loop "$port" &
	load=$!
	SERVERS+=("$load")
	sleep 5
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$CAP_PID/status")
	t0=$(date +%s%N)
	kill -INT "$CAP_PID"
	wait "$CAP_PID"
	ms=$(ms_since "$t0")
	CAP_PID=
	kill "$load" 2>/dev/null
	exec 8<&-
	say "exit ${ms} ms after SIGINT; peak RSS $((hwm / 1024)) MiB before it"
	grep -E 'not being read|"type":"stats"|saved' "$TMPD/stall.err" | cut -c1-200 | sed 's/^/    /'
	[ "$ms" -le 1000 ] || fail "took ${ms} ms to stop" || return 1
	[ "$hwm" -lt $((400 * 1024)) ] || fail "RSS grew to $((hwm / 1024)) MiB" || return 1
	grep -q '"type":"stats"' "$TMPD/stall.err" || fail "no stats on stderr" || return 1
	grep -q 'saved [0-9]* events' "$TMPD/stall.err" || fail "the recording was not completed" ||
		return 1
	grep -Eq '"queue_full":[1-9]' "$TMPD/stall.err" || fail "no queue loss counted" || return 1
	"$ECAPTOP" -r "$TMPD/stall.pcapng" --batch --json >/dev/null 2>"$TMPD/stall.r.err" ||
		fail "the recording does not replay: $(cat "$TMPD/stall.r.err")"
}

# record_and_signal NAME EXT SIG: -w NAME.EXT with a request (marked by its number)
# every 100 ms for 4 s, then SIG. Sets MARKS to the number of requests made.
record_and_signal() {
	local name=$1 ext=$2 sig=$3 port=$4 i
	start_capture "$name" -w "$TMPD/$name.$ext" || return 1
	for ((i = 1; i <= 40; i++)); do
		curl -s "http://127.0.0.1:$port/m.txt?mark=$name-$i" -o /dev/null
		sleep 0.1
	done
	MARKS=40
	sleep 1.2 # the last request is now more than a second old
	kill -"$sig" "$CAP_PID"
	wait "$CAP_PID"
	SIG_RC=$?
	CAP_PID=
}

# SIGHUP stops a recording cleanly (exit 0, "saved"); SIGKILL loses at most the last
# second: every request made before that replays, from plain and gzip files.
test_fault_signals_during_recording() {
	local port www ext sig name n rc
	port=$(free_port)
	www=$TMPD/www-sig
	mkdir -p "$www"
	echo marked >"$www/m.txt"
	start_http_plain "$port" "$www" || return 1
	for sig in HUP KILL; do
		for ext in pcapng pcapng.gz; do
			name=sig-$sig-${ext//./-}
			record_and_signal "$name" "$ext" "$sig" "$port" || return 1
			"$ECAPTOP" -r "$TMPD/$name.$ext" --batch --json >"$TMPD/$name.r.json" \
				2>"$TMPD/$name.r.err"
			rc=$?
			n=$(grep -o "mark=$name-[0-9]*" "$TMPD/$name.r.json" | sort -u | wc -l)
			say "$sig $ext: ecaptop exit $SIG_RC, $(stat -c %s "$TMPD/$name.$ext") bytes," \
				"$n of $MARKS requests replayed (replay exit $rc)"
			[ "$n" -eq "$MARKS" ] || fail "requests missing: $(head -3 "$TMPD/$name.r.err")" ||
				return 1
			if [ "$sig" = HUP ]; then
				[ "$SIG_RC" -eq 0 ] || fail "SIGHUP: exit $SIG_RC" || return 1
				grep -q 'saved [0-9]* events' "$TMPD/$name.err" || fail "SIGHUP: no 'saved'" ||
					return 1
				[ "$rc" -eq 0 ] || fail "the closed file replays with errors" || return 1
			elif [ "$ext" = pcapng.gz ]; then
				# Cut: what came before replays, then a clear error and exit 1.
				[ "$rc" -ne 0 ] || fail "a cut .gz replayed with exit 0" || return 1
				grep -q 'without its trailer' "$TMPD/$name.r.err" ||
					fail "no word of the cut: $(cat "$TMPD/$name.r.err")" || return 1
			fi
		done
	done
}

# Mutated files through `-r` (the ASan build): a few thousand per run, made from a
# fresh `-w` capture (plain and gzip) and from the stored pcap/pcapng samples, run
# on every core at once. Each must replay or stop with a clear message, exit 0 or
# 1, and never trip ASan/UBSan; LeakSanitizer (0.4 s a run) checks every 8th.
TEST_TIMEOUT[test_fault_mutated_files]=1200
test_fault_mutated_files() {
	local www port n=${FAULT_MUTANTS:-2400} f rc bad=0 errs=0 whole=0 t0
	port=$(free_port)
	www=$TMPD/www-mut
	mkdir -p "$www" "$TMPD/mutants"
	head -c 20000 /dev/urandom | base64 >"$www/t.txt"
	start_http_plain "$port" "$www" || return 1
	start_capture mut -w "$TMPD/mut.pcapng" || return 1
	curl -s "http://127.0.0.1:$port/t.txt?m=1" -o /dev/null
	curl -s "http://127.0.0.1:$port/t.txt?m=2" -o /dev/null
	stop_capture || return 1
	gzip -c "$TMPD/mut.pcapng" >"$TMPD/mut.pcapng.gz"
	python3 - "$TMPD/mutants" "$n" "$TMPD/mut.pcapng" "$TMPD/mut.pcapng.gz" \
		"$TOP"/tests/integration/pcapng-files/*.pcap* <<'PY' || return 1
import gzip, os, random, sys
out, n, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
seeds = [(open(p, "rb").read(), p.endswith(".gz")) for p in srcs]
rnd = random.Random(int(os.environ.get("FAULT_SEED", "15")))
for i in range(n):
    data, gz = seeds[i % len(seeds)]
    src = bytearray(data)
    if gz and i % 3 == 0:  # mutate inside the gzip stream too, not only its bytes
        src, gz = bytearray(gzip.decompress(bytes(src))), "inner"
    kind = rnd.randrange(6)
    if kind == 0:    # flip bytes
        for _ in range(rnd.randint(1, 8)):
            p = rnd.randrange(len(src)); src[p] = rnd.randrange(256)
    elif kind == 1:  # cut
        src = src[:rnd.randrange(len(src))]
    elif kind == 2:  # a length field made large or small
        p = rnd.randrange(0, max(1, len(src) - 4)) & ~3
        src[p:p + 4] = rnd.choice([b"\xff\xff\xff\x7f", b"\x00\x00\x00\x00", b"\x0c\x00\x00\x00",
                                   b"\x01\x00\x00\x00", b"\xfc\xff\xff\xff", b"\x00\x00\x01\x00"])
    elif kind == 3:  # duplicate or drop a range
        a = rnd.randrange(len(src)); b = min(len(src), a + rnd.randint(1, 4096))
        src = src[:a] + (src[a:b] * 2 if rnd.random() < 0.5 else b"") + src[b:]
    elif kind == 4:  # insert noise
        p = rnd.randrange(len(src)); src[p:p] = os.urandom(rnd.randint(1, 64))
    else:            # two mutations of the kinds above, cheaply: flip then cut
        p = rnd.randrange(len(src)); src[p] ^= 0xff
        src = src[:rnd.randrange(len(src) // 2, len(src) + 1)]
    if gz == "inner":
        src = gzip.compress(bytes(src))
    ext = ".pcapng.gz" if gz else ".pcapng"
    open(os.path.join(out, "m%05d%s" % (i, ext)), "wb").write(src)
PY
	t0=$(date +%s%N)
	# shellcheck disable=SC2016
	find "$TMPD/mutants" -type f -name 'm*' -not -name '*.err' -not -name '*.rc' -print0 |
		xargs -0 -r -n 8 -P "$(nproc)" bash -c 'for f; do
			i=${f##*/m}; i=$((10#${i%%.*}))
			leaks=$((i % 8 == 0))
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=$leaks \
				timeout 30 "$0" -r "$f" --batch --json >/dev/null 2>"$f.err"
			echo $? >"$f.rc"; done' "$ECAPTOP"
	for f in "$TMPD"/mutants/m*[^cr]; do
		rc=$(cat "$f.rc" 2>/dev/null || echo missing)
		if [ "$rc" != 0 ] && [ "$rc" != 1 ] || grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' "$f.err"; then
			say "$(basename "$f"): exit $rc"
			head -5 "$f.err" | sed 's/^/    /'
			bad=$((bad + 1))
		elif [ "$rc" = 1 ]; then
			errs=$((errs + 1))
			grep -q '^ecaptop: .*\(offset\|block\|empty\|not a\|gzip\|corrupt\|truncated\|unsupported link type [0-9]\)' "$f.err" ||
				{ say "$(basename "$f"): unclear error: $(head -2 "$f.err")"; bad=$((bad + 1)); }
		else
			whole=$((whole + 1))
		fi
	done
	say "$n mutants in $(ms_since "$t0") ms on $(nproc) cores: $whole replayed, $errs refused or cut short with a message, $bad bad"
	[ "$(find "$TMPD/mutants" -name '*.rc' | wc -l)" -eq "$n" ] || fail "only $(find "$TMPD/mutants" -name '*.rc' | wc -l) of $n mutants ran"
	[ "$bad" -eq 0 ]
}

# A corrupt gzip stream: the message names the file and an offset, not zlib's "<fd:N>".
test_fault_gzip_errors_name_file() {
	local f=$TMPD/gz-bad.pcapng.gz
	python3 - "$f" <<'PY'
import gzip, sys
data = bytearray(gzip.compress(b"\x0a\x0d\x0d\x0a" + bytes(4000)))
data[-8] ^= 0xff  # the CRC-32 in the trailer
open(sys.argv[1], "wb").write(data)
PY
	"$ECAPTOP" -r "$f" --batch >/dev/null 2>"$TMPD/gz-bad.err" && fail "accepted a bad CRC" && return 1
	say "$(grep -v ready "$TMPD/gz-bad.err" | head -2)"
	grep -q "<fd:" "$TMPD/gz-bad.err" && fail "zlib's descriptor name in the message" && return 1
	grep -q "$f.*offset [0-9]" "$TMPD/gz-bad.err" || fail "the file or the offset is not named"
}

# -r - reads standard input, and -r FIFO a FIFO, as tcpdump -r - does; both give
# what -r FILE gives.
test_fault_replay_stdin_and_fifo() {
	local f=$TOP/tests/integration/pcapng-files/http-lo.pcap
	"$ECAPTOP" -r "$f" --batch --json >"$TMPD/in.file.json" 2>"$TMPD/in.file.err" ||
		fail "replay of the file: $(cat "$TMPD/in.file.err")" || return 1
	"$ECAPTOP" -r - --batch --json <"$f" >"$TMPD/in.stdin.json" 2>"$TMPD/in.stdin.err" ||
		fail "-r -: $(cat "$TMPD/in.stdin.err")" || return 1
	cat "$f" | "$ECAPTOP" -r - --batch --json >"$TMPD/in.pipe.json" 2>"$TMPD/in.pipe.err" ||
		fail "-r - from a pipe: $(cat "$TMPD/in.pipe.err")" || return 1
	mkfifo "$TMPD/in.fifo"
	cat "$f" >"$TMPD/in.fifo" &
	"$ECAPTOP" -r "$TMPD/in.fifo" --batch --json >"$TMPD/in.fifo.json" 2>"$TMPD/in.fifo.err" ||
		fail "-r FIFO: $(cat "$TMPD/in.fifo.err")" || return 1
	wait
	grep -q '"type":"http"' "$TMPD/in.file.json" || fail "no HTTP record from the file" || return 1
	cmp -s "$TMPD/in.file.json" "$TMPD/in.stdin.json" || fail "-r - differs from -r FILE" || return 1
	cmp -s "$TMPD/in.file.json" "$TMPD/in.pipe.json" || fail "-r - (pipe) differs" || return 1
	cmp -s "$TMPD/in.file.json" "$TMPD/in.fifo.json" || fail "-r FIFO differs" || return 1
	grep -q 'ready: replaying standard input' "$TMPD/in.stdin.err" || fail "stdin not named"
}

# --log and -w onto a FIFO without a reader, a directory, a symlink, /dev/full: a
# clear refusal at once (never a hang); an existing 0644 log becomes 0600.
test_fault_log_and_write_targets() {
	local out rc t0
	mkfifo "$TMPD/t.fifo"
	for args in "--log $TMPD/t.fifo" "-w $TMPD/t.fifo --force"; do
		t0=$(date +%s%N)
		# shellcheck disable=SC2086
		out=$(timeout 10 "$ECAPTOP" --batch -d 1 $args 2>&1 >/dev/null)
		rc=$?
		say "$args: exit $rc after $(ms_since "$t0") ms: $(printf '%s\n' "$out" | grep -v attached | tail -1)"
		[ $rc -eq 1 ] || fail "$args: exit $rc (124: it hung)" || return 1
		printf '%s\n' "$out" | grep -q "t.fifo" || fail "$args: the FIFO is not named" || return 1
	done
	out=$("$ECAPTOP" --batch -d 1 -w "$TMPD" 2>&1 >/dev/null) && fail "-w DIR accepted" && return 1
	say "-w DIR: $(printf '%s\n' "$out" | tail -1)"
	printf '%s\n' "$out" | grep -q "is a directory" || fail "-w DIR does not say directory" || return 1
	out=$("$ECAPTOP" --batch -d 1 --log /dev/full 2>&1 >/dev/null) && fail "--log /dev/full accepted" &&
		return 1
	say "--log /dev/full: $(printf '%s\n' "$out" | tail -1)"
	ln -sf "$TMPD/log-target" "$TMPD/log-link"
	out=$("$ECAPTOP" --batch -d 1 --log "$TMPD/log-link" 2>&1 >/dev/null) &&
		fail "--log through a symlink" && return 1
	[ ! -e "$TMPD/log-target" ] || fail "the symlink's target was created" || return 1
	say "--log SYMLINK: $(printf '%s\n' "$out" | tail -1)"
	echo "old line" >"$TMPD/old.log"
	chmod 0644 "$TMPD/old.log"
	"$ECAPTOP" -r "$TOP/tests/integration/pcapng-files/http-lo.pcap" --batch --log "$TMPD/old.log" \
		>/dev/null 2>&1 || fail "--log on an existing file" || return 1
	[ "$(stat -c %a "$TMPD/old.log")" = 600 ] || fail "the log stays $(stat -c %a "$TMPD/old.log")" ||
		return 1
	grep -q "old line" "$TMPD/old.log" || fail "the log was not appended to"
}

# A full disk (a small tmpfs): a recording that cannot be written stops with a
# message and exit status 1; so does a log.
test_fault_full_disk() {
	local port www mnt=$TMPD/full rc
	mkdir -p "$mnt"
	mount -t tmpfs -o size=256k tmpfs "$mnt" || { say "cannot mount a tmpfs"; return 77; }
	port=$(free_port)
	www=$TMPD/www-full
	mkdir -p "$www"
	head -c 400000 /dev/urandom >"$www/big.bin"
	start_http_plain "$port" "$www" || { umount "$mnt"; return 1; }
	start_capture full -w "$mnt/rec.pcapng" --log "$mnt/ecaptop.log" || { umount "$mnt"; return 1; }
	for i in 1 2 3; do curl -s "http://127.0.0.1:$port/big.bin" -o /dev/null; done
	sleep 1.5
	kill -INT "$CAP_PID"
	wait "$CAP_PID"
	rc=$?
	CAP_PID=
	umount "$mnt"
	say "exit $rc; $(grep -i 'space' "$TMPD/full.err" | head -2 | tr '\n' ' ')"
	[ $rc -eq 1 ] || fail "exit $rc on a full disk" || return 1
	grep -q 'recording stopped.*No space left\|writing .*No space left' "$TMPD/full.err" ||
		fail "no word of the full disk: $(tail -3 "$TMPD/full.err")"
}

# --perf-buffer: a loss is counted once. The capture is stopped (SIGSTOP) while
# traffic overflows the perf buffers; then lost samples show as "buffer full"
# (ring_reserve) and not a second time as perf_lost.
test_fault_perf_losses_counted_once() {
	local port www i
	port=$(free_port)
	www=$TMPD/www-perf
	mkdir -p "$www"
	head -c 8388608 /dev/urandom >"$www/big.bin"
	start_http_plain "$port" "$www" || return 1
	start_capture perfloss --perf-buffer || return 1
	kill -STOP "$CAP_PID"
	for i in 1 2 3 4; do curl -s "http://127.0.0.1:$port/big.bin" -o /dev/null; done
	kill -CONT "$CAP_PID"
	stop_capture || return 1
	say "$(grep '"type":"stats"' "$TMPD/perfloss.json")"
	[ "$($EVENTS "$TMPD/perfloss.json" --stats buffer)" = perfbuf ] || fail "not a perf buffer" || return 1
	[ "$($EVENTS "$TMPD/perfloss.json" --stats lost.ring_reserve)" -gt 0 ] ||
		fail "no loss although the reader was stopped" || return 1
	[ "$($EVENTS "$TMPD/perfloss.json" --stats lost.perf_lost)" = 0 ] || fail "losses counted twice"
}
