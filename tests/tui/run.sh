#!/usr/bin/env bash
# TUI tests (issue 4): drive the real binary in tmux on live loopback TLS traffic
# (openssl s_server + curl) that this script generates. Needs root.
#   ECAPTOP=/path/to/ecaptop tests/tui/run.sh [TEST...]
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/results.sh"
. "$top/tests/tui/lib.sh"
. "$top/tests/tui/save.sh"
. "$top/tests/tui/rates.sh"
. "$top/tests/tui/packets.sh"
ECAPTOP=${ECAPTOP:-$top/ecaptop}

skip_all() {
	for t in $ALL_TESTS; do result SKIP "tui/$t" "$1"; done
	exit 0
}

ALL_TESTS="appear drilldown filter_pid key_P bad_regex pause theme resize small_80x24 no_color save
	replay_play_pause replay_step replay_speed replay_end_home replay_goto replay_keep_detail
	replay_save_tagged cli_filter_first $SAVE_TESTS $RATE_TESTS $PACKET_TESTS"
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
	tmx kill-server 2>/dev/null
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
		curl "https://127.0.0.1:$PORT/tuitest/$RANDOM" -sko /dev/null
		sleep 0.3
	done
) &
pids+=("$!")
# a second server for the replay tests: the recording makes exactly three
# connections to it
PORT2=$((PORT + 1))
openssl s_server -quiet -accept "127.0.0.1:$PORT2" -cert "$work/cert.pem" -key "$work/key.pem" \
	-www >/dev/null 2>&1 &
pids+=("$!")
# one long-lived client (several requests a second, one process) for the pid tests
curl -sk --rate 4/s "https://127.0.0.1:$PORT/long/[1-1000000]" >/dev/null 2>&1 &
LONG_PID=$!
pids+=("$LONG_PID")

# The pids of the table rows on the screen now, one per line.
row_pids() {
	tui_screen | sed -n '5,$p' | awk '$1 ~ /^[0-9]+$/ {print $1}'
}

# Wait until every row shows pid $1 (and there is at least one).
wait_only_pid() {
	local end=$((SECONDS + ${2:-10})) p
	while [ $SECONDS -le $end ]; do
		p=$(row_pids | sort -u)
		[ "$p" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

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
	tui_wait 'Processes.*Connections.*Events' 5 || { fail "no panel tabs"; return 1; }
	tui_wait "^ +[0-9]+ +[a-z0-9]+ +curl " 10 || { fail "no curl process row"; return 1; }
	tui_keys Tab
	tui_wait "127\.0\.0\.1:$PORT .*curl" 10 || { fail "no curl connection to :$PORT"; return 1; }
}

# Processes > connections > events > detail reaches the request.
t_drilldown() {
	start 120 40 || return 1
	tui_wait "^ +[0-9]+ +[a-z0-9]+ +curl .* curl https://127.0.0.1:$PORT/tui" 10 || { fail "no curl row"; return 1; }
	tui_keys /
	tui_type "tuit" # in two pieces, see t_key_P
	tui_type "est/"
	tui_keys Enter
	tui_keys Enter
	tui_wait "pid [0-9]+ curl" 5 || { fail "Enter did not open the connections of curl"; return 1; }
	tui_wait "127\.0\.0\.1:$PORT" 5 || { fail "no connection row"; return 1; }
	tui_keys Enter
	tui_wait "GET /tuitest/[0-9]+ .* 200" 10 || { fail "no request row in the events"; return 1; }
	tui_keys Enter
	tui_wait "GET /tuitest/[0-9]+ HTTP/1.1" 5 || { fail "detail lacks the request line"; return 1; }
	tui_wait "HTTP/1.[01] 200 ok" 5 || { fail "detail lacks the response"; return 1; }
	tui_keys x
	tui_wait "^00000000  " 5 || { fail "x did not show hex"; return 1; }
	tui_keys BSpace
	tui_wait "GET /tuitest/" 5 || { fail "Backspace did not go back to the events"; return 1; }
}

# --pid and --uid become the first filter, in the filter language.
t_cli_filter_first() {
	tui_start 120 40 -p "$LONG_PID" -p 1 -u 0
	tui_wait "filter: pid:$LONG_PID\|1 uid:0" 10 ||
		{ fail "the header does not show pid:$LONG_PID|1 uid:0"; return 1; }
}

# The filter editor filters by pid (the long-lived curl).
t_filter_pid() {
	start 120 40 || return 1
	tui_keys F4
	tui_wait "^Filter:" 5 || { fail "F4 did not open the filter editor"; return 1; }
	tui_type "pid:$LONG_PID"
	tui_wait "valid" 5 || { fail "a valid filter is not marked valid"; return 1; }
	tui_keys Enter
	tui_wait "filter: pid:$LONG_PID" 5 || { fail "the header does not show the filter"; return 1; }
	wait_only_pid "$LONG_PID" 10 || { fail "rows of other pids under pid:$LONG_PID"; return 1; }
	# its connections and requests pass too
	tui_keys Tab
	tui_wait "127\.0\.0\.1:$PORT .*$LONG_PID" 10 || { fail "no connection of pid $LONG_PID"; return 1; }
	wait_only_pid_col4 "$LONG_PID" || { fail "connections of other pids shown"; return 1; }
	# history: Up recalls the filter
	tui_keys F4 C-u Up
	tui_wait "^Filter: pid:$LONG_PID" 5 || { fail "Up did not recall the filter"; return 1; }
	tui_keys Escape
}

# Connections rows: the pid is the 4th column.
wait_only_pid_col4() {
	local end=$((SECONDS + 10)) p
	while [ $SECONDS -le $end ]; do
		p=$(tui_screen | sed -n '5,$p' | awk '$4 ~ /^[0-9]+$/ {print $4}' | sort -u)
		[ "$p" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

# P filters to the selected row's pid; P again clears it.
t_key_P() {
	start 120 40 || return 1
	tui_wait "^ +$LONG_PID +[a-z0-9]+ +curl " 10 || { fail "long curl row missing"; return 1; }
	# search for its pid (it started before ecaptop: no exec, no command line),
	# typed in two pieces so that no command line of this test holds the whole
	# search text (ecaptop shows every exec, tmux send-keys included)
	tui_keys /
	tui_type "${LONG_PID:0:2}"
	tui_type "${LONG_PID:2} root curl"
	tui_keys Enter
	tui_keys P
	tui_wait "filter: pid:$LONG_PID" 5 || { fail "P did not filter to the selected pid"; return 1; }
	wait_only_pid "$LONG_PID" 10 || { fail "rows of other pids after P"; return 1; }
	tui_keys P
	tui_wait "filter: \(none\)" 5 || { fail "P again did not clear the filter"; return 1; }
	tui_wait "^ +[0-9]+ +[a-z0-9]+ +curl .* curl https://127.0.0.1:$PORT" 10 || { fail "other curl rows did not come back"; return 1; }
}

# An invalid regex is marked and explained, and not applied.
t_bad_regex() {
	start 120 40 || return 1
	tui_keys F4
	tui_type "pid:1 /a(b/"
	tui_wait "regex: .*missing closing parenthesis" 5 || { fail "no regex error shown"; return 1; }
	tui_keys Enter
	tui_wait "Filter: pid:1 /a\(b/" 3 || { fail "Enter closed the editor on an invalid filter"; return 1; }
	tui_keys Escape
	tui_wait "filter: \(none\)" 5 || { fail "the invalid filter was applied"; return 1; }
}

# Pause: the header says PAUSED and the waiting count grows.
t_pause() {
	local a b
	start 120 40 || return 1
	tui_keys p
	tui_wait "^ecaptop +PAUSED [0-9]+ waiting" 5 || { fail "no PAUSED in the header"; return 1; }
	sleep 2
	a=$(tui_screen | grep -oE '^ecaptop +PAUSED [0-9]+' | head -1 | grep -oE '[0-9]+')
	sleep 2
	b=$(tui_screen | grep -oE '^ecaptop +PAUSED [0-9]+' | head -1 | grep -oE '[0-9]+')
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] ||
		{ fail "waiting count did not grow ($a then $b)"; return 1; }
	tui_keys Z
	tui_wait_not "^ecaptop +PAUSED" 5 || { fail "Z did not resume"; return 1; }
}

# The set of colour/attribute sequences (SGR) on the screen, one per line.
sgr_set() {
	tui_screen -e | grep -oE $'\e\[[0-9;:]*m' | sort -u
}

# A theme change changes the colour codes, and the choice is saved.
t_theme() {
	local before after after2
	start 120 40 || return 1
	before=$(sgr_set)
	tui_keys C
	tui_wait "Theme" 5 || { fail "C did not open the theme picker"; return 1; }
	tui_keys Down Enter # dark -> light
	tui_wait "theme light \(saved\)" 5 || { fail "no confirmation of the theme"; return 1; }
	after=$(sgr_set)
	[ -n "$after" ] && [ "$before" != "$after" ] || { fail "colour codes did not change"; return 1; }
	grep -q '^theme = light$' "$TUI_HOME/.config/ecaptop/config" ||
		{ fail "the choice was not saved in ~/.config/ecaptop/config"; return 1; }
	# the next start uses it
	tui_stop
	start 120 40 || return 1
	after2=$(sgr_set)
	[ "$after2" = "$after" ] || { fail "the saved theme was not used at the next start"; return 1; }
	rm -f "$TUI_HOME/.config/ecaptop/config"
}

# A resize keeps the screen sane; too small says so.
t_resize() {
	start 120 40 || return 1
	tui_resize 80 24
	tui_wait "^ecaptop " 5 || { fail "no header at 80x24"; return 1; }
	sleep 0.5
	local s
	s=$(tui_screen)
	[ "$(printf '%s\n' "$s" | wc -l)" -le 24 ] || { fail "more lines than the window"; return 1; }
	printf '%s\n' "$s" | tail -1 | grep -q "F1Help" || { fail "no key bar on the last line"; return 1; }
	tui_resize 40 8
	tui_wait "too small" 5 || { fail "no too-small message at 40x8"; return 1; }
	tui_resize 120 40
	tui_wait "Processes.*Connections.*Events" 5 || { fail "did not recover at 120x40"; return 1; }
	tui_wait " curl " 10 || { fail "rows did not come back after the resize"; return 1; }
}

# The basic screen at 80x24: header, tabs, rows, bar; help opens and closes.
t_small_80x24() {
	start 80 24 || return 1
	tui_wait "^kernel: all +filter: .* lost: " 5 || { fail "no kernel filter, filter and lost counters"; return 1; }
	tui_keys F1
	tui_wait "ecaptop help" 5 || { fail "F1 did not open help"; return 1; }
	tui_wait "^Filter \(F4" 5 || { fail "help does not start with the filter syntax"; return 1; }
	tui_keys Escape
	tui_wait "F1Help" 5 || { fail "help did not close"; return 1; }
	tui_keys '?'
	tui_wait "ecaptop help" 5 || { fail "? did not open help"; return 1; }
	tui_keys q
	tui_keys w
	# at 80 columns the field scrolls to keep the cursor (at the name's end) in view
	tui_wait "Save .*to: (ecaptop-)?[0-9]{8}-[0-9]{6}\.pcapng" 5 || { fail "w did not prompt"; return 1; }
	tui_keys Escape
}

# NO_COLOR: attributes only, no colour codes.
t_no_color() {
	local codes
	TUI_ENV="NO_COLOR=1" start 120 40 || return 1
	codes=$(sgr_set)
	[ -n "$codes" ] || { fail "no attributes at all under NO_COLOR"; return 1; }
	# SGR 30-37/40-47/90-97/100-107 and 38;/48; select colours
	if printf '%s\n' "$codes" | grep -qE $'\e\[([0-9;]*;)?(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;|m)'; then
		fail "colour codes under NO_COLOR: $(printf '%s' "$codes" | od -c | head -3)"
		return 1
	fi
}

# w saves what passes the filter as pcapng and says what it saved.
t_save() {
	start 120 40 || return 1
	tui_wait "^ +[0-9]+ +[a-z0-9]+ +curl .* curl https://127.0.0.1:$PORT" 10 || { fail "no curl row"; return 1; }
	tui_keys w
	tui_wait "^Save .*to: ecaptop-" 5 || { fail "w did not prompt"; return 1; }
	tui_keys C-u
	tui_type "$work/saved.pcapng"
	tui_keys Enter
	tui_wait "saved [1-9][0-9]* events, [1-9][0-9]* connections" 10 || { fail "no save report"; return 1; }
	[ -s "$work/saved.pcapng" ] || { fail "no file written"; return 1; }
	[ "$(stat -c %a "$work/saved.pcapng")" = 600 ] || { fail "file mode is not 0600"; return 1; }
	# an existing file is not overwritten
	tui_keys w C-u
	tui_type "$work/saved.pcapng"
	tui_keys Enter
	tui_wait "exists" 5 || { fail "an existing file was not refused"; return 1; }
}

# ---- replay (-r): a capture recorded here with the real binary ----

REC=$work/rec.pcapng

# Record once: ecaptop --batch -w while three curl processes each make one
# request to $PORT2, a second apart (the other traffic goes on meanwhile).
record() {
	local rp end
	[ -s "$REC" ] && return 0
	"$ECAPTOP" --batch -w "$REC" >"$work/rec.out" 2>"$work/rec.err" &
	rp=$!
	end=$((SECONDS + 15))
	until grep -q "ready" "$work/rec.err" 2>/dev/null; do
		if [ $SECONDS -gt $end ] || ! kill -0 $rp 2>/dev/null; then
			echo "recording did not start:"
			cat "$work/rec.err"
			kill -INT $rp 2>/dev/null
			return 1
		fi
		sleep 0.2
	done
	sleep 1
	for i in 1 2 3; do
		curl -sk -o /dev/null "https://127.0.0.1:$PORT2/tagged/$i"
		sleep 1
	done
	kill -INT $rp
	wait $rp
	[ -s "$REC" ] || { echo "no recording at $REC:"; cat "$work/rec.err"; return 1; }
}

# Start the TUI on the recording (it plays at the original pace).
replay_start() {
	record || return 1
	tui_start 120 40 -r "$REC"
	tui_wait "^ecaptop +(PLAYING|PAUSED) +rec\.pcapng +[0-9]+:[0-9]{2}\.[0-9]{3} / " 15 ||
		{ fail "no replay header"; return 1; }
}

# Start it and pause at the start of the file.
replay_start_paused() {
	replay_start || return 1
	tui_keys p
	tui_wait "^ecaptop +PAUSED " 5 || { fail "p did not pause"; return 1; }
	tui_keys Home
	tui_wait "^ecaptop +PAUSED +rec\.pcapng +00:00\.000 / .* event 0/" 10 ||
		{ fail "Home did not go to the start"; return 1; }
}

# Header fields: the position (mm:ss.mmm), the duration, the event index.
hdr_pos() { tui_screen | head -1 | grep -oE '[0-9]+:[0-9]{2}\.[0-9]{3} /' | head -1 | cut -d' ' -f1; }
hdr_dur() { tui_screen | head -1 | grep -oE '/ [0-9]+:[0-9]{2}\.[0-9]{3}' | head -1 | cut -d' ' -f2; }
hdr_idx() { tui_screen | head -1 | grep -oE 'event [0-9]+/' | grep -oE '[0-9]+'; }
hdr_total() { tui_screen | head -1 | grep -oE 'event [0-9]+/[0-9]+' | cut -d/ -f2; }
# The row count of the focused panel, from the status line ("3/12 rows").
rows_now() { tui_screen | tail -2 | head -1 | grep -oE '[0-9]+ rows' | grep -oE '[0-9]+'; }

# Wait until the header's event index is $1.
wait_idx() {
	local end=$((SECONDS + ${2:-5}))
	while [ $SECONDS -le $end ]; do
		[ "$(hdr_idx)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# Wait until the header's event index is above $1.
wait_idx_above() {
	local end=$((SECONDS + ${2:-5})) i
	while [ $SECONDS -le $end ]; do
		i=$(hdr_idx)
		[ -n "$i" ] && [ "$i" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# Wait until the focused panel has $1 rows.
wait_rows() {
	local end=$((SECONDS + ${2:-5}))
	while [ $SECONDS -le $end ]; do
		[ "$(rows_now)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# It starts PLAYING and the position moves; p pauses it and it stays; p plays again.
t_replay_play_pause() {
	local a b
	replay_start || return 1
	tui_wait "^ecaptop +PLAYING " 5 || { fail "the replay did not start PLAYING"; return 1; }
	a=$(hdr_pos)
	sleep 1.5
	b=$(hdr_pos)
	[ -n "$a" ] && [ "$a" != "$b" ] || { fail "the position did not move while playing ($a, $b)"; return 1; }
	tui_keys p
	tui_wait "^ecaptop +PAUSED " 5 || { fail "p did not show PAUSED"; return 1; }
	sleep 0.5
	a=$(hdr_pos)
	sleep 1.5
	b=$(hdr_pos)
	[ -n "$a" ] && [ "$a" = "$b" ] || { fail "the position moved while paused ($a, $b)"; return 1; }
	tui_keys Z
	tui_wait "^ecaptop +PLAYING " 5 || { fail "Z did not play again"; return 1; }
}

# . hands out one event (and here one row more); , takes it back by rebuilding.
t_replay_step() {
	local i0 r0 r1 n
	replay_start_paused || return 1
	tui_keys Tab Tab # the Events panel
	tui_keys i # exec rows too (hidden by default): most of a recording's first events
	tui_wait " Events .*" 5 && wait_rows 0 5 || { fail "the events panel is not empty at the start"; return 1; }
	# step until an event makes a row (process exits and decoded bytes make none)
	for n in $(seq 80); do
		i0=$(hdr_idx)
		r0=$(rows_now)
		tui_keys .
		wait_idx $((i0 + 1)) 5 || { fail ". did not hand out one event (index was $i0)"; return 1; }
		sleep 0.2
		r1=$(rows_now)
		[ "$r1" != "$r0" ] && break
	done
	[ "$r1" = $((r0 + 1)) ] || { fail ". added $r0 -> $r1 rows, not one"; return 1; }
	tui_keys ,
	wait_idx "$i0" 5 || { fail ", did not go back to event $i0"; return 1; }
	wait_rows "$r0" 5 || { fail ", did not take the row away ($(rows_now) rows, not $r0)"; return 1; }
	tui_wait "^ecaptop +PAUSED " 2 || { fail "not paused after ,"; return 1; }
}

# ] doubles the speed, [ halves it.
t_replay_speed() {
	replay_start || return 1
	tui_wait "^ecaptop .* 1x  event " 5 || { fail "the speed is not 1x at the start"; return 1; }
	tui_keys ]
	tui_wait "^ecaptop .* 2x  event " 5 || { fail "] did not show 2x"; return 1; }
	tui_keys ]
	tui_wait "^ecaptop .* 4x  event " 5 || { fail "] did not show 4x"; return 1; }
	tui_keys [ [ [
	tui_wait "^ecaptop .* 0\.5x  event " 5 || { fail "[ did not go down to 0.5x"; return 1; }
}

# End: the last position and every connection; Home: 00:00.000 and nothing yet.
t_replay_end_home() {
	local dur total n
	replay_start_paused || return 1
	tui_keys End
	tui_wait "^ecaptop .* event [0-9]+/[0-9]+ end" 10 || { fail "End did not reach the end"; return 1; }
	dur=$(hdr_dur)
	total=$(hdr_total)
	[ "$(hdr_pos)" = "$dur" ] || { fail "End: position $(hdr_pos) is not the duration $dur"; return 1; }
	[ "$(hdr_idx)" = "$total" ] || { fail "End: event $(hdr_idx) of $total"; return 1; }
	# s_server's own side of each connection is captured too (ssl_read_internal):
	# six rows, more than fit beside the other traffic, so filter to that port.
	tui_keys F4
	tui_type "port:$PORT2"
	tui_keys Enter
	tui_keys Tab
	tui_wait "filter: port:$PORT2" 5 || { fail "the filter was not applied"; return 1; }
	tui_wait "127\.0\.0\.1:$PORT2 .* curl " 5 || { fail "no connection to :$PORT2 at the end"; return 1; }
	n=$(tui_screen | grep -cE "127\.0\.0\.1:$PORT2 .* curl ")
	[ "$n" = 3 ] || { fail "$n connections to :$PORT2 at the end, not 3"; return 1; }
	n=$(tui_screen | grep -cE "127\.0\.0\.1:$PORT2 .* openssl ")
	[ "$n" = 3 ] || { fail "$n server-side connections on :$PORT2 at the end, not 3"; return 1; }
	tui_keys Home
	tui_wait "^ecaptop +[A-Z]+ +rec\.pcapng +00:00\.000 / " 10 ||
		{ fail "Home did not show 00:00.000"; return 1; }
	# paused there or playing from the start: nothing, or the first events only
	n=$(tui_screen | grep -cE "127\.0\.0\.1:$PORT2 .* curl ")
	[ "$n" = 0 ] || { fail "connections of the end still shown after Home"; return 1; }
}

# g +1s moves forward (from where it is), -1500ms back; g garbage is refused
# with a message. (The events up to a target come with it; a recording starts
# with the process table taken after the first kernel events, so the first
# second of a file may hand out none.)
t_replay_goto() {
	local p
	replay_start_paused || return 1
	tui_keys g
	tui_wait "^Go to:" 5 || { fail "g did not open the prompt"; return 1; }
	tui_type "+1s"
	tui_keys Enter
	tui_wait "^ecaptop +PAUSED +rec\.pcapng +00:01\.000 / " 10 || { fail "g +1s did not go to 00:01.000"; return 1; }
	tui_keys g
	tui_type "+3s"
	tui_keys Enter
	tui_wait "^ecaptop +PAUSED +rec\.pcapng +00:04\.000 / " 10 || { fail "g +3s did not go to 00:04.000"; return 1; }
	wait_idx_above 0 5 || { fail "g to 00:04.000 handed out no events"; return 1; }
	tui_keys g
	tui_type "-1500ms"
	tui_keys Enter
	tui_wait "^ecaptop +PAUSED +rec\.pcapng +00:02\.500 / " 10 || { fail "g -1500ms did not go to 00:02.500"; return 1; }
	tui_keys g
	tui_type "garbage"
	tui_keys Enter
	tui_wait "g: 'garbage' is not a time" 5 || { fail "no error for g garbage"; return 1; }
	p=$(hdr_pos)
	[ "$p" = "00:02.500" ] || { fail "g garbage moved the position to $p"; return 1; }
	# a position as the header shows it
	tui_keys g
	tui_type "00:03.250"
	tui_keys Enter
	tui_wait "^ecaptop +PAUSED +rec\.pcapng +00:03\.250 / " 10 || { fail "g 00:03.250 did not go there"; return 1; }
	# past the end: the end, and it says so
	tui_keys g
	tui_type "1m30s"
	tui_keys Enter
	tui_wait "1m30s is after the last event: at the end" 5 || { fail "g 1m30s did not say it is past the end"; return 1; }
	tui_wait "^ecaptop .* event ([0-9]+)/\1 end" 10 || { fail "g 1m30s did not go to the end"; return 1; }
	# a clock time (local) two whole seconds after the first event's second
	command -v tshark >/dev/null || return 0
	local clock want
	read -r clock want < <(tshark -r "$REC" -T fields -e frame.time_epoch 2>/dev/null | sort -n | head -1 |
		python3 -c '
import sys, time
first = sys.stdin.read().strip()
sec, frac = first.split(".")
t = int(sec) + 2
ms = (2 * 10**9 - int(frac.ljust(9, "0")[:9])) // 10**6
print(time.strftime("%H:%M:%S", time.localtime(t)), "00:%02d.%03d" % (ms // 1000, ms % 1000))')
	[ -n "$want" ] || { fail "tshark could not read the first event's time"; return 1; }
	tui_keys g
	tui_type "$clock"
	tui_keys Enter
	tui_wait "^ecaptop +PAUSED +rec\.pcapng +$want / " 10 || { fail "g $clock did not go to $want"; return 1; }
}

# The detail of an event stays on it when a step back rebuilds the store.
t_replay_keep_detail() {
	local total
	replay_start || return 1
	tui_keys End
	tui_wait "^ecaptop .* end" 10 || { fail "End did not reach the end"; return 1; }
	total=$(hdr_total)
	tui_keys F4
	tui_type "port:$PORT2"
	tui_keys Enter
	tui_keys Tab Tab
	tui_wait "GET /tagged/3" 5 || { fail "no request rows under port:$PORT2"; return 1; }
	tui_keys k # from the newest (followed) row up to the one before
	tui_keys Enter
	tui_wait "^GET /tagged/2 HTTP/1.1" 5 || { fail "the detail does not show /tagged/2"; return 1; }
	tui_keys ,
	wait_idx $((total - 1)) 10 || { fail ", did not go back one event"; return 1; }
	sleep 0.5
	tui_wait "^GET /tagged/2 HTTP/1.1" 5 || { fail "the detail lost its event after the rebuild"; return 1; }
}

# Saving the tagged rows from the TUI writes exactly those connections.
t_replay_save_tagged() {
	local l1 l2 l3 out=$work/tagged.pcapng
	replay_start || return 1
	tui_keys End
	tui_wait "^ecaptop .* end" 10 || { fail "End did not reach the end"; return 1; }
	tui_keys F4
	tui_type "port:$PORT2 comm:curl"
	tui_keys Enter
	tui_keys Tab
	tui_wait "filter: port:$PORT2 comm:curl" 5 || { fail "the filter was not applied"; return 1; }
	tui_wait "(127\.0\.0\.1:$PORT2 .* curl .*){1}" 5 || { fail "no connection rows"; return 1; }
	sleep 0.5
	# the local (client) port of each of the three rows, top to bottom
	mapfile -t lp < <(tui_screen | sed -n '5,7p' | awk '{print $2}' | sed 's/.*://')
	[ ${#lp[@]} = 3 ] && [ -n "${lp[2]}" ] || { fail "not three connection rows: ${lp[*]}"; return 1; }
	l1=${lp[0]} l2=${lp[1]} l3=${lp[2]}
	tui_keys Space Space # tags the first two rows
	tui_wait "tagged 2" 5 || { fail "Space did not tag two rows"; return 1; }
	tui_keys w
	tui_wait "^Save .*to: " 5 || { fail "w did not prompt"; return 1; }
	tui_keys C-u
	tui_type "$out"
	tui_keys Enter
	tui_wait "saved [0-9]+ events, 2 connections" 10 || { fail "no report of 2 connections saved"; return 1; }
	"$ECAPTOP" -r "$REC" --batch --json >"$work/all.json" 2>/dev/null
	"$ECAPTOP" -r "$out" --batch --json >"$work/tagged.json" 2>"$work/tagged.err" ||
		{ fail "replaying the saved file failed: $(cat "$work/tagged.err")"; return 1; }
	python3 - "$work/all.json" "$work/tagged.json" "$PORT2" "$l1" "$l2" "$l3" <<'PY' || { fail "the saved file does not hold exactly the tagged connections"; return 1; }
import json, sys
allf, tagf, port, l1, l2, l3 = sys.argv[1:]
port, want, other = int(port), {int(l1), int(l2)}, int(l3)

def conns(path):
    out = {}
    for line in open(path):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("type") == "data":
            out.setdefault((o["lport"], o["rport"], o["conn_id"]), 0)
            out[(o["lport"], o["rport"], o["conn_id"])] += 1
    return out

orig, saved = conns(allf), conns(tagf)
want_keys = {k for k in orig if k[0] in want and k[1] == port}
ok = True
if len(want_keys) != 2:
    print("the original has %d connections from ports %s" % (len(want_keys), want)); ok = False
if set(saved) != want_keys:
    print("saved connections %s, tagged %s" % (sorted(saved), sorted(want_keys))); ok = False
for k in want_keys:
    if saved.get(k) != orig[k]:
        print("connection %s: %s events saved of %d" % (k, saved.get(k), orig[k])); ok = False
if any(k[0] == other for k in saved):
    print("the untagged connection from port %d was saved" % other); ok = False
sys.exit(0 if ok else 1)
PY
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
