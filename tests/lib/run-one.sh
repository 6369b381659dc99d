#!/usr/bin/env bash
# run-one.sh NAME COMMAND...: one test that passes when COMMAND exits 0.
. "$(dirname "$0")/results.sh"
name=$1
shift
if out=$("$@" 2>&1); then
	printf '%s\n' "$out" | tail -n 3
	result PASS "$name"
else
	printf '%s\n' "$out" | tail -n 40
	result FAIL "$name"
fi
exit 0
