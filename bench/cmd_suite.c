/* deferbench suite: the rounds of many scenarios, the Performance Summary,
 * the comparisons (strategy vs strategy, and against a saved run), and the
 * files of a results directory (results.h).  deferbench compare: the
 * comparison of two saved runs. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "calibrate.h"
#include "compare.h"
#include "disturb.h"
#include "invoke.h"
#include "mstate.h"
#include "results.h"
#include "rounds.h"
#include "scenario.h"
#include "stats.h"
#include "sweep_out.h"
#include "topology.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Default measured and warm-up rounds, and those of --quick. */
#define SUITE_ROUNDS 100
#define SUITE_WARMUP 5
#define QUICK_ROUNDS 10
#define QUICK_WARMUP 2
#define MAX_SCENARIOS DFB_SWEEP_MAX_POINTS
#define MAX_PASSES 100

/* Exit status when the results could not be written. */
#define EXIT_WRITE 3

static const char *const quick_scenarios[] = {
	"alternating_matmul_add", "deferred_heavy", "sched_threads_2",
	"spmd_paged_attention_case1", "transport_p1", "transport_p4",
};

static void suite_usage(FILE *f)
{
	fprintf(f,
		"usage: deferbench suite -o OUTDIR [options]\n\n"
		"Runs every scenario of the suite as `deferbench run` does (the strategies\n"
		"interleaved round by round after the warm-up rounds), prints each scenario's\n"
		"aggregates, the Performance Summary and the comparisons, and writes the\n"
		"results files into OUTDIR (created if missing; see README.md).\n\n"
		"options:\n"
		"  -o, --output OUTDIR     where the results files go (required)\n"
		"  -c, --scenarios LIST    comma-separated built-in names or .scn files\n"
		"                          (default: every built-in scenario)\n"
		"  -s, --strategies LIST   comma-separated strategies (default: all but opt-in); the first\n"
		"                          is the baseline of the comparison within the run\n"
		"  -n, --rounds N          measured rounds per strategy (default %d, --quick %d)\n"
		"  -w, --warmup N          warm-up rounds per strategy (default %d, --quick %d)\n"
		"  -b, --baseline B        also compare against a saved run: a results\n"
		"                          directory, its rounds.csv, or NAME for\n"
		"                          results/baselines/NAME\n"
		"  -S, --set KEY=VALUE     override a scenario key in every scenario (repeatable)\n"
		"      --quick             a short suite: %zu scenarios, %d rounds, %d warm-up\n"
		"      --invocations K     run the scenarios in K separate processes (1..32), the\n"
		"                          strategy order shuffled in each; rounds.csv numbers\n"
		"                          them; a comparison against a saved run needs %d or\n"
		"                          more a side, else its verdict is indicative only\n"
		"      --passes P          visit each scenario P times (1..%d), the rounds shared\n"
		"                          out among the visits, -w warm-up rounds at each:\n"
		"                          each scenario's rounds spread over the whole run\n"
		"                          (a --sweep-set: %d unless -n is smaller)\n"
		"      --seed N            seed of the shuffled orders (default: the time)\n"
		"      --wait-quiet S      before each scenario, wait up to S seconds for other\n"
		"                          processes to leave the machine (then run anyway)\n"
		"      --ab OTHER          also run each invocation with OTHER, another build's\n"
		"                          deferbench (this version or later), alternating with\n"
		"                          this one, and compare it (baseline) with this build:\n"
		"                          drift over the run hits both builds alike\n"
		"      --sweep KEY=VALUES  run each scenario (default deferred_heavy) once per\n"
		"                          value of KEY instead: a comma list, A..B a range,\n"
		"                          ... a progression (1,2,4,...,64); two --sweep: the\n"
		"                          cross product.  Adds sweep.csv, sweep_strategies.csv\n"
		"                          and sweep_answer.txt (where each strategy wins)\n"
		"      --sweep-set NAME    a built-in set of sweeps (%s); -c replaces\n"
		"                          its scenarios; %d rounds after %d warm-up unless -n, -w\n"
		"      --only STATE        judge only the rounds run in that machine state:\n"
		"                          near or far (-S xpu_probe=1), alone or shared\n"
		"                          (-S core_probe=1, pinned): the summary, the\n"
		"                          comparisons, -b and the sweep's answer are of them;\n"
		"                          rounds.csv keeps every round\n"
		"  -v, --verbose           also every counter and the scenario's keys\n"
		"  -h, --help              this text\n\n"
		"A scenario file's rounds, warmup and strategies keys are not used: the suite's\n"
		"options apply to every scenario.  Progress goes to stderr when it is a terminal.\n\n"
		"exit status: 0 success, 1 some scenarios failed (the others' results are\n"
		"written), 2 usage or configuration error (nothing run), 3 the results could\n"
		"not be written\n",
		SUITE_ROUNDS, QUICK_ROUNDS, SUITE_WARMUP, QUICK_WARMUP,
		sizeof(quick_scenarios) / sizeof(quick_scenarios[0]), QUICK_ROUNDS, QUICK_WARMUP,
		DFB_CMP_MIN_INVOCATIONS, MAX_PASSES, DFB_SWEEP_SET_PASSES, dfb_sweep_set_names(),
		DFB_SWEEP_SET_ROUNDS,
		DFB_SWEEP_SET_WARMUP);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- progress (stderr, only on a terminal) --------------------------------- */

struct progress {
	bool tty;
	size_t idx, count;          /* scenario visit idx (0-based) of count */
	double t_suite, t_scen, last;
	double done_time;           /* seconds of the finished visits */
	size_t done;                /* finished visits (scenario x pass) */
	bool shown;
};

static void fmt_dur(char *buf, size_t len, double s)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static void progress_cb(void *arg, const struct dfb_rounds *r, size_t s, bool warm,
			unsigned long i, unsigned long n)
{
	struct progress *p = arg;
	if (!p->tty)
		return;
	double t = now_s();
	if (p->shown && t - p->last < 0.1)
		return;
	p->last = t;
	p->shown = true;
	/* Rounds of this scenario already run, of all its rounds. */
	double total = (double)((r->warmup + r->rounds) * r->nstrat);
	double pos = (double)(((warm ? i - 1 : r->warmup + i - 1)) * r->nstrat + s);
	double el_scen = t - p->t_scen;
	char el[32], left[32] = "?";
	fmt_dur(el, sizeof(el), t - p->t_suite);
	/* This scenario's rest at its own pace so far; each scenario after it
	 * at the mean duration of the finished ones (else this one's). */
	if (pos > 0 || p->done) {
		double per = p->done ? p->done_time / (double)p->done : el_scen / pos * total;
		double rest = pos > 0 ? el_scen / pos * (total - pos) : per;
		rest += per * (double)(p->count - p->idx - 1);
		fmt_dur(left, sizeof(left), rest);
	}
	fprintf(stderr, "\r\033[K[%zu/%zu] %s / %s: %s %lu/%lu  elapsed %s  left ~%s", p->idx + 1,
		p->count, r->scenario, dfb_strategy_name(r->strat[s]), warm ? "warm-up" : "round",
		i, n, el, left);
}

static void progress_clear(struct progress *p)
{
	if (p->tty && p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

/* ---- helpers ---------------------------------------------------------------------- */

/* `deferbench run`'s header and placement of a scenario, and its plan for
 * placement.txt. */
static char *placement_text(const struct dfb_rounds *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	const struct dfb_plan *p = dfb_runtime_plan(r->rt[0]);
	fprintf(f, "== %s ==\n", r->scenario);
	dfb_plan_print_summary(f, p, false);
	dfb_plan_print(f, p, true);
	for (size_t s = 0; s < r->nstrat; s++) {
		fprintf(f, "[%s] ", dfb_strategy_name(r->strat[s]));
		dfb_plan_print_binding(f, dfb_runtime_plan(r->rt[s]));
	}
	fputc('\n', f);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "_-+=/.,:@%",
			    *s))
			return false;
	return true;
}

static void shell_word(FILE *f, const char *s)
{
	if (shell_safe(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10))
			continue;
		char *v = strchr(line, ':');
		if (!v)
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\n")] = 0;
		snprintf(buf, len, "%s", v);
		break;
	}
	fclose(f);
}

/* -b: a results directory, a rounds.csv, or NAME under results/baselines/. */
static int resolve_baseline(const char *arg, char *path, size_t len)
{
	struct stat st;
	if (!stat(arg, &st)) {
		snprintf(path, len, "%s", arg);
		return 0;
	}
	if (!strchr(arg, '/')) {
		snprintf(path, len, "results/baselines/%s", arg);
		if (!stat(path, &st) && S_ISDIR(st.st_mode))
			return 0;
	}
	return dfb_usage_error("baseline '%s' not found: give a results directory, a rounds.csv, "
			       "or NAME of results/baselines/NAME",
			       arg);
}

/* ---- the suite's state and files ----------------------------------------------- */

struct suite {
	int argc;
	char **argv;
	unsigned long rounds, warmup;
	const struct dfb_strategy *strat[DFB_MAX_STRATEGIES];
	const char *label[DFB_MAX_STRATEGIES]; /* names kept under (NULL: the strategy's) */
	size_t nstrat;
	size_t perm[DFB_MAX_STRATEGIES];    /* the order they run in */
	unsigned invocations;               /* --invocations */
	unsigned passes;                    /* --passes: visits to each scenario */
	unsigned invocation;                /* of a child: its number; 0 in the parent */
	int child_fd;                       /* of a child: where its results go; else -1 */
	uint64_t seed;                      /* of the strategy orders */
	bool seed_given;
	double wait_quiet;                  /* --wait-quiet seconds, 0: off */
	char orders[32][160];               /* "invocation 2: mailbox,spinlock" per invocation */
	bool aa;                            /* --aa: two copies of each strategy, calibrated */
	const char *ab;                     /* --ab: the other build's deferbench, or NULL */
	struct dfb_results ab_res;          /* its rounds */
	char labels[DFB_MAX_STRATEGIES][64];
	struct dfb_calib calib;
	const char *scen_names[MAX_SCENARIOS]; /* as run (names) */
	size_t nscen;
	struct dfb_results res;
	struct dfb_cmp_set cmp;
	struct dfb_failure *fail;
	size_t nfail;
	const struct dfb_topo *topo;         /* this machine */
	const char *baseline;                /* -b as resolved, or NULL */
	long saved_pairs;
	struct dfb_sweep_run sweep;          /* --sweep / --sweep-set: its points */
	/* The machine lines of meta.txt and the console, of every round
	 * (written before --only keeps some). */
	char *machine_meta, *machine_console;
	/* --only: the state whose rounds the verdicts are of (mstate.h), and
	 * rounds.csv as run, every round of it. */
	const char *only;
	enum dfb_mstate only_which;
	bool only_high;
	size_t only_kept, only_total;
	char *raw_rounds;
};

static void write_rounds(FILE *f, const void *a)
{
	const struct suite *su = a;
	if (su->raw_rounds)
		fputs(su->raw_rounds, f);
	else
		dfb_write_rounds_csv(f, &su->res);
}
static void write_other_rounds(FILE *f, const void *a)
{
	dfb_write_rounds_csv(f, &((const struct suite *)a)->ab_res);
}
static void write_summary(FILE *f, const void *a)
{
	dfb_write_summary_csv(f, &((const struct suite *)a)->res);
}
static void write_comparison(FILE *f, const void *a)
{
	dfb_write_comparison_csv(f, &((const struct suite *)a)->cmp);
}
static void write_latency(FILE *f, const void *a)
{
	dfb_write_latency_csv(f, &((const struct suite *)a)->res);
}
static void write_latency_cdf(FILE *f, const void *a)
{
	dfb_write_latency_cdf_csv(f, &((const struct suite *)a)->res);
}
static void write_transport(FILE *f, const void *a)
{
	dfb_write_transport_csv(f, &((const struct suite *)a)->res);
}
static void write_overhead(FILE *f, const void *a)
{
	dfb_write_overhead_csv(f, &((const struct suite *)a)->res);
}
static void write_json(FILE *f, const void *a)
{
	const struct suite *su = a;
	struct dfb_json_context ctx;
	dfb_json_context_collect(&ctx, su->topo);
	dfb_write_results_json(f, &su->res, &ctx);
}
/* The command line as run; without its -o when `output` is false (a
 * sweep's answer: where it wrote is a temporary name under
 * scripts/benchmark_rounds), " -o OUTDIR" then in its place at the end. */
static void write_argv(FILE *f, const struct suite *su, bool output)
{
	shell_word(f, dfb_argv0);
	for (int i = 0; i < su->argc; i++) {
		const char *a = su->argv[i];
		if (!output) {
			if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < su->argc) {
				i++;
				continue;
			}
			if (!strncmp(a, "--output=", 9) || (!strncmp(a, "-o", 2) && a[2]))
				continue;
		}
		fputc(' ', f);
		shell_word(f, a);
	}
	fputs(output ? "\n" : " -o OUTDIR\n", f);
}
static void write_command(FILE *f, const void *a)
{
	write_argv(f, a, true);
}
static void write_placement(FILE *f, const void *a)
{
	const struct suite *su = a;
	fputs("Topology of this machine:\n", f);
	if (su->topo)
		dfb_topo_print_summary(f, su->topo);
	fputc('\n', f);
	for (size_t i = 0; i < su->res.nscen; i++)
		if (su->res.scen[i].placement)
			fputs(su->res.scen[i].placement, f);
}
static void write_sweep(FILE *f, const void *a)
{
	const struct suite *su = a;
	dfb_write_sweep_csv(f, &su->sweep, &su->res, &su->cmp);
}
static void write_sweep_strategies(FILE *f, const void *a)
{
	const struct suite *su = a;
	dfb_write_sweep_strategies_csv(f, &su->sweep, &su->res);
}
static void write_sweep_answer(FILE *f, const void *a)
{
	const struct suite *su = a;
	dfb_write_sweep_answer(f, &su->sweep, &su->res, &su->cmp);
}
static void write_text(FILE *f, const void *a)
{
	fputs((const char *)a, f);
}

/* Lines "PREFIX SCENARIO / STRATEGY: ..." for every strategy whose rounds
 * form two levels by the scenario's deciding metric (dfb_two_levels): its
 * median is the level with more rounds, and a change against it can jump
 * between runs that are otherwise alike.  meta.txt (so the report) and
 * the console. */
static void print_two_levels(FILE *f, const struct suite *su, const char *prefix)
{
	for (size_t i = 0; i < su->res.nscen; i++) {
		const struct dfb_scen_result *sc = &su->res.scen[i];
		enum dfb_metric m = dfb_cmp_deciding_metric(sc->transport);
		const struct dfb_column *col = dfb_metric_col(m);
		for (size_t s = 0; s < sc->nstrat; s++) {
			double lo, hi, up;
			if (dfb_strat_two_levels(&sc->strat[s], m, &lo, &hi, &up))
				fprintf(f, "%s%s / %s: its rounds form two levels by %s, about %.4g and "
					   "%.4g %s (%.0f%% in the upper): the median is the level that "
					   "holds more rounds, and a change against it can jump between "
					   "runs%s\n",
					prefix, sc->name, sc->strat[s].name, col->title, lo * col->scale,
					hi * col->scale, col->shown_unit, up * 100.0,
					sc->strat[s].n && isnan(sc->strat[s].rows[0].xpu_ns) &&
							isnan(sc->strat[s].rows[0].core_ns)
						? " (-S xpu_probe=1 and -S core_probe=1 record, round by "
						  "round, whether the machine's PUs were near or far apart "
						  "and whether the drain thread's core was shared)"
						: "");
		}
	}
}

static void write_meta(FILE *f, const void *a)
{
	const struct suite *su = a;
	char date[40], host[256] = "unknown", model[256];
	const char *commit = getenv("DFB_GIT_COMMIT");
	dfb_iso8601_now(date, sizeof(date));
	if (gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "unknown");
	cpu_model(model, sizeof(model));
	fprintf(f, "date: %s\nhost: %s\ngit_commit: %s\ncpu_model: %s\n", date, host,
		commit && *commit ? commit : "unknown", model);
	if (su->topo) {
		struct dfb_topo_summary ts;
		dfb_topo_summarize(su->topo, &ts);
		fprintf(f, "pus: %u\n", ts.pus);
	}
	char clock[160];
	dfb_clock_init();
	dfb_clock_describe(clock, sizeof(clock));
	fprintf(f, "clock: %s\nclock_read_ns: %.1f\n", clock, dfb_clock_read_ns());
	fprintf(f, "deferbench_version: %s\nrounds: %lu\nwarmup: %lu\nstrategies: ",
		PACKAGE_VERSION, su->rounds, su->warmup);
	for (size_t s = 0; s < su->nstrat; s++)
		fprintf(f, "%s%s", s ? "," : "", dfb_strategy_name(su->strat[s]));
	fputs("\nscenarios: ", f);
	for (size_t i = 0; i < su->nscen; i++)
		fprintf(f, "%s%s", i ? "," : "", su->scen_names[i]);
	fputc('\n', f);
	if (su->baseline)
		fprintf(f, "baseline: %s\n", su->baseline);
	fprintf(f, "invocations: %u\npasses: %u\n", su->invocations, su->passes);
	if (su->ab)
		fprintf(f, "ab: %s\n", su->ab);
	if (su->invocations > 1) {
		fprintf(f, "order_seed: %llu\n", (unsigned long long)su->seed);
		for (unsigned k = 0; k < su->invocations; k++)
			fprintf(f, "order: %s\n", su->orders[k]);
	}
	if (su->wait_quiet > 0)
		fprintf(f, "wait_quiet_s: %g\n", su->wait_quiet);
	for (size_t i = 0; i < su->res.nscen; i++) {
		const struct dfb_scen_result *sc = &su->res.scen[i];
		for (size_t s = 0; s < sc->nstrat; s++) {
			double d = dfb_strat_disturbed_pct(&sc->strat[s]);
			if (sc->strat[s].ndisturbed)
				fprintf(f, "warning: disturbed: %s / %s: %zu of %zu rounds (%.0f%%) ran "
					   "while other processes took over %.0f%% of the machine%s\n",
					sc->name, sc->strat[s].name, sc->strat[s].ndisturbed,
					sc->strat[s].n, d, DFB_DISTURB_OTHERS_PCT,
					d > DFB_DISTURBED_MAX_PCT ? "; its comparisons say disturbed"
								  : "");
		}
	}
	for (size_t i = 0; i < su->res.nscen; i++) {
		const struct dfb_scen_result *sc = &su->res.scen[i];
		if (sc->oversubscribed)
			fprintf(f, "warning: oversubscribed: %s: %u threads on %u PUs\n", sc->name,
				sc->threads, sc->pus);
	}
	for (size_t i = 0; i < su->res.nscen; i++) {
		const struct dfb_scen_result *sc = &su->res.scen[i];
		const char *title = dfb_metric_col(dfb_cmp_deciding_metric(sc->transport))->title;
		for (size_t s = 0; s < sc->nstrat; s++) {
			double cv;
			if (dfb_strat_noisy(sc, &sc->strat[s], &cv))
				fprintf(f, "warning: noisy: %s / %s: CV of %s %.1f%% > %.0f%%\n",
					sc->name, sc->strat[s].name, title, cv * 100.0,
					DFB_NOISY_CV * 100.0);
		}
	}
	print_two_levels(f, su, "warning: two levels: ");
	if (su->machine_meta)
		fputs(su->machine_meta, f);
	if (su->only)
		fprintf(f, "only: %s (%s: %zu of %zu rounds kept; rounds.csv has them all)\n",
			su->only, dfb_mstates[su->only_which].key, su->only_kept, su->only_total);
	for (size_t i = 0; i < su->nfail; i++)
		fprintf(f, "warning: failed: %s: %s\n", su->fail[i].name, su->fail[i].msg);
}

static int write_results(const struct suite *su, const char *outdir)
{
	static const struct {
		const char *name;
		void (*fn)(FILE *, const void *);
	} files[] = {
		{"rounds.csv", write_rounds},	  {"summary.csv", write_summary},
		{"comparison.csv", write_comparison}, {"latency.csv", write_latency},
		{"latency_cdf.csv", write_latency_cdf}, {"transport.csv", write_transport},
		{"overhead.csv", write_overhead}, {"columns.csv", dfb_write_columns_csv},
		{"results.json", write_json},	  {"command.txt", write_command},
		{"placement.txt", write_placement},	  {"meta.txt", write_meta},
	};
	char msg[4400], dir[4200];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (dfb_write_file_atomic(outdir, files[i].name, files[i].fn, su, msg, sizeof(msg)))
			goto fail;
	if (su->sweep.npt) {
		static const struct {
			const char *name;
			void (*fn)(FILE *, const void *);
		} sweep_files[] = {
			{"sweep.csv", write_sweep},
			{"sweep_strategies.csv", write_sweep_strategies},
			{"sweep_answer.txt", write_sweep_answer},
		};
		for (size_t i = 0; i < sizeof(sweep_files) / sizeof(sweep_files[0]); i++)
			if (dfb_write_file_atomic(outdir, sweep_files[i].name, sweep_files[i].fn, su,
						  msg, sizeof(msg)))
				goto fail;
	}
	if (su->aa && dfb_write_file_atomic(outdir, "calibrate.csv", dfb_write_calibrate_csv,
					    &su->calib, msg, sizeof(msg)))
		goto fail;
	if (su->ab) {
		/* The other build's rounds, so that `deferbench compare DIR/other
		 * DIR` repeats the comparison from the files. */
		snprintf(dir, sizeof(dir), "%s/other", outdir);
		if (dfb_mkdir_p(dir)) {
			snprintf(msg, sizeof(msg), "%s: %s", dir, strerror(errno));
			goto fail;
		}
		if (dfb_write_file_atomic(dir, "rounds.csv", write_other_rounds, su, msg,
					  sizeof(msg)))
			goto fail;
	}
	snprintf(dir, sizeof(dir), "%s/scenarios", outdir);
	if (dfb_mkdir_p(dir)) {
		snprintf(msg, sizeof(msg), "%s: %s", dir, strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < su->res.nscen; i++) {
		const struct dfb_scen_result *sc = &su->res.scen[i];
		char name[160];
		if (!sc->scn_text)
			continue;
		snprintf(name, sizeof(name), "%s.scn", sc->name);
		for (char *p = name; *p; p++)
			if (*p == '/')
				*p = '_';
		if (dfb_write_file_atomic(dir, name, write_text, sc->scn_text, msg, sizeof(msg)))
			goto fail;
	}
	if (su->topo) {
		/* hwloc writes the file itself: export to a temporary name, rename. */
		char tmp[4300], path[4300];
		snprintf(path, sizeof(path), "%s/topology.xml", outdir);
		snprintf(tmp, sizeof(tmp), "%s/.topology.xml.tmp-%ld", outdir, (long)getpid());
		if (hwloc_topology_export_xml(su->topo->t, tmp, 0) || rename(tmp, path)) {
			snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
			unlink(tmp);
			goto fail;
		}
	}
	return 0;
fail:
	fprintf(stderr, "deferbench: cannot write the results: %s\n", msg);
	return -1;
}

/* ---- console tables ------------------------------------------------------------------ */

static void print_summary(FILE *f, const struct suite *su)
{
	bool thr = false;
	for (size_t i = 0; i < su->res.nscen; i++)
		thr |= su->res.scen[i].transport;
	if (su->invocations > 1)
		fprintf(f, "\nPerformance Summary (medians over the %u x %lu measured rounds of each "
			   "strategy, %u invocations; times in us%s; Sched CV = stddev / mean)\n",
			su->invocations, su->rounds, su->invocations,
			thr ? ", throughput in M messages/s" : "");
	else
		fprintf(f, "\nPerformance Summary (medians over the %lu measured rounds of each "
			   "strategy; times in us%s; Sched CV = stddev / mean)\n",
			su->rounds, thr ? ", throughput in M messages/s" : "");
	fprintf(f, "%-30s %-10s", "Scenario", "Strategy");
	for (int m = 0; m < DFB_METRIC_NTIMES; m++)
		fprintf(f, " %12s", dfb_metric_col(m)->title);
	fprintf(f, " %9s", "Sched CV");
	if (thr)
		fprintf(f, " %14s", dfb_metric_col(DFB_METRIC_THROUGHPUT)->title);
	fputc('\n', f);
	for (size_t i = 0; i < su->res.nscen; i++) {
		const struct dfb_scen_result *sc = &su->res.scen[i];
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_strat_result *st = &sc->strat[s];
			double *x = malloc((st->n ? st->n : 1) * sizeof(*x));
			struct dfb_agg a[DFB_METRIC__COUNT];
			if (!x)
				return;
			for (int m = 0; m < DFB_METRIC__COUNT; m++) {
				dfb_strat_values(st, (enum dfb_metric)m, x);
				dfb_agg_compute(x, st->n, &a[m]);
			}
			free(x);
			fprintf(f, "%-30s %-10s", sc->name, st->name);
			for (int m = 0; m < DFB_METRIC_NTIMES; m++)
				fprintf(f, " %12.1f", a[m].median);
			fprintf(f, " %8.1f%%", a[DFB_METRIC_SCHED].cv * 100.0);
			if (thr && sc->transport)
				fprintf(f, " %14.2f", a[DFB_METRIC_THROUGHPUT].median * 1e-6);
			else if (thr)
				fprintf(f, " %14s", "-");
			fputc('\n', f);
		}
	}
	/* Upstream's tools/benchmark_rounds.sh prints the mean ("Avg") of
	 * each time and, above 20 rounds, the mean without the 10 lowest and
	 * 10 highest ("Trimmed Avg"): the same figures here, to set beside
	 * upstream's numbers. */
	fprintf(f, "\nUpstream's figures (as its tools/benchmark_rounds.sh prints them: Avg = mean; "
		   "Trimmed Avg = mean without the %d lowest and %d highest rounds, above %d)\n",
		DFB_AGG_TRIM, DFB_AGG_TRIM, DFB_AGG_TRIM_MIN_N);
	fprintf(f, "%-30s %-10s", "Scenario", "Strategy");
	for (int m = 0; m < DFB_METRIC_NTIMES; m++) {
		char t[40];
		snprintf(t, sizeof(t), "%.*s Avg", (int)strcspn(dfb_metric_col(m)->title, " "),
			 dfb_metric_col(m)->title);
		fprintf(f, " %12s", t);
	}
	fprintf(f, " %17s\n", "Sched Trimmed Avg");
	for (size_t i = 0; i < su->res.nscen; i++) {
		const struct dfb_scen_result *sc = &su->res.scen[i];
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_strat_result *st = &sc->strat[s];
			double *x = malloc((st->n ? st->n : 1) * sizeof(*x));
			struct dfb_agg a[DFB_METRIC_NTIMES];
			if (!x)
				return;
			for (int m = 0; m < DFB_METRIC_NTIMES; m++) {
				dfb_strat_values(st, (enum dfb_metric)m, x);
				dfb_agg_compute(x, st->n, &a[m]);
			}
			free(x);
			fprintf(f, "%-30s %-10s", sc->name, st->name);
			for (int m = 0; m < DFB_METRIC_NTIMES; m++)
				fprintf(f, " %12.1f", a[m].mean);
			if (a[DFB_METRIC_SCHED].trimmed)
				fprintf(f, " %17.1f\n", a[DFB_METRIC_SCHED].trimmed_mean);
			else
				fprintf(f, " %17s\n", "-");
		}
	}
	print_two_levels(f, su, "Two levels: ");
	if (su->machine_console)
		fputs(su->machine_console, f);
	if (su->only)
		fprintf(f, "Only the rounds %s: %zu of %zu (--only %s); this summary and the "
			   "comparisons below are of them\n",
			dfb_mstate_meaning(su->only_which, su->only_high), su->only_kept,
			su->only_total, su->only);
}

/* ---- one scenario ------------------------------------------------------------------- */

static void add_failure(struct suite *su, const char *name, const char *msg)
{
	struct dfb_failure *p = realloc(su->fail, (su->nfail + 1) * sizeof(*p));
	if (!p)
		return;
	su->fail = p;
	snprintf(p[su->nfail].name, sizeof(p[su->nfail].name), "%s", name);
	snprintf(p[su->nfail].msg, sizeof(p[su->nfail].msg), "%s", msg);
	su->nfail++;
}

static void quiet_tick(void *arg, double waited, double others)
{
	(void)arg;
	if (isatty(STDERR_FILENO) == 1)
		fprintf(stderr, "\r\033[Kwaiting for a quiet machine: %.0f s, other processes %.0f%%",
			waited, others);
}

/* --wait-quiet: waits, bounded, for other processes to leave the machine
 * before a scenario, and says how it went. */
static void wait_quiet(struct suite *su, const char *name)
{
	double waited, others;
	fflush(stdout);
	bool quiet = dfb_wait_quiet(su->wait_quiet, &waited, &others, quiet_tick, NULL);
	if (isatty(STDERR_FILENO) == 1)
		fputs("\r\033[K", stderr);
	if (quiet)
		printf("\n%s: machine quiet (other processes %.1f%% of %u CPUs) after %.1f s\n", name,
		       others, dfb_online_cpus(), waited);
	else
		printf("\n%s: warning: machine not quiet after %.0f s (other processes %.0f%% of %u "
		       "CPUs); running anyway, its rounds will show it\n",
		       name, waited, others, dfb_online_cpus());
}

/* Rounds of pass p (0-based): the suite's rounds shared out, the first
 * passes taking one more when they do not divide. */
static unsigned long pass_rounds(const struct suite *su, unsigned p)
{
	return su->rounds / su->passes + (p < su->rounds % su->passes);
}

/* Runs one loaded scenario, pass p of su->passes: its rounds merged into
 * the scenario's earlier passes; true when it passed. */
static bool run_scenario(struct suite *su, const struct dfb_scenario *sc, bool verbose,
			 struct progress *prog, unsigned p)
{
	struct dfb_rounds rr = {.scenario = sc->name, .cfg = sc->config, .nstrat = su->nstrat,
				.rounds = pass_rounds(su, p), .warmup = su->warmup};
	for (size_t s = 0; s < su->nstrat; s++) {
		rr.strat[s] = su->strat[su->perm[s]];
		rr.label[s] = su->label[su->perm[s]];
	}
	char msg[700];
	bool ok = false;

	if (su->wait_quiet > 0)
		wait_quiet(su, sc->name);
	printf("\n=== %s (%zu/%zu", sc->name, prog->idx + 1, prog->count);
	if (su->passes > 1)
		printf(", pass %u of %u", p + 1, su->passes);
	if (su->invocation)
		printf(", invocation %u of %u", su->invocation, su->invocations);
	printf("): %lu rounds after %lu warm-up, strategies", rr.rounds, su->warmup);
	for (size_t s = 0; s < su->nstrat; s++)
		printf("%s %s", s ? "," : "", dfb_rounds_label(&rr, s));
	printf(" (interleaved) ===\n");
	if (dfb_rounds_open(&rr)) {
		dfb_rounds_failure_text(&rr, msg, sizeof(msg));
		goto failed;
	}
	if (verbose) {
		printf("  ");
		for (size_t k = 0; k < dfb_config_nkeys; k++) {
			char v[300];
			dfb_config_format(dfb_runtime_config(rr.rt[0]), &dfb_config_keys[k], v,
					  sizeof(v));
			printf("%s=%s%s", dfb_config_keys[k].name, v,
			       k + 1 < dfb_config_nkeys ? " " : "\n");
		}
	}
	dfb_plan_print_summary(stdout, dfb_runtime_plan(rr.rt[0]), verbose);
	fflush(stdout);

	prog->t_scen = now_s();
	prog->shown = false;
	int rc = dfb_rounds_exec(&rr, progress_cb, prog);
	progress_clear(prog);
	if (rc) {
		dfb_rounds_print_failure(stderr, &rr);
		dfb_rounds_failure_text(&rr, msg, sizeof(msg));
		goto failed;
	}
	for (size_t s = 0; s < su->nstrat; s++) {
		dfb_print_round_table_opt(stdout, sc->name, dfb_rounds_label(&rr, s),
					  dfb_rounds_of(&rr, s), rr.rounds, true);
		if (verbose)
			dfb_print_counters(stdout, dfb_rounds_of(&rr, s), rr.rounds);
		else
			dfb_print_round_notes(stdout, dfb_rounds_of(&rr, s), rr.rounds);
		dfb_print_overhead(stdout, &rr, s);
	}
	dfb_plan_print_binding(stdout, dfb_runtime_plan(rr.rt[0]));

	struct dfb_scen_result *res = dfb_results_add_rounds(&su->res, &rr);
	if (!res) {
		snprintf(msg, sizeof(msg), "out of memory for the results");
		goto failed;
	}
	if (p > 0) {
		/* A later pass: its rounds join the first pass's, which keeps
		 * the scenario's file and placement. */
		if (dfb_results_merge_last(&su->res)) {
			snprintf(msg, sizeof(msg), "out of memory for the results");
			goto failed;
		}
		ok = true;
		goto out;
	}
	res->placement = placement_text(&rr);
	res->scn_text = dfb_scenario_file_text(sc->name, sc->description,
					       dfb_runtime_config(rr.rt[0]), su->rounds,
					       su->warmup, su->strat, su->nstrat, sc->source);
	if (!res->placement || !res->scn_text) {
		snprintf(msg, sizeof(msg), "out of memory for the results");
		free(res->placement);
		free(res->scn_text);
		for (size_t s = 0; s < res->nstrat; s++)
			free(res->strat[s].rows);
		su->res.nscen--;
		goto failed;
	}
	ok = true;
	goto out;
failed:
	if (!rr.failed)
		fprintf(stderr, "deferbench: %s: %s\n", sc->name, msg);
	printf("FAILED: %s: %s\n", sc->name, msg);
	add_failure(su, sc->name, msg);
out:
	fflush(stdout);
	dfb_rounds_close(&rr);
	return ok;
}

/* Before a sweep: one round of each point with the first strategy, timed,
 * so that the run's length is known before it starts (the pilot costs
 * about 1/(strategies x rounds) of the run).  A point that fails here is
 * left to fail in the run, where it is reported. */
static void sweep_estimate(const struct suite *su, const struct dfb_scenario *scen, size_t n)
{
	bool tty = isatty(STDERR_FILENO) == 1;
	double total = 0, t_start = now_s(), last = 0;
	size_t failed = 0;
	for (size_t i = 0; i < n; i++) {
		struct dfb_rounds rr = {.scenario = scen[i].name, .cfg = scen[i].config,
					.nstrat = 1, .rounds = 1, .warmup = 0};
		rr.strat[0] = su->strat[0];
		rr.label[0] = su->label[0];
		double t0 = now_s();
		if (tty && t0 - last > 0.1) {
			fprintf(stderr, "\r\033[Ksweep: timing one round of point %zu/%zu (%s)", i + 1,
				n, scen[i].name);
			last = t0;
		}
		if (dfb_rounds_open(&rr)) {
			dfb_rounds_close(&rr);
			failed++;
			continue;
		}
		double t1 = now_s();
		int rc = dfb_rounds_exec(&rr, NULL, NULL);
		double t2 = now_s();
		dfb_rounds_close(&rr);
		double t3 = now_s();
		if (rc) {
			failed++;
			continue;
		}
		/* A measured round runs twice when sampling is on (once with it
		 * off, for the overhead figure); warm-up rounds once. */
		double runs = scen[i].config.latency_sample ? 2.0 : 1.0;
		double per_round = (t2 - t1) / runs;
		/* Opening and closing the runtimes, and the warm-up, at every
		 * pass. */
		double np = (double)su->passes;
		total += (t1 - t0 + t3 - t2) * (double)su->nstrat * np +
			 per_round * (double)su->nstrat *
				 ((double)su->warmup * np + runs * (double)su->rounds);
	}
	if (tty)
		fputs("\r\033[K", stderr);
	total *= (double)su->invocations * (su->ab ? 2.0 : 1.0);
	char est[32], took[32];
	fmt_dur(est, sizeof(est), total);
	fmt_dur(took, sizeof(took), now_s() - t_start);
	printf("sweep: %zu points (%zu sweep%s), %zu strategies, %lu rounds after %lu warm-up: "
	       "estimated %s (from one timed round of each point, which took %s)",
	       n, su->sweep.nsw, su->sweep.nsw == 1 ? "" : "s", su->nstrat, su->rounds, su->warmup,
	       est, took);
	if (failed)
		printf("; %zu point%s failed the pilot round", failed, failed == 1 ? "" : "s");
	printf("\n");
	fflush(stdout);
}

/* A sweep's base scenarios: the -c list (`given`), else the set member's
 * own, else deferred_heavy; how many, the list into *out. */
static size_t sweep_bases(const struct dfb_sweep *sw, const char *const *given, size_t ngiven,
			  const char *const **out)
{
	static const char *const dflt[] = {"deferred_heavy"};
	*out = given ? given : sw->nscen ? sw->scen : dflt;
	return given ? ngiven : sw->nscen ? sw->nscen : 1;
}

static const char *suite_label(const struct suite *su, size_t s)
{
	return su->label[s] ? su->label[s] : dfb_strategy_name(su->strat[s]);
}

/* Scenarios of scen[] with a failure in any invocation. */
static size_t count_failed(const struct suite *su, const struct dfb_scenario *scen, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t f = 0; f < su->nfail; f++)
			if (!strcmp(su->fail[f].name, scen[i].name)) {
				k++;
				break;
			}
	return k;
}

/* Every scenario of scen[], in su->passes passes over the list (a
 * scenario that failed is not visited again); the failed ones' rounds of
 * earlier passes dropped.  Returns how many passed. */
static size_t run_passes(struct suite *su, const struct dfb_scenario *scen, size_t n,
			 bool verbose)
{
	struct progress prog = {.tty = isatty(STDERR_FILENO) == 1, .count = n * su->passes,
				.t_suite = now_s()};
	for (unsigned p = 0; p < su->passes; p++)
		for (size_t i = 0; i < n; i++) {
			prog.idx = p * n + i;
			if (p && count_failed(su, &scen[i], 1))
				continue;
			double t0 = now_s();
			run_scenario(su, &scen[i], verbose, &prog, p);
			prog.done_time += now_s() - t0;
			prog.done++;
		}
	for (size_t f = 0; su->passes > 1 && f < su->nfail; f++)
		dfb_results_drop(&su->res, su->fail[f].name);
	return n - count_failed(su, scen, n);
}

/* One invocation k of the program `exe` (this one, or --ab's other
 * build): this command's arguments (less --ab) with --child-fd,
 * --invocation and --seed; its rounds merged into `into`, its failures
 * into su->fail named after `who`.  Returns the child's status (0 or 1),
 * or -1 when it could not run or its results could not be read. */
static int one_invocation(struct suite *su, const char *exe, const char *who, unsigned k,
			  struct dfb_results *into, char **argv)
{
	char fd_s[16], inv_s[16], seed_s[32];
	snprintf(fd_s, sizeof(fd_s), "%d", 3);
	snprintf(inv_s, sizeof(inv_s), "%u", k);
	snprintf(seed_s, sizeof(seed_s), "%llu", (unsigned long long)su->seed);
	size_t a = 0;
	argv[a++] = (char *)exe;
	argv[a++] = "suite";
	for (int i = 1; i < su->argc; i++) {
		if (!strcmp(su->argv[i], "--ab") && i + 1 < su->argc) {
			i++;
			continue;
		}
		if (!strncmp(su->argv[i], "--ab=", 5))
			continue;
		argv[a++] = su->argv[i];
	}
	argv[a++] = "--child-fd";
	argv[a++] = fd_s;
	argv[a++] = "--invocation";
	argv[a++] = inv_s;
	argv[a++] = "--seed";
	argv[a++] = seed_s;
	argv[a] = NULL;
	const char *order[DFB_MAX_STRATEGIES];
	for (size_t s = 0; s < su->nstrat; s++)
		order[s] = suite_label(su, s);
	size_t perm[DFB_MAX_STRATEGIES];
	dfb_shuffle_order(perm, su->nstrat, su->seed + k);
	char *line = su->orders[k - 1];
	int w = snprintf(line, sizeof(su->orders[0]), "invocation %u:", k);
	for (size_t s = 0; s < su->nstrat && w > 0 && (size_t)w < sizeof(su->orders[0]); s++)
		w += snprintf(line + w, sizeof(su->orders[0]) - (size_t)w, "%s%s", s ? "," : " ",
			      order[perm[s]]);
	printf("\n##### %s%s%s (a separate process) #####\n", who ? who : "", who ? ", " : "",
	       line);
	fflush(stdout);
	char *buf, msg[300];
	size_t len;
	int st = dfb_invoke_run(argv, 3, &buf, &len);
	if (st < 0 || st > 1) {
		if (st < 0)
			fprintf(stderr, "deferbench: %s%sinvocation %u could not start: %s\n",
				who ? who : "", who ? ", " : "", k, strerror(errno));
		else
			fprintf(stderr, "deferbench: %s%sinvocation %u %s %d; no results are kept\n",
				who ? who : "", who ? ", " : "", k,
				st > 128 ? "was killed by signal" : "exited with status",
				st > 128 ? st - 128 : st);
		free(buf);
		return -1;
	}
	size_t had = su->nfail;
	if (dfb_invoke_receive(buf, len, k, order, su->nstrat, into, &su->fail, &su->nfail, msg,
			       sizeof(msg))) {
		fprintf(stderr, "deferbench: %s%s%s; no results are kept%s\n", who ? who : "",
			who ? ": " : "", msg,
			who ? " (the other build must be this version or later: it speaks the "
			      "same results stream)"
			    : "");
		free(buf);
		return -1;
	}
	free(buf);
	for (size_t f = had; f < su->nfail; f++) {
		char m[sizeof(su->fail[f].msg) + 160];
		snprintf(m, sizeof(m), "%s%sinvocation %u: %s", who ? who : "", who ? ", " : "", k,
			 su->fail[f].msg);
		snprintf(su->fail[f].msg, sizeof(su->fail[f].msg), "%.*s",
			 (int)sizeof(su->fail[f].msg) - 1, m);
	}
	return st;
}

/* --invocations K: the suite's scenarios in K child processes, each this
 * command again with --child-fd and --invocation, its strategy order
 * shuffled (from the seed and its number); their rounds merged with the
 * invocation number.  With --ab OTHER, invocation k of the other build
 * runs next to invocation k of this one, in alternating order (other
 * first when k is odd), its rounds merged into su->ab_res: drift over the
 * run hits both builds alike.  Returns 0 when every invocation passed, 1
 * when a scenario failed somewhere (its results dropped, on both sides),
 * -1 when an invocation could not run or its results could not be read
 * (nothing kept). */
static int run_invocations(struct suite *su)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "deferbench: cannot find this program (/proc/self/exe): %s\n",
			strerror(errno));
		return -1;
	}
	exe[n] = 0;
	char **argv = calloc((size_t)su->argc + 10, sizeof(*argv));
	if (!argv)
		return -1;
	int rc = 0;
	for (unsigned k = 1; k <= su->invocations && rc >= 0; k++) {
		bool other_first = su->ab && (k & 1);
		for (int side = 0; side < (su->ab ? 2 : 1) && rc >= 0; side++) {
			bool other = su->ab && (side == 0) == other_first;
			int st = other ? one_invocation(su, su->ab, "other build", k, &su->ab_res,
							argv)
				       : one_invocation(su, exe, su->ab ? "this build" : NULL, k,
							&su->res, argv);
			if (st < 0)
				rc = -1;
			else if (st == 1)
				rc = 1;
		}
	}
	free(argv);
	if (rc < 0) {
		dfb_results_free(&su->res);
		dfb_results_free(&su->ab_res);
		return -1;
	}
	for (size_t f = 0; f < su->nfail; f++) {
		dfb_results_drop(&su->res, su->fail[f].name);
		dfb_results_drop(&su->ab_res, su->fail[f].name);
	}
	return rc;
}

/* ---- deferbench suite --------------------------------------------------------------- */

/* The machine lines of every scenario (mstate.h), as text. */
static char *machine_text(const struct dfb_results *res, const char *prefix, bool only_high)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return NULL;
	double ref[DFB_MSTATE__COUNT];
	for (int w = 0; w < DFB_MSTATE__COUNT; w++)
		ref[w] = dfb_mstate_ref(res, (enum dfb_mstate)w);
	for (size_t i = 0; i < res->nscen; i++)
		dfb_mstate_report_all(m, &res->scen[i], ref, prefix, only_high);
	fclose(m);
	return text;
}

/* --only: a scenario dropped for want of rounds in the state, a failure. */
static void only_dropped(void *arg, const char *name)
{
	struct suite *su = arg;
	char msg[300];
	snprintf(msg, sizeof(msg), "--only %s: a strategy has no round %s (-S %s=1 probes it)",
		 su->only, dfb_mstate_meaning(su->only_which, su->only_high),
		 dfb_mstates[su->only_which].key);
	add_failure(su, name, msg);
}

int dfb_cmd_suite(int argc, char **argv)
{
	enum { OPT_QUICK = 256, OPT_INVOCATIONS, OPT_SEED, OPT_WAIT_QUIET, OPT_CHILD_FD,
	       OPT_INVOCATION, OPT_AA, OPT_AB, OPT_SWEEP, OPT_SWEEP_SET, OPT_PASSES, OPT_ONLY };
	static const struct option opts[] = {
		{"rounds", required_argument, NULL, 'n'},
		{"warmup", required_argument, NULL, 'w'},
		{"strategies", required_argument, NULL, 's'},
		{"strategy", required_argument, NULL, 's'},
		{"scenarios", required_argument, NULL, 'c'},
		{"baseline", required_argument, NULL, 'b'},
		{"output", required_argument, NULL, 'o'},
		{"set", required_argument, NULL, 'S'},
		{"quick", no_argument, NULL, OPT_QUICK},
		{"invocations", required_argument, NULL, OPT_INVOCATIONS},
		{"passes", required_argument, NULL, OPT_PASSES},
		{"seed", required_argument, NULL, OPT_SEED},
		{"wait-quiet", required_argument, NULL, OPT_WAIT_QUIET},
		{"child-fd", required_argument, NULL, OPT_CHILD_FD},
		{"invocation", required_argument, NULL, OPT_INVOCATION},
		{"aa", no_argument, NULL, OPT_AA},
		{"ab", required_argument, NULL, OPT_AB},
		{"sweep", required_argument, NULL, OPT_SWEEP},
		{"sweep-set", required_argument, NULL, OPT_SWEEP_SET},
		{"only", required_argument, NULL, OPT_ONLY},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct suite su = {.argc = argc, .argv = argv, .invocations = 1, .child_fd = -1};
	bool rounds_given = false, warmup_given = false, quick = false, verbose = false;
	bool sweep_opt = false;
	const char *scen_list = NULL, *outdir = NULL, *baseline_arg = NULL;
	struct dfb_sets sets = {.n = 0};
	int o, rc;

	su.nstrat = dfb_default_strategies(su.strat);
	optind = 1;
	while ((o = getopt_long(argc, argv, "n:w:s:c:b:o:S:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			if ((rc = dfb_parse_count("--rounds", optarg, 1, &su.rounds)))
				return rc;
			rounds_given = true;
			break;
		case 'w':
			if ((rc = dfb_parse_count("--warmup", optarg, 0, &su.warmup)))
				return rc;
			warmup_given = true;
			break;
		case 's':
			if ((rc = dfb_parse_strategies(optarg, su.strat, &su.nstrat)))
				return rc;
			break;
		case 'c':
			scen_list = optarg;
			break;
		case 'b':
			baseline_arg = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'S':
			if ((rc = dfb_sets_add(&sets, optarg)))
				return rc;
			break;
		case OPT_QUICK:
			quick = true;
			break;
		case OPT_INVOCATIONS: {
			unsigned long k;
			if ((rc = dfb_parse_count("--invocations", optarg, 1, &k)))
				return rc;
			if (k > 32)
				return dfb_usage_error("--invocations: at most 32 (got %lu)", k);
			su.invocations = (unsigned)k;
			break;
		}
		case OPT_PASSES: {
			unsigned long k;
			if ((rc = dfb_parse_count("--passes", optarg, 1, &k)))
				return rc;
			if (k > MAX_PASSES)
				return dfb_usage_error("--passes: at most %d (got %lu)", MAX_PASSES, k);
			su.passes = (unsigned)k;
			break;
		}
		case OPT_SEED: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || *optarg == '-')
				return dfb_usage_error("--seed: '%s' is not a whole number", optarg);
			su.seed = v;
			su.seed_given = true;
			break;
		}
		case OPT_ONLY: {
			char msg[300];
			if (dfb_mstate_parse(optarg, &su.only_which, &su.only_high, msg, sizeof(msg)))
				return dfb_usage_error("--only: %s", msg);
			su.only = optarg;
			break;
		}
		case OPT_WAIT_QUIET: {
			char *end;
			double v = strtod(optarg, &end);
			if (!*optarg || *end || !(v >= 0 && v <= 3600))
				return dfb_usage_error("--wait-quiet: '%s' is not a number of seconds "
						       "from 0 to 3600", optarg);
			su.wait_quiet = v;
			break;
		}
		case OPT_CHILD_FD:
			su.child_fd = atoi(optarg);
			break;
		case OPT_INVOCATION:
			su.invocation = (unsigned)atoi(optarg);
			break;
		case OPT_AA:
			su.aa = true;
			break;
		case OPT_AB:
			su.ab = optarg;
			break;
		case OPT_SWEEP: {
			char msg[600];
			struct dfb_sweep *sw = &su.sweep.sw[0];
			if (su.sweep.set)
				return dfb_usage_error("--sweep and --sweep-set do not go together");
			if (sw->nax == DFB_SWEEP_MAX_AXES)
				return dfb_usage_error("--sweep: at most %d keys (a map); got a third, "
						       "'%s'",
						       DFB_SWEEP_MAX_AXES, optarg);
			if (dfb_sweep_parse_axis(optarg, &sw->ax[sw->nax], msg, sizeof(msg)))
				return dfb_usage_error("%s", msg);
			if (sw->nax && !strcmp(sw->ax[0].key, sw->ax[1].key))
				return dfb_usage_error("--sweep: key %s given twice", sw->ax[0].key);
			sw->nax++;
			sweep_opt = true;
			snprintf(sw->name, sizeof(sw->name), "sweep");
			su.sweep.nsw = 1;
			break;
		}
		case OPT_SWEEP_SET:
			if (dfb_sweep_set(optarg, su.sweep.sw, DFB_SWEEP_MAX_SWEEPS, &su.sweep.nsw))
				return dfb_usage_error("--sweep-set: no set '%s' (the sets: %s)", optarg,
						       dfb_sweep_set_names());
			su.sweep.set = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			suite_usage(stdout);
			return DFB_EXIT_OK;
		default:
			suite_usage(stderr);
			return DFB_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		suite_usage(stderr);
		return dfb_usage_error("suite takes no operand ('%s'); scenarios go in -c LIST",
				       argv[optind]);
	}
	if (su.sweep.set && sweep_opt)
		return dfb_usage_error("--sweep and --sweep-set do not go together");
	if (su.sweep.nsw && su.aa)
		return dfb_usage_error("calibrate does not sweep");
	if (su.ab && (su.aa || su.child_fd >= 0))
		return dfb_usage_error("--ab does not go with calibrate");
	if (su.ab && access(su.ab, X_OK))
		return dfb_usage_error("--ab: '%s' is not an executable deferbench: %s", su.ab,
				       strerror(errno));
	if ((!outdir || !*outdir) && !su.aa) {
		suite_usage(stderr);
		return dfb_usage_error("suite needs -o OUTDIR");
	}
	for (size_t i = 0; i < su.nstrat; i++)
		for (size_t j = 0; j < i; j++)
			if (su.strat[i] == su.strat[j])
				return dfb_usage_error("strategy '%s' given twice",
						       dfb_strategy_name(su.strat[i]));
	if (su.aa) {
		/* Two labelled copies of each strategy, side by side. */
		if (su.nstrat * 2 > DFB_MAX_STRATEGIES)
			return dfb_usage_error("calibrate: at most %d strategies (two copies each)",
					       DFB_MAX_STRATEGIES / 2);
		for (size_t i = su.nstrat; i-- > 0;) {
			su.strat[2 * i] = su.strat[2 * i + 1] = su.strat[i];
			for (int c = 0; c < 2; c++) {
				snprintf(su.labels[2 * i + c], sizeof(su.labels[0]), "%s#%d",
					 dfb_strategy_name(su.strat[i]), c + 1);
				su.label[2 * i + c] = su.labels[2 * i + c];
			}
		}
		su.nstrat *= 2;
	}
	if (!su.seed_given)
		su.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (size_t s = 0; s < su.nstrat; s++)
		su.perm[s] = s;
	if (su.invocation)
		dfb_shuffle_order(su.perm, su.nstrat, su.seed + su.invocation);
	if (!rounds_given)
		su.rounds = su.sweep.set ? DFB_SWEEP_SET_ROUNDS : quick ? QUICK_ROUNDS : SUITE_ROUNDS;
	if (!warmup_given)
		su.warmup = su.sweep.set ? DFB_SWEEP_SET_WARMUP : quick ? QUICK_WARMUP : SUITE_WARMUP;
	if (!su.passes)
		su.passes = su.sweep.set && su.rounds >= DFB_SWEEP_SET_PASSES ? DFB_SWEEP_SET_PASSES
									  : 1;
	if (su.passes > su.rounds)
		return dfb_usage_error("--passes %u: more passes than rounds (%lu); each pass "
				       "runs at least one",
				       su.passes, su.rounds);

	/* The scenario arguments, then every scenario loaded before anything
	 * runs: a typo costs nothing. */
	const char *args[MAX_SCENARIOS];
	size_t nargs = 0;
	char *list_copy = NULL;
	if (scen_list) {
		list_copy = strdup(scen_list);
		if (!list_copy)
			return dfb_usage_error("out of memory");
		for (char *save = NULL, *t = strtok_r(list_copy, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			if (nargs == MAX_SCENARIOS) {
				free(list_copy);
				return dfb_usage_error("at most %d scenarios", MAX_SCENARIOS);
			}
			args[nargs++] = t;
		}
		if (!nargs) {
			free(list_copy);
			return dfb_usage_error("--scenarios needs at least one name");
		}
	} else if (quick) {
		for (size_t i = 0; i < sizeof(quick_scenarios) / sizeof(quick_scenarios[0]); i++)
			args[nargs++] = quick_scenarios[i];
	} else {
		for (size_t i = 0; i < dfb_nbuiltin_scenarios && nargs < MAX_SCENARIOS; i++)
			args[nargs++] = dfb_builtin_scenarios[i].name;
	}
	/* A sweep runs its points instead: each base scenario (-c, else the
	 * set member's own, else deferred_heavy) once per point. */
	size_t nbase = nargs;
	if (su.sweep.nsw) {
		const char *bases[MAX_SCENARIOS];
		memcpy(bases, args, nbase * sizeof(args[0]));
		size_t n = 0;
		for (size_t w = 0; w < su.sweep.nsw; w++) {
			const char *const *bl;
			n += sweep_bases(&su.sweep.sw[w], scen_list ? bases : NULL, nbase, &bl) *
			     dfb_sweep_npoints(&su.sweep.sw[w]);
		}
		if (n > MAX_SCENARIOS) {
			free(list_copy);
			return dfb_usage_error("the sweep has %zu points (scenarios x values); at "
					       "most %d",
					       n, MAX_SCENARIOS);
		}
		su.sweep.pt = calloc(n ? n : 1, sizeof(*su.sweep.pt));
		if (!su.sweep.pt) {
			free(list_copy);
			return dfb_usage_error("out of memory");
		}
		nargs = 0;
		for (size_t w = 0; w < su.sweep.nsw; w++) {
			const struct dfb_sweep *sw = &su.sweep.sw[w];
			const char *const *bl;
			size_t nb = sweep_bases(sw, scen_list ? bases : NULL, nbase, &bl);
			for (size_t b = 0; b < nb; b++)
				for (size_t p = 0; p < dfb_sweep_npoints(sw); p++) {
					struct dfb_sweep_pt *pt = &su.sweep.pt[nargs];
					pt->sweep = w;
					pt->point = p;
					args[nargs++] = bl[b];
				}
		}
		su.sweep.npt = nargs;
	}
	struct dfb_scenario *scen = calloc(nargs ? nargs : 1, sizeof(*scen));
	if (!scen) {
		free(list_copy);
		free(su.sweep.pt);
		return dfb_usage_error("out of memory");
	}
	int exit_code = DFB_EXIT_OK;
	struct dfb_results old = {0};
	struct dfb_topo *topo = NULL;
	char baseline_path[4096];
	for (size_t i = 0; i < nargs; i++) {
		if (su.sweep.npt) {
			/* The point's keys after every --set. */
			struct dfb_sweep_pt *pt = &su.sweep.pt[i];
			const struct dfb_sweep *sw = &su.sweep.sw[pt->sweep];
			char kv[DFB_SWEEP_MAX_SETS + DFB_SWEEP_MAX_AXES][100];
			const char *all[DFB_MAX_SETS + DFB_SWEEP_MAX_SETS + DFB_SWEEP_MAX_AXES];
			size_t nkv = dfb_sweep_point_sets(sw, pt->point, kv, sizeof(kv) / sizeof(kv[0]));
			memcpy(all, sets.kv, sets.n * sizeof(sets.kv[0]));
			for (size_t k = 0; k < nkv; k++)
				all[sets.n + k] = kv[k];
			rc = dfb_scenario_load(args[i], all, sets.n + nkv, &scen[i]);
			dfb_scenario_free(&scen[i]);
			if (!rc) {
				snprintf(pt->base, sizeof(pt->base), "%s", scen[i].name);
				dfb_sweep_point_name(sw, scen[i].name, pt->point, pt->name,
						     sizeof(pt->name));
				if (strlen(pt->name) + 1 >= sizeof(scen[i].name)) {
					dfb_usage_error("sweep point name '%s' is too long", pt->name);
					rc = -1;
				} else {
					snprintf(scen[i].name, sizeof(scen[i].name), "%s", pt->name);
				}
			} else {
				char name[200];
				dfb_sweep_point_name(sw, args[i], pt->point, name, sizeof(name));
				fprintf(stderr, "deferbench: (the errors above: sweep point %s)\n", name);
			}
		} else {
			rc = dfb_scenario_load(args[i], sets.kv, sets.n, &scen[i]);
			dfb_scenario_free(&scen[i]);
		}
		if (rc) {
			exit_code = DFB_EXIT_USAGE;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(scen[j].name, scen[i].name)) {
				dfb_usage_error("two scenarios named '%s' (%s and %s); results are "
						"kept by name",
						scen[i].name, scen[j].source, scen[i].source);
				exit_code = DFB_EXIT_USAGE;
			}
		su.scen_names[su.nscen++] = scen[i].name;
	}
	if (exit_code)
		goto out;
	if (su.child_fd >= 0) {
		/* One invocation of a parent's --invocations: run, send, done. */
		size_t passed = run_passes(&su, scen, nargs, verbose);
		fflush(stdout);
		exit_code = passed == nargs ? DFB_EXIT_OK : DFB_EXIT_FAIL;
		if (dfb_invoke_send(su.child_fd, &su.res, su.fail, su.nfail)) {
			fprintf(stderr, "deferbench: invocation %u: cannot send its results: %s\n",
				su.invocation, strerror(errno));
			exit_code = EXIT_WRITE;
		}
		close(su.child_fd);
		goto out;
	}
	if (baseline_arg) {
		char msg[4400];
		if ((exit_code = resolve_baseline(baseline_arg, baseline_path, sizeof(baseline_path))))
			goto out;
		if (dfb_results_read_csv(&old, baseline_path, msg, sizeof(msg))) {
			exit_code = dfb_usage_error("baseline: %s", msg);
			goto out;
		}
		su.baseline = baseline_path;
	}
	if (outdir && dfb_mkdir_p(outdir)) {
		exit_code = dfb_usage_error("cannot create the output directory %s: %s", outdir,
					    strerror(errno));
		goto out;
	}
	{
		char msg[512];
		if (dfb_topo_open(NULL, &topo, msg, sizeof(msg)))
			fprintf(stderr, "deferbench: this machine's topology: %s "
					"(topology.xml and the cache list are left out)\n",
				msg);
		su.topo = topo;
	}

	printf("deferbench suite: %zu scenarios, %lu rounds after %lu warm-up per strategy, "
	       "strategies",
	       nargs, su.rounds, su.warmup);
	for (size_t s = 0; s < su.nstrat; s++)
		printf("%s %s", s ? "," : "", suite_label(&su, s));
	printf(" (interleaved; the first is the baseline)");
	if (su.passes > 1) {
		printf(", in %u passes over the scenarios (", su.passes);
		if (su.rounds % su.passes)
			printf("%lu or ", pass_rounds(&su, su.passes - 1));
		printf("%lu rounds and %lu warm-up each)", pass_rounds(&su, 0), su.warmup);
	}
	if (su.invocations > 1)
		printf(", %u invocations (separate processes, strategy order shuffled; seed %llu)",
		       su.invocations, (unsigned long long)su.seed);
	if (su.ab)
		printf("; each invocation also run by the other build %s, alternating", su.ab);
	printf("\n");

	if (su.sweep.npt)
		sweep_estimate(&su, scen, nargs);
	size_t passed = 0;
	if (su.invocations > 1 || su.ab) {
		int irc = run_invocations(&su);
		if (irc < 0) {
			printf("\nBenchmark failed: an invocation did not complete; nothing written\n");
			exit_code = DFB_EXIT_FAIL;
			goto out;
		}
		passed = nargs - count_failed(&su, scen, nargs);
	} else {
		passed = run_passes(&su, scen, nargs, verbose);
	}
	/* The machine lines see every round; --only then keeps some. */
	su.machine_meta = machine_text(&su.res, "machine: ", false);
	su.machine_console = machine_text(&su.res, "Machine: ", true);
	if (su.only) {
		size_t k, t, rlen;
		FILE *m = open_memstream(&su.raw_rounds, &rlen);
		if (m) {
			dfb_write_rounds_csv(m, &su.res);
			fclose(m);
		}
		passed -= dfb_mstate_keep_all(&su.res, su.only_which, su.only_high, &su.only_kept,
					      &su.only_total, only_dropped, &su);
		if (su.baseline)
			dfb_mstate_keep_all(&old, su.only_which, su.only_high, &k, &t, NULL, NULL);
		dfb_mstate_keep_all(&su.ab_res, su.only_which, su.only_high, &k, &t, NULL, NULL);
	}
	for (size_t i = 0; i < su.res.nscen && !su.aa; i++)
		if (dfb_compare_within(&su.cmp, &su.res.scen[i]))
			fprintf(stderr, "deferbench: %s: out of memory for the comparison\n",
				su.res.scen[i].name);
	dfb_cmp_holm(&su.cmp);

	if (su.res.nscen)
		print_summary(stdout, &su);
	if (su.nstrat > 1 && su.cmp.n)
		dfb_cmp_print(stdout, &su.cmp, "strategy",
			      "Comparison: strategies within this run (the first strategy is the "
			      "baseline)",
			      NULL, NULL);
	if (su.baseline) {
		struct dfb_cmp_set saved = {0};
		su.saved_pairs = dfb_compare_saved(&saved, &old, &su.res);
		dfb_cmp_holm(&saved);
		char title[4200];
		snprintf(title, sizeof(title),
			 "Against the saved baseline %s (its rounds vs this run's, strategy by "
			 "strategy)",
			 su.baseline);
		if (su.saved_pairs > 0) {
			dfb_cmp_print(stdout, &saved, "saved", title, "saved run", "this run");
			for (size_t i = 0; i < saved.n; i++) {
				/* Append to the suite's set (for comparison.csv). */
				struct dfb_cmp_row *p = dfb_cmp_add_row(&su.cmp);
				if (!p)
					break;
				*p = saved.rows[i];
			}
		} else {
			printf("\n%s:\nno scenario and strategy in common with this run\n", title);
		}
		dfb_cmp_set_free(&saved);
	}

	if (su.ab && su.ab_res.nscen) {
		struct dfb_cmp_set ab = {0};
		char title[4400];
		if (dfb_compare_saved(&ab, &su.ab_res, &su.res) > 0) {
			for (size_t i = 0; i < ab.n; i++)
				snprintf(ab.rows[i].kind, sizeof(ab.rows[i].kind), "build");
			dfb_cmp_holm(&ab);
			snprintf(title, sizeof(title),
				 "Against the other build %s (its invocations interleaved with this "
				 "build's, strategy by strategy)",
				 su.ab);
			dfb_cmp_print(stdout, &ab, "build", title, "other build", "this build");
			for (size_t i = 0; i < ab.n; i++) {
				struct dfb_cmp_row *p = dfb_cmp_add_row(&su.cmp);
				if (!p)
					break;
				*p = ab.rows[i];
			}
		}
		dfb_cmp_set_free(&ab);
	}
	if (su.aa) {
		if (dfb_calibrate(&su.res, su.seed, &su.calib))
			fprintf(stderr, "deferbench: out of memory for the calibration\n");
		else
			dfb_calib_print(stdout, &su.calib);
	}
	char *command = NULL;
	if (su.sweep.npt) {
		size_t clen;
		FILE *m = open_memstream(&command, &clen);
		if (m) {
			write_argv(m, &su, false);
			fclose(m);
			if (command && clen && command[clen - 1] == '\n')
				command[clen - 1] = 0;
			su.sweep.command = command;
		}
		if (su.baseline) {
			su.sweep.saved = &old;
			su.sweep.saved_name = su.baseline;
		}
		printf("\nSweep: where each strategy wins (also sweep_answer.txt)\n");
		dfb_write_sweep_answer(stdout, &su.sweep, &su.res, &su.cmp);
	}
	fflush(stdout);
	bool write_failed = outdir && write_results(&su, outdir) != 0;
	free(command);
	if (su.nfail)
		printf("\nFailed scenarios (no results written for them):\n");
	for (size_t i = 0; i < su.nfail; i++)
		printf("  %s: %s\n", su.fail[i].name, su.fail[i].msg);
	printf("\nBenchmark complete: %zu passed, %zu failed\n", passed, nargs - passed);
	exit_code = write_failed ? EXIT_WRITE : passed == nargs ? DFB_EXIT_OK : DFB_EXIT_FAIL;
out:
	free(su.machine_meta);
	free(su.machine_console);
	free(su.raw_rounds);
	dfb_results_free(&su.res);
	dfb_results_free(&old);
	dfb_cmp_set_free(&su.cmp);
	dfb_calib_free(&su.calib);
	dfb_results_free(&su.ab_res);
	free(su.fail);
	if (topo)
		dfb_topo_close(topo);
	free(scen);
	free(list_copy);
	free(su.sweep.pt);
	return exit_code;
}

/* ---- deferbench compare ------------------------------------------------------------- */

static void compare_usage(FILE *f)
{
	fprintf(f,
		"usage: deferbench compare OLD NEW\n\n"
		"Compares two saved runs of `deferbench suite` (each a results directory or its\n"
		"rounds.csv) without running anything: for every scenario and strategy in both,\n"
		"OLD's rounds (the baseline) against NEW's (the candidate), metric by metric:\n"
		"medians, delta, change %%, Mann-Whitney U p-value, A/A noise floor, verdict.\n\n"
		"options:\n"
		"      --only STATE  only the rounds each run ran in that machine state (near,\n"
		"                    far, alone, shared: `deferbench suite --only`)\n\n"
		"exit status: 0 compared, 2 usage error, an unreadable input, or nothing in common\n");
}

int dfb_cmd_compare(int argc, char **argv)
{
	enum { OPT_ONLY = 256 };
	static const struct option opts[] = {
		{"only", required_argument, NULL, OPT_ONLY},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *only = NULL;
	enum dfb_mstate which = DFB_MSTATE_XPU;
	bool high = false;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			compare_usage(stdout);
			return DFB_EXIT_OK;
		}
		if (o == OPT_ONLY) {
			char msg[300];
			if (dfb_mstate_parse(optarg, &which, &high, msg, sizeof(msg)))
				return dfb_usage_error("--only: %s", msg);
			only = optarg;
			continue;
		}
		compare_usage(stderr);
		return DFB_EXIT_USAGE;
	}
	if (argc - optind != 2) {
		compare_usage(stderr);
		return dfb_usage_error("compare needs OLD and NEW");
	}
	struct dfb_results a = {0}, b = {0};
	struct dfb_cmp_set set = {0};
	char msg[4400], title[8400];
	int rc = DFB_EXIT_USAGE;
	if (dfb_results_read_csv(&a, argv[optind], msg, sizeof(msg)) ||
	    dfb_results_read_csv(&b, argv[optind + 1], msg, sizeof(msg))) {
		dfb_usage_error("%s", msg);
		goto out;
	}
	if (only) {
		struct dfb_results *both[2] = {&a, &b};
		for (int i = 0; i < 2; i++) {
			size_t k, t;
			dfb_mstate_keep_all(both[i], which, high, &k, &t, NULL, NULL);
			printf("%s: %zu of %zu rounds %s (--only %s)\n", argv[optind + i], k, t,
			       dfb_mstate_meaning(which, high), only);
		}
	}
	long pairs = dfb_compare_saved(&set, &a, &b);
	dfb_cmp_holm(&set);
	if (pairs < 0) {
		dfb_usage_error("out of memory");
		goto out;
	}
	if (pairs == 0) {
		dfb_usage_error("%s and %s have no scenario and strategy in common", argv[optind],
				argv[optind + 1]);
		goto out;
	}
	snprintf(title, sizeof(title), "Comparison: %s (baseline) vs %s (candidate), strategy by "
				       "strategy",
		 argv[optind], argv[optind + 1]);
	dfb_cmp_print(stdout, &set, "saved", title, "OLD", "NEW");
	rc = DFB_EXIT_OK;
out:
	dfb_results_free(&a);
	dfb_results_free(&b);
	dfb_cmp_set_free(&set);
	return rc;
}
