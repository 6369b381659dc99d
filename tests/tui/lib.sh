# tmux harness for the TUI tests, sourced by tests/tui/run.sh.
#   tui_start W H [ARGS...]  start $ECAPTOP in a detached tmux session of W x H
#                            (with the environment assignments in $TUI_ENV)
#   tui_keys KEY...          tmx send-keys (key names as tmux knows them: F4 Enter Escape)
#   tui_type TEXT            send TEXT literally
#   tui_screen [-e]          the screen now (with -e: with colour escape codes)
#   tui_wait REGEX [SECS]    poll the screen until REGEX (grep -E) matches; 1 on timeout
#   tui_wait_not REGEX [SECS]
#   tui_dump WHY             print the screen (on failure)
#   tui_stop                 quit (q), then kill the session if it lingers
TUI_SESSION=${TUI_SESSION:-ecaptop-tui-$$}
# a private tmux server: never touch anybody else's sessions
TUI_SOCKET=${TUI_SOCKET:-ecaptop-tui-$$}
TUI_LAST=""

tmx() {
	tmux -L "$TUI_SOCKET" "$@"
}

tui_start() {
	local w=$1 h=$2
	shift 2
	tmx kill-session -t "$TUI_SESSION" 2>/dev/null
	# a private HOME keeps the theme choice of one run from leaking into the next
	tmx new-session -d -s "$TUI_SESSION" -x "$w" -y "$h" \
		"env HOME=$TUI_HOME TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 $TUI_ENV $ECAPTOP $*; sleep 30"
	tmx set-option -t "$TUI_SESSION" -g window-size manual 2>/dev/null
	tmx resize-window -t "$TUI_SESSION" -x "$w" -y "$h" 2>/dev/null
}

tui_keys() {
	tmx send-keys -t "$TUI_SESSION" "$@"
}

tui_type() {
	tmx send-keys -t "$TUI_SESSION" -l -- "$1"
}

tui_screen() {
	tmx capture-pane -t "$TUI_SESSION" -p "$@"
}

tui_wait() {
	local re=$1 secs=${2:-10} end
	end=$((SECONDS + secs))
	while [ $SECONDS -le $end ]; do
		TUI_LAST=$(tui_screen)
		if printf '%s\n' "$TUI_LAST" | grep -Eq -- "$re"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

tui_wait_not() {
	local re=$1 secs=${2:-10} end
	end=$((SECONDS + secs))
	while [ $SECONDS -le $end ]; do
		TUI_LAST=$(tui_screen)
		if ! printf '%s\n' "$TUI_LAST" | grep -Eq -- "$re"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

tui_dump() {
	echo "---- screen ($1) ----"
	tui_screen
	echo "---------------------"
}

tui_stop() {
	tui_keys q 2>/dev/null
	sleep 0.3
	tmx kill-session -t "$TUI_SESSION" 2>/dev/null
	return 0
}

# tmux resize-window on the test's session
tui_resize() {
	tmx resize-window -t "$TUI_SESSION" -x "$1" -y "$2"
}
