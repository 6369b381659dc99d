#!/usr/bin/env bash
# check-gitignore.sh: libFuzzer's artifacts (crash-*, leak-*, timeout-*, oom-*)
# are ignored where a run leaves them (the repository root, the .output*
# folders), but seeds kept under tests/fuzz/corpus/ may keep those names (every
# input that once broke a decoder stays in the suite, under its own name).
# Prints "PASS"/"FAIL" lines; exit status 0 if all hold, 1 if not, 2 if this is
# not a git checkout.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 2
rc=0
for kind in crash leak timeout oom; do
	name=$kind-0123456789abcdef
	for p in "$name" ".output/fuzz/$name" ".output-x/fuzz/$name"; do
		if git check-ignore -q --no-index "$p"; then
			echo "PASS ignored: $p"
		else
			echo "FAIL not ignored: $p"
			rc=1
		fi
	done
	for p in "tests/fuzz/corpus/fuzz_stream/$name" "tests/fuzz/corpus/fuzz_mysql/$name"; do
		if git check-ignore -q --no-index "$p"; then
			echo "FAIL ignored (a seed could not be committed): $p"
			rc=1
		else
			echo "PASS not ignored: $p"
		fi
	done
done
exit $rc
