#!/usr/bin/env bash
# check-includes.sh: fail when a file includes across a boundary ARCHITECTURE.md forbids.
# Each room lists the project headers it may include (shell patterns on the path
# as written in #include "..."); system headers (<...>) are not checked here.
set -u
set -f # the patterns below are matched, never expanded as file names
cd "$(dirname "$0")/../.."

# room (folder, longest match wins) -> allowed include patterns
allowed() {
	case $1 in
	bpf) echo 'vmlinux.h bpf/* *.bpf.h events.h' ;;
	decoders | decoders/*) echo 'decoders/*' ;;
	engine) echo 'engine/*.h bpf/events.h decoders/*' ;;
	engine/capture) echo 'engine/*.h engine/capture/* engine/discover/targets.h engine/discover/apps.h engine/discover/keylog.h engine/discover/discover.h engine/file/pcapng.h engine/file/replay.h engine/file/pcapng_pkt.h bpf/events.h bpf/packets.h *.skel.h decoders/*' ;;
	engine/discover) echo 'engine/*.h engine/discover/* bpf/events.h *.skel.h' ;;
	engine/file) echo 'engine/*.h engine/file/* bpf/events.h decoders/*' ;;
	tui/session) echo 'engine/*.h tui/session/* decoders/*' ;;
	tui) echo 'engine/*.h engine/file/pcapng.h engine/file/record.h tui/* decoders/*' ;;
	*) echo '*' ;;
	esac
}

bad=0
while IFS= read -r f; do
	dir=${f%/*}
	[ "$dir" = "$f" ] && dir=.
	pats=$(allowed "$dir")
	while IFS= read -r inc; do
		ok=0
		for p in $pats; do
			# A pattern ending in "/*" takes the folder and every folder below it;
			# elsewhere "*" stays inside one folder ("engine/*.h" is the engine
			# root's headers, not engine/capture/'s).
			if [[ $p != */\* ]]; then
				sp=${p//[^\/]/}
				si=${inc//[^\/]/}
				[ ${#sp} -eq ${#si} ] || continue
			fi
			# shellcheck disable=SC2053
			[[ $inc == $p ]] && ok=1 && break
		done
		# a header of the file's own folder, included by its bare name
		[ -e "$dir/$inc" ] && ok=1
		if [ $ok -eq 0 ]; then
			echo "$f includes \"$inc\": not allowed from $dir/ (see ARCHITECTURE.md)"
			bad=1
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done < <(git ls-files 'bpf/*.[ch]' 'engine/*.[ch]' 'decoders/*.[ch]' 'tui/*.[ch]')
exit $bad
