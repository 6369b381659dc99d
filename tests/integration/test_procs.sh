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
