#!/usr/bin/env bash
# The completion protocol's model (model/mailbox.pml) checked with spin by
# scripts/model-check: one sub-check per configuration, each passing when
# spin gives the answer the configuration must give (the mailbox safe and
# live; the baseline's race, the no-full-drain livelock, a stalled producer
# and the mailbox's mutants found as counterexamples).  Skipped (exit 77)
# where spin is not installed; scripts/setup installs it, so CI runs it.
#
# The log ends with Check's "NN%: Checks: N, Failures: F, Errors: E" line,
# which tests/summary.sh counts.

# shellcheck disable=SC2317
set -uo pipefail

srcdir=$(cd "${DFB_SRCDIR:-$(dirname "$0")/..}" && pwd)
# shellcheck source=tests/check_lib.sh
. "$srcdir/tests/check_lib.sh"

if ! command -v spin >/dev/null; then
	echo "SKIP: spin is not installed (apt-get install spin)"
	exit 77
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout $((600 * ${CK_TIMEOUT_MULTIPLIER:-1})) "$srcdir/scripts/model-check" >"$out" 2>&1
rc=$?
cat "$out"
lines=$(grep -cE '^(ok|FAIL) ' "$out")
check "model-check ran every configuration (10 lines)" eq "$lines" 10
check "model-check exit status 0 (got $rc)" eq "$rc" 0
while IFS= read -r line; do
	case $line in
	ok\ *) check "${line#ok }" true ;;
	FAIL\ *) check "${line#FAIL }" false ;;
	esac
done <"$out"
finish
