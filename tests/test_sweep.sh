#!/usr/bin/env bash
# End-to-end test of sweeps (issue 11), run by `make check`: usage errors
# (exit 2, nothing written), a bounded two-key sweep through
# scripts/benchmark_rounds (sweep.csv and its rows, the point scenarios in
# rounds.csv, sweep_strategies.csv, the answer, the maps, the report, a
# saved comparison of a sweep with itself), and a one-key curve.  Tiny
# rounds (tasks=200), no timing asserted.
#
# The log ends with a Check-style line that tests/summary.sh counts.
# Environment: DFB_SRCDIR, DFB_DEFERBENCH (as tests/test_benchmark_rounds.sh),
# CK_TIMEOUT_MULTIPLIER (scales the time limits).

# shellcheck disable=SC2317
set -uo pipefail

srcdir=$(cd "${DFB_SRCDIR:-$(dirname "$0")/..}" && pwd)
script=$srcdir/scripts/benchmark_rounds
export DFB_DEFERBENCH=${DFB_DEFERBENCH:-$PWD/bench/deferbench}
bin=$DFB_DEFERBENCH
limit=$((120 * ${CK_TIMEOUT_MULTIPLIER:-1}))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=tests/check_lib.sh
. "$srcdir/tests/check_lib.sh"

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
empty_dir() { [ -z "$(ls -A "$1" 2>/dev/null)" ]; }
lines() { wc -l <"$1" | tr -d ' '; }

[ -x "$bin" ] || error "$bin is not built"

# ---- usage errors: exit 2, nothing run or written --------------------------

usage_case() { # usage_case DESCRIPTION NEEDLE ARGS...
	local what=$1 needle=$2
	shift 2
	local rc=0
	mkdir -p "$tmp/u"
	"$bin" suite -o "$tmp/u/out" -s spinlock,mailbox -n 2 -w 0 "$@" >"$tmp/u.out" 2>&1 || rc=$?
	check "$what: exit 2 (got $rc)" eq "$rc" 2
	check "$what: says '$needle'" contains "$tmp/u.out" "$needle"
	check "$what: writes nothing" empty_dir "$tmp/u"
	rm -rf "$tmp/u"
}
usage_case "backwards range" "runs backwards" --sweep sched_threads=4..1
usage_case "unknown key" "did you mean sched_threads" --sweep sched_thread=1,2
usage_case "bad value" "spin_hint" --sweep spin_hint=yield,nonesuch
usage_case "a third key" "at most 2 keys" --sweep sched_threads=1,2 --sweep kernel_us=1,2 \
	--sweep tasks=100,200
usage_case "the same key twice" "given twice" --sweep sched_threads=1,2 --sweep sched_threads=3
usage_case "unknown set" "no set 'nonesuch'" --sweep-set nonesuch
usage_case "sweep and set" "do not go together" --sweep sched_threads=1,2 --sweep-set regimes
usage_case "more passes than rounds" "more passes than rounds" --sweep sched_threads=1,2 \
	--passes 3
usage_case "too many passes" "at most 100" --sweep sched_threads=1,2 --passes 101
usage_case "a point the runtime refuses" "sweep point deferred_heavy/window=3" \
	--sweep window=3,16
rc=0
"$script" -o "$tmp/r0" --sweep kernel_us=5..1 >"$tmp/r0.out" 2>&1 || rc=$?
check "benchmark_rounds passes a bad sweep on: exit 2 (got $rc)" eq "$rc" 2
check "benchmark_rounds writes no results directory" eq "$(find "$tmp/r0" -mindepth 1 \
	-maxdepth 1 -type d ! -name baselines 2>/dev/null | wc -l)" 0

# ---- a two-key sweep, end to end --------------------------------------------

res=$tmp/res
echo "# benchmark_rounds --sweep conditions_per_task=1,4 --sweep sched_threads=1..2 (limit ${limit}s)"
rc=0
timeout "$limit" "$script" -o "$res" -s spinlock,mailbox -n 4 -w 0 -S tasks=200 \
	--sweep conditions_per_task=1,4 --sweep sched_threads=1..2 >"$tmp/run.out" 2>&1 || rc=$?
cat "$tmp/run.out"
check "sweep run exits 0 (got $rc)" eq "$rc" 0
out=$(find "$res" -mindepth 1 -maxdepth 1 -type d ! -name baselines ! -name '.*' | head -n 1)
[ -n "$out" ] || error "no results directory under $res"
check "the estimate is printed before the run" has_line_re "$tmp/run.out" \
	'^sweep: 4 points \(1 sweep\), 2 strategies, 4 rounds after 0 warm-up: estimated [0-9]+:[0-9]{2} '
check "every point ran" contains "$tmp/run.out" "Benchmark complete: 4 passed, 0 failed"
check "sweep.csv header" eq "$(head -n 1 "$out/sweep.csv")" \
	sweep,scenario,base_scenario,key1,value1,key2,value2,baseline,candidate,metric,baseline_median,candidate_median,change_pct,ci_lo_pct,ci_hi_pct,p_value,p_threshold,mde_pct,verdict,baseline_p999_ns,candidate_p999_ns,p999_ratio,two_levels
check "sweep.csv: one row per point and pair" eq "$(lines "$out/sweep.csv")" 5
check "sweep.csv: the point's keys and values" has_line_re "$out/sweep.csv" \
	'^sweep,deferred_heavy/conditions_per_task=4/sched_threads=2,deferred_heavy,conditions_per_task,4,sched_threads,2,spinlock,mailbox,sched_us,[0-9.e+]+,[0-9.e+]+,'
check "sweep_strategies.csv: one row per point and strategy" eq \
	"$(lines "$out/sweep_strategies.csv")" 9
check "rounds.csv holds the points as scenarios" has_line_re "$out/rounds.csv" \
	'^deferred_heavy/conditions_per_task=1/sched_threads=1,mailbox,'
check "the answer names the pair" contains "$out/sweep_answer.txt" "mailbox against spinlock:"
check "the answer gives the command" contains "$out/sweep_answer.txt" \
	"Reproduce: $bin suite"
check "the console ends with the answer" contains "$tmp/run.out" \
	"Sweep: where each strategy wins"
for f in map-sweep-deferred_heavy-spinlock-mailbox map-p999-sweep-deferred_heavy-spinlock-mailbox; do
	check "$f.png is a PNG" is_png "$out/plots/$f.png"
	check "$f.svg is non-empty" nonempty "$out/plots/$f.svg"
done
check "the report leads with the sweep" has_line_re "$out/report.md" \
	'^## Where each design wins \(sweep\)$'
check "the report embeds the map" contains "$out/report.md" \
	"plots/map-sweep-deferred_heavy-spinlock-mailbox.png"
rc=0
"$bin" compare "$out" "$out" >"$tmp/cmp.out" 2>&1 || rc=$?
check "compare reads a sweep's rounds (got $rc)" eq "$rc" 0
check "compare matches the points by name" contains "$tmp/cmp.out" \
	"deferred_heavy/conditions_per_task=4/sched_threads=2"

# ---- against the first run as a saved one: the crossovers side by side -------

rc=0
timeout "$limit" "$bin" suite -o "$tmp/again" -b "$out" -s spinlock,mailbox -n 4 -w 0 \
	-S tasks=200 --sweep conditions_per_task=1,4 --sweep sched_threads=1..2 \
	>"$tmp/again.out" 2>&1 || rc=$?
check "a sweep against a saved sweep exits 0 (got $rc)" eq "$rc" 0
check "the answer sets this run's crossovers beside the saved run's" has_line_re \
	"$tmp/again/sweep_answer.txt" '^Against the saved run .*: the crossovers each run states'
check "the answer counts them" has_line_re "$tmp/again/sweep_answer.txt" \
	'^Crossovers: [0-9]+ agree within one grid step, [0-9]+ only in this run, [0-9]+ only in the saved run; of those [0-9]+, [0-9]+ where the other run has the same boundary with one side not significant\.$'
check "a sweep without -b says nothing of a saved run" lacks "$out/sweep_answer.txt" \
	"Against the saved run"

# ---- several invocations: each one's crossovers checked ---------------------

rc=0
timeout "$limit" "$bin" suite -o "$tmp/inv" -s spinlock,mailbox -n 3 -w 0 -S tasks=200 \
	--invocations 2 --sweep conditions_per_task=1,4 >"$tmp/inv.out" 2>&1 || rc=$?
check "a sweep of two invocations exits 0 (got $rc)" eq "$rc" 0
check "its answer says crossovers must show in each invocation" contains \
	"$tmp/inv/sweep_answer.txt" "A crossover is stated only where each of the run's 2 invocations"
check "a sweep of one invocation does not say so" lacks "$out/sweep_answer.txt" \
	"invocations, judged on its own"

# ---- passes: each point visited again, its rounds merged -------------------

rc=0
timeout "$limit" "$bin" suite -o "$tmp/pass" -s spinlock,mailbox -n 5 -w 0 -S tasks=200 \
	--passes 2 --sweep conditions_per_task=1,4 >"$tmp/pass.out" 2>&1 || rc=$?
check "a sweep in two passes exits 0 (got $rc)" eq "$rc" 0
check "it visits the first point in the second pass" contains "$tmp/pass.out" \
	"=== deferred_heavy/conditions_per_task=1 (3/4, pass 2 of 2): 2 rounds"
check "the first pass runs the extra round" contains "$tmp/pass.out" \
	"=== deferred_heavy/conditions_per_task=4 (2/4, pass 1 of 2): 3 rounds"
check "rounds.csv: five rounds of each strategy at each point, numbered 0..4" eq \
	"$(awk -F, 'NR > 1 { n[$1 "," $2]++; r[$1 "," $2 "," $4]++ }
		END { for (k in n) if (n[k] != 5) bad++; for (k in r) if (r[k] != 1) bad++
		      print bad + 0 " " length(n) }' "$tmp/pass/rounds.csv")" "0 4"
check "sweep.csv: each point once" eq "$(lines "$tmp/pass/sweep.csv")" 3
check "meta.txt records the passes" has_line_re "$tmp/pass/meta.txt" '^passes: 2$'

# ---- one key: curves, oversubscription marked ------------------------------

rc=0
timeout "$limit" "$bin" suite -o "$tmp/one" -s spinlock,mailbox -n 4 -w 0 -S tasks=200 \
	-S placement=compact --sweep sched_threads=1,2,...,3 >"$tmp/one.out" 2>&1 || rc=$?
check "one-key sweep exits 0 (got $rc)" eq "$rc" 0
"$srcdir/scripts/render-plots" "$tmp/one" >/dev/null 2>&1
check "one-key sweep: the curve" is_png "$tmp/one/plots/curve-sweep-deferred_heavy.png"
check "one-key sweep: the p99.9 curve" is_png "$tmp/one/plots/curve-p999-sweep-deferred_heavy.png"
check "one-key sweep: no map" eq "$(find "$tmp/one/plots" -name 'map-*' | wc -l)" 0
check "one-key sweep: three points" eq "$(lines "$tmp/one/sweep.csv")" 4

finish
