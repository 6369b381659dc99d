#!/usr/bin/env bash
# TUI tests (issue 4): drive the real binary in tmux on live loopback TLS traffic
# (openssl s_server + curl) that this script generates. Needs root.
#   ECAPTOP=/path/to/ecaptop tests/tui/run.sh [TEST...]
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/results.sh"
. "$top/tests/tui/lib.sh"
ECAPTOP=${ECAPTOP:-$top/ecaptop}

skip_all() {
	for t in $ALL_TESTS; do result SKIP "tui/$t" "$1"; done
	exit 0
}

ALL_TESTS="appear drilldown filter_pid key_P bad_regex pause theme resize small_80x24"
[ "$(id -u)" = 0 ] || skip_all "needs root"
for p in tmux openssl curl; do
	command -v $p >/dev/null || skip_all "$p is not installed"
done
[ -x "$ECAPTOP" ] || skip_all "no binary at $ECAPTOP"

work=$(mktemp -d /tmp/ecaptop-tui.XXXXXX)
TUI_HOME=$work/home
mkdir -p "$TUI_HOME"
PORT=$((20000 + RANDOM % 20000))
pids=()
cleanup() {
	tui_stop
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 || skip_all "openssl req failed"
# -www answers every GET with a status page: a real HTTP/1 exchange over TLS
openssl s_server -quiet -accept "127.0.0.1:$PORT" -cert "$work/cert.pem" -key "$work/key.pem" \
	-www >/dev/null 2>&1 &
SERVER_PID=$!
pids+=("$SERVER_PID")
for _ in $(seq 50); do
	curl -sk -o /dev/null "https://127.0.0.1:$PORT/" && break
	sleep 0.1
done
# a request every 0.3 s, each from a new curl process
(
	while :; do
		curl -sk -o /dev/null "https://127.0.0.1:$PORT/tuitest/$RANDOM"
		sleep 0.3
	done
) &
pids+=("$!")

# Start the TUI at W x H and wait until it captures curl.
start() {
	tui_start "$1" "$2"
	if ! tui_wait 'curl' 20; then
		tui_dump "curl never appeared"
		return 1
	fi
}

fail() {
	tui_dump "$1"
	echo "FAIL: $1"
	return 1
}

# The curl processes and their connection to the server appear.
t_appear() {
	start 120 40 || return 1
	tui_wait 'Processes.*Connections.*Events' 5 || return $(fail "no panel tabs")
	tui_wait "^ +[0-9]+ +[a-z0-9]+ +curl " 10 || return $(fail "no curl process row")
	tui_keys Tab
	tui_wait "127\.0\.0\.1:$PORT .*curl" 10 || return $(fail "no curl connection to :$PORT")
}

# Processes > connections > events > detail reaches the request.
t_drilldown() {
	start 120 40 || return 1
	tui_keys /
	tui_type curl
	tui_keys Enter
	tui_keys Enter
	tui_wait "pid [0-9]+ curl" 5 || return $(fail "Enter did not open the connections of curl")
	tui_wait "127\.0\.0\.1:$PORT" 5 || return $(fail "no connection row")
	tui_keys Enter
	tui_wait "GET /tuitest/[0-9]+ .* 200" 10 || return $(fail "no request row in the events")
	tui_keys Enter
	tui_wait "GET /tuitest/[0-9]+ HTTP/1.1" 5 || return $(fail "detail lacks the request line")
	tui_wait "HTTP/1.[01] 200 ok" 5 || return $(fail "detail lacks the response")
	tui_keys x
	tui_wait "^00000000  " 5 || return $(fail "x did not show hex")
	tui_keys BSpace
	tui_wait "GET /tuitest/" 5 || return $(fail "Backspace did not go back to the events")
}

# The filter editor filters by pid (the long-lived server).
t_filter_pid() {
	start 120 40 || return 1
	tui_keys F4
	tui_wait "Filter: " 5 || return $(fail "F4 did not open the filter editor")
	tui_type "pid:$SERVER_PID"
	tui_wait "valid" 5 || return $(fail "a valid filter is not marked valid")
	tui_keys Enter
	tui_wait "filter: pid:$SERVER_PID" 5 || return $(fail "the header does not show the filter")
	tui_wait "^ +$SERVER_PID +[a-z0-9]+ +openssl " 10 || return $(fail "server row missing")
	tui_wait_not " curl " 10 || return $(fail "curl rows still shown under pid:$SERVER_PID")
	# history: Up recalls the filter
	tui_keys F4 C-u Up
	tui_wait "Filter: pid:$SERVER_PID" 5 || return $(fail "Up did not recall the filter")
	tui_keys Escape
}

# P filters to the selected row's pid; P again clears it.
t_key_P() {
	start 120 40 || return 1
	tui_keys /
	tui_type openssl
	tui_keys Enter
	tui_keys P
	tui_wait "filter: pid:$SERVER_PID" 5 || return $(fail "P did not filter to the server's pid")
	tui_wait_not " curl " 10 || return $(fail "curl rows still shown after P")
	tui_keys P
	tui_wait "filter: \(none\)" 5 || return $(fail "P again did not clear the filter")
	tui_wait " curl " 10 || return $(fail "curl rows did not come back")
}

# An invalid regex is marked and explained, and not applied.
t_bad_regex() {
	start 120 40 || return 1
	tui_keys F4
	tui_type "pid:1 /a(b/"
	tui_wait "regex: .*missing closing parenthesis" 5 || return $(fail "no regex error shown")
	tui_keys Enter
	tui_wait "Filter: pid:1 /a\(b/" 3 || return $(fail "Enter closed the editor on an invalid filter")
	tui_keys Escape
	tui_wait "filter: \(none\)" 5 || return $(fail "the invalid filter was applied")
}

# Pause: the header says PAUSED and the waiting count grows.
t_pause() {
	local a b
	start 120 40 || return 1
	tui_keys p
	tui_wait "PAUSED [0-9]+ waiting" 5 || return $(fail "no PAUSED in the header")
	sleep 2
	a=$(tui_screen | grep -oE 'PAUSED [0-9]+' | head -1 | grep -oE '[0-9]+')
	sleep 2
	b=$(tui_screen | grep -oE 'PAUSED [0-9]+' | head -1 | grep -oE '[0-9]+')
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] ||
		return $(fail "waiting count did not grow ($a then $b)")
	tui_keys Z
	tui_wait_not "PAUSED" 5 || return $(fail "Z did not resume")
}

# A theme change changes the colour codes, and the choice is saved.
t_theme() {
	local before after
	start 120 40 || return 1
	before=$(tui_screen -e | head -4)
	tui_keys C
	tui_wait "Theme" 5 || return $(fail "C did not open the theme picker")
	tui_keys Down Enter # dark -> light
	tui_wait "theme light \(saved\)" 5 || return $(fail "no confirmation of the theme")
	after=$(tui_screen -e | head -4)
	[ "$before" != "$after" ] || return $(fail "colour codes did not change")
	grep -q '^theme = light$' "$TUI_HOME/.config/ecaptop/config" ||
		return $(fail "the choice was not saved in ~/.config/ecaptop/config")
	# the next start uses it
	tui_stop
	start 120 40 || return 1
	after2=$(tui_screen -e | head -4)
	[ "$after2" = "$after" ] || return $(fail "the saved theme was not used at the next start")
	rm -f "$TUI_HOME/.config/ecaptop/config"
}

# A resize keeps the screen sane; too small says so.
t_resize() {
	start 120 40 || return 1
	tmux resize-window -t "$TUI_SESSION" -x 80 -y 24
	tui_wait "^ecaptop " 5 || return $(fail "no header at 80x24")
	sleep 0.5
	local s
	s=$(tui_screen)
	[ "$(printf '%s\n' "$s" | wc -l)" -le 24 ] || return $(fail "more lines than the window")
	printf '%s\n' "$s" | tail -1 | grep -q "F1Help" || return $(fail "no key bar on the last line")
	tmux resize-window -t "$TUI_SESSION" -x 40 -y 8
	tui_wait "too small" 5 || return $(fail "no too-small message at 40x8")
	tmux resize-window -t "$TUI_SESSION" -x 120 -y 40
	tui_wait "Processes.*Connections.*Events" 5 || return $(fail "did not recover at 120x40")
	tui_wait " curl " 10 || return $(fail "rows did not come back after the resize")
}

# The basic screen at 80x24: header, tabs, rows, bar; help opens and closes.
t_small_80x24() {
	start 80 24 || return 1
	tui_wait "^lost: reserve" 5 || return $(fail "no lost counters")
	tui_keys F1
	tui_wait "ecaptop keys" 5 || return $(fail "F1 did not open help")
	tui_wait "F4 +filter editor" 5 || return $(fail "help lacks F4")
	tui_keys Escape
	tui_wait "F1Help" 5 || return $(fail "help did not close")
	tui_keys '?'
	tui_wait "ecaptop keys" 5 || return $(fail "? did not open help")
	tui_keys q
	tui_keys w
	tui_wait "Save to: ecaptop-[0-9]{8}-[0-9]{6}\.pcapng" 5 || return $(fail "w did not prompt")
	tui_keys Escape
}

tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=($ALL_TESTS)
for t in "${tests[@]}"; do
	if "t_$t"; then
		result PASS "tui/$t"
	else
		result FAIL "tui/$t"
	fi
	tui_stop
done
exit 0
