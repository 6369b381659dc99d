# Saving and replaying (issue 5): -w records, -r replays through the same pipeline.

# compare_json LIVE REPLAY: the same events and records, each thread's in the same order
# (the stats line aside: a replay has no kernel counters).
compare_json() {
	python3 - "$1" "$2" <<'PY'
import json, sys
def load(p):
    out = []
    for l in open(p):
        e = json.loads(l)
        if e.get("type") != "stats":
            out.append(e)
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
print("  live %d lines, replay %d lines" % (len(a), len(b)))
# A file holds events in time order (several processes' events are sorted by their
# timestamps); live output is in arrival order. So: the same events and records, and
# each thread's events of one direction in the same order.
ka = sorted(json.dumps(e, sort_keys=True) for e in a)
kb = sorted(json.dumps(e, sort_keys=True) for e in b)
if ka != kb:
    sa, sb = set(ka), set(kb)
    only_a = [x for x in ka if x not in sb][:1]
    only_b = [x for x in kb if x not in sa][:1]
    print("  the two differ:\n   live only   %s\n   replay only %s"
          % ((only_a or ["(none)"])[0][:300], (only_b or ["(none)"])[0][:300]))
    sys.exit(1)
def per_thread(evs):
    out = {}
    for e in evs:
        if e.get("type") == "data":
            out.setdefault((e["pid"], e["tid"], e["dir"]), []).append(json.dumps(e, sort_keys=True))
    return out
if per_thread(a) != per_thread(b):
    print("  a thread's events of one direction came back in another order"); sys.exit(1)
if not any(e.get("type") == "http" for e in a):
    print("  no HTTP record in the live run"); sys.exit(1)
PY
}

record_some_traffic() { # NAME EXT: a capture with HTTPS, plain HTTP and a 300 KB body
	local name=$1 ext=$2 port www pport
	port=$(free_port)
	pport=$(free_port)
	www=$TMPD/www-$name
	mkdir -p "$www"
	head -c 300000 /dev/urandom >"$www/big.bin"
	echo "small-$name" >"$www/s.txt"
	start_tls_server "$port" "$www" || return 1
	TS_PORT=$port
	start_http_plain "$pport" "$www" || return 1
	start_capture "$name" -w "$TMPD/$name.$ext" || return 1
	curl -sk "https://127.0.0.1:$port/s.txt" -H "X-Rec: $name" -o /dev/null
	curl -sk "https://127.0.0.1:$port/big.bin" -o /dev/null
	curl -s "http://127.0.0.1:$pport/s.txt" -o /dev/null
	stop_capture || return 1
	grep -q "saved [0-9]* events" "$TMPD/$name.err" || fail "no 'saved' report: $(cat "$TMPD/$name.err")"
}

# Live capture with -w, then -r --batch --json: the same output.
test_write_then_replay_same_json() {
	record_some_traffic rt pcapng || return 1
	[ "$(stat -c %a "$TMPD/rt.pcapng")" = 600 ] || fail "file mode is $(stat -c %a "$TMPD/rt.pcapng")" ||
		return 1
	# Replay needs no privileges.
	chmod 0644 "$TMPD/rt.pcapng"
	chmod 0755 "$TMPD"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ECAPTOP" -r "$TMPD/rt.pcapng" --batch --json \
		>"$TMPD/rt.replay.json" 2>"$TMPD/rt.replay.err" ||
		fail "replay as nobody failed: $(cat "$TMPD/rt.replay.err")" || return 1
	compare_json "$TMPD/rt.json" "$TMPD/rt.replay.json"
}

# The .gz round trip, through zlib.
test_write_gz_then_replay() {
	record_some_traffic gz pcapng.gz || return 1
	[ "$(head -c 2 "$TMPD/gz.pcapng.gz" | xxd -p)" = 1f8b ] || fail "not gzip" || return 1
	"$ECAPTOP" -r "$TMPD/gz.pcapng.gz" --batch --json >"$TMPD/gz.replay.json" 2>"$TMPD/gz.replay.err" ||
		fail "replay failed: $(cat "$TMPD/gz.replay.err")" || return 1
	compare_json "$TMPD/gz.json" "$TMPD/gz.replay.json"
}

# tshark decodes the saved HTTP requests and shows the PIDs in the packet comments.
test_tshark_reads_saved_file() {
	local out
	command -v tshark >/dev/null || { say "tshark not installed"; return 77; }
	record_some_traffic ts pcapng || return 1
	out=$(tshark -r "$TMPD/ts.pcapng" -o tcp.desegment_tcp_streams:TRUE -Y http.request \
		-T fields -e http.request.uri -e frame.comment 2>&1)
	printf '%s\n' "$out" | head -4 | sed 's/^/    /'
	printf '%s\n' "$out" | grep -q '^/s.txt.*PID: [0-9]' || fail "tshark shows no /s.txt request with a PID" ||
		return 1
	# Processes running before the capture started are recorded too (as exec entries).
	spid=$(cat "$TMPD/s_server.$TS_PORT.pid")
	tshark -r "$TMPD/ts.pcapng" -Y systemd_journal -V 2>/dev/null >"$TMPD/ts.journal"
	grep -A2 "^    PID: $spid\$" "$TMPD/ts.journal" | grep -q "Command name: openssl" ||
		fail "no journal entry for the running s_server ($spid; openssl entries: \
$(grep -B2 'Command name: openssl' "$TMPD/ts.journal" | grep -o 'PID: [0-9]*' | tr '\n' ' '))"
}

# An existing file is not overwritten without --force; a symlink is never followed.
test_write_refuses_existing_and_symlink() {
	local out
	echo keep >"$TMPD/exists.pcapng"
	out=$("$ECAPTOP" --batch -d 1 -w "$TMPD/exists.pcapng" 2>&1) && fail "overwrote without --force" &&
		return 1
	say "$(printf '%s\n' "$out" | tail -1)"
	[ "$(cat "$TMPD/exists.pcapng")" = keep ] || fail "the existing file changed" || return 1
	ln -sf "$TMPD/target" "$TMPD/link.pcapng"
	"$ECAPTOP" --batch -d 1 --force -w "$TMPD/link.pcapng" >/dev/null 2>&1 &&
		fail "wrote through a symlink" && return 1
	[ ! -e "$TMPD/target" ] || fail "the symlink's target was created" || return 1
	"$ECAPTOP" --batch -d 1 --force -w "$TMPD/exists.pcapng" >/dev/null 2>"$TMPD/force.err" ||
		fail "--force did not overwrite: $(cat "$TMPD/force.err")"
}

# A truncated file: what came before is replayed, then a clear error naming the offset.
test_truncated_file_replays_prefix() {
	local size n_full n_cut
	record_some_traffic tr pcapng || return 1
	size=$(stat -c %s "$TMPD/tr.pcapng")
	head -c $((size * 2 / 3)) "$TMPD/tr.pcapng" >"$TMPD/tr.cut.pcapng"
	"$ECAPTOP" -r "$TMPD/tr.cut.pcapng" --batch --json >"$TMPD/tr.cut.json" 2>"$TMPD/tr.cut.err" &&
		fail "a truncated file replayed with exit status 0" && return 1
	say "$(grep -i 'offset\|truncated' "$TMPD/tr.cut.err" | head -1)"
	grep -qi 'offset [0-9]' "$TMPD/tr.cut.err" || fail "no error naming an offset" || return 1
	n_full=$($EVENTS "$TMPD/tr.json" --count)
	n_cut=$($EVENTS "$TMPD/tr.cut.json" --count)
	[ "$n_cut" -gt 0 ] && [ "$n_cut" -lt "$n_full" ] || fail "replayed $n_cut of $n_full data events"
}

# Another tool's plaintext HTTP capture (tcpdump) is reassembled and decoded.
test_foreign_pcap_decoded() {
	local port www pid
	command -v tcpdump >/dev/null || { say "tcpdump not installed"; return 77; }
	port=$(free_port)
	www=$TMPD/www-foreign
	mkdir -p "$www"
	echo "foreign-$port" >"$www/f.txt"
	start_http_plain "$port" "$www" || return 1
	tcpdump -i lo -U --immediate-mode -s 0 -Z root -w "$TMPD/foreign.pcap" "tcp port $port" 2>"$TMPD/tcpdump.err" &
	pid=$!
	wait_for 20 grep -q listening "$TMPD/tcpdump.err" || fail "tcpdump did not start" || return 1
	curl -s "http://127.0.0.1:$port/f.txt?tool=tcpdump" -o "$TMPD/foreign.out" ||
		fail "curl failed" || return 1
	# Wait until tcpdump has written the exchange (the FIN at least) before stopping it.
	wait_for 10 sh -c "[ \$(stat -c %s '$TMPD/foreign.pcap') -gt 600 ]"
	sleep 0.3
	kill $pid
	wait $pid 2>/dev/null
	"$ECAPTOP" -r "$TMPD/foreign.pcap" --batch --json >"$TMPD/foreign.json" 2>"$TMPD/foreign.err" ||
		fail "replay failed: $(cat "$TMPD/foreign.err")" || return 1
	has_record "$TMPD/foreign.json" "r['type']=='http' and r['path']=='/f.txt?tool=tcpdump' and \
r['status']==200 and 'foreign-$port' in (r.get('resp_body') or '')" || fail "no HTTP record from the pcap" ||
		return 1
	# -f limits what is read: a filter matching nothing yields nothing.
	"$ECAPTOP" -r "$TMPD/foreign.pcap" -f "tcp port 1" --batch --json >"$TMPD/foreign.f.json" 2>"$TMPD/foreign.f.err" ||
		fail "filtered replay failed" || return 1
	[ "$($EVENTS "$TMPD/foreign.f.json" --count)" = 0 ] || fail "-f did not filter"
}

# A file that is not a capture: one clear line, exit status 1.
test_unknown_file_clear_error() {
	local out
	echo "this is not a capture" >"$TMPD/not.pcapng"
	out=$("$ECAPTOP" -r "$TMPD/not.pcapng" --batch 2>&1) && fail "accepted garbage" && return 1
	say "$out"
	[ "$(printf '%s\n' "$out" | wc -l)" -le 3 ] || fail "more than a clear message"
}

# The capture's --pid/--uid filter is written into the file's final journal entry
# ("ECAPTOP_FILTER=--pid 1,N --uid 0,7"), so a replay says what was left out.
test_write_records_cli_filter() {
	start_capture cli-filter -p 1 -p $$ -u 0 -u 7 -w "$TMPD/cli-filter.pcapng" || return 1
	stop_capture || return 1
	grep -qa -- "ECAPTOP_FILTER=--pid 1,$$ --uid 0,7" "$TMPD/cli-filter.pcapng" ||
		fail "no ECAPTOP_FILTER=--pid 1,$$ --uid 0,7 in the file" || return 1
	start_capture cli-filter2 -u 7 -w "$TMPD/cli-filter2.pcapng" || return 1
	stop_capture || return 1
	grep -qa -- "ECAPTOP_FILTER=--uid 7" "$TMPD/cli-filter2.pcapng" ||
		fail "no ECAPTOP_FILTER=--uid 7 in the file"
}
