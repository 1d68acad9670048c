/* Tests for the suite's comparison (bench/compare.c), its results files
 * (bench/writers.c, bench/results.c) and `deferbench suite` / `compare`
 * themselves (bench/cmd_suite.c).
 *
 * The results.json checks run Debian's /usr/bin/python3 (which sees
 * python3-scipy) and Google Benchmark's compare.py from libbenchmark-tools;
 * a missing one fails the test with a message naming the package. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"
#include "core.h"
#include "mstate.h"
#include "results.h"
#include "scenario.h"
#include "topology.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PYTHON "/usr/bin/python3"
#define COMPARE_PY "/usr/share/benchmark/compare.py"

#define ASSERT_CLOSE(got, want, rel)                                            \
	do {                                                                    \
		double g_ = (got), w_ = (want);                                 \
		ck_assert_msg(fabs(g_ - w_) <= (rel) * fabs(w_) + 1e-12,         \
			      "%s = %.17g, want %.17g", #got, g_, w_);          \
	} while (0)

/* ---- temporary directories ------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char tmpdir[256];

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dfb-test-suite-XXXXXX");
	ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void tmp_teardown(void)
{
	rm_rf(tmpdir);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 8192;
			buf = realloc(buf, cap);
			ck_assert(buf != NULL);
		}
		size_t got = fread(buf + n, 1, 4096, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	return buf;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void first_line(const char *text, char *buf, size_t len)
{
	size_t n = strcspn(text, "\n");
	snprintf(buf, len, "%.*s", (int)n, text);
}

/* ---- synthetic results ----------------------------------------------------- */

/* A scenario with strategies spinlock and mailbox, n rounds each: strategy
 * s's metric m in round i is base[s] * (1 + 0.01 * (i % 3)) (+ m), the
 * throughput of a transport scenario 1e6 / that. */
static struct dfb_scen_result *synth(struct dfb_results *res, const char *name, bool transport,
				     size_t n, double base0, double base1)
{
	struct dfb_scen_result *sc = dfb_results_add(res, name);
	ck_assert(sc != NULL);
	sc->transport = transport;
	sc->producers = transport ? 4 : 0;
	const char *names[2] = {"spinlock", "mailbox"};
	double base[2] = {base0, base1};
	for (size_t s = 0; s < 2; s++) {
		struct dfb_strat_result *st = dfb_scen_add_strategy(sc, names[s], n);
		ck_assert(st != NULL);
		for (size_t i = 0; i < n; i++) {
			struct dfb_round_row *r = &st->rows[i];
			double v = base[s] * (1.0 + 0.01 * (double)(i % 3));
			for (int m = 0; m < DFB_METRIC_NTIMES; m++)
				r->m[m] = v + m;
			r->m[DFB_METRIC_THROUGHPUT] = transport ? 1e12 / v : NAN;
			r->tasks = 100;
			r->subtasks = 300;
			r->counters.fin_events = 300 + i;
			r->lat_count = 300;
			r->lat_p50 = 40;
			r->lat_max = 900;
			r->invocation = 1;
			r->xpu_ns = r->core_ns = NAN;
			for (uint64_t k = 1; k <= 300; k++)
				dfb_hist_add(&st->lat, k * 3 + s);
		}
	}
	sc->scn_text = strdup("shape = dummy_task\n");
	sc->placement = strdup("placement: none\n");
	return sc;
}

/* ---- the A/A noise floor ------------------------------------------------------ */

START_TEST(aa_formula)
{
	/* even rounds 10 12 14 (median 12), odd rounds 20 22 (median 21),
	 * all: 10 12 14 20 22 (median 14): |12 - 21| / 14 * 100. */
	const double x[] = {10, 20, 12, 22, 14};
	ASSERT_CLOSE(dfb_aa_noise_pct(x, NELEM(x)), 9.0 / 14.0 * 100.0, 1e-12);
	/* even n: even 1 3 (median 2), odd 2 4 (3), all 2.5: 1 / 2.5 = 40%. */
	const double y[] = {1, 2, 3, 4};
	ASSERT_CLOSE(dfb_aa_noise_pct(y, NELEM(y)), 40.0, 1e-12);
	/* constant rounds: no noise; too few rounds or a zero median: 0. */
	const double z[] = {5, 5, 5, 5, 5, 5};
	ck_assert(dfb_aa_noise_pct(z, NELEM(z)) == 0.0);
	ck_assert(dfb_aa_noise_pct(x, 1) == 0.0);
	ck_assert(dfb_aa_noise_pct(NULL, 0) == 0.0);
	const double zero[] = {0, 0, 0, 1, 0};
	ck_assert(dfb_aa_noise_pct(zero, NELEM(zero)) == 0.0);
}
END_TEST

START_TEST(noise_floor_is_larger_side)
{
	/* baseline: constant (A/A 0); candidate: even 100, odd 110 -> A/A
	 * |100 - 110| / 105 = 9.52%.  The floor is the candidate's. */
	double b[20], c[20];
	for (int i = 0; i < 20; i++) {
		b[i] = 100.0;
		c[i] = i % 2 ? 110.0 : 100.0;
	}
	struct dfb_cmp r;
	ck_assert_int_eq(dfb_compare_samples(b, 20, c, 20, false, &r), 0);
	ck_assert(r.base_noise_pct == 0.0);
	ASSERT_CLOSE(r.cand_noise_pct, 10.0 / 105.0 * 100.0, 1e-12);
	ASSERT_CLOSE(r.noise_pct, r.cand_noise_pct, 1e-12);
	/* Swapped sides: the same floor. */
	ck_assert_int_eq(dfb_compare_samples(c, 20, b, 20, false, &r), 0);
	ASSERT_CLOSE(r.noise_pct, 10.0 / 105.0 * 100.0, 1e-12);
	ASSERT_CLOSE(r.base_noise_pct, r.noise_pct, 1e-12);
}
END_TEST

/* ---- verdicts ---------------------------------------------------------------------- */

/* 30 rounds around `level` with a little deterministic jitter (+-1%). */
static void rounds_at(double *x, size_t n, double level)
{
	for (size_t i = 0; i < n; i++)
		x[i] = level * (1.0 + 0.005 * ((double)((i * 7) % 5) - 2.0));
}

START_TEST(verdict_clearly_better)
{
	double b[30], c[30];
	rounds_at(b, 30, 1000.0);
	rounds_at(c, 30, 800.0);
	struct dfb_cmp r;
	ck_assert_int_eq(dfb_compare_samples(b, 30, c, 30, false, &r), 0);
	ck_assert_uint_eq(r.nb, 30);
	ASSERT_CLOSE(r.base_median, 1000.0, 1e-12);
	ASSERT_CLOSE(r.cand_median, 800.0, 1e-12);
	ASSERT_CLOSE(r.delta, -200.0, 1e-12);
	ASSERT_CLOSE(r.change_pct, -20.0, 1e-12);
	ck_assert(r.p_value < 1e-6);
	ck_assert(r.noise_pct < 2.0);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_IMPROVED);
	ck_assert_str_eq(dfb_verdict_name(r.verdict), "improved");
}
END_TEST

START_TEST(verdict_clearly_worse)
{
	double b[30], c[30];
	rounds_at(b, 30, 1000.0);
	rounds_at(c, 30, 1250.0);
	struct dfb_cmp r;
	ck_assert_int_eq(dfb_compare_samples(b, 30, c, 30, false, &r), 0);
	ASSERT_CLOSE(r.change_pct, 25.0, 1e-12);
	ck_assert(r.p_value < 1e-6);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_REGRESSED);
	ck_assert_str_eq(dfb_verdict_name(r.verdict), "regressed");
}
END_TEST

START_TEST(verdict_throughput_higher_is_better)
{
	double b[30], c[30];
	rounds_at(b, 30, 1e6);
	rounds_at(c, 30, 2e6);
	struct dfb_cmp r;
	ck_assert_int_eq(dfb_compare_samples(b, 30, c, 30, true, &r), 0);
	ASSERT_CLOSE(r.change_pct, 100.0, 1e-12);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_IMPROVED);
	ck_assert_int_eq(dfb_compare_samples(c, 30, b, 30, true, &r), 0);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_REGRESSED);
	/* The same numbers as times: the other way round. */
	ck_assert_int_eq(dfb_compare_samples(b, 30, c, 30, false, &r), 0);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_REGRESSED);
}
END_TEST

/* Noisy by the metric a scenario's verdict is of: a transport scenario
 * whose Sched wanders but whose throughput holds is not noisy, and the
 * other way round it is; a runtime scenario by its Sched. */
START_TEST(noisy_by_deciding_metric)
{
	struct dfb_results res = {0};
	struct dfb_scen_result *t = synth(&res, "transport_p4", true, 20, 1000, 1000);
	struct dfb_scen_result *g = synth(&res, "deferred_heavy", false, 20, 1000, 1000);
	double cv;
	ck_assert(!dfb_strat_noisy(t, &t->strat[0], &cv));
	ck_assert(!dfb_strat_noisy(g, &g->strat[0], &cv));
	ck_assert(cv > 0 && cv < 0.02);
	for (size_t i = 0; i < 20; i++) {
		t->strat[0].rows[i].m[DFB_METRIC_SCHED] = i % 2 ? 500 : 1500;
		t->strat[1].rows[i].m[DFB_METRIC_THROUGHPUT] = i % 2 ? 1e6 : 3e6;
		g->strat[1].rows[i].m[DFB_METRIC_SCHED] = i % 2 ? 500 : 1500;
	}
	ck_assert_msg(!dfb_strat_noisy(t, &t->strat[0], &cv), "Sched alone, cv %g", cv);
	ck_assert(dfb_strat_noisy(t, &t->strat[1], &cv));
	ck_assert(cv > DFB_NOISY_CV);
	ck_assert(dfb_strat_noisy(g, &g->strat[1], &cv));
	ck_assert(!dfb_strat_noisy(g, &g->strat[0], &cv));
	dfb_results_free(&res);
}
END_TEST

START_TEST(verdict_within_noise)
{
	/* Identical-ish: the same level, jitter in another order. */
	double b[30], c[30];
	rounds_at(b, 30, 1000.0);
	for (size_t i = 0; i < 30; i++)
		c[i] = b[29 - i] + 0.1;
	struct dfb_cmp r;
	ck_assert_int_eq(dfb_compare_samples(b, 30, c, 30, false, &r), 0);
	ck_assert(fabs(r.change_pct) < 0.1);
	ck_assert(r.p_value > 0.05);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_NOISE);
	ck_assert_str_eq(dfb_verdict_name(r.verdict), "within noise");

	/* Significant (p < 0.05) but inside the A/A noise floor: the even
	 * rounds sit at 100, the odd ones at 130 (A/A 26%); the candidate
	 * is 10% slower in every round. */
	double b2[40], c2[40];
	for (int i = 0; i < 40; i++) {
		b2[i] = (i % 2 ? 130.0 : 100.0) + (double)(i / 2) * 0.01;
		c2[i] = b2[i] * 1.10;
	}
	ck_assert_int_eq(dfb_compare_samples(b2, 40, c2, 40, false, &r), 0);
	ck_assert(r.noise_pct > 20.0);
	ck_assert(r.change_pct > 9.0 && r.change_pct < r.noise_pct);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_NOISE);

	/* Far beyond the noise but not significant: two rounds a side. */
	const double b3[] = {100, 100}, c3[] = {200, 200};
	ck_assert_int_eq(dfb_compare_samples(b3, 2, c3, 2, false, &r), 0);
	ASSERT_CLOSE(r.change_pct, 100.0, 1e-12);
	ck_assert(r.noise_pct == 0.0);
	ck_assert(r.p_value >= 0.05);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_NOISE);

	/* A zero baseline median: no change %, within noise. */
	const double b4[] = {0, 0, 0, 0, 0, 0}, c4[] = {5, 5, 5, 5, 5, 6};
	ck_assert_int_eq(dfb_compare_samples(b4, 6, c4, 6, false, &r), 0);
	ck_assert(isnan(r.change_pct));
	ck_assert_int_eq(r.verdict, DFB_VERDICT_NOISE);

	/* An empty side. */
	ck_assert_int_eq(dfb_compare_samples(b4, 0, c4, 6, false, &r), -1);
	ck_assert(isnan(r.p_value));
	ck_assert_int_eq(r.verdict, DFB_VERDICT_NOISE);
}
END_TEST

/* ---- comparison tables ---------------------------------------------------------- */

START_TEST(compare_within_and_overall)
{
	struct dfb_results res = {0};
	synth(&res, "faster", false, 30, 1000, 800);
	synth(&res, "slower", false, 30, 1000, 1300);
	synth(&res, "same", false, 30, 1000, 1000);
	synth(&res, "pipe", true, 30, 1000, 500); /* candidate time halves: throughput doubles */
	struct dfb_cmp_set set = {0};
	for (size_t i = 0; i < res.nscen; i++)
		ck_assert_int_eq(dfb_compare_within(&set, &res.scen[i]), 0);
	ck_assert_uint_eq(set.n, 4 + 4 + 4 + 5);
	for (size_t i = 0; i < set.n; i++) {
		ck_assert_str_eq(set.rows[i].kind, "strategy");
		ck_assert_str_eq(set.rows[i].baseline, "spinlock");
		ck_assert_str_eq(set.rows[i].candidate, "mailbox");
	}
	ck_assert_int_eq(set.rows[2].metric, DFB_METRIC_SCHED);
	ck_assert_int_eq(set.rows[2].c.verdict, DFB_VERDICT_IMPROVED);
	ck_assert_int_eq(set.rows[6].c.verdict, DFB_VERDICT_REGRESSED);
	ck_assert_int_eq(set.rows[10].c.verdict, DFB_VERDICT_NOISE);
	ck_assert_int_eq(set.rows[16].metric, DFB_METRIC_THROUGHPUT);
	ck_assert_int_eq(set.rows[16].c.verdict, DFB_VERDICT_IMPROVED);

	struct dfb_cmp_count cnt;
	dfb_cmp_overall(&set, "strategy", "spinlock", "mailbox", &cnt);
	ck_assert_uint_eq(cnt.scenarios, 4);
	ck_assert_uint_eq(cnt.v[DFB_VERDICT_IMPROVED], 2); /* faster (by Sched), pipe (by throughput) */
	ck_assert_uint_eq(cnt.v[DFB_VERDICT_REGRESSED], 1);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	dfb_cmp_print(f, &set, "strategy", "Comparison", NULL, NULL);
	fclose(f);
	ck_assert_msg(strstr(text, "Overall, spinlock -> mailbox: 2 of 4 scenarios improved, 1 "
				   "regressed") != NULL,
		      "%s", text);
	free(text);

	/* comparison.csv */
	text = NULL;
	f = open_memstream(&text, &len);
	dfb_write_comparison_csv(f, &set);
	fclose(f);
	char head[512];
	first_line(text, head, sizeof(head));
	ck_assert_str_eq(head, "kind,scenario,metric,baseline,candidate,baseline_median,"
			       "candidate_median,delta,change_pct,p_value,noise_pct,ci_lo_pct,"
			       "ci_hi_pct,mde_pct,spread_pct,baseline_invocations,"
			       "candidate_invocations,baseline_disturbed_pct,"
			       "candidate_disturbed_pct,p_test,p_threshold,verdict");
	ck_assert_uint_eq(count_lines(text), 1 + set.n);
	ck_assert(strstr(text, "\nstrategy,faster,sched_us,spinlock,mailbox,") != NULL);
	ck_assert(strstr(text, ",within noise\n") != NULL);
	ck_assert(strstr(text, "\nstrategy,pipe,throughput_msgs_per_s,") != NULL);
	free(text);
	dfb_cmp_set_free(&set);
	dfb_results_free(&res);
}
END_TEST

START_TEST(compare_saved_pairs)
{
	struct dfb_results old_run = {0}, new_run = {0};
	synth(&old_run, "a", false, 20, 1000, 1000);
	synth(&old_run, "gone", false, 20, 1000, 1000);
	synth(&new_run, "a", false, 20, 2000, 1000);
	synth(&new_run, "new", false, 20, 1000, 1000);
	/* a strategy only the new run has */
	struct dfb_scen_result *sc = &new_run.scen[0];
	struct dfb_strat_result *st = dfb_scen_add_strategy(sc, "other", 3);
	ck_assert(st != NULL);
	struct dfb_cmp_set set = {0};
	ck_assert_int_eq(dfb_compare_saved(&set, &old_run, &new_run), 2);
	ck_assert_uint_eq(set.n, 8);
	ck_assert_str_eq(set.rows[0].kind, "saved");
	ck_assert_str_eq(set.rows[0].scenario, "a");
	ck_assert_str_eq(set.rows[0].baseline, "spinlock");
	ck_assert_str_eq(set.rows[0].candidate, "spinlock");
	/* spinlock doubled, but one invocation a side: indicative only */
	ck_assert_int_eq(set.rows[2].c.verdict, DFB_VERDICT_IND_REGRESSED);
	ck_assert_str_eq(dfb_verdict_name(set.rows[2].c.verdict), "indicative only (regressed)");
	ck_assert(isnan(set.rows[2].c.spread_pct));
	ck_assert_str_eq(set.rows[4].baseline, "mailbox");
	ck_assert_int_eq(set.rows[6].c.verdict, DFB_VERDICT_NOISE);
	dfb_cmp_set_free(&set);

	/* Two invocations a side whose medians agree: the doubling is a
	 * verdict. */
	struct dfb_results *both[2] = {&old_run, &new_run};
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < both[k]->scen[0].strat[0].n; i++)
			both[k]->scen[0].strat[0].rows[i].invocation = 1 + (unsigned)(i >= 10);
	ck_assert_int_eq(dfb_compare_saved(&set, &old_run, &new_run), 2);
	ck_assert_int_eq(set.rows[2].c.verdict, DFB_VERDICT_REGRESSED);
	ck_assert(set.rows[2].c.t_test); /* p from the invocations' medians */
	ck_assert_uint_eq(set.rows[2].c.base_inv, 2);
	ck_assert(set.rows[2].c.spread_pct < 5.0);
	dfb_cmp_set_free(&set);

	/* The new run's second invocation ran at the old speed: the spread
	 * between its invocations is as large as the change, no verdict. */
	struct dfb_strat_result *ns = &new_run.scen[0].strat[0];
	for (size_t i = 10; i < ns->n; i++)
		for (int m = 0; m < DFB_METRIC_NTIMES; m++)
			ns->rows[i].m[m] /= 2;
	ck_assert_int_eq(dfb_compare_saved(&set, &old_run, &new_run), 2);
	ck_assert(set.rows[2].c.spread_pct > 90.0);
	ck_assert(set.rows[2].c.mde_pct >= set.rows[2].c.spread_pct);
	ck_assert_int_eq(set.rows[2].c.verdict, DFB_VERDICT_NOISE);
	dfb_cmp_set_free(&set);

	/* Disturbed rounds on one side: "disturbed", whatever the change. */
	for (size_t i = 0; i < 10; i++)
		ns->rows[i].disturbed = i < 3;
	ns->ndisturbed = 3; /* 15% of 20 */
	ck_assert_int_eq(dfb_compare_saved(&set, &old_run, &new_run), 2);
	ck_assert_int_eq(set.rows[2].c.verdict, DFB_VERDICT_DISTURBED);
	ck_assert_str_eq(dfb_verdict_name(set.rows[2].c.verdict), "disturbed");
	dfb_cmp_set_free(&set);
	dfb_results_free(&old_run);
	dfb_results_free(&new_run);
}
END_TEST

/* The MDE: a change the rounds' spread cannot resolve is "within noise"
 * even when the U test finds it; the same change with ten times the rounds
 * is a verdict.  The interval of the change covers it. */
START_TEST(mde_and_interval)
{
	enum { N = 400 };
	double b[N], c[N];
	uint64_t x = 12345;
	for (size_t i = 0; i < N; i++) {
		/* uniform noise of +-10% around 1000, and 3% slower */
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		double u = (double)(x >> 11) / 9007199254740992.0;
		b[i] = 1000.0 * (0.9 + 0.2 * u);
		c[(i * 7) % N] = b[i] * 1.03;
	}
	struct dfb_cmp r;
	ck_assert_int_eq(dfb_compare_samples(b, 20, c, 20, false, &r), 0);
	ck_assert(r.mde_pct > 3.0);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_NOISE);
	ck_assert_int_eq(dfb_compare_samples(b, N, c, N, false, &r), 0);
	ck_assert_msg(r.mde_pct < 3.0, "MDE %.2f%%", r.mde_pct);
	ck_assert_msg(r.ci_lo_pct < 3.0 && r.ci_hi_pct > 3.0 && r.ci_lo_pct > 0,
		      "CI %.2f .. %.2f", r.ci_lo_pct, r.ci_hi_pct);
	ck_assert_int_eq(r.verdict, DFB_VERDICT_REGRESSED);
	/* The U test's detectable shift shrinks as 1/sqrt(n). */
	double d20 = dfb_u_detectable_pct(b, 20, c, 20), d80 = dfb_u_detectable_pct(b, 80, c, 80);
	ck_assert_msg(d80 < d20 * 0.7 && d80 > d20 * 0.3, "%.3f %.3f", d20, d80);
}
END_TEST

/* Holm: four scenarios with p 0.01, 0.04, 0.02, 0.03 and changes far past
 * the MDE are all "improved" alone; corrected, only the first clears
 * 0.05 / 4, and 0.02 fails 0.05 / 3, which stops the rest.  Another
 * family (metric) is corrected on its own. */
START_TEST(holm_over_scenarios)
{
	struct dfb_cmp_set set = {0};
	const double p[] = {0.01, 0.04, 0.02, 0.03};
	for (int fam = 0; fam < 2; fam++)
		for (size_t i = 0; i < 4; i++) {
			struct dfb_cmp_row *r = dfb_cmp_add_row(&set);
			snprintf(r->kind, sizeof(r->kind), "strategy");
			snprintf(r->scenario, sizeof(r->scenario), "s%zu", i);
			snprintf(r->baseline, sizeof(r->baseline), "spinlock");
			snprintf(r->candidate, sizeof(r->candidate), "mailbox");
			r->metric = fam ? DFB_METRIC_HOST : DFB_METRIC_SCHED;
			r->c.change_pct = -50;
			r->c.mde_pct = 1;
			r->c.p_value = fam ? 0.001 : p[i];
			dfb_cmp_judge(&r->c, false, false);
			ck_assert_int_eq(r->c.verdict, DFB_VERDICT_IMPROVED);
		}
	dfb_cmp_holm(&set);
	ck_assert_int_eq(set.rows[0].c.verdict, DFB_VERDICT_IMPROVED);
	ck_assert(fabs(set.rows[0].c.p_threshold - 0.0125) < 1e-12);
	for (size_t i = 1; i < 4; i++)
		ck_assert_int_eq(set.rows[i].c.verdict, DFB_VERDICT_NOISE);
	for (size_t i = 4; i < 8; i++)
		ck_assert_int_eq(set.rows[i].c.verdict, DFB_VERDICT_IMPROVED);
	dfb_cmp_set_free(&set);
}
END_TEST

/* ---- writers ------------------------------------------------------------------------ */

static const char *const rounds_header =
	"scenario,strategy,invocation,round,host_us,total_us,sched_us,orch_us,tasks,subtasks,"
	"fin_events,registrations,inline_completions,consumer_completions,lock_misses,"
	"mailbox_full_retries,cas_retries,drained_msgs,polls,poll_lock_misses,dispatches,"
	"dummy_completions,slow_pushes_first_call,slow_pushes_retried,peak_wait_entries,lat_count,lat_p50_ns,lat_p90_ns,lat_p99_ns,"
	"lat_p999_ns,lat_max_ns,throughput_msgs_per_s,other_cpu_ms,steal_ms,nivcsw,load1,"
	"others_pct,xpu_rtt_ns,core_ns,disturbed";

static void w_rounds(FILE *f, const void *a)
{
	dfb_write_rounds_csv(f, a);
}

START_TEST(rounds_csv_header_rows_and_read_back)
{
	/* The header from the column table equals the documented one. */
	char expect[1024];
	size_t ncol;
	const struct dfb_column *cols = dfb_round_columns(&ncol);
	snprintf(expect, sizeof(expect), "%s", dfb_rounds_csv_fixed_head);
	for (size_t k = 0; k < ncol; k++)
		snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), ",%s",
			 cols[k].name);
	ck_assert_str_eq(expect, rounds_header);

	struct dfb_results res = {0};
	synth(&res, "alpha", false, 7, 1000, 900);
	synth(&res, "pipe", true, 5, 300, 200);
	/* Every third round disturbed. */
	for (size_t i = 0; i < res.nscen; i++)
		for (size_t s = 0; s < res.scen[i].nstrat; s++)
			for (size_t k = 0; k < res.scen[i].strat[s].n; k++) {
				struct dfb_round_row *r = &res.scen[i].strat[s].rows[k];
				r->disturbed = k % 3 == 0;
				r->others_pct = r->disturbed ? 20.0 : 1.0;
				r->other_cpu_ms = 2.5;
				r->nivcsw = 7;
				r->load1 = 0.5;
				r->xpu_ns = k == 1 ? NAN : 60.0;
				r->core_ns = k == 2 ? NAN : 1.413;
			}
	char msg[512];
	ck_assert_msg(dfb_write_file_atomic(tmpdir, "rounds.csv", w_rounds, &res, msg,
					    sizeof(msg)) == 0,
		      "%s", msg);
	char path[512];
	snprintf(path, sizeof(path), "%s/rounds.csv", tmpdir);
	char *text = slurp(path);
	char head[1024];
	first_line(text, head, sizeof(head));
	ck_assert_str_eq(head, rounds_header);
	ck_assert_uint_eq(count_lines(text), 1 + 2 * 7 + 2 * 5);
	/* non-transport rows have an empty throughput field */
	ck_assert(strstr(text, "\nalpha,spinlock,1,0,1000.000,1001.000,1002.000,1003.000,100,300,"
			       "300,") != NULL);
	ck_assert(strstr(text, ",40,0,0,0,900,,2.5,0.0,7,0.50,20.0,60.0,1.413,1\n") != NULL);
	/* unprobed rounds: their fields empty */
	ck_assert(strstr(text, ",40,0,0,0,900,,2.5,0.0,7,0.50,1.0,,1.413,0\n") != NULL);
	ck_assert(strstr(text, ",40,0,0,0,900,,2.5,0.0,7,0.50,1.0,60.0,,0\n") != NULL);
	free(text);

	/* No temporary file is left next to it. */
	snprintf(path, sizeof(path), "%s/.rounds.csv.tmp-", tmpdir);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "ls -A %s | grep -q tmp", tmpdir);
	ck_assert_msg(system(cmd) != 0, "a temporary file is left in %s", tmpdir);

	/* Read back: the directory or the file. */
	struct dfb_results back = {0};
	ck_assert_msg(dfb_results_read_csv(&back, tmpdir, msg, sizeof(msg)) == 0, "%s", msg);
	ck_assert_uint_eq(back.nscen, 2);
	ck_assert_str_eq(back.scen[0].name, "alpha");
	ck_assert(!back.scen[0].transport);
	ck_assert(back.scen[1].transport);
	ck_assert_uint_eq(back.scen[0].nstrat, 2);
	ck_assert_str_eq(back.scen[0].strat[1].name, "mailbox");
	ck_assert_uint_eq(back.scen[0].strat[1].n, 7);
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < back.scen[1].strat[s].n; i++)
			for (int m = 0; m < DFB_METRIC__COUNT; m++)
				ASSERT_CLOSE(back.scen[1].strat[s].rows[i].m[m],
					     res.scen[1].strat[s].rows[i].m[m], 1e-6);
	ck_assert_uint_eq(back.scen[0].strat[0].rows[3].counters.fin_events, 303);
	ck_assert_uint_eq(back.scen[0].strat[0].rows[3].lat_max, 900);
	/* The disturbance columns come back, and the count of disturbed rows. */
	ck_assert_uint_eq(back.scen[0].strat[0].rows[3].disturbed, 1);
	ck_assert_uint_eq(back.scen[0].strat[0].rows[1].disturbed, 0);
	ck_assert_uint_eq(back.scen[0].strat[0].ndisturbed, 3);
	ASSERT_CLOSE(back.scen[0].strat[0].rows[3].others_pct, 20.0, 1e-9);
	ck_assert_uint_eq(back.scen[0].strat[0].rows[3].nivcsw, 7);
	ck_assert_uint_eq(back.scen[0].strat[0].rows[3].invocation, 1);
	ASSERT_CLOSE(back.scen[0].strat[0].rows[3].xpu_ns, 60.0, 1e-9);
	ck_assert(isnan(back.scen[0].strat[0].rows[1].xpu_ns));
	ASSERT_CLOSE(back.scen[0].strat[0].rows[3].core_ns, 1.413, 1e-9);
	ck_assert(isnan(back.scen[0].strat[0].rows[2].core_ns));
	dfb_results_free(&back);

	snprintf(path, sizeof(path), "%s/rounds.csv", tmpdir);
	ck_assert(dfb_results_read_csv(&back, path, msg, sizeof(msg)) == 0);
	ck_assert_uint_eq(back.nscen, 2);
	dfb_results_free(&back);

	/* Not a rounds.csv, a missing file, a header alone. */
	FILE *f = fopen(path, "w");
	fputs("a,b\n1,2\n", f);
	fclose(f);
	ck_assert(dfb_results_read_csv(&back, path, msg, sizeof(msg)) == -1);
	ck_assert_msg(strstr(msg, "not a deferbench rounds.csv") != NULL, "%s", msg);
	dfb_results_free(&back);
	f = fopen(path, "w");
	fprintf(f, "%s\n", rounds_header);
	fclose(f);
	ck_assert(dfb_results_read_csv(&back, path, msg, sizeof(msg)) == -1);
	ck_assert_msg(strstr(msg, "no rounds") != NULL, "%s", msg);
	dfb_results_free(&back);
	ck_assert(dfb_results_read_csv(&back, "/nonexistent/x", msg, sizeof(msg)) == -1);
	dfb_results_free(&back);
	dfb_results_free(&res);
}
END_TEST

/* The far/near split on synthetic probes: spinlock 10% slower far,
 * mailbox 50% slower far; then one state, NaN probes, and only_high. */
START_TEST(xpu_levels_and_report)
{
	double x[] = {60, 62, 58, NAN, 330, 61, 340, 59, 64, 320};
	struct dfb_mstate_levels l;
	dfb_mstate_levels(x, NELEM(x), dfb_mstates[DFB_MSTATE_XPU].factor, NAN, &l);
	ck_assert_uint_eq(l.n, 9);
	ck_assert_uint_eq(l.nhigh, 3);
	ck_assert(l.threshold > 64 && l.threshold < 320);
	ck_assert(dfb_mstate_is_high(&l, 330) && !dfb_mstate_is_high(&l, 64) &&
		  !dfb_mstate_is_high(&l, NAN));

	struct dfb_results res = {0};
	struct dfb_scen_result *sc = synth(&res, "two", false, 20, 1000, 1000);
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < 20; i++) {
			struct dfb_round_row *r = &sc->strat[s].rows[i];
			bool far = i % 4 == 0; /* 5 of 20 */
			r->xpu_ns = far ? 320.0 + (double)i : 60.0 + (double)(i % 3);
			r->core_ns = NAN;
			r->m[DFB_METRIC_SCHED] = far ? (s ? 1500.0 : 1100.0) : 1000.0;
		}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	dfb_mstate_report_all(f, sc, NULL, "machine: ", false);
	fclose(f);
	ck_assert_msg(strstr(text, "machine: two: cross-PU round trip before each round: median ") ==
			      text, "%s", text);
	ck_assert_msg(strstr(text, "10 of them with the PUs far apart") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "spinlock +10.0% (1100 against 1000 us; 5 far, 15 near)") != NULL,
		      "%s", text);
	ck_assert_msg(strstr(text, "mailbox +50.0% (1500 against 1000 us; 5 far, 15 near)") != NULL,
		      "%s", text);
	/* Which wins by state: level near, mailbox 36.4% slower far. */
	ck_assert_msg(strstr(text, ". Against spinlock: mailbox +0.0% near, +36.4% far\n") != NULL,
		      "%s", text);
	/* One line: the core probe did not run. */
	ck_assert_ptr_eq(strchr(text, '\n'), text + len - 1);
	free(text);

	/* One state: said so; with only_high, nothing. */
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < 20; i++)
			sc->strat[s].rows[i].xpu_ns = 60.0 + (double)(i % 5);
	text = NULL;
	f = open_memstream(&text, &len);
	dfb_mstate_report(f, sc, DFB_MSTATE_XPU, NAN, "machine: ", false);
	dfb_mstate_report(f, sc, DFB_MSTATE_XPU, NAN, "Machine: ", true);
	fclose(f);
	ck_assert_msg(strstr(text, ", one state\n") != NULL && !strstr(text, "Machine: "), "%s",
		      text);
	free(text);

	/* Too few far rounds on a side: said, no change given, nor a
	 * comparison of the strategies in that state. */
	sc->strat[0].rows[0].xpu_ns = sc->strat[0].rows[1].xpu_ns = 400;
	text = NULL;
	f = open_memstream(&text, &len);
	dfb_mstate_report(f, sc, DFB_MSTATE_XPU, NAN, "", true);
	fclose(f);
	ck_assert_msg(strstr(text, "spinlock: 2 far, 18 near, too few to compare") != NULL, "%s",
		      text);
	ck_assert_msg(strstr(text, ". Against spinlock: mailbox +0.0% near\n") != NULL, "%s", text);
	free(text);

	/* Nothing probed (xpu_probe = 0, a file from before the probe): nothing. */
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < 20; i++)
			sc->strat[s].rows[i].xpu_ns = NAN;
	text = NULL;
	f = open_memstream(&text, &len);
	dfb_mstate_report_all(f, sc, NULL, "machine: ", false);
	fclose(f);
	ck_assert_uint_eq(len, 0);
	free(text);
	dfb_results_free(&res);
}
END_TEST

/* The core probe's split as the VM showed it (core.h): 1.41 ns alone,
 * 1.8-2.6 shared; the mailbox wins alone and loses shared. */
START_TEST(core_levels_and_report)
{
	struct dfb_results res = {0};
	struct dfb_scen_result *sc = synth(&res, "core", false, 30, 1000, 1000);
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < 30; i++) {
			struct dfb_round_row *r = &sc->strat[s].rows[i];
			bool shared = i % 3 != 0; /* 20 of 30 */
			r->xpu_ns = NAN;
			r->core_ns = shared ? 1.8 + 0.04 * (double)(i % 20) : 1.41 + 0.001 * (double)(i % 4);
			r->m[DFB_METRIC_SCHED] = s ? (shared ? 1650.0 : 1120.0)
						   : (shared ? 1510.0 : 1410.0);
		}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	dfb_mstate_report_all(f, sc, NULL, "Machine: ", true);
	fclose(f);
	ck_assert_msg(strstr(text, "Machine: core: drain thread's core before each round, ") == text,
		      "%s", text);
	ck_assert_msg(strstr(text, "40 of them with the drain thread's core shared (over 1.55 ns, 1.1x the "
				   "lowest decile)") != NULL,
		      "%s", text);
	ck_assert_msg(strstr(text, "Sched (us) shared against alone: spinlock +7.1% (1510 against 1410 "
				   "us; 20 shared, 10 alone); mailbox +47.3% (1650 against 1120 us; "
				   "20 shared, 10 alone). Against spinlock: mailbox -20.6% alone, "
				   "+9.3% shared\n") != NULL,
		      "%s", text);
	free(text);
	dfb_results_free(&res);
}
END_TEST

/* The probe on this machine: a pair of distinct CPUs where there are two,
 * and a finite round trip between them; none on one PU. */
START_TEST(xpu_probe_pair_and_value)
{
	struct dfb_xpu x;
	dfb_xpu_pair(NULL, &x);
	if (dfb_online_cpus() >= 2) {
		ck_assert(x.a >= 0 && x.b >= 0 && x.a != x.b);
		double ns = dfb_xpu_rtt_ns(&x);
		ck_assert_msg(isfinite(ns) && ns > 0, "%g", ns);
	}
	struct dfb_xpu none = {-1, -1};
	ck_assert(isnan(dfb_xpu_rtt_ns(&none)));
	/* A plan with every thread on one PU: nothing crosses. */
	struct dfb_plan_entry e[2] = {{.pu_os = 0}, {.pu_os = 0}};
	struct dfb_plan p = {.bind = true, .nthreads = 2, .entries = e};
	dfb_xpu_pair(&p, &x);
	ck_assert_int_lt(x.a, 0);
	/* Pinned on two PUs: the plan's pair, first thread first. */
	e[1].pu_os = 1;
	dfb_xpu_pair(&p, &x);
	ck_assert(x.a == 0 && x.b == 1);
}
END_TEST

/* --only's parts: the states' names, the run-wide reference of the core
 * probe, and keeping one state's rounds (a scenario where a strategy has
 * none is removed and named). */
static void note_dropped(void *arg, const char *name)
{
	snprintf(arg, 64, "%s", name);
}

START_TEST(mstate_parse_and_keep)
{
	enum dfb_mstate w;
	bool high;
	char msg[300];
	ck_assert_int_eq(dfb_mstate_parse("alone", &w, &high, msg, sizeof(msg)), 0);
	ck_assert(w == DFB_MSTATE_CORE && !high);
	ck_assert_int_eq(dfb_mstate_parse("far", &w, &high, msg, sizeof(msg)), 0);
	ck_assert(w == DFB_MSTATE_XPU && high);
	ck_assert_int_eq(dfb_mstate_parse("Alone", &w, &high, msg, sizeof(msg)), -1);
	ck_assert_msg(strstr(msg, "one of near, far (-S xpu_probe=1); alone, shared "
				  "(-S core_probe=1)") != NULL,
		      "%s", msg);

	/* "a": rounds 0-9 alone (1.08 ns), 10-19 shared; "b": every round at
	 * 1.9 ns, all shared by the run's reference though alone by its own;
	 * "c": mailbox never alone. */
	struct dfb_results res = {0};
	struct dfb_scen_result *sc[3] = {synth(&res, "a", false, 20, 1000, 1000),
					 synth(&res, "b", false, 20, 1000, 1000),
					 synth(&res, "c", false, 20, 1000, 1000)};
	for (size_t k = 0; k < 3; k++)
		for (size_t t = 0; t < 2; t++)
			for (size_t i = 0; i < 20; i++) {
				struct dfb_round_row *r = &sc[k]->strat[t].rows[i];
				bool alone = k == 0 ? i < 10 : k == 2 ? t == 0 && i < 5 : false;
				r->core_ns = alone ? 1.08 : 1.9;
				r->xpu_ns = NAN;
				r->disturbed = i == 0;
			}
	ASSERT_CLOSE(dfb_mstate_ref(&res, DFB_MSTATE_CORE), 1.08, 1e-9);
	ck_assert(isnan(dfb_mstate_ref(&res, DFB_MSTATE_XPU))); /* per scenario */
	char dropped[64] = "";
	size_t kept, total;
	ck_assert_uint_eq(dfb_mstate_keep_all(&res, DFB_MSTATE_CORE, false, &kept, &total,
					      note_dropped, dropped),
			  2);
	ck_assert_uint_eq(total, 120);
	ck_assert_uint_eq(kept, 20 + 5); /* a's 2 x 10, c's spinlock 5, then c removed */
	ck_assert_str_eq(dropped, "c");
	ck_assert_uint_eq(res.nscen, 1);
	ck_assert_str_eq(res.scen[0].name, "a");
	for (size_t t = 0; t < 2; t++) {
		const struct dfb_strat_result *st = &res.scen[0].strat[t];
		ck_assert_uint_eq(st->n, 10);
		ck_assert_uint_eq(st->ndisturbed, 1);
		for (size_t i = 0; i < st->n; i++)
			ASSERT_CLOSE(st->rows[i].core_ns, 1.08, 1e-12);
	}
	dfb_results_free(&res);
}
END_TEST

/* The drain thread's PU from a plan, and a finite loop time on a PU this
 * process may run on; nothing unpinned or without a PU. */
START_TEST(core_probe_pu_and_value)
{
	ck_assert_int_eq(dfb_core_pu(NULL), -1);
	struct dfb_plan_entry e[3] = {
		{.role = DFB_ROLE_ORCHESTRATOR, .pu_os = 0},
		{.role = DFB_ROLE_SCHEDULER, .index = 1, .pu_os = 0},
		{.role = DFB_ROLE_SCHEDULER, .index = 0, .pu_os = 1},
	};
	struct dfb_plan p = {.bind = false, .nthreads = 3, .entries = e};
	ck_assert_int_eq(dfb_core_pu(&p), -1); /* unpinned: no PU of its own */
	p.bind = true;
	ck_assert_int_eq(dfb_core_pu(&p), 1); /* scheduler 0, not the first scheduler */
	e[1].role = DFB_ROLE_CONSUMER;
	e[1].index = 0;
	e[2].role = DFB_ROLE_PRODUCER;
	ck_assert_int_eq(dfb_core_pu(&p), 0); /* a transport's consumer */
	e[1].role = DFB_ROLE_PRODUCER;
	ck_assert_int_eq(dfb_core_pu(&p), -1);

	cpu_set_t set;
	ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	int cpu = 0;
	while (!CPU_ISSET(cpu, &set))
		cpu++;
	double ns = dfb_core_loop_ns(cpu);
	ck_assert_msg(isfinite(ns) && ns > 0, "%g", ns);
	ck_assert(isnan(dfb_core_loop_ns(-1)));
}
END_TEST

__attribute__((noinline)) static char *to_text(void (*fn)(FILE *, const struct dfb_results *), const struct dfb_results *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fn(f, r);
	fclose(f);
	return text;
}

START_TEST(summary_latency_transport_csv)
{
	struct dfb_results res = {0};
	synth(&res, "alpha", false, 25, 1000, 900);
	synth(&res, "pipe", true, 5, 300, 200);
	char head[512];

	char *t = to_text(dfb_write_summary_csv, &res);
	first_line(t, head, sizeof(head));
	ck_assert_str_eq(head, "scenario,strategy,metric,n,mean,median,stddev,cv,min,max,"
			       "trimmed_mean,trimmed");
	ck_assert_uint_eq(count_lines(t), 1 + 2 * 4 + 2 * 5);
	/* 25 rounds: trimmed */
	ck_assert(strstr(t, "\nalpha,spinlock,sched_us,25,") != NULL);
	ck_assert(strstr(t, "\npipe,mailbox,throughput_msgs_per_s,5,") != NULL);
	ck_assert(strstr(t, "\nalpha,spinlock,throughput") == NULL);
	free(t);

	t = to_text(dfb_write_latency_csv, &res);
	first_line(t, head, sizeof(head));
	ck_assert_str_eq(head, "scenario,strategy,count,p50_ns,p90_ns,p99_ns,p999_ns,max_ns");
	ck_assert_uint_eq(count_lines(t), 1 + 4);
	/* spinlock: 25 rounds of the values 3..900 step 3 */
	ck_assert_msg(strstr(t, "\nalpha,spinlock,7500,") != NULL, "%s", t);
	free(t);

	t = to_text(dfb_write_latency_cdf_csv, &res);
	first_line(t, head, sizeof(head));
	ck_assert_str_eq(head, "scenario,strategy,ns,fraction");
	ck_assert(strstr(t, "\nalpha,spinlock,900,1.000000\n") != NULL);
	/* cumulative fractions never decrease */
	double last = 0;
	char sc[160] = "";
	for (char *line = strchr(t, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		char name[160], strat[64];
		unsigned long long ns;
		double frac;
		ck_assert(sscanf(line, "%63[^,],%63[^,],%llu,%lf", name, strat, &ns, &frac) == 4);
		strcat(name, "/");
		strcat(name, strat);
		if (strcmp(name, sc))
			last = 0;
		snprintf(sc, sizeof(sc), "%s", name);
		ck_assert(frac >= last && frac <= 1.0);
		last = frac;
	}
	free(t);

	t = to_text(dfb_write_transport_csv, &res);
	ck_assert_str_eq(t, "scenario,strategy,producers,median_msgs_per_s\n"
			    "pipe,spinlock,4,3300330033.0\n"
			    "pipe,mailbox,4,4950495049.5\n");
	free(t);
	dfb_results_free(&res);
}
END_TEST

START_TEST(csv_and_json_escaping)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	dfb_json_string(f, "a\"b\\c\n\t\x01/é");
	fputc('|', f);
	dfb_csv_field(f, "plain");
	fputc('|', f);
	dfb_csv_field(f, "x,y\"z");
	fclose(f);
	ck_assert_str_eq(text, "\"a\\\"b\\\\c\\n\\t\\u0001/é\"|plain|\"x,y\"\"z\"");
	free(text);
}
END_TEST

START_TEST(scenario_file_round_trip)
{
	const struct dfb_builtin_scenario *b = dfb_builtin_find("deferred_heavy");
	ck_assert(b != NULL);
	struct dfb_scenario s, back;
	const char *sets[] = {"kernel_us=12.3456789", "placement=compact"};
	ck_assert_int_eq(dfb_builtin_parse(&s, b, sets, 2), 0);
	const struct dfb_strategy *st[2] = {dfb_strategy_find("mailbox"),
					    dfb_strategy_find("spinlock")};
	char *text = dfb_scenario_file_text(s.name, "desc with # hash", &s.config, 7, 3, st, 2,
					    s.source);
	ck_assert(text != NULL);
	int rc = dfb_scenario_parse(&back, "as-run.scn", text, NULL, 0, false);
	ck_assert_msg(rc == 0, "%s\n%s", back.nerrors ? back.errors[0].text : "?", text);
	ck_assert_str_eq(back.name, "deferred_heavy");
	ck_assert_str_eq(back.description, "desc with # hash");
	ck_assert(back.has_rounds && back.rounds == 7);
	ck_assert(back.has_warmup && back.warmup == 3);
	ck_assert(back.has_strategies && back.nstrategies == 2 && back.strategies[0] == st[0]);
	/* every runtime key reads back to the same value */
	for (size_t k = 0; k < dfb_config_nkeys; k++) {
		const struct dfb_key *key = &dfb_config_keys[k];
		ck_assert_msg(memcmp((const char *)&s.config + key->offset,
				     (const char *)&back.config + key->offset,
				     key->type == DFB_KEY_STRING ? strlen((const char *)&s.config +
									  key->offset) + 1
								 : 8) == 0,
			      "key %s differs", key->name);
		ck_assert_msg(dfb_scenario_line(&back, key->name) != 0, "key %s not written",
			      key->name);
	}
	ck_assert(back.config.kernel_us == 12.3456789);
	dfb_scenario_free(&back);
	dfb_scenario_free(&s);
	free(text);
}
END_TEST

/* ---- results.json: schema and compare.py ------------------------------------------ */

static void need_tools(void)
{
	ck_assert_msg(access(PYTHON, X_OK) == 0,
		      PYTHON " not found: install Debian's python3 and python3-scipy "
			     "(apt-get install python3 python3-scipy)");
	ck_assert_msg(access(COMPARE_PY, R_OK) == 0,
		      COMPARE_PY " not found: install libbenchmark-tools "
				 "(apt-get install libbenchmark-tools python3-scipy)");
}

static int run_cmd(const char *cmd)
{
	int st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *const json_check_py =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"c = d['context']\n"
	"assert c['json_schema_version'] == 1, c\n"
	"for k in ('date', 'host_name', 'executable', 'num_cpus', 'mhz_per_cpu',\n"
	"          'cpu_scaling_enabled', 'caches', 'load_avg', 'library_build_type'):\n"
	"    assert k in c, k\n"
	"assert c['library_build_type'] == 'release'\n"
	"assert isinstance(c['caches'], list) and len(c['load_avg']) == 3\n"
	"b = d['benchmarks']\n"
	"for x in b:\n"
	"    for k in ('name', 'run_name', 'run_type', 'real_time', 'cpu_time', 'time_unit',\n"
	"              'iterations', 'repetitions', 'threads', 'family_index'):\n"
	"        assert k in x, (k, x.get('name'))\n"
	"    assert x['time_unit'] == 'us'\n"
	"it = [x for x in b if x['run_type'] == 'iteration']\n"
	"ag = [x for x in b if x['run_type'] == 'aggregate']\n"
	"assert len(it) == int(sys.argv[2]), len(it)\n"
	"assert {x['aggregate_name'] for x in ag} == {'mean', 'median', 'stddev', 'cv'}\n"
	"assert all(x['aggregate_unit'] == 'percentage' for x in ag if x['aggregate_name'] == 'cv')\n"
	"assert all(x['name'] == x['run_name'] + '_' + x['aggregate_name'] for x in ag)\n"
	"names = {x['run_name'] for x in it}\n"
	"assert sys.argv[3] in names, names\n"
	"assert all('sched_us' in x and 'fin_events' in x for x in it)\n"
	"print('results.json ok:', len(it), 'iterations,', len(ag), 'aggregates')\n";

static void w_json(FILE *f, const void *a)
{
	const struct dfb_results *res = a;
	struct dfb_json_context ctx;
	dfb_json_context_collect(&ctx, NULL);
	ctx.ncaches = 1;
	snprintf(ctx.caches[0].type, sizeof(ctx.caches[0].type), "Data");
	ctx.caches[0].level = 1;
	ctx.caches[0].size = 32768;
	ctx.caches[0].num_sharing = 1;
	dfb_write_results_json(f, res, &ctx);
}

START_TEST(results_json_schema_and_compare_py)
{
	need_tools();
	struct dfb_results a = {0}, b = {0};
	/* a name that needs escaping in JSON */
	synth(&a, "we\"ird\\name", false, 6, 1000, 900);
	synth(&a, "pipe", true, 6, 300, 200);
	synth(&b, "we\"ird\\name", false, 6, 1100, 800);
	synth(&b, "pipe", true, 6, 310, 190);
	char msg[512], cmd[2048], pa[300], pb[300], py[300];
	ck_assert(dfb_write_file_atomic(tmpdir, "old.json", w_json, &a, msg, sizeof(msg)) == 0);
	ck_assert(dfb_write_file_atomic(tmpdir, "new.json", w_json, &b, msg, sizeof(msg)) == 0);
	snprintf(pa, sizeof(pa), "%s/old.json", tmpdir);
	snprintf(pb, sizeof(pb), "%s/new.json", tmpdir);
	snprintf(py, sizeof(py), "%s/check.py", tmpdir);
	FILE *f = fopen(py, "w");
	fputs(json_check_py, f);
	fclose(f);

	snprintf(cmd, sizeof(cmd), PYTHON " %s %s 24 'we\"ird\\name/spinlock'", py, pa);
	ck_assert_msg(run_cmd(cmd) == 0, "schema check failed: %s", cmd);
	snprintf(cmd, sizeof(cmd), PYTHON " %s %s 24 pipe/mailbox", py, pb);
	ck_assert_msg(run_cmd(cmd) == 0, "schema check failed: %s", cmd);

	snprintf(cmd, sizeof(cmd), PYTHON " " COMPARE_PY " benchmarks %s %s >%s/compare.out 2>&1",
		 pa, pb, tmpdir);
	int rc = run_cmd(cmd);
	char out[300];
	snprintf(out, sizeof(out), "%s/compare.out", tmpdir);
	char *text = slurp(out);
	ck_assert_msg(rc == 0, "compare.py exited %d:\n%.3000s", rc, text);
	ck_assert_msg(strstr(text, "pipe/mailbox") != NULL, "%.3000s", text);
	ck_assert_msg(strstr(text, "pipe/mailbox_pvalue") != NULL, "no U test in:\n%.3000s", text);
	ck_assert_msg(strstr(text, "OVERALL_GEOMEAN") != NULL, "%.3000s", text);
	free(text);
	dfb_results_free(&a);
	dfb_results_free(&b);
}
END_TEST

/* ---- deferbench suite and compare, for real ------------------------------------------ */

static int run_suite(const char *const *args, size_t n)
{
	char *argv[32];
	ck_assert(n < NELEM(argv));
	for (size_t i = 0; i < n; i++)
		argv[i] = (char *)args[i];
	argv[n] = NULL;
	fflush(stdout);
	int rc = strcmp(args[0], "compare") ? dfb_cmd_suite((int)n, argv)
					    : dfb_cmd_compare((int)n, argv);
	fflush(stdout);
	return rc;
}

static void assert_nonempty(const char *dir, const char *name)
{
	char path[600];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg(stat(path, &st) == 0, "%s missing", path);
	ck_assert_msg(st.st_size > 0, "%s empty", path);
}

static const char *const result_files[] = {
	"rounds.csv",  "summary.csv",	"comparison.csv", "latency.csv",
	"latency_cdf.csv", "transport.csv", "results.json", "topology.xml",
	"placement.txt", "command.txt",	"meta.txt",	   "scenarios/dummy_task_1.scn",
};

START_TEST(suite_real_run)
{
	char out[300], bad[300], out2[300];
	snprintf(out, sizeof(out), "%s/run1/sub", tmpdir);
	setenv("DFB_GIT_COMMIT", "0123abc", 1);
	const char *args[] = {"suite", "-c", "dummy_task_1", "-n", "3", "-w", "1", "-o", out,
			      "-S", "xpu_probe=1"};
	ck_assert_int_eq(run_suite(args, NELEM(args)), 0);
	for (size_t i = 0; i < NELEM(result_files); i++)
		assert_nonempty(out, result_files[i]);

	char path[600];
	snprintf(path, sizeof(path), "%s/rounds.csv", out);
	char *t = slurp(path);
	char head[1024];
	first_line(t, head, sizeof(head));
	ck_assert_str_eq(head, rounds_header);
	/* every registered strategy (the default), 3 rounds each */
	ck_assert_uint_eq(count_lines(t), 1 + dfb_default_strategies(NULL) * 3);
	free(t);
	snprintf(path, sizeof(path), "%s/meta.txt", out);
	t = slurp(path);
	const char *keys[] = {"\ndate: ", "\nhost: ", "\ngit_commit: 0123abc\n", "\ncpu_model: ",
			      "\npus: ", "\ndeferbench_version: ", "\nrounds: 3\n",
			      "\nwarmup: 1\n", "\nstrategies: spinlock,mailbox,",
			      "\nscenarios: dummy_task_1\n"};
	for (size_t i = 0; i < NELEM(keys); i++)
		ck_assert_msg(strstr(t, keys[i]) || !strncmp(t, keys[i] + 1, strlen(keys[i]) - 1),
			      "meta.txt lacks '%s':\n%s", keys[i] + 1, t);
	/* The probe's line (xpu.h), where there are two PUs to probe. */
	if (dfb_online_cpus() >= 2)
		ck_assert_msg(strstr(t, "\nmachine: dummy_task_1: cross-PU round trip before each "
					"round: median ") != NULL,
			      "%s", t);
	free(t);
	snprintf(path, sizeof(path), "%s/comparison.csv", out);
	t = slurp(path);
	/* the four times, for the first strategy against each other one */
	ck_assert_uint_eq(count_lines(t), 1 + 4 * (dfb_default_strategies(NULL) - 1));
	free(t);
	snprintf(path, sizeof(path), "%s/command.txt", out);
	t = slurp(path);
	ck_assert_msg(strstr(t, " suite -c dummy_task_1 -n 3 -w 1 -o ") != NULL, "%s", t);
	free(t);
	/* The scenario as run is valid and has the run's rounds. */
	struct dfb_scenario s;
	snprintf(path, sizeof(path), "%s/scenarios/dummy_task_1.scn", out);
	ck_assert_int_eq(dfb_scenario_read(&s, path, NULL, 0), 0);
	ck_assert(s.has_rounds && s.rounds == 3);
	dfb_scenario_free(&s);

	/* A failing scenario: reported, the others written, exit 1. */
	snprintf(bad, sizeof(bad), "%s/broken.scn", tmpdir);
	FILE *f = fopen(bad, "w");
	fputs("shape = deferred_heavy\ntasks = 100\nfault = slab_error\nfault_task = 3\n", f);
	fclose(f);
	snprintf(out2, sizeof(out2), "%s/run2", tmpdir);
	char clist[400];
	snprintf(clist, sizeof(clist), "%s,dummy_task_1", bad);
	const char *args2[] = {"suite", "-c", clist, "-n", "2", "-w", "0",
			       "-b", out, "-o", out2};
	ck_assert_int_eq(run_suite(args2, NELEM(args2)), 1);
	snprintf(path, sizeof(path), "%s/rounds.csv", out2);
	t = slurp(path);
	ck_assert(strstr(t, "broken") == NULL);
	ck_assert_uint_eq(count_lines(t), 1 + dfb_default_strategies(NULL) * 2);
	free(t);
	snprintf(path, sizeof(path), "%s/meta.txt", out2);
	t = slurp(path);
	ck_assert_msg(strstr(t, "\nwarning: failed: broken: ") != NULL, "%s", t);
	ck_assert_msg(strstr(t, "SLAB_ERROR") != NULL, "%s", t);
	free(t);
	snprintf(path, sizeof(path), "%s/scenarios/broken.scn", out2);
	ck_assert(access(path, F_OK) != 0);
	/* -b: the saved comparison rows */
	snprintf(path, sizeof(path), "%s/comparison.csv", out2);
	t = slurp(path);
	ck_assert_msg(strstr(t, "\nsaved,dummy_task_1,sched_us,spinlock,spinlock,") != NULL, "%s",
		      t);
	ck_assert(strstr(t, "\nstrategy,dummy_task_1,sched_us,spinlock,mailbox,") != NULL);
	free(t);

	/* deferbench compare OLD NEW */
	const char *args3[] = {"compare", out, out2};
	ck_assert_int_eq(run_suite(args3, NELEM(args3)), 0);
	const char *args4[] = {"compare", out};
	ck_assert_int_eq(run_suite(args4, NELEM(args4)), DFB_EXIT_USAGE);
}
END_TEST

START_TEST(suite_usage_errors)
{
	char out[300];
	snprintf(out, sizeof(out), "%s/never", tmpdir);
	const char *a1[] = {"suite", "-c", "no_such_scenario", "-o", out};
	ck_assert_int_eq(run_suite(a1, NELEM(a1)), DFB_EXIT_USAGE);
	ck_assert_msg(access(out, F_OK) != 0, "%s created by a usage error", out);
	const char *a2[] = {"suite", "-c", "dummy_task_1"};
	ck_assert_int_eq(run_suite(a2, NELEM(a2)), DFB_EXIT_USAGE);
	const char *a3[] = {"suite", "-c", "dummy_task_1", "-o", out, "-b", "/no/such/run"};
	ck_assert_int_eq(run_suite(a3, NELEM(a3)), DFB_EXIT_USAGE);
	const char *a4[] = {"suite", "-s", "nope", "-o", out};
	ck_assert_int_eq(run_suite(a4, NELEM(a4)), DFB_EXIT_USAGE);
	const char *a5[] = {"suite", "-c", "dummy_task_1,dummy_task_1", "-o", out};
	ck_assert_int_eq(run_suite(a5, NELEM(a5)), DFB_EXIT_USAGE);
	const char *a6[] = {"suite", "-c", "dummy_task_1", "-S", "no_key=1", "-o", out};
	ck_assert_int_eq(run_suite(a6, NELEM(a6)), DFB_EXIT_USAGE);
	ck_assert(access(out, F_OK) != 0);
}
END_TEST

static Suite *suite_suite(void)
{
	Suite *s = suite_create("suite");
	TCase *tc = tcase_create("noise");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, aa_formula);
	tcase_add_test(tc, noise_floor_is_larger_side);
	suite_add_tcase(s, tc);

	tc = tcase_create("verdicts");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, verdict_clearly_better);
	tcase_add_test(tc, verdict_clearly_worse);
	tcase_add_test(tc, verdict_throughput_higher_is_better);
	tcase_add_test(tc, verdict_within_noise);
	tcase_add_test(tc, noisy_by_deciding_metric);
	tcase_add_test(tc, compare_within_and_overall);
	tcase_add_test(tc, compare_saved_pairs);
	tcase_add_test(tc, mde_and_interval);
	tcase_add_test(tc, holm_over_scenarios);
	suite_add_tcase(s, tc);

	tc = tcase_create("writers");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, rounds_csv_header_rows_and_read_back);
	tcase_add_test(tc, xpu_levels_and_report);
	tcase_add_test(tc, core_levels_and_report);
	tcase_add_test(tc, core_probe_pu_and_value);
	tcase_add_test(tc, mstate_parse_and_keep);
	tcase_add_test(tc, xpu_probe_pair_and_value);
	tcase_add_test(tc, summary_latency_transport_csv);
	tcase_add_test(tc, csv_and_json_escaping);
	tcase_add_test(tc, scenario_file_round_trip);
	tcase_add_test(tc, results_json_schema_and_compare_py);
	suite_add_tcase(s, tc);

	tc = tcase_create("command");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, suite_real_run);
	tcase_add_test(tc, suite_usage_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
