# Packet mode (--packets): real packets from TC classifiers on lo, each with its process,
# written as pcapng with the TLS secrets inside. tshark alone (no key log option) must
# decrypt the HTTP requests of curl over TLS 1.2 and 1.3, the frame comments must name
# curl's PID, and ecaptop must have written exactly the packets tcpdump saw.

PK_PORT=

pk_server() {
	[ -n "$PK_PORT" ] && return 0
	mkdir -p "$TMPD/pk-www"
	echo "packet test" >"$TMPD/pk-www/index.html"
	PK_PORT=$(free_port)
	start_tls_server "$PK_PORT" "$TMPD/pk-www" || return 1
}

# No classifier of ours on lo, classic or tcx.
pk_nothing_left() {
	local what
	what=$(tc filter show dev lo ingress; tc filter show dev lo egress)
	[ -z "$what" ] || fail "filters left on lo: $what" || return 1
	tc qdisc show dev lo | grep -q clsact && fail "a clsact qdisc left on lo" && return 1
	# tcx links die with their last descriptor: the programs go once the killed
	# process is gone (its exit takes a while: its uprobes are removed first).
	wait_for 30 bash -c '! bpftool prog show | grep -q "name ecpkt_"' ||
		fail "packet programs still loaded: $(bpftool prog show | grep ecpkt_)" || return 1
	return 0
}

test_packets_tls_decrypted_with_pids() {
	local f=$TMPD/pk.pcapng pcap=$TMPD/pk-tcpdump.pcap tpid c13 c12 got comments n_ec n_td t0 t1
	pk_server || return 1
	for u in v13 v12; do echo "packet test $u" >"$TMPD/pk-www/$u"; done
	tcpdump -i lo -U -n -w "$pcap" "tcp port $PK_PORT" 2>"$TMPD/pk-tcpdump.err" &
	tpid=$!
	SERVERS+=("$tpid")
	wait_for 10 grep -q "listening on" "$TMPD/pk-tcpdump.err" ||
		fail "tcpdump did not start" || return 1
	t0=$(date +%s)
	start_capture pk --packets -i lo -f "tcp port $PK_PORT" -w "$f" || return 1
	curl -sk --tlsv1.3 -o /dev/null "https://127.0.0.1:$PK_PORT/v13" &
	c13=$!
	wait $c13 || fail "curl (TLS 1.3) failed" || return 1
	curl -sk --tlsv1.2 --tls-max 1.2 -o /dev/null "https://127.0.0.1:$PK_PORT/v12" &
	c12=$!
	wait $c12 || fail "curl (TLS 1.2) failed" || return 1
	stop_capture || return 1
	t1=$(date +%s)
	kill -INT "$tpid"
	wait "$tpid"
	grep "packets:" "$TMPD/pk.err" | sed 's/^/    /'
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f has mode $(stat -c %a "$f")" || return 1

	# Decrypted by the file alone.
	got=$(tshark -r "$f" -Y http.request -T fields -e tls.record.version -e http.request.uri \
		-e frame.comment 2>/dev/null)
	say "tshark -r pk.pcapng -Y http.request:"
	printf '%s\n' "$got" | cut -c1-160 | sed 's/^/    /'
	printf '%s\n' "$got" | grep -P "^\S*\t/v13\tPID: $c13\\\\n" >/dev/null ||
		fail "GET /v13 not decrypted or not attributed to curl $c13" || return 1
	printf '%s\n' "$got" | grep -P "^\S*\t/v12\tPID: $c12\\\\n" >/dev/null ||
		fail "GET /v12 not decrypted or not attributed to curl $c12" || return 1
	say "TLS versions (ServerHello): $(tshark -r "$f" -Y tls.handshake.type==2 -T fields \
		-e tls.handshake.version -e tls.handshake.extensions.supported_version 2>/dev/null |
		tr -s '\n\t' ' ')"
	tshark -r "$f" -Y 'tls.handshake.extensions.supported_version == 0x0304' 2>/dev/null |
		grep -q . || fail "no TLS 1.3 handshake in the file" || return 1
	# The keys are in the file: without the DSBs tshark cannot decrypt.
	[ "$(tshark -r "$f" -o tls.keylog_file:/dev/null -Y http.request 2>/dev/null | wc -l)" -ge 2 ] ||
		fail "decryption did not come from the file's secrets" || return 1
	tshark -r "$f" -T fields -e frame.comment 2>/dev/null | grep -q "Peer PID:" ||
		fail "no receiver named in the comments" || return 1

	# Every packet tcpdump saw, once, and nothing else (the filter).
	n_td=$(tshark -r "$pcap" 2>/dev/null | wc -l)
	n_ec=$(tshark -r "$f" 2>/dev/null | wc -l)
	say "packets: tcpdump $n_td, ecaptop $n_ec"
	[ "$n_td" -gt 10 ] && [ "$n_ec" -eq "$n_td" ] ||
		fail "ecaptop wrote $n_ec packets, tcpdump saw $n_td" || return 1
	tshark -r "$f" -Y "not tcp.port == $PK_PORT" 2>/dev/null | grep -q . &&
		fail "a packet the -f filter excludes was written" && return 1

	# Wall-clock time, in order.
	python3 - "$f" "$t0" "$t1" <<'PY' || return 1
import subprocess, sys
f, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ts = [float(x) for x in subprocess.run(["tshark", "-r", f, "-T", "fields", "-e",
      "frame.time_epoch"], capture_output=True, text=True).stdout.split()]
bad = [t for t in ts if not (t0 - 1 <= t <= t1 + 1)]
if bad or ts != sorted(ts):
    print("  FAILED: times out of the run or out of order:", bad[:3], ts[:3])
    sys.exit(1)
print("  %d packets, %.6f .. %.6f, in order" % (len(ts), ts[0], ts[-1]))
PY
	# JSON: packets with their processes, and the counters with no loss.
	has_record "$TMPD/pk.json" "r['type'] == 'packet' and r['pid'] == $c13 and r['attributed'] \
		and r['iface'] == 'lo' and r['rport'] == $PK_PORT" ||
		fail "no JSON packet record of curl $c13" || return 1
	has_record "$TMPD/pk.json" "r['type'] == 'packet_stats' and r['lost']['ring_reserve'] == 0 \
		and r['lost']['read_fault'] == 0 and r['lost']['user'] == 0 and r['written'] == $n_ec \
		and r['secrets'] >= 6" || fail "packet counters wrong" || return 1
	return 0
}

test_packets_pid_filter() {
	local f=$TMPD/pkp.pcapng gate gfd cpid others
	pk_server || return 1
	gate=$TMPD/pkp.gate
	rm -f "$gate"
	mkfifo "$gate"
	exec {gfd}<>"$gate"
	# curl waits for a line, so its PID is known before ecaptop starts.
	bash -c 'read -r _; exec curl -sk -o /dev/null "$0"' "https://127.0.0.1:$PK_PORT/" <&$gfd &
	cpid=$!
	start_capture pkp --packets -i lo --pid "$cpid" -w "$f" || return 1
	echo go >&$gfd
	wait "$cpid" || fail "curl failed" || return 1
	stop_capture || return 1
	exec {gfd}>&-
	grep "packets:" "$TMPD/pkp.err" | sed 's/^/    /'
	# On lo a packet is its sender's: only curl's own packets are kept.
	[ "$(tshark -r "$f" 2>/dev/null | wc -l)" -gt 3 ] || fail "too few packets of curl" || return 1
	others=$(tshark -r "$f" -T fields -e frame.comment 2>/dev/null | grep -v "^PID: $cpid\\\\n")
	[ -z "$others" ] || fail "packets of other processes: $(printf '%s' "$others" | head -2)" ||
		return 1
	has_record "$TMPD/pkp.json" "r['type'] == 'packet_stats' and r['filtered']['kernel'] > 0" ||
		fail "the server's packets were not counted as filtered" || return 1
}

test_packets_bad_filter() {
	local out rc
	out=$("$ECAPTOP" --packets -i lo -f 'tcp porrt 80' --batch 2>&1)
	rc=$?
	say "$out" | tail -1
	[ $rc -ne 0 ] || fail "a bad filter was accepted" || return 1
	printf '%s\n' "$out" | grep -q "bad filter expression 'tcp porrt 80'" ||
		fail "no clear error for the bad filter" || return 1
	out=$("$ECAPTOP" --packets -i nosuch0 --batch 2>&1)
	printf '%s\n' "$out" | grep -q "no interface 'nosuch0'" ||
		fail "no clear error for an unknown interface: $out" || return 1
}

# SIGKILL leaves nothing with tcx links; with --tc-classic the next --check removes
# what the killed process left, and says so.
test_packets_sigkill_cleanup() {
	local out
	pk_nothing_left || return 1
	start_capture pkk --packets -i lo || return 1
	grep -q "tcx links" "$TMPD/pkk.err" || fail "tcx links not used" || return 1
	kill -KILL "$CAP_PID"
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=
	pk_nothing_left || return 1
	say "tcx: nothing left after SIGKILL"

	start_capture pkc --packets -i lo --tc-classic || return 1
	tc filter show dev lo egress | grep -q ecpkt_egress || fail "no classic egress filter" ||
		return 1
	# A running ecaptop's filters are never taken for leftovers.
	out=$("$ECAPTOP" --check 2>&1)
	printf '%s\n' "$out" | grep -q "left by a killed ecaptop: none" ||
		fail "--check touched a running ecaptop's filters: $out" || return 1
	kill -KILL "$CAP_PID"
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=
	tc filter show dev lo egress | grep -q ecpkt_egress ||
		fail "classic filters gone by themselves (nothing to test)" || return 1
	out=$("$ECAPTOP" --check 2>&1)
	printf '%s\n' "$out" | grep "packets: removed" | sed 's/^/    /'
	printf '%s\n' "$out" | grep -q "removed the lo egress classifier a killed ecaptop left" ||
		fail "--check did not remove the leftover: $out" || return 1
	pk_nothing_left || return 1
}

# A veth pair to a network namespace made here: the client's packets arrive at the
# host's ingress, where the socket lookup names the receiving server; the server's
# leave at egress with its own socket. Both directions are captured, decrypted.
test_packets_veth_ingress() {
	local ns=ecpk$$ h=pkh$$ n=pkn$$ f=$TMPD/pkv.pcapng port spid got old
	# Namespaces a killed run of this test left (its shell gone) go first: their
	# veth would hold the same addresses.
	for old in $(ip netns list | awk '/^ecpk[0-9]+/ {print $1}'); do
		kill -0 "${old#ecpk}" 2>/dev/null || ip netns del "$old"
	done
	ip netns add "$ns" || fail "cannot create a network namespace" || return 1
	ip link add "$h" type veth peer name "$n" &&
		ip link set "$n" netns "$ns" &&
		ip addr add 10.231.7.1/30 dev "$h" && ip link set "$h" up &&
		ip -n "$ns" addr add 10.231.7.2/30 dev "$n" && ip -n "$ns" link set "$n" up ||
		{ ip netns del "$ns"; ip link del "$h" 2>/dev/null; fail "veth setup failed"; return 1; }
	ensure_cert
	mkdir -p "$TMPD/pkv-www"
	echo veth >"$TMPD/pkv-www/veth"
	port=$(free_port)
	env -C "$TMPD/pkv-www" openssl s_server -quiet -accept "10.231.7.1:$port" \
		-cert "$TMPD/cert.pem" -key "$TMPD/key.pem" -WWW >/dev/null 2>&1 &
	spid=$!
	SERVERS+=("$spid")
	wait_for 10 ip netns exec "$ns" curl -m 10 -sk -o /dev/null "https://10.231.7.1:$port/veth" ||
		{ ip netns del "$ns"; fail "s_server on the veth did not start"; return 1; }
	start_capture pkv --packets -i "$h" -f "tcp port $port" -w "$f" ||
		{ ip netns del "$ns"; return 1; }
	ip netns exec "$ns" curl -m 10 -sk -o /dev/null "https://10.231.7.1:$port/veth?in-ns"
	stop_capture
	ip netns del "$ns"
	kill "$spid"
	grep "packets:" "$TMPD/pkv.err" | sed 's/^/    /'
	got=$(tshark -r "$f" -Y http.request -T fields -e http.request.uri -e frame.comment 2>/dev/null)
	say "tshark -r pkv.pcapng -Y http.request: $(printf '%s' "$got" | cut -c1-150)"
	printf '%s\n' "$got" | grep -P "^/veth\?in-ns\tPID: $spid\\\\n.*Dir: recv" >/dev/null ||
		fail "the request arriving on $h was not decrypted or not the server's" || return 1
	tshark -r "$f" -T fields -e frame.comment 2>/dev/null | grep -q "PID: $spid\\\\n.*Dir: send" ||
		fail "no packet sent by the server" || return 1
	[ "$(tshark -r "$f" -T fields -e frame.comment 2>/dev/null | grep -vc "PID: $spid\\\\n")" -le 2 ] ||
		fail "packets of the connection not attributed to the server" || return 1
}
