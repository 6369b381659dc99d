# TUI packet mode (issue 18), sourced by tests/tui/run.sh: with --packets the events
# list shows the real packets of the curl clients and of the server, each with its
# process, beside the decoded exchanges of the same connections.

PACKET_TESTS="packets_list"

t_packets_list() {
	tui_start 160 40 --packets -i lo -f "'tcp port $PORT'" # one word in tmux's command
	# The screen, once every probe is attached (slow on a loaded machine).
	tui_wait 'Processes.*Connections.*Events' 120 || { fail "the view never came"; return 1; }
	tui_keys Tab Tab
	tui_wait "Events" 5 || { fail "no events panel"; return 1; }
	tui_wait "^[0-9:.]+ +[0-9]+ curl +packet +packet lo send 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$PORT [0-9]+ bytes" 15 ||
		{ fail "no packet row of a curl client"; return 1; }
	tui_wait "^[0-9:.]+ +$SERVER_PID openssl +packet +packet lo send 127\.0\.0\.1:$PORT -> 127\.0\.0\.1:[0-9]+ [0-9]+ bytes" 15 ||
		{ fail "no packet row of the server (pid $SERVER_PID)"; return 1; }
	tui_wait "^[0-9:.]+ +[0-9]+ curl +http +GET /tuitest/" 15 ||
		{ fail "no decoded exchange beside the packets"; return 1; }
}
