/* The pieces that make a verdict trustworthy (issue 8): the disturbance
 * rule on synthetic snapshots, the invocation stream between processes,
 * the shuffled orders, the between-run margin, and the calibration of the
 * rule on synthetic A/A and A/B data.  No timing is asserted: every input
 * is made up. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calibrate.h"
#include "compare.h"
#include "disturb.h"
#include "invoke.h"
#include "results.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- disturbance ---------------------------------------------------------- */

/* Rounds of 2 ms, back to back; others take `busy` ms of CPU time per
 * round.  The machine has dfb_online_cpus() CPUs. */
static void spans(struct dfb_round_span *sp, size_t n, const double *busy)
{
	double t = 0, b = 0, own = 0;
	for (size_t i = 0; i < n; i++) {
		sp[i].a = (struct dfb_sys_snap){.t_ms = t, .busy_ms = b, .steal_ms = 0,
						.own_ms = own, .nivcsw = 10 * i};
		t += 2;
		own += 1.5;
		b += 1.5 + busy[i];
		sp[i].b = (struct dfb_sys_snap){.t_ms = t, .busy_ms = b, .steal_ms = 0,
						.own_ms = own, .nivcsw = 10 * i + 3};
		sp[i].load1 = 0.25;
		sp[i].out = (long)i;
	}
}

START_TEST(disturbance_window)
{
	enum { N = 2000 }; /* 4 s of rounds */
	static struct dfb_round_span sp[N];
	static struct dfb_round_env env[N];
	static double busy[N];
	double cap = 2.0 * dfb_online_cpus(); /* ms of machine per round */
	/* Quiet, except 1 s in the middle where others take half the machine. */
	for (size_t i = 0; i < N; i++)
		busy[i] = i >= 750 && i < 1250 ? cap / 2 : 0;
	spans(sp, N, busy);
	dfb_disturb_decide(sp, N, env);
	ck_assert(!env[0].disturbed);
	ck_assert(!env[N - 1].disturbed);
	ck_assert(env[1000].disturbed);
	ck_assert_msg(fabs(env[1000].others_pct - 50.0) < 1.0, "%.2f", env[1000].others_pct);
	ck_assert_uint_eq(env[10].nivcsw, 3);
	ck_assert(fabs(env[10].load1 - 0.25) < 1e-12);
	ck_assert(fabs(env[1000].other_cpu_ms - cap / 2) < 1e-9);
	/* The window spreads a short burst: one round of 10 ms of others in
	 * a quiet second is 10 / (1000 * CPUs) of the machine, not a
	 * disturbance; and a burst alone in one 2 ms round does not mark it. */
	for (size_t i = 0; i < N; i++)
		busy[i] = i == 500 ? 10.0 : 0;
	spans(sp, N, busy);
	dfb_disturb_decide(sp, N, env);
	ck_assert(!env[500].disturbed);
	/* Unmeasured rounds (out = -1) are skipped but count in the window. */
	for (size_t i = 0; i < N; i++)
		busy[i] = cap;
	spans(sp, N, busy);
	for (size_t i = 0; i < N; i += 2)
		sp[i].out = -1;
	memset(env, 0, sizeof(env));
	dfb_disturb_decide(sp, N, env);
	ck_assert(env[1].disturbed);
	ck_assert(env[0].others_pct == 0 && !env[0].disturbed); /* untouched */
}
END_TEST

/* A snapshot of this machine reads sane values, and the others' share of
 * an interval is a percentage. */
START_TEST(snapshot_reads)
{
	struct dfb_sys_snap a, b;
	dfb_sys_snap(&a);
	usleep(20000);
	dfb_sys_snap(&b);
	ck_assert(b.t_ms > a.t_ms);
	ck_assert(!isnan(a.busy_ms));
	ck_assert(b.own_ms >= a.own_ms);
	double p = dfb_sys_others_pct(&a, &b);
	ck_assert(p >= 0);
	ck_assert(dfb_online_cpus() >= 1);
}
END_TEST

/* ---- invocations ---------------------------------------------------------- */

static void fill(struct dfb_results *res, const char *scen, const char *const *names,
		 size_t nstrat, size_t n, double base)
{
	struct dfb_scen_result *sc = dfb_results_add(res, scen);
	ck_assert(sc != NULL);
	sc->scn_text = strdup("shape = dummy_task\n");
	sc->placement = strdup("== plan ==\n");
	for (size_t s = 0; s < nstrat; s++) {
		struct dfb_strat_result *st = dfb_scen_add_strategy(sc, names[s], n);
		ck_assert(st != NULL);
		for (size_t i = 0; i < n; i++) {
			struct dfb_round_row *r = &st->rows[i];
			r->invocation = 1;
			for (int m = 0; m < DFB_METRIC_NTIMES; m++)
				r->m[m] = base * (double)(s + 1) + (double)i;
			r->m[DFB_METRIC_THROUGHPUT] = NAN;
			r->disturbed = i == 0;
			st->ndisturbed += r->disturbed;
			dfb_hist_add(&st->lat, 100 + i);
		}
		st->overhead = (struct dfb_overhead){.sample = 64, .rounds = n, .ns_per_event = 2.0,
						     .ns_lo = 1.0, .ns_hi = 3.0, .pct = 0.5};
	}
}

static char *stream_of(const struct dfb_results *res, const struct dfb_failure *f, size_t nf,
		       size_t *len)
{
	char path[] = "/tmp/dfb-invoke-XXXXXX";
	int fd = mkstemp(path);
	ck_assert(fd >= 0);
	unlink(path);
	ck_assert_int_eq(dfb_invoke_send(fd, res, f, nf), 0);
	off_t end = lseek(fd, 0, SEEK_END);
	char *buf = malloc((size_t)end);
	ck_assert(pread(fd, buf, (size_t)end, 0) == end);
	close(fd);
	*len = (size_t)end;
	return buf;
}

START_TEST(invocation_stream_round_trip)
{
	const char *order[2] = {"spinlock", "mailbox"};
	const char *shuffled[2] = {"mailbox", "spinlock"};
	struct dfb_results one = {0}, two = {0}, into = {0};
	fill(&one, "a", order, 2, 5, 1000);
	fill(&two, "a", shuffled, 2, 4, 2000); /* the second process ran them B A */
	struct dfb_failure fail = {.name = "b", .msg = "spinlock round 1 failed"};
	size_t l1, l2;
	char *s1 = stream_of(&one, NULL, 0, &l1), *s2 = stream_of(&two, &fail, 1, &l2);
	struct dfb_failure *fl = NULL;
	size_t nfl = 0;
	char msg[256];
	ck_assert_msg(dfb_invoke_receive(s1, l1, 1, order, 2, &into, &fl, &nfl, msg,
					 sizeof(msg)) == 0, "%s", msg);
	ck_assert_msg(dfb_invoke_receive(s2, l2, 2, order, 2, &into, &fl, &nfl, msg,
					 sizeof(msg)) == 0, "%s", msg);
	ck_assert_uint_eq(into.nscen, 1);
	const struct dfb_scen_result *sc = &into.scen[0];
	/* Canonical order whatever order a process ran them in. */
	ck_assert_str_eq(sc->strat[0].name, "spinlock");
	ck_assert_str_eq(sc->strat[1].name, "mailbox");
	ck_assert_uint_eq(sc->strat[0].n, 9);
	ck_assert_uint_eq(sc->strat[0].rows[4].invocation, 1);
	ck_assert_uint_eq(sc->strat[0].rows[5].invocation, 2);
	ck_assert_uint_eq(dfb_strat_invocations(&sc->strat[0]), 2);
	/* spinlock was the second strategy of the second process: 2 * 2000 */
	ck_assert(sc->strat[0].rows[5].m[DFB_METRIC_SCHED] == 4000.0);
	ck_assert_uint_eq(sc->strat[0].ndisturbed, 2);
	ck_assert_uint_eq(sc->strat[0].lat.count, 9);
	ck_assert_uint_eq(sc->strat[0].overhead.rounds, 9);
	ck_assert(fabs(sc->strat[0].overhead.ns_per_event - 2.0) < 1e-12);
	ck_assert(strstr(sc->placement, "(invocation 2)") != NULL);
	ck_assert_uint_eq(nfl, 1);
	ck_assert_str_eq(fl[0].name, "b");

	/* Cut short, or not a stream at all: refused with a message. */
	struct dfb_results bad = {0};
	ck_assert(dfb_invoke_receive(s1, l1 - 3, 3, order, 2, &bad, &fl, &nfl, msg,
				     sizeof(msg)) == -1);
	ck_assert(strstr(msg, "cut short") != NULL);
	ck_assert(dfb_invoke_receive("hello", 5, 3, order, 2, &bad, &fl, &nfl, msg,
				     sizeof(msg)) == -1);
	dfb_results_free(&bad);
	free(s1);
	free(s2);
	free(fl);
	dfb_results_free(&one);
	dfb_results_free(&two);
	dfb_results_free(&into);
}
END_TEST

/* --passes: a later pass's rounds join the first pass's scenario. */
START_TEST(passes_merge)
{
	const char *order[2] = {"spinlock", "mailbox"};
	const char *shuffled[2] = {"mailbox", "spinlock"};
	struct dfb_results res = {0};
	fill(&res, "a", order, 2, 3, 1000);
	fill(&res, "b", order, 2, 3, 5000);
	ck_assert_int_eq(dfb_results_merge_last(&res), 0); /* "b" is the only b: kept */
	ck_assert_uint_eq(res.nscen, 2);
	fill(&res, "a", shuffled, 2, 2, 2000); /* pass 2 of "a", in another order */
	ck_assert_int_eq(dfb_results_merge_last(&res), 0);
	ck_assert_uint_eq(res.nscen, 2);
	const struct dfb_scen_result *sc = &res.scen[0];
	ck_assert_str_eq(sc->name, "a");
	ck_assert_uint_eq(sc->nstrat, 2);
	ck_assert_str_eq(sc->strat[0].name, "spinlock");
	ck_assert_uint_eq(sc->strat[0].n, 5);
	ck_assert_uint_eq(sc->strat[1].n, 5);
	/* The first pass's rows, then the second's: spinlock ran second (2 * 2000). */
	ck_assert(sc->strat[0].rows[2].m[DFB_METRIC_SCHED] == 1002.0);
	ck_assert(sc->strat[0].rows[3].m[DFB_METRIC_SCHED] == 4000.0);
	ck_assert(sc->strat[1].rows[3].m[DFB_METRIC_SCHED] == 2000.0);
	ck_assert_uint_eq(sc->strat[0].rows[4].invocation, 1);
	ck_assert_uint_eq(sc->strat[0].ndisturbed, 2);
	ck_assert_uint_eq(sc->strat[0].lat.count, 5);
	ck_assert_uint_eq(sc->strat[0].overhead.rounds, 5);
	ck_assert_str_eq(sc->placement, "== plan ==\n");
	ck_assert_str_eq(res.scen[1].name, "b");
	ck_assert_uint_eq(res.scen[1].strat[0].n, 3);
	dfb_results_free(&res);
}
END_TEST

START_TEST(shuffled_orders)
{
	size_t seen[2] = {0};
	for (uint64_t seed = 1; seed <= 200; seed++) {
		size_t p[5], hit[5] = {0};
		dfb_shuffle_order(p, 5, seed);
		for (size_t i = 0; i < 5; i++)
			hit[p[i]]++;
		for (size_t i = 0; i < 5; i++)
			ck_assert_uint_eq(hit[i], 1);
		size_t q[2];
		dfb_shuffle_order(q, 2, seed);
		seen[q[0]]++;
	}
	/* Both orders of two strategies come up. */
	ck_assert(seen[0] > 50 && seen[1] > 50);
	size_t a[4], b[4];
	dfb_shuffle_order(a, 4, 7);
	dfb_shuffle_order(b, 4, 7);
	ck_assert(memcmp(a, b, sizeof(a)) == 0);
}
END_TEST

/* ---- the between-run margin ------------------------------------------------- */

START_TEST(between_run_margin)
{
	/* Invocation medians 100, 102 and 101, 103: pooled variance 2, t(2)
	 * = 4.303, margin = 4.303 * sqrt(2 * (1/2 + 1/2)) = 6.085 % of 100. */
	double a[] = {100, 102}, b[] = {101, 103};
	ck_assert(fabs(dfb_between_margin_pct(a, 2, b, 2, 100.0) - 4.303 * sqrt(2.0)) < 1e-3);
	ck_assert(isnan(dfb_between_margin_pct(a, 1, b, 2, 100.0)));
	double x[] = {5, 1, 6, 2, 7, 3};
	unsigned inv[] = {1, 2, 1, 2, 1, 2};
	double med[6];
	ck_assert_uint_eq(dfb_invocation_medians(x, inv, 6, med), 2);
	ck_assert(med[0] == 6 && med[1] == 2);
}
END_TEST

/* ---- calibration ------------------------------------------------------------ */

static uint64_t rng_state = 99;
static double unif(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Copies #1 and #2 of "x": K invocations of n rounds, noise +-5%, copy 2
 * slower by `slow`. */
static void copies(struct dfb_results *res, unsigned k, size_t n, double slow)
{
	struct dfb_scen_result *sc = dfb_results_add(res, "s");
	const char *names[2] = {"x#1", "x#2"};
	for (int c = 0; c < 2; c++) {
		struct dfb_strat_result *st = dfb_scen_add_strategy(sc, names[c], n * k);
		for (size_t i = 0; i < n * k; i++) {
			struct dfb_round_row *r = &st->rows[i];
			r->invocation = (unsigned)(i / n) + 1;
			double v = 1000.0 * (0.95 + 0.1 * unif()) * (c ? 1.0 + slow : 1.0);
			for (int m = 0; m < DFB_METRIC_NTIMES; m++)
				r->m[m] = v;
			r->m[DFB_METRIC_THROUGHPUT] = NAN;
		}
	}
}

START_TEST(calibration_aa_and_ab)
{
	struct dfb_results aa = {0}, ab = {0};
	struct dfb_calib c;
	copies(&aa, 4, 50, 0.0);
	ck_assert_int_eq(dfb_calibrate(&aa, 1, &c), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_str_eq(c.rows[0].strategy, "x");
	ck_assert_uint_eq(c.rows[0].rounds, 200);
	ck_assert_uint_eq(c.rows[0].invocations, 4);
	ck_assert_int_eq(c.rows[0].aa.verdict, DFB_VERDICT_NOISE);
	/* Under A/A the rule calls few relabellings (alpha 5%, and the MDE). */
	ck_assert_msg(c.rows[0].fp_pct <= 10.0, "FP %.1f%%", c.rows[0].fp_pct);
	/* Noise +-5% over 200 rounds a side: the MDE is a few percent. */
	ck_assert_msg(c.rows[0].mde_pct > 0.2 && c.rows[0].mde_pct <= 5.0, "MDE %.2f",
		      c.rows[0].mde_pct);
	ck_assert(c.rows[0].have_across);
	ck_assert_uint_eq(c.rows[0].across[0].base_inv, 2);
	ck_assert_uint_eq(c.rows[0].across[0].cand_inv, 2);
	ck_assert_uint_eq(c.rows[0].across[1].base_inv, 2); /* odd: 1, 3 */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	dfb_calib_print(f, &c);
	dfb_write_calibrate_csv(f, &c);
	fclose(f);
	ck_assert(strstr(text, "Within-run A/A: 1 of 1 verdicts within noise") != NULL);
	ck_assert(strstr(text, "scenario,strategy,rounds,invocations,aa_change_pct,") != NULL);
	free(text);
	dfb_calib_free(&c);

	/* A real 20% difference between the "copies" is found. */
	copies(&ab, 4, 50, 0.2);
	ck_assert_int_eq(dfb_calibrate(&ab, 1, &c), 0);
	ck_assert_int_eq(c.rows[0].aa.verdict, DFB_VERDICT_REGRESSED);
	dfb_calib_free(&c);
	dfb_results_free(&aa);
	dfb_results_free(&ab);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("validity");
	TCase *tc = tcase_create("disturbance");
	tcase_add_test(tc, disturbance_window);
	tcase_add_test(tc, snapshot_reads);
	suite_add_tcase(s, tc);
	tc = tcase_create("invocations");
	tcase_add_test(tc, invocation_stream_round_trip);
	tcase_add_test(tc, passes_merge);
	tcase_add_test(tc, shuffled_orders);
	tcase_add_test(tc, between_run_margin);
	suite_add_tcase(s, tc);
	tc = tcase_create("calibration");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, calibration_aa_and_ab);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
