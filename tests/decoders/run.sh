#!/usr/bin/env bash
# tests/decoders/run.sh [--regen] [NAME...]: run the decoder tests listed in
# tests/decoders/TESTLIST ("NAME STREAM-FILE EXPECTED-FILE [dectest options]",
# paths relative to tests/decoders/, '#' comments). Each stream goes through
# $OUTPUT/tools/dectest and its output is compared with the expected file.
# --regen rewrites the expected files instead (review the diff before committing).
# NAMEs limit the run to those tests. TEST_RUNNER: a command that runs dectest
# (qemu-aarch64 for a cross build, tests/cross/run.sh), none by default.
. "$(dirname "$0")/../lib/results.sh"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out_dir=${OUTPUT:-.output}
case $out_dir in /*) ;; *) out_dir=$top/$out_dir ;; esac
tool=$out_dir/tools/dectest
regen=0
if [ "${1:-}" = "--regen" ]; then
	regen=1
	shift
fi
only=" $* "
if [ ! -x "$tool" ]; then
	result FAIL decoders/dectest "no $tool: run make OUTPUT=${OUTPUT:-.output} tools"
	exit 0
fi
fails=0
while read -r name stream expected opts; do
	case $name in '' | '#'*) continue ;; esac
	[ "$only" != "  " ] && [ "${only#* "$name" }" = "$only" ] && continue
	if [ -z "$expected" ]; then
		result FAIL "decoders/$name" "TESTLIST line needs NAME STREAM EXPECTED"
		continue
	fi
	# shellcheck disable=SC2086 # options and the runner are words
	got=$(cd "$here" && ${TEST_RUNNER:-} "$tool" $opts "$stream" 2>&1)
	rc=$?
	if [ $regen = 1 ]; then
		printf '%s\n' "$got" >"$here/$expected"
		echo "regenerated $expected (exit status $rc)"
		continue
	fi
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$got" | tail -n 20
		result FAIL "decoders/$name" "dectest exit status $rc"
		fails=$((fails + 1))
	elif ! [ -f "$here/$expected" ]; then
		result FAIL "decoders/$name" "missing $expected"
		fails=$((fails + 1))
	elif diff_out=$(diff -u "$here/$expected" <(printf '%s\n' "$got")); then
		result PASS "decoders/$name"
	else
		printf '%s\n' "$diff_out" | head -n 40
		result FAIL "decoders/$name"
		fails=$((fails + 1))
	fi
done <"$here/TESTLIST"
# Fuzz seeds that broke a decoder keep libFuzzer's names (crash-*...): they must
# not be ignored by git (only on a full run).
if [ $regen = 0 ] && [ "$only" = "  " ]; then
	gi_out=$("$here/check-gitignore.sh" 2>&1)
	case $? in
	0) result PASS decoders/gitignore-fuzz-seeds ;;
	2) result SKIP decoders/gitignore-fuzz-seeds "not a git checkout" ;;
	*)
		printf '%s\n' "$gi_out" | grep '^FAIL'
		result FAIL decoders/gitignore-fuzz-seeds
		;;
	esac
fi
exit 0
