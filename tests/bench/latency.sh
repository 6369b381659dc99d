# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make bench, the figures a user feels first (issue 17), sourced by run.sh:
#   idle_cost        an idle `ecaptop -p PID` over 10 s: context switches of all its
#                    threads (/proc/PID/task/*/schedstat) and CPU ticks, batch and TUI
#   quit_time        SIGINT (batch) and q (TUI) to the process gone, with 50 copies of
#                    libssl attached in one traced process
#   first_screen     start to the first screen of the TUI (the header drawn)
# Each writes raw lines: idle MODE SWITCHES TICKS SECS / quit MODE LIBS MS /
# first_screen MS. Needs tmux for the TUI figures (skipped with a note without).

# switches_of PID: context switches of every thread of PID so far.
switches_of() {
	local t n=0
	for t in /proc/"$1"/task/*; do
		n=$((n + $(awk '{print $3}' "$t/schedstat" 2>/dev/null || echo 0)))
	done
	echo "$n"
}

# bench_tmux ARGS...: a private tmux server for the TUI figures.
bench_tmux() { tmux -L "ecaptop-bench-$$" "$@"; }

# tui_pid_of PATTERN: the TUI's pid, once its process exists (5 s at most).
tui_pid_of() {
	local i p
	for ((i = 0; i < 100; i++)); do
		p=$(pgrep -f -n "^$ECAPTOP_BIN $1") && echo "$p" && return 0
		sleep 0.05
	done
	return 1
}

# screen_has REGEX SECS: poll the TUI's screen every 10 ms.
screen_has() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -le $end ]; do
		bench_tmux capture-pane -t bench -p 2>/dev/null | grep -Eq -- "$1" && return 0
		sleep 0.01
	done
	return 1
}

idle_one() {
	local mode=$1 idle=$2 pid i s0 s1 t0 t1 secs=10
	if [ "$mode" = batch ]; then
		"$ECAPTOP_BIN" --batch --json -p "$idle" >/dev/null 2>"$TMPD/idle.err" &
		pid=$!
		for ((i = 0; i < 300; i++)); do
			grep -q ready "$TMPD/idle.err" && break
			sleep 0.1
		done
	else
		bench_tmux new-session -d -s bench -x 160 -y 40 "$ECAPTOP_BIN -p $idle" || return 1
		pid=$(tui_pid_of "-p $idle") || return 1
		screen_has "Exchanges" 30 || return 1
	fi
	sleep 3 # past the start and the first rescans of the pid's maps
	s0=$(switches_of "$pid")
	t0=$(ticks "$pid")
	sleep "$secs"
	s1=$(switches_of "$pid")
	t1=$(ticks "$pid")
	raw idle "$mode" $((s1 - s0)) $((t1 - t0)) "$secs"
	progress "idle -p, $mode: $((s1 - s0)) context switches, $((t1 - t0)) CPU ticks in ${secs} s"
	if [ "$mode" = batch ]; then
		kill -INT "$pid"
		wait "$pid" 2>/dev/null
	else
		bench_tmux kill-server 2>/dev/null
	fi
}

idle_cost() {
	local idle
	sleep 100000 &
	idle=$!
	idle_one batch "$idle"
	if have tmux; then
		idle_one tui "$idle"
	fi
	kill "$idle" 2>/dev/null
	wait "$idle" 2>/dev/null
}

# A process with N copies of libssl mapped (each a file of its own, so each is a
# target with its own probes), waiting on standard input.
LIBS_N=50
libs_process() {
	local i
	mkdir -p "$TMPD/libs"
	for ((i = 0; i < LIBS_N; i++)); do
		cp "$SLIB_DIR/libssl.so.3" "$TMPD/libs/libssl.so.3.$i"
	done
	python3 -c '
import ctypes, glob, sys, time
libs = [ctypes.CDLL(p) for p in sorted(glob.glob(sys.argv[1] + "/libssl.so.3.*"))]
print(len(libs), flush=True)
time.sleep(100000)' "$TMPD/libs" >"$TMPD/libs.out" &
	LIBS_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$TMPD/libs.out" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_libs PID: until ecaptop PID has probes on every copy (bpftool: one row a probe).
wait_libs() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(bpftool perf show 2>/dev/null | awk -v p="$1" '$1 == "pid" && $2 == p' |
			grep -c "$TMPD/libs/")" -ge "$LIBS_N" ] && return 0
		sleep 0.1
	done
	return 1
}

quit_one() {
	local mode=$1 pid t0 i
	if [ "$mode" = batch ]; then
		"$ECAPTOP_BIN" --batch --json -p "$LIBS_PID" >/dev/null 2>"$TMPD/quit.err" &
		pid=$!
	else
		bench_tmux new-session -d -s bench -x 160 -y 40 "$ECAPTOP_BIN -p $LIBS_PID" || return 1
		pid=$(tui_pid_of "-p $LIBS_PID") || return 1
	fi
	wait_libs "$pid" || {
		note "quit: ecaptop did not attach to the $LIBS_N copies of libssl"
		kill "$pid" 2>/dev/null
		bench_tmux kill-server 2>/dev/null
		return 1
	}
	t0=$EPOCHREALTIME
	if [ "$mode" = batch ]; then
		kill -INT "$pid"
		wait "$pid" 2>/dev/null
	else
		bench_tmux send-keys -t bench q
		while kill -0 "$pid" 2>/dev/null; do sleep 0.005; done
	fi
	raw quit "$mode" "$LIBS_N" "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", (b - a) * 1000}')"
	progress "quit, $mode, $LIBS_N libraries: $(tail -n 1 "$RAW" | cut -d' ' -f4) ms"
	bench_tmux kill-server 2>/dev/null
}

quit_time() {
	local r
	libs_process || {
		note "quit: the process with $LIBS_N libraries did not start"
		return 1
	}
	for r in $(seq 1 "$ROUNDS"); do
		quit_one batch
		have tmux && quit_one tui
	done
	kill "$LIBS_PID" 2>/dev/null
	wait "$LIBS_PID" 2>/dev/null
}

# Start to the first screen: the TUI's header (its "stored" figure) drawn.
first_screen() {
	local r t0
	have tmux || {
		note "first screen, idle and quit of the TUI: not measured (tmux is not installed)"
		return 0
	}
	for r in $(seq 1 "$ROUNDS"); do
		t0=$EPOCHREALTIME
		bench_tmux new-session -d -s bench -x 160 -y 40 "$ECAPTOP_BIN" || return 1
		if screen_has "stored [0-9]" 60; then
			raw first_screen "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", (b - a) * 1000}')"
			progress "first screen: $(tail -n 1 "$RAW" | cut -d' ' -f2) ms"
		fi
		bench_tmux send-keys -t bench q
		sleep 1
		bench_tmux kill-server 2>/dev/null
	done
}
