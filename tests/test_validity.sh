#!/usr/bin/env bash
# End-to-end checks of what makes a verdict trustworthy, run by `make
# check`: a competing busy process marks rounds disturbed and turns the
# comparisons "disturbed"; --wait-quiet is bounded and says so; the suite
# runs --invocations in separate processes (rounds numbered by invocation,
# orders recorded); a comparison against a one-invocation run is
# "indicative only"; a failed invocation keeps no partial results; and
# `deferbench calibrate` writes its table and calibrate.csv.  Structure and
# files only: no timing is asserted.  Bounded: every command runs under
# timeout.
#
# The log ends with Check's "NN%: Checks: N, Failures: F, Errors: E" line,
# which tests/summary.sh counts.

# shellcheck disable=SC2317
set -uo pipefail

srcdir=$(cd "${DFB_SRCDIR:-$(dirname "$0")/..}" && pwd)
bin=${DFB_DEFERBENCH:-$PWD/bench/deferbench}
limit=$((60 * ${CK_TIMEOUT_MULTIPLIER:-1}))
tmp=$(mktemp -d)
hogs=()
cleanup() {
	for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=tests/check_lib.sh
. "$srcdir/tests/check_lib.sh"
col() { # col FILE NAME: the values of CSV column NAME
	python3 -c 'import csv,sys; [print(r[sys.argv[2]]) for r in csv.DictReader(open(sys.argv[1]))]' "$1" "$2"
}
run() { # run NAME CMD...: stdout+stderr to $tmp/NAME.out, the status to $tmp/NAME.rc
	local name=$1
	shift
	timeout "$limit" "$@" >"$tmp/$name.out" 2>&1
	echo $? >"$tmp/$name.rc"
	cat "$tmp/$name.out"
}
rc_of() { cat "$tmp/$1.rc"; }

[ -x "$bin" ] || error "$bin is not built"
quick=(-c deferred_heavy -n 4 -w 1 -s spinlock,mailbox)

# ---- disturbance: a busy process on every CPU ---------------------------------
for _ in $(seq "$(nproc)"); do
	sh -c 'while :; do :; done' &
	hogs+=($!)
done
sleep 0.3
run busy "$bin" suite "${quick[@]}" -o "$tmp/busy" --wait-quiet 1
for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
hogs=()
check "busy run exits 0" eq "$(rc_of busy)" 0
check "--wait-quiet gives up after its bound and says so" contains "$tmp/busy.out" "machine not quiet after 1 s"
d=$(col "$tmp/busy/rounds.csv" disturbed | grep -c '^1$')
n=$(col "$tmp/busy/rounds.csv" disturbed | wc -l)
check "rounds run beside busy processes are disturbed ($d of $n)" [ "$d" -ge $((n / 2)) ]
check "others_pct column is filled" [ -n "$(col "$tmp/busy/rounds.csv" others_pct | head -n 1)" ]
check "meta.txt names the disturbed scenario" contains "$tmp/busy/meta.txt" "warning: disturbed: deferred_heavy / spinlock"
check "the comparison's verdict is disturbed" \
	grep -q '^strategy,deferred_heavy,sched_us,spinlock,mailbox,.*,disturbed$' "$tmp/busy/comparison.csv"
check "columns.csv describes the disturbed column" grep -q '^disturbed,' "$tmp/busy/columns.csv"

# ---- invocations -------------------------------------------------------------------
run inv "$bin" suite "${quick[@]}" -o "$tmp/inv" --invocations 2 --seed 5
check "--invocations 2 exits 0" eq "$(rc_of inv)" 0
check "each invocation is announced" contains "$tmp/inv.out" "##### invocation 2:"
check "rounds.csv numbers two invocations" eq "$(col "$tmp/inv/rounds.csv" invocation | sort -u | tr '\n' ' ')" "1 2 "
check "four rounds per strategy and invocation" \
	eq "$(col "$tmp/inv/rounds.csv" invocation | grep -c '^2$')" 8
check "meta.txt records the invocations and orders" \
	eq "$(grep -c '^order: invocation' "$tmp/inv/meta.txt")" 2
check "the seed is recorded" contains "$tmp/inv/meta.txt" "order_seed: 5"
run one "$bin" suite "${quick[@]}" -o "$tmp/one"
run vs1 "$bin" compare "$tmp/one" "$tmp/inv"
check "compare against one invocation exits 0" eq "$(rc_of vs1)" 0
check "... never calls it improved or regressed outright" \
	lacks "$tmp/vs1.out" '^deferred_heavy +Sched.*  (improved|regressed)$'
check "... prints the MDE" contains "$tmp/vs1.out" "MDE"
run vs2 "$bin" compare "$tmp/inv" "$tmp/inv"
# (disturbed when other tests ran beside it: make -j check)
check "a run against itself is within noise" \
	grep -qE '^deferred_heavy +Sched .*(within noise|disturbed)$' "$tmp/vs2.out"
# A saved run that is not what deferbench writes is refused, not counted.
mkdir -p "$tmp/dup" "$tmp/inf" "$tmp/neg"
{ cat "$tmp/one/rounds.csv"; sed -n 2p "$tmp/one/rounds.csv"; } >"$tmp/dup/rounds.csv"
run dup "$bin" compare "$tmp/one" "$tmp/dup"
check "compare refuses a round listed twice" eq "$(rc_of dup)" 2
check "... naming it" contains "$tmp/dup.out" "round 0 of invocation 1 appears twice"
for bad in inf -1e300 nan; do
	python3 -c 'import csv,sys
r=list(csv.reader(open(sys.argv[1]))); i=r[0].index("sched_us"); r[1][i]=sys.argv[3]
csv.writer(open(sys.argv[2],"w"),lineterminator="\n").writerows(r)' \
		"$tmp/one/rounds.csv" "$tmp/inf/rounds.csv" "$bad"
	run inf "$bin" compare "$tmp/one" "$tmp/inf"
	check "compare refuses sched_us=$bad" eq "$(rc_of inf)" 2
	check "... with file:line" contains "$tmp/inf.out" "$tmp/inf/rounds.csv:2: sched_us"
done
python3 -c 'import csv,sys
r=list(csv.reader(open(sys.argv[1]))); i=r[0].index("lock_misses"); r[1][i]="4e119"
csv.writer(open(sys.argv[2],"w"),lineterminator="\n").writerows(r)' "$tmp/one/rounds.csv" "$tmp/inf/rounds.csv"
run big "$bin" compare "$tmp/one" "$tmp/inf"
check "compare refuses a count past 2^64 (fuzz/regressions/rounds)" eq "$(rc_of big)" 2
check "... naming it" contains "$tmp/big.out" "lock_misses = 4e119 is not a count"
check "bad --invocations is a usage error" eq "$("$bin" suite "${quick[@]}" -o "$tmp/x" --invocations 0 >/dev/null 2>&1; echo $?)" 2
check "bad --wait-quiet is a usage error" eq "$("$bin" suite "${quick[@]}" -o "$tmp/x" --wait-quiet -1 >/dev/null 2>&1; echo $?)" 2
"$bin" run deferred_heavy -n 1 -w 0 -S placement= >"$tmp/pl.out" 2>&1
check "an empty -S placement= is blamed on the --set" \
	has_line_re "$tmp/pl.out" '^--set placement=: placement is empty'
"$bin" run benchmark_bgemm -n 1 -w 0 -S sched_threads=2 -S orch_to_sched=1 \
	-S fault=fin_race >"$tmp/ck.out" 2>&1
check "a cross-key error is blamed on the --set that gave its key" \
	has_line_re "$tmp/ck.out" '^--set fault=fin_race: fault = fin_race cannot be combined with orch_to_sched = 1'
check "... not on the file" lacks "$tmp/pl.out" 'deferred_heavy[.]scn'

"$bin" validate --builtin -S tasks=0 >/dev/null 2>"$tmp/vb.out"
check "validate --builtin prints a bad --set once" \
	eq "$(grep -c '^--set tasks=0: ' "$tmp/vb.out")" 1
# ---- the drain core's probe (bench/core.h) ---------------------------------------------
# Pinned, every round has a loop time and the run a machine line; unpinned,
# the drain thread has no PU of its own and nothing is probed.
probe=(-c dummy_task_1 -n 3 -w 1 -s spinlock,mailbox -S core_probe=1)
run core "$bin" suite "${probe[@]}" -S placement=compact -o "$tmp/core"
check "a pinned core-probed run exits 0" eq "$(rc_of core)" 0
check "... fills core_ns in every round" \
	eq "$(col "$tmp/core/rounds.csv" core_ns | grep -c '^[0-9.]*[1-9][0-9.]*$')" 6
check "... and meta.txt has its machine line" \
	contains "$tmp/core/meta.txt" "machine: dummy_task_1: drain thread's core before each round"
run core0 "$bin" suite "${probe[@]}" -S placement=none -o "$tmp/core0"
check "unpinned, core_ns is empty" \
	eq "$(col "$tmp/core0/rounds.csv" core_ns | grep -c .)" 0
check "... and no line claims a state" lacks "$tmp/core0/meta.txt" "drain thread's core"
# --only: the verdicts of one state's rounds, rounds.csv with every round.
# Which rounds are alone is the machine's; the run's fastest probe always
# is (the threshold is 1.1x the lowest decile), so at least one is kept.
run only "$bin" suite "${probe[@]}" -S placement=compact --only alone -o "$tmp/only"
check "--only alone runs (0, or 1 where a strategy had no such round)" \
	grep -qx '[01]' "$tmp/only.rc"
check "... keeps every round in rounds.csv" eq "$(col "$tmp/only/rounds.csv" core_ns | wc -l)" 6
check "... and says in meta.txt how many it judged" \
	grep -qE '^only: alone \(core_probe: [1-6] of 6 rounds kept; rounds.csv has them all\)$' \
	"$tmp/only/meta.txt"
check "--only of no state is a usage error" \
	eq "$("$bin" suite "${probe[@]}" --only nowhere -o "$tmp/x" >/dev/null 2>&1; echo $?)" 2
run nowhere "$bin" compare --only nowhere a b
check "... on compare too, naming the states" contains "$tmp/nowhere.out" \
	"'nowhere' is not a machine state; one of near, far (-S xpu_probe=1); alone, shared (-S core_probe=1)"
# compare --only on rounds whose probe values are known: mailbox alone in
# rounds 0 and 1 only, spinlock in rounds 0, 1 and 2.
python3 - "$tmp/core/rounds.csv" "$tmp/known.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    alone = int(r["round"]) < (2 if r["strategy"] == "mailbox" else 3)
    r["core_ns"] = "1.080" if alone else "1.900"
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=list(rows[0].keys()))
w.writeheader()
w.writerows(rows)
PY
run known "$bin" compare --only alone "$tmp/known.csv" "$tmp/known.csv"
check "compare --only alone exits 0" eq "$(rc_of known)" 0
check "... counting the rounds it kept" \
	contains "$tmp/known.out" "known.csv: 5 of 6 rounds with the drain thread's core alone"
run known2 "$bin" compare --only shared "$tmp/known.csv" "$tmp/known.csv"
check "compare --only shared: spinlock has none, nothing in common (exit 2)" eq "$(rc_of known2)" 2

# ---- stress: a short run per strategy (bounded by its duration) ----------------------
# (the default strategies: `list` without the opt-in and unavailable ones)
default_strategies=$("$bin" list | awk '/^Strategies/ { on = 1; next } on && !NF { exit }
	on && !/opt-in|unavailable|not built/ { print $1 }')
for st in $default_strategies; do
	# (the preemption rate fixed: a round drawing rate 0 would inject none,
	# and a sanitizer build runs few rounds in 2 s)
	run "stress-$st" "$bin" stress -d 2 --seed 11 -s "$st" --preempt 50 deferred_heavy
	check "stress -s $st exits 0" eq "$(rc_of "stress-$st")" 0
	check "... and verifies with nothing lost" \
		has_line_re "$tmp/stress-$st.out" '^0 lost, 0 duplicated, 0 out of order, 0 other violations$'
	check "... having verified tasks or messages" \
		has_line_re "$tmp/stress-$st.out" '^verified: [0-9]+ tasks, [0-9]+ messages' 
	check "... with preemption injected" has_line_re "$tmp/stress-$st.out" '^preemptions injected: [1-9]'
done
# Random scenarios too (every shape, sizes drawn: release_batch=1 with
# dummy tasks is how the sanitizer builds found a heap overflow).
run stress-any "$bin" stress -d 4 --seed 5
check "stress over random scenarios exits 0" eq "$(rc_of stress-any)" 0
check "... and verifies with nothing lost" \
	has_line_re "$tmp/stress-any.out" '^0 lost, 0 duplicated, 0 out of order, 0 other violations$'
run stress-inj "$bin" stress -d 2 --seed 5 -s mailbox --inject slab_error transport_p1
check "stress --inject on a transport scenario is a usage error (exit 2)" eq "$(rc_of stress-inj)" 2
check "... which says faults act on graph scenarios" \
	grep -q 'transport_p1 is a transport scenario; faults act on the tasks of graph scenarios' \
	"$tmp/stress-inj.out"
# Every fault kind: each injected fault ends its round in the fault's own
# error (a different error would be a violation: exit 1), and a kind that
# does not apply to a strategy is counted apart.  The hanging kinds wait out
# the 2 s hang budget, so one round each.
for kind in slab_error too_many_conditions unknown_kind wait_overflow invalid_condition \
	engine_never producer_stall drop_completion; do
	case $kind in
	engine_never | producer_stall | drop_completion) d=1 ;;
	*) d=2 ;;
	esac
	run "inj-$kind" "$bin" stress -d $d --seed 5 -s mailbox,spinlock --inject "$kind" deferred_heavy
	check "stress --inject $kind exits 0" eq "$(rc_of "inj-$kind")" 0
	check "... every fault ended its round in its own error" \
		has_line_re "$tmp/inj-$kind.out" '^faults injected: ([1-9][0-9]*), ended in an error within the hang budget: \1,'
done
check "unknown_kind does not apply to spinlock, counted apart" \
	has_line_re "$tmp/inj-unknown_kind.out" 'configurations the fault does not apply to: [1-9]'
for bad in "-d 0" "-d x" "--inject bogus" "--seed -1" "--preempt -3" "-s nosuch" "a b"; do
	# shellcheck disable=SC2086
	check "stress $bad is a usage error" eq "$("$bin" stress $bad >/dev/null 2>&1; echo $?)" 2
done

run bigtopo "$bin" topo --topology "pack:100 core:100 pu:100"
check "a synthetic topology of a million PUs is refused (exit 2)" eq "$(rc_of bigtopo)" 2
check "... saying how many it describes" contains "$tmp/bigtopo.out" "describes 1000000 PUs; at most 16384"

# Every chain task of batch_paged_attention names its chunk's alloc task, up
# to 256 submissions back: the model's producer map must reach that far
# whatever the window (it failed "producer 0 is too far back to track").
run farback "$bin" run batch_paged_attention -n 1 -w 0 -s mailbox -S window=16 \
	-S scope_tasks=16 -S tasks=600 -S verify=1 >/dev/null
check "a window small for the shape's producer distance runs (verify=1)" eq "$(rc_of farback)" 0
# orch_to_sched: when every task is done before the orchestrator asks for
# the core transition, a scheduler that saw it has left without parking;
# the transition's waits must give up then, as upstream's do on completed_
# (they waited for ever: an unreported hang, found by an 8-minute stress
# run; 2 of 3 such runs hung before the fix).
for seed in 1 2 3; do
	run "o2s-$seed" "$bin" run deferred_heavy -s mailbox -n 200 -w 0 -S orch_to_sched=1 \
		-S tasks=4 -S kernel_us=0 -S deferred_fraction=0 -S sched_threads=2 -S preempt=2 \
		-S seed=$seed >/dev/null
	check "orch_to_sched rounds that finish before the transition end (seed $seed)" \
		eq "$(rc_of "o2s-$seed")" 0
done
for list in spinlock,spinlock spinlock, ,mailbox spinlock,,mailbox; do
	check "run -s '$list' is a usage error" \
		eq "$("$bin" run deferred_heavy -n 1 -w 0 -s "$list" >/dev/null 2>&1; echo $?)" 2
done

# A scenario that fails in an invocation keeps nothing of it.
run fail "$bin" suite -c deferred_heavy,transport_p1 -n 2 -w 0 -s spinlock -S fault=fin_race \
	-o "$tmp/fail" --invocations 2
check "a failed scenario exits 1" eq "$(rc_of fail)" 1
check "... and none of its rounds are written" lacks "$tmp/fail/rounds.csv" '^deferred_heavy,'

# ---- two builds, interleaved ---------------------------------------------------------
cp "$bin" "$tmp/other-deferbench"
run ab "$bin" suite "${quick[@]}" -o "$tmp/ab" --invocations 2 --ab "$tmp/other-deferbench"
check "--ab exits 0" eq "$(rc_of ab)" 0
check "each invocation runs both builds" \
	eq "$(grep -c '^##### \(other\|this\) build, invocation' "$tmp/ab.out")" 4
check "the builds alternate (other first in invocation 1, this first in 2)" \
	eq "$(grep '^#####' "$tmp/ab.out" | cut -d, -f1 | tr -d '#' | tr '\n' '/')" \
	" other build/ this build/ this build/ other build/"
check "comparison.csv has the build rows" \
	grep -q '^build,deferred_heavy,sched_us,spinlock,spinlock,' "$tmp/ab/comparison.csv"
check "the builds' comparison uses both sides' invocations" \
	grep -q '^build,deferred_heavy,sched_us,spinlock,spinlock,.*,2,2,[0-9.]*,[0-9.]*,t,[0-9.e-]*,[a-z (),]*$' "$tmp/ab/comparison.csv"
check "meta.txt names the other build" contains "$tmp/ab/meta.txt" "ab: $tmp/other-deferbench"
check "the other build's rounds are kept (other/rounds.csv)" \
	eq "$(col "$tmp/ab/other/rounds.csv" invocation | sort -u | tr '\n' ' ')" "1 2 "
run abcmp "$bin" compare "$tmp/ab/other" "$tmp/ab"
check "compare DIR/other DIR repeats the builds' comparison" \
	eq "$(grep -E '^deferred_heavy +Sched' "$tmp/abcmp.out" | head -n 1 | awk '{print $NF}')" \
	"$(grep '^build,deferred_heavy,sched_us,spinlock,' "$tmp/ab/comparison.csv" | awk -F, '{print $NF}' | awk '{print $NF}')"
check "an --ab that is not executable is a usage error" \
	eq "$("$bin" suite "${quick[@]}" -o "$tmp/x" --ab /nonexistent >/dev/null 2>&1; echo $?)" 2
run abfalse "$bin" suite "${quick[@]}" -o "$tmp/abfalse" --ab /bin/true
check "an --ab that sends no results fails the run" eq "$(rc_of abfalse)" 1
check "... writes nothing" [ ! -e "$tmp/abfalse/rounds.csv" ]
check "... and says why" contains "$tmp/abfalse.out" "other build"

# ---- calibrate -------------------------------------------------------------------------
run cal "$bin" calibrate deferred_heavy -s spinlock -n 4 -w 1 --invocations 4 -o "$tmp/cal"
check "calibrate exits 0" eq "$(rc_of cal)" 0
check "calibrate prints the within-run summary" contains "$tmp/cal.out" "Within-run A/A: "
check "calibrate judges between runs, in sequence and interleaved" contains "$tmp/cal.out" "Between runs in sequence: "
check "calibrate.csv has its header and a row" \
	eq "$(head -n 1 "$tmp/cal/calibrate.csv" | cut -d, -f1-5)" "scenario,strategy,rounds,invocations,aa_change_pct"
check "... one row per strategy" eq "$(($(wc -l <"$tmp/cal/calibrate.csv") - 1))" 1
check "the copies are labelled" eq "$(col "$tmp/cal/rounds.csv" strategy | sort -u | tr '\n' ' ')" "spinlock#1 spinlock#2 "
check "calibrate with five strategies is refused" \
	eq "$("$bin" calibrate -s spinlock,mailbox,spinlock >/dev/null 2>&1; echo $?)" 2
finish
