# Processes as they really are (issue 12 §4, §6) and their cgroups (issue 18): shells that
# were open before ecaptop, reused PIDs, children that fork without exec, and the cgroup
# path of every event. Real programs, started the way a user starts them.

# count_records FILE PYTHON-EXPR: how many records r satisfy the expression.
count_records() {
	python3 - "$1" "$2" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
        n += bool(eval(sys.argv[2], {}, {"r": r}))
    except (ValueError, KeyError, TypeError):
        pass
print(n)
PY
}

# open_shell SESSION COMMAND PROMPT-REGEX: a shell in tmux, at its prompt.
open_shell() {
	tmux kill-session -t "$1" 2>/dev/null
	tmux new-session -d -s "$1" -x 120 -y 30 "$2"
	wait_for 20 sh -c "tmux capture-pane -p -t $1 | grep -qE '$3'" ||
		fail "no prompt in $1: $(tmux capture-pane -p -t "$1")"
}

# type_line SESSION LINE MARK: type LINE and Enter, wait until MARK starts a screen line.
type_line() {
	tmux send-keys -t "$1" "$2" Enter
	wait_for 10 sh -c "tmux capture-pane -p -t $1 | grep -q '^$3'" ||
		fail "'$2' did not run in $1: $(tmux capture-pane -p -t "$1")"
}

# A bash and a zsh started before ecaptop, waiting at their prompt while the probes
# attach: the first line typed after "ready" is captured with its exit status, and
# every line after it, each exactly once.
test_shells_open_before_start() {
	local t=$$-$RANDOM sh s ok=0 id
	command -v zsh >/dev/null || { say "zsh not installed"; return 77; }
	open_shell ecaptop-open-bash "bash --norc --noprofile" '[#$] ?$' || return 1
	open_shell ecaptop-open-zsh "zsh -f" '[#%] ?$' || return 1
	start_capture openshell || return 1
	for sh in bash zsh; do
		s=ecaptop-open-$sh
		# The first command fails on purpose: its status must be 3, not the default 0.
		type_line $s "echo first-$sh-$t; (exit 3)" "first-$sh-$t" || ok=1
		type_line $s "echo second-$sh-$t" "second-$sh-$t" || ok=1
		type_line $s "echo third-$sh-$t" "third-$sh-$t" || ok=1
	done
	stop_capture || ok=1
	tmux kill-session -t ecaptop-open-bash 2>/dev/null
	tmux kill-session -t ecaptop-open-zsh 2>/dev/null
	[ $ok -eq 0 ] || return 1
	grep -E 'attached (bash|zsh)' "$TMPD/openshell.err" | sed 's/^/  /'
	for sh in bash zsh; do
		for s in "echo first-$sh-$t; (exit 3)" "echo second-$sh-$t" "echo third-$sh-$t"; do
			n=$(count_records "$TMPD/openshell.json" \
				"r['type']=='command' and r['shell']=='$sh' and r['command']=='$s'")
			say "$sh: '$s' captured $n time(s)"
			[ "$n" = 1 ] || fail "$sh: '$s' captured $n times, not once" || return 1
		done
		id=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") == "command" and r.get("command", "").startswith("echo first-" + sys.argv[2]):
        print(r["command_id"]); break' "$TMPD/openshell.json" "$sh")
		has_record "$TMPD/openshell.json" "r['type']=='command_exit' and r['command_id']=='$id' \
and r['exit_status']==3" || fail "$sh: no exit status 3 for the first command" || return 1
	done
}

# A forking TLS server (python's ForkingMixIn: one child per connection, never an
# exec; the handshake and the HTTP exchange happen in the child).
write_forking_server() { # FILE
	cat >"$1" <<'PY'
import http.server, socketserver, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
class H(http.server.BaseHTTPRequestHandler):
    def setup(self):
        self.request = ctx.wrap_socket(self.request, server_side=True)
        super().setup()
    def do_GET(self):
        body = ("child of a forking server: " + self.path + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ForkingMixIn, http.server.HTTPServer):
    allow_reuse_address = True
S(("127.0.0.1", port), H).serve_forever()
PY
}

# proc_lines FILE: the "process" lines, one per line: pid start forked cgroup cmdline.
proc_lines() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") == "process":
        print(r["pid"], r.get("start_ns"), r["forked"], r.get("cgroup"), r.get("cmdline"))' "$1"
}

# A server that forks per connection without exec: the child that speaks TLS is its
# own process (its pid) with the server's command line, inherited at fork.
test_forked_child_command_line() {
	local port srv t=$RANDOM
	port=$(free_port)
	ensure_cert
	write_forking_server "$TMPD/forking.py"
	python3 "$TMPD/forking.py" "$port" "$TMPD/cert.pem" "$TMPD/key.pem" &
	srv=$!
	SERVERS+=("$srv")
	wait_for 20 curl -sk -o /dev/null "https://127.0.0.1:$port/up" || fail "server did not start" ||
		return 1
	start_capture forked || return 1
	curl -sk -o /dev/null "https://127.0.0.1:$port/fork-$t" || fail "request failed"
	stop_capture || return 1
	proc_lines "$TMPD/forked.json" | sed 's/^/  process: /'
	python3 - "$TMPD/forked.json" "$srv" "$port" "fork-$t" "$TMPD/forking.py" <<'PY' || return 1
import json, sys
path, srv, port, tag, script = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
procs, served = {}, set()
for l in open(path):
    r = json.loads(l)
    if r.get("type") == "process":
        procs[(r["pid"], r.get("start_ns"))] = r
    elif r.get("type") == "data" and r.get("source") == "openssl" and r.get("dir") == "recv" \
            and r.get("rport") != int(port) and "GET /" + tag in __import__("base64").b64decode(r["data"]).decode("latin1"):
        served.add((r["pid"], r.get("proc_start_ns")))
if not served:
    sys.exit("  FAILED: the server side of the request was not captured")
for key in served:
    p = procs.get(key)
    print("  served by pid %d: %s" % (key[0], json.dumps(p)))
    if key[0] == srv:
        sys.exit("  FAILED: the request was attributed to the server, not its child")
    if not p:
        sys.exit("  FAILED: no process line for pid %d" % key[0])
    if not p["forked"] or p["ppid"] != srv or script not in (p.get("cmdline") or ""):
        sys.exit("  FAILED: the child does not show the server's command line")
PY
}

# A pid the kernel gives again (forced: /proc/sys/kernel/ns_last_pid, then fork) is a
# new process: a forked python child that made a TLS request, then curl under the same
# pid. Each has its own "process" line (its start, command line) and its events say
# which process they belong to.
test_pid_reuse_is_new_process() {
	local port t=$RANDOM out
	port=$(free_port)
	mkdir -p "$TMPD/reuse-www"
	echo old >"$TMPD/reuse-www/old-$t"
	echo new >"$TMPD/reuse-www/new-$t"
	start_tls_server "$port" "$TMPD/reuse-www" || return 1
	start_capture pidreuse || return 1
	out=$(python3 - "$port" "$t" <<'PY'
import os, ssl, sys, urllib.request
port, t = sys.argv[1], sys.argv[2]
ctx = ssl._create_unverified_context()
pid = os.fork()
if pid == 0:
    urllib.request.urlopen("https://127.0.0.1:%s/old-%s" % (port, t), context=ctx).read()
    os._exit(0)
os.waitpid(pid, 0)
# Other programs fork too: try until the kernel hands out the same pid.
for attempt in range(200):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(pid - 1))
    c = os.fork()
    if c == 0:
        if os.getpid() == pid:
            os.execvp("curl", ["curl", "-sk", "-o", "/dev/null",
                               "https://127.0.0.1:%s/new-%s" % (port, t)])
        os._exit(0)
    os.waitpid(c, 0)
    if c == pid:
        print(pid, attempt + 1)
        break
PY
)
	stop_capture || return 1
	[ -n "$out" ] || fail "the pid was never reused" || return 1
	say "pid ${out% *} reused after ${out#* } attempt(s)"
	proc_lines "$TMPD/pidreuse.json" | awk -v p="${out% *}" '$1 == p' | sed 's/^/  process: /'
	python3 - "$TMPD/pidreuse.json" "${out% *}" "$t" <<'PY'
import base64, json, sys
path, pid, t = sys.argv[1], int(sys.argv[2]), sys.argv[3]
procs, reqs = {}, {}
for l in open(path):
    r = json.loads(l)
    if r.get("pid") != pid:
        continue
    if r.get("type") == "process":
        procs[r.get("start_ns")] = r
    elif r.get("type") == "data" and r.get("dir") == "send":
        d = base64.b64decode(r["data"]).decode("latin1")
        for tag in ("old", "new"):
            if "GET /%s-%s" % (tag, t) in d:
                reqs[tag] = r.get("proc_start_ns")
if set(reqs) != {"old", "new"}:
    sys.exit("  FAILED: requests captured: %s" % sorted(reqs))
old, new = procs.get(reqs["old"]), procs.get(reqs["new"])
if not old or not new or reqs["old"] == reqs["new"]:
    sys.exit("  FAILED: both requests belong to one process (start %s, %s)" % (reqs["old"], reqs["new"]))
if not old["forked"] or "python3" not in (old["cmdline"] or ""):
    sys.exit("  FAILED: the first process is not the forked python child: %s" % old)
if new["forked"] or not (new["cmdline"] or "").startswith("curl "):
    sys.exit("  FAILED: the second process is not curl: %s" % new)
print("  old: start %d, %s; new: start %d, %s" % (reqs["old"], old["cmdline"], reqs["new"], new["cmdline"]))
PY
}

# Every event names its process's cgroup v2 path: a curl started in a cgroup made here
# after "ready", the children of a forking server placed in a sibling cgroup before
# ecaptop started (the path comes with the fork, from the kernel's cgroup id), and a
# python client that moves itself into a third cgroup after its exec, then requests.
test_cgroup_path_in_events() {
	local mnt top rel port srv t=$RANDOM ok=0
	mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$mnt" ] || { say "no cgroup v2 file system mounted"; return 77; }
	top=$mnt/ecaptop-test-$t
	mkdir -p "$top/cli" "$top/srv" "$top/moved" || fail "cannot make cgroups under $mnt" || return 1
	rel=${top#"$mnt"}
	port=$(free_port)
	ensure_cert
	write_forking_server "$TMPD/forking-cg.py"
	bash -c 'echo $$ >"$0/cgroup.procs" && exec python3 "$@"' "$top/srv" \
		"$TMPD/forking-cg.py" "$port" "$TMPD/cert.pem" "$TMPD/key.pem" &
	srv=$!
	SERVERS+=("$srv")
	wait_for 20 curl -sk -o /dev/null "https://127.0.0.1:$port/up" || ok=1
	[ $ok -eq 0 ] && { start_capture cgpath || ok=1; }
	if [ $ok -eq 0 ]; then
		bash -c 'echo $$ >"$0/cgroup.procs" && exec curl -sSk -o /dev/null "$1"' "$top/cli" \
			"https://127.0.0.1:$port/cg-$t" || fail "client failed"
		python3 -c 'import os, ssl, sys, urllib.request
open(sys.argv[1] + "/cgroup.procs", "w").write(str(os.getpid()))
urllib.request.urlopen(sys.argv[2], context=ssl._create_unverified_context()).read()' \
			"$top/moved" "https://127.0.0.1:$port/moved-$t" || fail "moved client failed"
		stop_capture || ok=1
	fi
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	# The server's last child may still be leaving its cgroup.
	wait_for 5 rmdir "$top/srv"
	rmdir "$top/cli" "$top/moved" "$top" 2>/dev/null
	[ $ok -eq 0 ] || return 1
	python3 - "$TMPD/cgpath.json" "$rel" "$t" <<'PY'
import base64, json, sys
path, rel, t = sys.argv[1], sys.argv[2], sys.argv[3]
seen = {}
for l in open(path):
    r = json.loads(l)
    if r.get("type") != "data" or r.get("source") != "openssl":
        continue
    d = base64.b64decode(r["data"]).decode("latin1")
    for tag in ("cg", "moved"):
        if "GET /%s-%s " % (tag, t) in d:
            seen[(tag, r["dir"])] = (r["comm"], r.get("cgroup"))
for k in sorted(seen):
    print("  %s request, %s side: %s in %s" % (k[0], k[1], seen[k][0], seen[k][1]))
want = {("cg", "send"): rel + "/cli", ("cg", "recv"): rel + "/srv",
        ("moved", "send"): rel + "/moved", ("moved", "recv"): rel + "/srv"}
for k, cg in want.items():
    if k not in seen:
        sys.exit("  FAILED: no %s event of the %s request" % (k[1], k[0]))
    if seen[k][1] != cg:
        sys.exit("  FAILED: the %s request's %s side is in %s, not %s" % (k[0], k[1], seen[k][1], cg))
PY
}
