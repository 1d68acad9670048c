#!/bin/sh
# Usage: summary.sh TEST.log...
#
# Closing line of `make check`: prints "N passed, M failed" counted in Check
# test cases, from the logs and .trs files of Automake's parallel harness.
#
# Per test program:
#   - each Check line "NN%: Checks: C, Failures: F, Errors: E" in its log
#     adds C-F-E passed and F+E failed (a program may run several suites);
#   - a program whose log has no such line (crashed or hung before Check
#     reported, or never built) counts as 1 failed, or 1 passed if the harness
#     says PASS (a plain, non-Check test); SKIP counts as nothing;
#   - a program the harness marks FAIL/ERROR although its Check counts show
#     no failure (e.g. a sanitizer report at exit) adds 1 failed.
# For failed programs, the tail of the log is shown first, since the harness
# hides test output.  The count line is always the last line printed.

passed=0
failed=0
tail_lines=${DFB_SUMMARY_TAIL:-40}

for log in "$@"; do
	trs=${log%.log}.trs
	result=
	if test -f "$trs"; then
		result=$(sed -n 's/^:test-result: *\([A-Z]*\).*/\1/p' "$trs" | head -n 1)
	fi
	test -n "$result" || result=ERROR
	test "$result" = SKIP && continue

	counts=
	if test -f "$log"; then
		counts=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$log")
	fi

	prog_failed=0
	if test -n "$counts"; then
		# word-split "C F E" triples on purpose
		# shellcheck disable=SC2086
		set -- $counts
		while test $# -ge 3; do
			passed=$((passed + $1 - $2 - $3))
			prog_failed=$((prog_failed + $2 + $3))
			shift 3
		done
		case $result in
		FAIL | ERROR | XPASS)
			test "$prog_failed" -gt 0 || prog_failed=1 ;;
		esac
	else
		case $result in
		PASS | XFAIL) passed=$((passed + 1)) ;;
		*) prog_failed=1 ;;
		esac
	fi
	failed=$((failed + prog_failed))

	case $result in
	PASS | XFAIL) ;;
	*)
		echo "==== $result: ${log%.log} (last $tail_lines lines of $log) ===="
		if test -f "$log"; then
			tail -n "$tail_lines" "$log"
		else
			echo "(no log: the test did not run)"
		fi
		;;
	esac
done

echo "$passed passed, $failed failed"
