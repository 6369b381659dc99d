#!/usr/bin/env bash
# summary.sh MAKE_STATUS: count .output/results and print the closing line.
. "$(dirname "$0")/results.sh"
make_rc=${1:-0}
pass=$(grep -c '^PASS ' "$RESULTS" 2>/dev/null)
fail=$(grep -c '^FAIL ' "$RESULTS" 2>/dev/null)
skip=$(grep -c '^SKIP ' "$RESULTS" 2>/dev/null)
echo
if [ "${fail:-0}" -gt 0 ]; then
	echo "Failed:"
	grep '^FAIL ' "$RESULTS"
fi
if grep -q '^SKIP ' "$RESULTS" 2>/dev/null; then
	echo "Skipped:"
	grep '^SKIP ' "$RESULTS"
fi
if [ "$make_rc" -ne 0 ]; then
	echo "a build step failed (make exit status $make_rc)"
	fail=$((${fail:-0} + 1))
fi
echo "${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
[ "${fail:-0}" -eq 0 ] && [ "${pass:-0}" -gt 0 ]
