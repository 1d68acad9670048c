# Sub-checks for the shell tests (tests/test_*.sh), sourced by them: each
# check prints "ok N - ..." or "FAIL N - ...", and finish prints Check's
# "NN%: Checks: N, Failures: F, Errors: E" line, which tests/summary.sh
# counts like a Check program's, then exits with the result.
# shellcheck shell=bash disable=SC2317

checks=0
failures=0
errors=0

check() { # check DESCRIPTION COMMAND...: one sub-check
	local desc=$1
	shift
	checks=$((checks + 1))
	if "$@"; then
		echo "ok $checks - $desc"
	else
		failures=$((failures + 1))
		echo "FAIL $checks - $desc"
	fi
}

finish() {
	local pct=100
	[ "$checks" -eq 0 ] || pct=$(((checks - failures - errors) * 100 / checks))
	echo "$pct%: Checks: $checks, Failures: $failures, Errors: $errors"
	[ "$failures" -eq 0 ] && [ "$errors" -eq 0 ]
	exit $?
}

error() { # the test itself cannot go on
	checks=$((checks + 1))
	errors=$((errors + 1))
	echo "ERROR $checks - $*"
	finish
}

eq() { [ "$1" = "$2" ]; }
nonempty() { [ -s "$1" ]; }
has_line() { grep -qxF -- "$2" "$1"; }
contains() { grep -qF -- "$2" "$1"; }
has_line_re() { grep -qE -- "$2" "$1"; }
lacks() { ! grep -qiE -- "$2" "$1"; }
is_json() { python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }
