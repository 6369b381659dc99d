#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make bench: print one table of figures (never pass/fail), measured in one run with
# the configurations alternated (A B C D, A B C D, ...; medians over the rounds):
#   1. overhead on a traced nginx (TLS 1.3, keep-alive, one worker on CPU 0) loaded by
#      h2load --h1 on CPU 1: untraced, ecaptop -p, bpftrace, bcc sslsniff;
#   2. the user side: events/s from the kernel buffers through the printer, with the
#      loss at each offered rate, ring buffer and perf buffer (synthetic producer);
#   3. resident memory idle, under load, and with one million items stored;
#   4. time from start to "ready";
#   5. what a user feels first (tests/bench/latency.sh): an idle `-p PID` capture's
#      wake-ups and CPU, quit time with 50 libraries attached, start to first screen.
# QUICK=1: a smoke run of under two minutes (shorter runs, one round, no sslsniff).
# Environment: ECAPTOP (binary, default ./ecaptop), BENCH_ROUNDS, BENCH_SECS,
# BENCH_KEEP=1 (keep the temporary directory with the raw figures).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/tests/bench
OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$TOP/$OUTPUT ;; esac
SERVER_CPU=0
CLIENT_CPU=1
PORT=${BENCH_PORT:-18443}
CONNS=${BENCH_CONNS:-32} # h2load connections: enough to keep one worker busy

if [ -n "${QUICK:-}" ]; then
	ROUNDS=${BENCH_ROUNDS:-1}
	SECS=${BENCH_SECS:-2}
	WARM=500ms
	VERIFY_N=(1000 300)
	SYN_SECS=1
	SYN_RATES="50000 200000 0"
	TRIES=1
	STORE_ITEMS=200000
	PEERS="untraced ecaptop bpftrace"
else
	ROUNDS=${BENCH_ROUNDS:-3}
	SECS=${BENCH_SECS:-10}
	WARM=1s
	VERIFY_N=(20000 5000)
	SYN_SECS=3
	SYN_RATES="25000 50000 100000 200000 400000 800000 0"
	TRIES="1 2 3"
	STORE_ITEMS=1000000
	PEERS="untraced ecaptop bpftrace sslsniff"
fi
FILES=(100b 64k)

if [ "$(id -u)" != 0 ]; then
	echo "make bench needs root (BPF, uprobes): run it with sudo" >&2
	exit 1
fi
# Everything measured runs at high priority (inherited from here): on a shared machine
# the figures would otherwise measure whoever else is using the CPUs.
BENCH_NICE=${BENCH_NICE:--19}
renice -n "$BENCH_NICE" $$ >/dev/null
TMPD=$(mktemp -d /tmp/ecaptop-bench.XXXXXX)
chmod 755 "$TMPD" # nginx's worker runs as nobody and serves files from here
RAW=$TMPD/raw.txt # one line per measurement: section key value...
NOTES=$TMPD/notes.txt
: >"$RAW"
: >"$NOTES"
TR_PID=
NGINX_MASTER=
# A private copy of the binary: ./ecaptop may be rebuilt while we measure.
ECAPTOP_BIN=$TMPD/ecaptop
cp "${ECAPTOP:-$TOP/ecaptop}" "$ECAPTOP_BIN" || exit 1

. "$HERE/nginx.sh"
. "$HERE/latency.sh"

cleanup() {
	tracer_stop
	nginx_stop
	bench_tmux kill-server 2>/dev/null
	[ -n "${LIBS_PID:-}" ] && kill "$LIBS_PID" 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] && echo "raw figures kept in $TMPD" >&2 && return
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { echo "$*" >>"$NOTES"; }
raw() { echo "$*" >>"$RAW"; }
progress() { printf '  %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# How many uprobes/uretprobes does process $1 have attached?
probes_of() {
	bpftool perf show 2>/dev/null | awk -v p="$1" '$1 == "pid" && $2 == p && /uprobe|uretprobe/' |
		wc -l
}

# Uprobes on the server's or the client's libssl copy that belong to anyone but the
# tracer under test (another ecaptop on this machine attaches to every libssl it finds).
foreign_probes() {
	bpftool perf show 2>/dev/null |
		awk -v p="${TR_PID:-0}" -v s="$SLIB_DIR/" -v c="$CLIB_DIR/" \
			'/uprobe|uretprobe/ && (index($0, s) || index($0, c)) && $2 != p' | wc -l
}

# wait_probes PID N SECS: until PID has N uprobes attached.
wait_probes() {
	local pid=$1 n=$2 i
	for ((i = 0; i < $3 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$(probes_of "$pid")" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

# Start tracer configuration $1 against the nginx worker; sets TR_PID (empty for
# "untraced"). ecaptop's standard error is time-stamped line by line, so the time
# from start to "ready" is measured without polling.
tracer_start() {
	local cfg=$1 t0 i
	TR_PID=
	case $cfg in
	untraced) return 0 ;;
	ecaptop)
		t0=$EPOCHREALTIME
		"$ECAPTOP_BIN" --batch --json -p "$NGINX_WORKER" >/dev/null \
			2> >(while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done \
				>"$TMPD/tracer.err") &
		TR_PID=$!
		for ((i = 0; i < 300; i++)); do
			if grep -q ready "$TMPD/tracer.err" 2>/dev/null; then
				raw ready_ms "$(awk -v t0="$t0" '/ready/ {printf "%.1f", ($1 - t0) * 1000; exit}' \
					"$TMPD/tracer.err")"
				# ecaptop attached to every libssl file at start (the client's copy included):
				# rescans find later ones; wait until the server's library has its probes.
				return 0
			fi
			kill -0 "$TR_PID" 2>/dev/null || break
			sleep 0.1
		done
		;;
	bpftrace)
		sed "s#LIBSSL#$SLIB_DIR/libssl.so.3#g" "$HERE/ssl_rw.bt" >"$TMPD/ssl_rw.bt"
		BPFTRACE_STRLEN=200 bpftrace -p "$NGINX_WORKER" "$TMPD/ssl_rw.bt" >/dev/null \
			2>"$TMPD/tracer.err" &
		TR_PID=$!
		wait_probes "$TR_PID" 4 60 && return 0
		;;
	sslsniff)
		# bcc's pid-filtered uprobe attach fails here (EINVAL from the uprobe PMU), so
		# sslsniff runs without -p, on the server's library copy (--extra-lib) and the
		# system libssl (always attached; nginx does not map it).
		unshare -m --propagation private "$HERE/bcc-headers.sh" /usr/bin/python3 \
			"$TMPD/sslsniff.py" -g -n --extra-lib "openssl:$SLIB_DIR/libssl.so.3" \
			>/dev/null 2>"$TMPD/tracer.err" &
		TR_PID=$!
		wait_probes "$TR_PID" 8 180 && return 0
		;;
	esac
	progress "$cfg did not start:"
	sed 's/^/    /' "$TMPD/tracer.err" | head -n 20 >&2
	tracer_stop
	return 1
}

tracer_stop() {
	[ -n "${TR_PID:-}" ] || return 0
	# SIGINT for ecaptop and bpftrace (they print their final records); python (bcc)
	# keeps SIGINT ignored when started in the background, so it gets SIGTERM.
	kill -INT "$TR_PID" 2>/dev/null
	pgrep -f -x "/usr/bin/python3 $TMPD/sslsniff.py.*" >/dev/null && kill -TERM "$TR_PID" 2>/dev/null
	wait "$TR_PID" 2>/dev/null
	TR_PID=
}

# vm_kib PID FIELD: VmRSS/VmHWM of a process in KiB.
vm_kib() {
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# h2load_run FILE SECS: prints "req/s succeeded server_cpu% server_us_per_req": the
# share of one CPU the nginx worker used over the run (warm-up included; well below
# 100 means the run measured the client or the machine's scheduling, not the server)
# and the worker's CPU time per request, which a loaded machine disturbs far less than
# req/s.
h2load_run() {
	local out w0 w1 t0 t1
	w0=$(ticks "$NGINX_WORKER")
	t0=$EPOCHREALTIME
	out=$(LD_LIBRARY_PATH=$CLIB_DIR taskset -c "$CLIENT_CPU" h2load --h1 -c "$CONNS" -t 1 \
		--warm-up-time="$WARM" -D "$2" "https://127.0.0.1:$PORT/$1" 2>&1)
	t1=$EPOCHREALTIME
	w1=$(ticks "$NGINX_WORKER")
	echo "$out" | awk -v w=$((w1 - w0)) -v hz="$(getconf CLK_TCK)" -v t0="$t0" -v t1="$t1" '
		/^finished in/ {gsub(",", ""); r = $4} /^requests:/ {s = $8}
		END {printf "%s %s %.0f %.1f\n", (r == "" ? "nan" : r), (s == "" ? 0 : s),
			100 * w / hz / (t1 - t0), (r > 0 ? 1e6 * w / hz / (r * (t1 - t0)) : 0)}'
}

# ---------------------------------------------------------------- 1. overhead
overhead() {
	local round cfg f r
	for round in $(seq 1 "$ROUNDS"); do
		for cfg in $PEERS; do
			tracer_start "$cfg" || {
				raw skip "$cfg"
				continue
			}
			for f in "${FILES[@]}"; do
				local before after try
				for try in $TRIES; do
					before=$(foreign_probes)
					r=$(h2load_run "$f" "$SECS")
					after=$(foreign_probes)
					if [ "$cfg" = ecaptop ] && [ "$f" = 64k ]; then
						raw rss_load "$(vm_kib "$TR_PID" VmRSS)" \
							"$(vm_kib "$TR_PID" VmHWM)" "$(vm_kib "$TR_PID" RssAnon)"
					fi
					[ "$before" = 0 ] && [ "$after" = 0 ] && break
					# Someone else's tracer probed our server or client: this run
					# measured them too. Discard it and try again.
					raw tainted "$cfg" "$f" "$round" ${r% *}
					progress "round $round $cfg $f: ${r% *} req/s (discarded: another program's probes on our libssl copies)"
					r=
					sleep 3
				done
				[ -n "$r" ] || continue
				raw req "$cfg" "$f" "$round" $r
				progress "round $round $cfg $f: $r (req/s, succeeded, worker CPU %, worker us/request)"
			done
			tracer_stop
		done
	done
}

# Did ecaptop capture every request? A fixed number of requests per file, output kept.
verify_capture() {
	local i f n r
	"$ECAPTOP_BIN" --batch --json -p "$NGINX_WORKER" >"$TMPD/verify.json" 2>"$TMPD/verify.err" &
	TR_PID=$!
	for ((i = 0; i < 300; i++)); do
		grep -q ready "$TMPD/verify.err" && break
		sleep 0.1
	done
	for i in 0 1; do
		f=${FILES[$i]}
		n=${VERIFY_N[$i]}
		r=$(LD_LIBRARY_PATH=$CLIB_DIR taskset -c "$CLIENT_CPU" h2load --h1 -c "$CONNS" -t 1 -n "$n" \
			"https://127.0.0.1:$PORT/$f" 2>&1 | awk '/^requests:/ {print $8}')
		echo "$f $r" >>"$TMPD/verify.h2load"
	done
	sleep 0.5
	tracer_stop
	python3 "$HERE/count.py" "$TMPD/verify.json" "$TMPD/verify.h2load" >>"$RAW"
}

# ---------------------------------------------------------------- 2. user side
SYNTH=$OUTPUT/bench/synth
build_synth() {
	mkdir -p "$OUTPUT/bench"
	[ -f "$OUTPUT/bench.skel.h" ] || {
		note "user side: $OUTPUT/bench.skel.h missing (build ./ecaptop with this OUTPUT first)"
		return 1
	}
	# Same flags as the Makefile's programs; links the engine and the store (for the
	# one-million-items figure) without main().
	${CC:-gcc} -O2 -g -std=gnu11 -Wall -Wextra -Werror -I"$OUTPUT" -I"$TOP" -D_GNU_SOURCE \
		"$HERE/synth.c" $(find "$OUTPUT"/obj/engine "$OUTPUT"/obj/decoders \
			"$OUTPUT"/obj/tui/session -name '*.o' | sort) \
		-lbpf -lelf -lz -lpcap -lpcre2-8 -lnghttp2 -lpthread -o "$SYNTH" 2>"$TMPD/synth.build" || {
		note "user side: building tests/bench/synth.c failed: $(head -c 300 "$TMPD/synth.build")"
		return 1
	}
}

# user_side MODE RATE: one ecaptop (pinned to CPU 0) printing JSON into a counting
# sink; the synthetic producer (CPU 1) offers RATE events/s (0 = as fast as it can).
user_side() {
	local mode=$1 rate=$2 flags="" i
	[ "$mode" = perfbuf ] && flags=--perf-buffer
	# -p 1: real TLS traffic on this machine stays out of the figures.
	taskset -c "$SERVER_CPU" "$ECAPTOP_BIN" --batch --json -p 1 $flags 2>"$TMPD/syn.err" |
		taskset -c "$CLIENT_CPU" "$SYNTH" sink >"$TMPD/syn.sink" &
	for ((i = 0; i < 300; i++)); do
		grep -q ready "$TMPD/syn.err" && break
		sleep 0.1
	done
	local ecp
	ecp=$(pgrep -f -n "^$ECAPTOP_BIN --batch --json -p 1")
	taskset -c "$CLIENT_CPU" "$SYNTH" produce --target "$ecp" --rate "$rate" --secs "$SYN_SECS" \
		--len 100 >"$TMPD/syn.prod" 2>>"$TMPD/syn.err"
	sleep 1
	kill -INT "$ecp" 2>/dev/null
	wait
	# produce: offered=N secs=S; sink: events=N span_s=S stats={...}
	raw synth "$mode" "$rate" "$(cat "$TMPD/syn.prod")" "$(cat "$TMPD/syn.sink")"
	progress "user side $mode rate ${rate:-max}: $(cat "$TMPD/syn.prod") / $(cat "$TMPD/syn.sink" | cut -c1-120)"
}

# ---------------------------------------------------------------- 3./4. memory, ready
idle_memory() {
	local i
	"$ECAPTOP_BIN" --batch --json >/dev/null 2>"$TMPD/idle.err" &
	TR_PID=$!
	for ((i = 0; i < 300; i++)); do
		grep -q ready "$TMPD/idle.err" && break
		sleep 0.1
	done
	sleep 2
	raw rss_idle "$(vm_kib "$TR_PID" VmRSS)" "$(vm_kib "$TR_PID" VmHWM)" \
		"$(vm_kib "$TR_PID" RssAnon)"
	tracer_stop
}

# ---------------------------------------------------------------- main
machine() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	echo "$(nproc) CPUs ($cpu), Linux $(uname -r), $(openssl version | cut -d' ' -f1-2)," \
		"nginx $(nginx -v 2>&1 | sed 's#.*/##'), load average at start $(cut -d' ' -f1 /proc/loadavg)," \
		"all measured processes at nice $BENCH_NICE"
}

progress "ecaptop benchmark (QUICK=${QUICK:-0}): $(machine)"
raw machine "$(machine)"
raw conns "$CONNS"
missing=""
for t in nginx h2load bpftrace; do have $t || missing="$missing $t"; done
if [ -n "$missing" ]; then
	echo "missing:$missing (apt-get install nginx-light nghttp2-client bpftrace)" >&2
	exit 1
fi
if [[ " $PEERS " == *" sslsniff "* ]]; then
	if ! have sslsniff-bpfcc; then
		note "sslsniff: not run: bpfcc-tools is not installed (apt-get install bpfcc-tools)"
		PEERS=${PEERS/sslsniff/}
	elif ! ls -d /usr/src/linux-headers-*-amd64 >/dev/null 2>&1 &&
		[ ! -e "/lib/modules/$(uname -r)/build" ]; then
		note "sslsniff: not run: bcc needs kernel headers; none for $(uname -r) and no" \
			"linux-headers package (apt-get install linux-headers-amd64)"
		PEERS=${PEERS/sslsniff/}
	else
		# Debian's 6.1 headers define min() with a type check that bcc's front end
		# cannot compile; the one expression is replaced by an equivalent one.
		python3 - "$TMPD/sslsniff.py" <<'EOF'
import sys
src = open('/usr/sbin/sslsniff-bpfcc').read()
old = 'u32 buf_copy_size = min((size_t)MAX_BUF_SIZE, (size_t)len);'
new = ('u32 buf_copy_size = MAX_BUF_SIZE; '
       'if (len < MAX_BUF_SIZE) buf_copy_size = len & (MAX_BUF_SIZE - 1);')
open(sys.argv[1], 'w').write(src.replace(old, new))
EOF
		note "sslsniff: kernel headers: Debian's $(ls -d /usr/src/linux-headers-*-amd64 | sort -V |
			tail -n 1 | sed 's#.*/##') mounted as /lib/modules/$(uname -r)/build in a private" \
			"mount namespace (tests/bench/bcc-headers.sh); min() in its BPF text replaced by" \
			"an equivalent expression; no -p (bcc's pid-filtered attach fails with EINVAL here)"
	fi
fi

SLIB_DIR=$TMPD/slib
CLIB_DIR=$TMPD/clib
client_libs "$SLIB_DIR" && client_libs "$CLIB_DIR" || exit 1
# The server gets a private copy of libssl too, so that tracers started by other
# programs on this machine (which probe the system's libssl) do not slow it down.
LD_LIBRARY_PATH=$SLIB_DIR nginx_start "$TMPD/nginx" "$PORT" || exit 1
progress "nginx worker $NGINX_WORKER on CPU $SERVER_CPU; h2load on CPU $CLIENT_CPU, ${SECS}s runs, $ROUNDS round(s)"

overhead
verify_capture
nginx_stop
idle_memory
idle_cost
quit_time
first_screen
if build_synth; then
	for mode in ringbuf perfbuf; do
		for rate in $SYN_RATES; do
			user_side "$mode" "$rate"
		done
	done
	"$SYNTH" store --items "$STORE_ITEMS" >"$TMPD/store.out" 2>>"$TMPD/store.err" &&
		raw store "$(cat "$TMPD/store.out")" ||
		note "store: $(tail -n 3 "$TMPD/store.err")"
	# The same items through the interactive view's default byte budget (--max-memory).
	"$SYNTH" store --items "$STORE_ITEMS" --max-memory $((96 << 20)) >"$TMPD/store.out" \
		2>>"$TMPD/store.err" && raw store_budget "$(cat "$TMPD/store.out")" ||
		note "store with a budget: $(tail -n 3 "$TMPD/store.err")"
fi

python3 "$HERE/table.py" "$RAW" "$NOTES" "$SECS" "$ROUNDS" "$SYN_SECS"
