#!/usr/bin/env bash
# End-to-end test of scripts/benchmark_rounds, run by `make check`.
#
# One real quick run (`--quick -n 3 -w 1`) into a temporary results root,
# then checks of every artifact, the plots, the report, --save-baseline,
# -b NAME, a failing run, a missing build, a crashing or partly failing
# suite (a stand-in that replays the real run's files) and name collisions.
# Nothing is written to the repository's results/.
#
# The log ends with a Check-style line, "NN%: Checks: N, Failures: F,
# Errors: E", which tests/summary.sh counts like a Check program's.
# Environment: DFB_SRCDIR (the source tree; make check sets it),
# DFB_DEFERBENCH (default: bench/deferbench of the build directory, the
# current directory under make check), CK_TIMEOUT_MULTIPLIER (scales the
# run's time limit, as for the Check tests).

# The predicates below run through check(), which shellcheck cannot see.
# shellcheck disable=SC2317
set -uo pipefail

srcdir=$(cd "${DFB_SRCDIR:-$(dirname "$0")/..}" && pwd)
script=$srcdir/scripts/benchmark_rounds
export DFB_DEFERBENCH=${DFB_DEFERBENCH:-$PWD/bench/deferbench}
limit=$((${DFB_ROUNDS_TIMEOUT:-110} * ${CK_TIMEOUT_MULTIPLIER:-1}))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
res=$tmp/results

# shellcheck source=tests/check_lib.sh
. "$srcdir/tests/check_lib.sh"

runs() { # results directories under a root (not baselines, not hidden)
	find "$1" -mindepth 1 -maxdepth 1 -type d ! -name baselines ! -name '.*' | sort
}
count_runs() { runs "$1" | wc -l; }
no_temp_left() { [ -z "$(find "$1" -maxdepth 2 -name '.*.tmp-*' -print -quit)" ]; }
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
is_xml() { python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1" 2>/dev/null; }

[ -x "$script" ] || error "$script missing or not executable"
[ -x "$DFB_DEFERBENCH" ] || error "$DFB_DEFERBENCH is not built"

rounds_header=scenario,strategy,invocation,round,host_us,total_us,sched_us,orch_us,tasks,subtasks,fin_events,registrations,inline_completions,consumer_completions,lock_misses,mailbox_full_retries,cas_retries,drained_msgs,polls,poll_lock_misses,dispatches,dummy_completions,slow_pushes_first_call,slow_pushes_retried,peak_wait_entries,lat_count,lat_p50_ns,lat_p90_ns,lat_p99_ns,lat_p999_ns,lat_max_ns,throughput_msgs_per_s,other_cpu_ms,steal_ms,nivcsw,load1,others_pct,xpu_rtt_ns,core_ns,disturbed

# ---- the real run ------------------------------------------------------------

echo "# scripts/benchmark_rounds --quick -n 3 -w 1 -o $res --save-baseline t1 (limit ${limit}s)"
rc=0
timeout "$limit" "$script" --quick -n 3 -w 1 -o "$res" --save-baseline t1 \
	>"$tmp/run.out" 2>&1 || rc=$?
cat "$tmp/run.out"
[ "$rc" -ne 124 ] || error "the quick run took more than ${limit}s"
check "quick run exits 0 (got $rc)" eq "$rc" 0
check "exactly one results directory" eq "$(count_runs "$res")" 1
out=$(runs "$res" | head -n 1)
if [ -z "$out" ] || [ ! -d "$out" ]; then
	error "no results directory under $res"
fi
echo "# results directory: $out"
check "no temporary directory left" no_temp_left "$res"
check "the suite's console output passes through" \
	grep -qE '^Benchmark complete: [0-9]+ passed, 0 failed' "$tmp/run.out"
check "prints where the report is" has_line "$tmp/run.out" "Report: $out/report.html"
check "directory name is DATE-TIME-HOST-SHA" \
	grep -qE '^[0-9]{8}-[0-9]{6}-[A-Za-z0-9_.-]+-([0-9a-f]{4,}|nogit)$' <<<"$(basename "$out")"

for f in rounds.csv summary.csv comparison.csv latency.csv results.json \
	topology.xml placement.txt command.txt meta.txt report.md report.html; do
	check "$f is non-empty" nonempty "$out/$f"
done
check "rounds.csv has the exact header" eq "$(head -n 1 "$out/rounds.csv")" "$rounds_header"
check "rounds.csv has rounds" eq "$(($(wc -l <"$out/rounds.csv") > 1))" 1
check "summary.csv header" eq "$(head -n 1 "$out/summary.csv")" \
	scenario,strategy,metric,n,mean,median,stddev,cv,min,max,trimmed_mean,trimmed
check "comparison.csv header" eq "$(head -n 1 "$out/comparison.csv")" \
	kind,scenario,metric,baseline,candidate,baseline_median,candidate_median,delta,change_pct,p_value,noise_pct,ci_lo_pct,ci_hi_pct,mde_pct,spread_pct,baseline_invocations,candidate_invocations,baseline_disturbed_pct,candidate_disturbed_pct,p_test,p_threshold,verdict
check "latency.csv header" eq "$(head -n 1 "$out/latency.csv")" \
	scenario,strategy,count,p50_ns,p90_ns,p99_ns,p999_ns,max_ns
check "overhead.csv header" eq "$(head -n 1 "$out/overhead.csv")" \
	scenario,strategy,latency_sample,rounds_sampling_off,sched_us,sched_us_sampling_off,events_per_round,overhead_ns_per_event,overhead_ci_lo_ns,overhead_ci_hi_ns,overhead_pct
# The instrument measured itself for every sampled scenario and strategy
# (structure only: what it cost is a measurement, not a test).
sampled=$(for f in "$out"/scenarios/*.scn; do
	n=$(basename "$f" .scn)
	grep -qE '^latency_sample = [1-9]' "$f" || continue
	awk -F, -v n="$n" 'NR > 1 && $1 == n { print $1 "," $2 }' "$out/rounds.csv"
done | sort -u)
measured=$(awk -F, 'NR > 1 && $4 > 0 { print $1 "," $2 }' "$out/overhead.csv" | sort -u)
check "overhead.csv has a row per sampled scenario and strategy" eq "$measured" "$sampled"
check "meta.txt names the clock and its cost" grep -qE '^clock: (tsc|monotonic) ' "$out/meta.txt"
check "meta.txt has clock_read_ns" grep -qE '^clock_read_ns: [0-9.]+$' "$out/meta.txt"
check "the report has the overhead section" grep -q '^## Instrumentation overhead' "$out/report.md"
check "results.json parses as JSON" is_json "$out/results.json"
check "topology.xml parses as XML" is_xml "$out/topology.xml"
scn=$(find "$out/scenarios" -name '*.scn' -size +0 2>/dev/null | wc -l)
check "scenarios/*.scn written ($scn)" eq "$((scn > 0))" 1

commit=nogit
if git -C "$srcdir" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	commit=$(git -C "$srcdir" rev-parse HEAD)
fi
check "meta.txt records the git commit" grep -qE "^git_commit: ${commit}(-dirty)?\$" "$out/meta.txt"

# Plots: each kind whose data is present, as PNG and SVG.
scenarios=$(tail -n +2 "$out/rounds.csv" | cut -d, -f1 | sort -u)
lat_scenarios=$(awk -F, 'NR > 1 && $3 > 0 { print $1 }' "$out/latency.csv" | sort -u)
cdf_scenarios=
[ -f "$out/latency_cdf.csv" ] && cdf_scenarios=$(tail -n +2 "$out/latency_cdf.csv" | cut -d, -f1 | sort -u)
expected=()
for s in $scenarios; do expected+=("series-$s" "box-$s"); done
for s in $lat_scenarios; do expected+=("latency-$s"); done
for s in $cdf_scenarios; do expected+=("cdf-$s"); done
if [ -f "$out/transport.csv" ] && [ "$(wc -l <"$out/transport.csv")" -gt 1 ]; then
	expected+=(transport)
fi
bad=()
for p in "${expected[@]}"; do
	is_png "$out/plots/$p.png" || bad+=("$p.png")
	is_xml "$out/plots/$p.svg" || bad+=("$p.svg")
done
check "plots: ${#expected[@]} expected, missing or invalid: ${bad[*]:-none}" eq "${#bad[@]}" 0
check "plots of per-round series and box plots exist" eq "$(($(find "$out/plots" -name 'series-*.png' | wc -l) > 0 && $(find "$out/plots" -name 'box-*.svg' | wc -l) > 0))" 1
# A transport scenario's verdict is of throughput: its series and box plot
# are of that, in the unit the report shows (M msg/s), and say so.
tcol=$(head -1 "$out/rounds.csv" | tr , '\n' | grep -nx throughput_msgs_per_s | cut -d: -f1)
tscn=$(awk -F, -v c="$tcol" 'NR > 1 && $c != "" { print $1; exit }' "$out/rounds.csv")
if [ -n "$tscn" ]; then
	check "$tscn's box plot is of throughput" \
		contains "$out/plots/plots.gp" "$tscn: Thr (M msg/s) over"
	check "... its report caption says so" \
		contains "$out/report.md" "$tscn: Thr (M msg/s) per strategy (box plot)"
	first=$(awk -F, -v c="$tcol" -v s="$tscn" 'NR > 1 && $1 == s { print $c; exit }' "$out/rounds.csv")
	plotted=$(awk 'NR == 2 { print $2 }' "$out/plots/data/rounds-$tscn.dat")
	check "... in M msg/s (first round $first msg/s, plotted $plotted)" \
		awk -v a="$first" -v b="$plotted" 'BEGIN { d = a / 1e6 - b; exit !(b > 0 && (d < 0 ? -d : d) <= 1e-9 * a) }'
else
	error "the quick run has no transport scenario to check the plots of"
fi

check "report.md has the Performance Summary" contains "$out/report.md" "## Performance Summary"
check "report.md has the Warnings section" contains "$out/report.md" "## Warnings"
# A machine line with far rounds (-S xpu_probe=1, bench/xpu.h) or a shared
# core (-S core_probe=1, bench/core.h) is a warning of the report; one with
# a single state is not.
cp -r "$out" "$tmp/far"
echo "machine: dummy_task_1: cross-PU round trip before each round: median 90 ns (lowest decile 70, largest 350; 60 rounds); 12 of them with the PUs far apart (over 210 ns, 3x the lowest decile): a different machine for those rounds." >>"$tmp/far/meta.txt"
echo "machine: other: cross-PU round trip before each round: median 90 ns (lowest decile 70, largest 99; 60 rounds), one state" >>"$tmp/far/meta.txt"
echo "machine: dummy_task_1: drain thread's core before each round, a fixed loop's time an iteration: median 1.94 ns (lowest decile 1.41, largest 2.56; 60 rounds); 40 of them with the drain thread's core shared (over 1.55 ns, 1.1x the lowest decile): a different machine for those rounds." >>"$tmp/far/meta.txt"
python3 "$srcdir/scripts/render-report" "$tmp/far" >/dev/null 2>&1
check "report: far rounds are a warning" \
	eq "$(sed -n '/^## Warnings/,/^## /p' "$tmp/far/report.md" | grep -c 'far apart')" 1
check "report: a shared core is a warning" \
	eq "$(sed -n '/^## Warnings/,/^## /p' "$tmp/far/report.md" | grep -c "drain thread's core shared")" 1
# --only's line (meta.txt only:) is said before the Verdict.
echo "only: alone (core_probe: 40 of 60 rounds kept; rounds.csv has them all)" >>"$tmp/far/meta.txt"
python3 "$srcdir/scripts/render-report" "$tmp/far" >/dev/null 2>&1
check "report: --only's state is said before the verdicts" \
	eq "$(sed -n '1,/^## Verdict/p' "$tmp/far/report.md" | grep -c 'Only the rounds run in one machine state: alone (core_probe: 40 of 60')" 1
check "report: one state is not" \
	eq "$(sed -n '/^## Warnings/,/^## /p' "$tmp/far/report.md" | grep -c 'one state')" 0

check "report.md leads with the Verdict" \
	eq "$(grep -m 1 '^## ' "$out/report.md")" "## Verdict"
check "the Verdict has the pair's overall line" \
	grep -q '^Overall, spinlock → mailbox: [0-9]* of [0-9]* scenarios improved' "$out/report.md"
check "the Verdict shows its plot" grep -q '(plots/verdict-strategy-spinlock-mailbox.png)' "$out/report.md"
check "a verdict plot was drawn" is_png "$out/plots/verdict-strategy-spinlock-mailbox.png"
check "the run's metadata and scenario files are in the appendix" \
	awk '/^## Appendix/ { a = NR } /^### Run/ { r = NR } /^### Scenarios/ { s = NR }
	     END { exit !(a && r > a && s > a) }' "$out/report.md"
check "report.md gives upstream's means" contains "$out/report.md" "Sched Trimmed Avg"
check "the console gives upstream's means" contains "$tmp/run.out" "Upstream's figures"
check "report.html is a whole page" contains "$out/report.html" "</html>"
check "report.html embeds its plots" contains "$out/report.html" 'src="data:image/png;base64,'
check "report.html loads nothing from elsewhere" \
	lacks "$out/report.html" '(src|href)="(https?:|//|file:)|<link |<script|@import|url\('
check "report.html has no relative image links" \
	lacks "$out/report.html" 'src="[^d"]'

# ---- baselines -----------------------------------------------------------------

check "--save-baseline copied the run to RESULTS/baselines/t1" \
	cmp -s "$out/rounds.csv" "$res/baselines/t1/rounds.csv"
check "the saved baseline has its report" nonempty "$res/baselines/t1/report.html"
rc=0
timeout 30 "$script" -o "$res" --save-baseline t1 >"$tmp/dup.out" 2>&1 || rc=$?
check "--save-baseline with an existing NAME exits 2 (got $rc)" eq "$rc" 2
check "... before running (no new results directory)" eq "$(count_runs "$res")" 1
rc=0
timeout 30 "$script" -o "$res" --save-baseline "" >"$tmp/empty.out" 2>&1 || rc=$?
check "--save-baseline '' exits 2 before running (got $rc)" eq "$rc" 2
check "... with no new results directory" eq "$(count_runs "$res")" 1

rc=0
timeout "$limit" "$script" -c deferred_heavy -n 3 -w 1 -o "$res" -b t1 \
	>"$tmp/cmp.out" 2>&1 || rc=$?
check "-b t1 (a saved baseline by name) runs (got $rc)" eq "$rc" 0
cmp_dir=$(runs "$res" | grep -vxF "$out" | head -n 1)
check "... comparison.csv has the saved-baseline rows" \
	grep -q '^saved,deferred_heavy,sched_us,' "${cmp_dir:-/nonexistent}/comparison.csv"
check "... the report shows them" \
	contains "${cmp_dir:-/nonexistent}/report.md" "Against the saved baseline"
[ -z "$cmp_dir" ] || rm -rf "$cmp_dir"

# ---- failures leave nothing --------------------------------------------------------

rc=0
timeout 60 "$script" -c no_such_scenario -n 1 -w 0 -o "$res" >"$tmp/bad.out" 2>&1 || rc=$?
cat "$tmp/bad.out"
check "an unknown scenario fails (got $rc)" eq "$((rc != 0))" 1
check "... and leaves no results directory" eq "$(count_runs "$res")" 1
check "... and no temporary directory" no_temp_left "$res"

rc=0
DFB_DEFERBENCH=$tmp/none timeout 30 "$script" -o "$tmp/nobuild" >"$tmp/nobuild.out" 2>&1 || rc=$?
check "no build: exit 2 (got $rc)" eq "$rc" 2
check "no build: says to run scripts/setup" contains "$tmp/nobuild.out" scripts/setup
check "no build: writes nothing" eq "$(find "$tmp/nobuild" -mindepth 1 2>/dev/null | wc -l)" 0

# A stand-in for `deferbench suite` that replays the real run's files: it
# records its arguments, then crashes, or reports failed scenarios.
stub=$tmp/stub-deferbench
cat >"$stub" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$@" >"$tmp/stub.args"
while [ \$# -gt 0 ]; do
	case \$1 in -o) dir=\$2; shift ;; esac
	shift
done
for f in "$out"/*; do
	case \${f##*/} in plots | report.*) ;; *) cp -R "\$f" "\$dir/" ;; esac
done
[ -z "\${STUB_CRASH:-}" ] || kill -SEGV \$\$
echo "Benchmark complete: 1 passed, \${STUB_RC:-0} failed"
exit "\${STUB_RC:-0}"
EOF
chmod +x "$stub"

rc=0
STUB_CRASH=1 DFB_DEFERBENCH=$stub timeout 60 "$script" -o "$res" >"$tmp/crash.out" 2>&1 || rc=$?
check "a crashing suite: exit 3 (got $rc)" eq "$rc" 3
check "... leaves no results directory" eq "$(count_runs "$res")" 1
check "... and no temporary directory" no_temp_left "$res"

rc=0
STUB_RC=1 DFB_DEFERBENCH=$stub timeout 60 "$script" -o "$res" -b t1 \
	--save-baseline t2 >"$tmp/partial.out" 2>&1 || rc=$?
check "failed scenarios: exit 1 (got $rc)" eq "$rc" 1
check "... the results are kept" eq "$(count_runs "$res")" 2
check "... with a report" contains "$tmp/partial.out" "Report: "
check "... and no baseline saved" eq "$([ -e "$res/baselines/t2" ] && echo yes || echo no)" no
check "-b NAME is passed on as RESULTS/baselines/NAME" \
	grep -qxF -- "$res/baselines/t1" "$tmp/stub.args"
check "the suite gets -o with a temporary directory next to the final one" \
	grep -qE "^$res/\\..*\\.tmp-" "$tmp/stub.args"

# Never overwriting: every name of the next seconds is taken, so the run
# must add -2.
mkdir -p "$tmp/taken"
host=$(hostname -s 2>/dev/null || uname -n)
host=${host//[^A-Za-z0-9_.-]/_}
short=nogit
[ "$commit" = nogit ] || short=$(git -C "$srcdir" rev-parse --short HEAD)
now=$(date +%s)
for ((t = now; t < now + 30; t++)); do
	mkdir "$tmp/taken/$(date -d "@$t" +%Y%m%d-%H%M%S)-$host-$short"
done
rc=0
DFB_DEFERBENCH=$stub timeout 60 "$script" -o "$tmp/taken" >"$tmp/taken.out" 2>&1 || rc=$?
check "an existing name gets -2 (exit $rc)" \
	eq "$(find "$tmp/taken" -mindepth 1 -maxdepth 1 -name '*-2' -type d | wc -l)" 1
check "... the existing directories are untouched" \
	eq "$(find "$tmp/taken" -mindepth 2 -maxdepth 2 ! -path '*-2/*' | wc -l)" 0

# ---- --micro ----------------------------------------------------------------------

micro_bin=$PWD/bench/micro/dfb_micro
rc=0
DFB_MICRO=/nonexistent "$script" --quick -n 2 -w 0 --micro -o "$tmp/nomicro" >"$tmp/nomicro.out" 2>&1 || rc=$?
check "--micro without a micro-benchmark build is a usage error" eq "$rc" 2
check "... which says what to install" contains "$tmp/nomicro.out" "libbenchmark-dev"
if [ -x "$micro_bin" ]; then
	rc=0
	timeout "$limit" "$script" --quick -n 2 -w 0 -c deferred_heavy -s spinlock,mailbox-spsc --micro \
		-o "$tmp/micro" >"$tmp/micro.out" 2>&1 || rc=$?
	check "--micro run exits 0 (got $rc)" eq "$rc" 0
	mdir=$(runs "$tmp/micro" | head -n 1)
	check "micro.json is JSON" is_json "${mdir:-/nonexistent}/micro.json"
	for st in spinlock mailbox-spsc; do
		check "micro.json measures $st's transport (-s)" \
			contains "${mdir:-/nonexistent}/micro.json" "\"Transport_Producers/$st/"
	done
	check "... and no strategy outside -s (mailbox is not mailbox-spsc)" \
		lacks "${mdir:-/nonexistent}/micro.json" "\"Transport_Producers/mailbox/"
	check "the report has the micro-benchmark table" \
		contains "${mdir:-/nonexistent}/report.md" "## Micro-benchmarks: each strategy's transport"
	check "micro.json has register_deferred with K = 62" \
		contains "${mdir:-/nonexistent}/micro.json" "\"Register_Deferred/spinlock/62\""
fi

# ---- the transport comparison --------------------------------------------------------

rc=0
timeout "$limit" "$script" -n 2 -w 0 -c transport_p1,transport_latency_p1 -s spinlock,mailbox \
	-S tasks=20000 -o "$tmp/tr" >"$tmp/tr.out" 2>&1 || rc=$?
check "a transport run exits 0 (got $rc)" eq "$rc" 0
tdir=$(runs "$tmp/tr" | head -n 1)
check "the report has the transport comparison" \
	contains "${tdir:-/nonexistent}/report.md" "## Transport comparison"
check "... with each strategy's push latency at 1 producer" \
	has_line_re "${tdir:-/nonexistent}/report.md" '^\| mailbox \| 1 \| transport_latency_p1 \| [0-9,]+ \|'
check "... not the timed scenario in the throughput table" \
	lacks "${tdir:-/nonexistent}/report.md" '^\| transport_latency_p1 \| 1 \|'
check "... and each strategy's worst case named" \
	has_line_re "${tdir:-/nonexistent}/report.md" '^- spinlock: throughput [0-9]+% of the best on transport_p1; push p99.9 '

# ---- killed runs leave nothing running and nothing behind ------------------------------
# A suite long enough to be killed in the middle: wait for its work directory
# (bounded), kill, then check processes and directories.  No timing asserted.
long_run=(-c deferred_heavy -n 5000 -w 0 -s spinlock -S tasks=20000 -o "$tmp/k")
suite_of() { # the PIDs of deferbench suites writing under $tmp/k
	pgrep -f -- "suite .*-o $tmp/k/[.]" || true
}
wait_for() { # wait_for CMD...: up to 20 s for CMD to succeed
	local i
	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
has_suite() { [ -n "$(suite_of)" ]; }
no_suite() { [ -z "$(suite_of)" ]; }
mkdir -p "$tmp/k"
for sig in KILL INT; do
	# (a background job of a script starts with SIGINT ignored: restore it)
	env --default-signal=INT "$script" "${long_run[@]}" >"$tmp/k.$sig.out" 2>&1 &
	sp=$!
	wait_for has_suite
	check "SIG$sig: the suite started under the script" has_suite
	kill -"$sig" "$sp"
	rc=0
	wait "$sp" || rc=$?
	check "SIG$sig: the script ended by it (got $rc)" eq "$rc" "$([ $sig = KILL ] && echo 137 || echo 130)"
	wait_for no_suite
	check "SIG$sig: no suite left running after the script" no_suite
	if [ "$sig" = INT ]; then
		check "SIGINT: the script removed its work directory" no_temp_left "$tmp/k"
	else
		check "SIGKILL: a work directory is left (the case cleaned below)" \
			[ -n "$(find "$tmp/k" -maxdepth 1 -name '.*.tmp-*' -print -quit)" ]
		rc=0
		timeout "$limit" "$script" -c deferred_heavy -n 1 -w 0 -s spinlock -S tasks=100 \
			-o "$tmp/k" >"$tmp/k.next.out" 2>&1 || rc=$?
		check "... the next run exits 0 (got $rc)" eq "$rc" 0
		check "the next run removes the killed run's work directory" no_temp_left "$tmp/k"
		check "... and says so" contains "$tmp/k.next.out" "left by a run that was killed (PID $sp)"
	fi
done

finish
