#!/usr/bin/env bash
# Integration tests: real programs on loopback, real BPF. Needs root; skips with a
# clear message only where BPF is truly unavailable.
#   ECAPTOP=/path/to/ecaptop tests/integration/run.sh [TEST-NAME...]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/results.sh"
. "$HERE/lib.sh"
trap 'cleanup_all; [ -n "${KEEP:-}" ] && echo "kept $TMPD" || rm -rf "$TMPD"' EXIT

for f in "$HERE"/test_*.sh; do
	. "$f"
done
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
	mapfile -t tests < <(declare -F | awk '{print $3}' | grep '^test_' | sort)
fi

if [ "$(id -u)" -ne 0 ]; then
	for t in "${tests[@]}"; do result SKIP "integration/$t" "needs root for BPF"; done
	exit 0
fi
if ! check_out=$("$ECAPTOP" --check 2>&1); then
	printf '%s\n' "$check_out"
	# Skip only where BPF is truly unavailable (no privileges, no BTF); a program
	# the verifier refuses is a failure, and the tests below will say so.
	if printf '%s\n' "$check_out" | grep -Eq '^(privileges|BTF).*: no$'; then
		for t in "${tests[@]}"; do result SKIP "integration/$t" "BPF unavailable: see --check above"; done
		exit 0
	fi
fi

for t in "${tests[@]}"; do
	echo "--- $t"
	(
		set +e
		timeout "${TEST_TIMEOUT[$t]:-300}" bash -c ". '$HERE/../lib/results.sh'; . '$HERE/lib.sh'; TMPD='$TMPD'; \
			for f in '$HERE'/test_*.sh; do . \"\$f\"; done; trap cleanup_all EXIT; $t"
	)
	rc=$?
	if [ $rc -eq 0 ]; then
		result PASS "integration/$t"
	elif [ $rc -eq 77 ]; then
		result SKIP "integration/$t" "see above"
	else
		result FAIL "integration/$t" "exit $rc"
	fi
done
exit 0
