#!/usr/bin/env bash
# Run unit-test binaries; each prints PASS/FAIL lines per case. TEST_RUNNER: a command
# that runs them (qemu-aarch64 for a cross build, tests/cross/run.sh), none by default.
. "$(dirname "$0")/results.sh"
for bin in "$@"; do
	name=$(basename "$bin")
	# shellcheck disable=SC2086 # the runner is words
	out=$(${TEST_RUNNER:-} "$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed -n 's/^\(PASS\|FAIL\|SKIP\) \(.*\)$/\1 \2/p' | while read -r st case; do
		printf '%s %s\n' "$st" "$name/$case" >>"$RESULTS"
	done
	printf '%s\n' "$out"
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL '; then
		result FAIL "$name" "exit status $rc"
	fi
done
exit 0
