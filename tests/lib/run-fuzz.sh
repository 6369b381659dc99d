#!/usr/bin/env bash
# run-fuzz.sh SECONDS BIN...: run each libFuzzer target for SECONDS, seeded from
# tests/fuzz/corpus/<target>/ (kept in git: the inputs that once broke something).
. "$(dirname "$0")/results.sh"
secs=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
for bin in "$@"; do
	name=$(basename "$bin")
	seeds=$top/tests/fuzz/corpus/$name
	work=$top/${OUTPUT:-.output}/fuzz/work-$name
	mkdir -p "$work"
	args=("$work")
	[ -d "$seeds" ] && args+=("$seeds")
	if out=$("$bin" -max_total_time="$secs" -rss_limit_mb=2048 -artifact_prefix="$top/${OUTPUT:-.output}/fuzz/$name-" \
		"${args[@]}" 2>&1); then
		printf '%s\n' "$out" | grep -E '^(Done|#[0-9]+.*DONE)' | tail -n 1
		result PASS "fuzz/$name" "${secs}s"
	else
		printf '%s\n' "$out" | tail -n 30
		result FAIL "fuzz/$name"
	fi
done
exit 0
