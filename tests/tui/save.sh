# TUI save tests (issue 13), sourced by tests/tui/run.sh: w saves exactly the
# selection. Traffic: curl makes three requests on one keep-alive connection to a
# private nginx; tshark reads what was saved.

SAVE_TESTS="save_exchange save_replay_procs"

# start_nginx_tui: plain HTTP/1.1 with keep-alive on $NPORT; 1 if not possible.
start_nginx_tui() {
	local d=$work/nginx
	command -v nginx >/dev/null && command -v tshark >/dev/null || return 1
	NPORT=$((PORT + 2))
	mkdir -p "$d/www" "$d/tmp"
	for i in 1 2 3; do echo "body $i" >"$d/www/x$i.txt"; done
	cat >"$d/nginx.conf" <<EOC
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
	server { listen 127.0.0.1:$NPORT; root $d/www; }
}
EOC
	nginx -c "$d/nginx.conf" || return 1
	pids+=("$(cat "$d/nginx.pid")")
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$NPORT/x1.txt" && return 0
		sleep 0.1
	done
	return 1
}

# tshark_uris FILE: the HTTP request URIs tshark finds, one per line.
tshark_uris() {
	tshark -n -r "$1" -o tcp.desegment_tcp_streams:TRUE -d "tcp.port==$NPORT,http" -Y http.request \
		-T fields -e http.request.uri 2>/dev/null
}

tshark_warnings() {
	tshark -n -r "$1" -Y 'tcp.analysis.flags && !tcp.analysis.window_update' 2>/dev/null | wc -l
}

# One tagged request of a keep-alive connection saves that exchange only; a tag the
# filter hides is left out and the prompt says so; T untags all; with no tags a regex
# saves only the exchanges it matches, each once though both ends were captured.
t_save_exchange() {
	local out1=$work/exch.pcapng out2=$work/regex.pcapng uris
	start_nginx_tui || { echo "SKIP: nginx or tshark not installed, or nginx did not start"; return 0; }
	start 160 40 || return 1
	curl -s "http://127.0.0.1:$NPORT/x1.txt" "http://127.0.0.1:$NPORT/x2.txt" \
		"http://127.0.0.1:$NPORT/x3.txt" -o /dev/null -o /dev/null -o /dev/null
	tui_keys F4
	tui_type "port:$NPORT"
	tui_keys Enter
	tui_wait "filter: port:$NPORT" 5 || { fail "the filter was not applied"; return 1; }
	tui_keys Tab Tab
	tui_wait "GET /x2\.txt" 10 || { fail "no /x2.txt request row"; return 1; }
	tui_keys /
	tui_type "x2.t"
	tui_type "xt"
	tui_keys Enter
	tui_keys Space
	tui_wait "^ecaptop .*tagged 1" 5 || { fail "the header does not count the tag"; return 1; }
	tui_keys w
	tui_wait "^Save tagged: 1 exchanges, 1 connections" 5 || { fail "the prompt does not say what is saved"; return 1; }
	tui_keys C-u
	tui_type "$out1"
	tui_keys Enter
	tui_wait "saved [0-9]+ events, 1 connections" 10 || { fail "no save report"; return 1; }
	tui_wait "tshark -d tcp.port==$NPORT,http" 5 || { fail "no tshark -d hint after saving"; return 1; }
	uris=$(tshark_uris "$out1")
	[ "$uris" = "/x2.txt" ] || { fail "saved requests: '$uris' (want only /x2.txt)"; return 1; }
	[ "$(tshark_warnings "$out1")" = 0 ] || { fail "tshark warnings in $out1"; return 1; }
	tshark -n -r "$out1" -q -z io,phs 2>/dev/null | grep -q http ||
		{ fail "tshark does not decode HTTP in $out1"; return 1; }
	# a filter that hides the tagged row: the prompt says it is left out
	tui_keys F4 C-u
	tui_type "port:$NPORT /x3/"
	tui_keys Enter
	tui_wait "filter: port:$NPORT /x3/" 5 || { fail "the regex filter was not applied"; return 1; }
	tui_keys w
	tui_wait "1 tagged hidden by the filter: left out" 5 || { fail "the hidden tag is not mentioned"; return 1; }
	tui_keys Escape
	tui_keys T
	tui_wait "untagged 1 rows" 5 || { fail "T did not untag"; return 1; }
	tui_wait_not "^ecaptop .*tagged [0-9]" 5 || { fail "the header still counts tags"; return 1; }
	# no tags: the regex saves its exchanges (curl's and nginx's view of /x3.txt)
	tui_keys w
	tui_wait "^Save 2 exchanges, 2 connections" 5 || { fail "the prompt does not say 2 exchanges"; return 1; }
	tui_keys C-u
	tui_type "$out2"
	tui_keys Enter
	tui_wait "saved [0-9]+ events, 1 connections" 10 || { fail "no save report (one connection)"; return 1; }
	uris=$(tshark_uris "$out2")
	[ "$uris" = "/x3.txt" ] || { fail "saved requests: '$uris' (want /x3.txt once)"; return 1; }
	[ "$(tshark_warnings "$out2")" = 0 ] || { fail "tshark warnings in $out2"; return 1; }
	tshark -n -r "$out2" -Y 'frame.comment contains "Peer PID"' 2>/dev/null | grep -q . ||
		{ fail "no packet names both processes"; return 1; }
}

# Saving connections (a port: filter, no tags) keeps their processes' command line and
# exit: the replay of the saved file shows curl with its whole command line, exited, in
# the process panel and in --batch --json, as the live view did.
t_save_replay_procs() {
	local out=$work/procs.pcapng mark=procmark$RANDOM
	start_nginx_tui || { echo "SKIP: nginx or tshark not installed, or nginx did not start"; return 0; }
	start 200 40 || return 1
	curl -s "http://127.0.0.1:$NPORT/x1.txt?$mark" -H "X-Mark: $mark" -o /dev/null
	tui_keys F4
	tui_type "port:$NPORT"
	tui_keys Enter
	tui_wait "filter: port:$NPORT" 5 || { fail "the filter was not applied"; return 1; }
	tui_wait "curl .*$mark.* \(exited\)" 10 || { fail "live: no exited curl with its command line"; return 1; }
	tui_keys w
	tui_wait "^Save [0-9]+ exchanges, [0-9]+ connections" 5 || { fail "w did not prompt"; return 1; }
	tui_keys C-u
	tui_type "$out"
	tui_keys Enter
	tui_wait "saved [0-9]+ events, [0-9]+ connections" 10 || { fail "no save report"; return 1; }
	tui_stop
	tui_start 200 40 -r "$out" --speed 100
	tui_wait "^ecaptop +(PLAYING|PAUSED) +procs\.pcapng .* end " 15 || { fail "the replay did not end"; return 1; }
	tui_wait "curl .*-H X-Mark: $mark -o /dev/null \(exited\)" 5 ||
		{ fail "replay: curl lost its command line or its exit"; return 1; }
	"$ECAPTOP" -r "$out" --batch --json >"$work/procs.json" 2>/dev/null
	grep '"type":"exit"' "$work/procs.json" | grep '"comm":"curl"' | grep -F "X-Mark: $mark -o /dev/null" |
		grep -q '"exited":true' || { fail "replay --json: no exit line with curl's command line"; return 1; }
}
