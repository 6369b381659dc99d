# Sourced by the test runners: record one result line in .output/results.
# result PASS|FAIL|SKIP NAME [REASON]
RESULTS=${RESULTS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/${OUTPUT:-.output}/results}
mkdir -p "$(dirname "$RESULTS")"
result() {
	local st=$1 name=$2
	shift 2
	printf '%s %s%s\n' "$st" "$name" "${*:+ ($*)}" >>"$RESULTS"
	printf '%s %s%s\n' "$st" "$name" "${*:+ ($*)}"
}
