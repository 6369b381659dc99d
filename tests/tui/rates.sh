# TUI replay rate tests (issue 13), sourced by tests/tui/run.sh: the replay header's
# ev/s and B/s are the capture's rates at the replay position, whatever the speed,
# playing or paused.

RATE_TESTS="replay_rates"

# hdr_rates: "EVENTS BYTES" per second from the header line now (bytes with fmt_bytes'
# K/M suffix turned into a number).
hdr_rates() {
	tui_screen | head -1 | sed -n 's/.*  \([0-9]*\) ev\/s  \([0-9.]*\)\([KMG]\{0,1\}\) B\/s.*/\1 \2 \3/p' |
		awk '{ m = $3 == "K" ? 1024 : $3 == "M" ? 1048576 : $3 == "G" ? 1073741824 : 1;
		       printf "%d %d\n", $1, $2 * m }'
}

# rates_ok EV-MIN EV-MAX B-MIN B-MAX: the header's rates are within the bounds.
rates_ok() {
	local r ev by
	r=$(hdr_rates)
	ev=${r% *}
	by=${r#* }
	[ -n "$r" ] && [ "$ev" -ge "$1" ] && [ "$ev" -le "$2" ] && [ "$by" -ge "$3" ] && [ "$by" -le "$4" ]
}

# A file of 10 exchanges a second for 30 s (400-byte requests, 600-byte responses:
# 20 events and 10,000 bytes a second) replayed at 2x, then paused: the header says
# about 20 ev/s and 10K B/s, where the wall clock's rates would be 40 (playing) and 0
# (paused).
t_replay_rates() {
	local f=$work/rates.pcap end
	python3 "$top/tests/tui/mkrate.py" "$f" 30 10 400 600 || { fail "cannot make the pcap"; return 1; }
	tui_start 160 30 -r "$f" --speed 2
	tui_wait "^ecaptop +PLAYING +rates\.pcap +00:0[3-9]\." 15 ||
		{ tui_dump "never reached 3 s"; fail "the replay did not play"; return 1; }
	rates_ok 18 22 9000 11264 || { tui_dump "playing at 2x"; fail "rates at 2x: $(hdr_rates)"; return 1; }
	tui_keys p
	tui_wait "^ecaptop +PAUSED " 5 || { tui_dump "p"; fail "p did not pause"; return 1; }
	# paused for two seconds and more: the rates stay those of the position
	end=$((SECONDS + 3))
	while [ $SECONDS -le $end ]; do
		rates_ok 18 22 9000 11264 || { tui_dump "paused"; fail "rates paused: $(hdr_rates)"; return 1; }
		sleep 0.3
	done
	# Home: nothing replayed yet, no rate
	tui_keys Home
	tui_wait "^ecaptop +PAUSED +rates\.pcap +00:00\.000 .*  0 ev/s  0 B/s" 10 ||
		{ tui_dump "Home"; fail "Home: rates not 0 before the first event"; return 1; }
}
