/* Tests for bench/stats.c: round aggregates, type-7 quantiles and the
 * Mann-Whitney U test (reference p-values from scipy). */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* |got - want| within 1e-9 relative (plus a tiny absolute floor). */
#define ASSERT_CLOSE(got, want, rel)                                            \
	do {                                                                    \
		double g_ = (got), w_ = (want);                                 \
		ck_assert_msg(fabs(g_ - w_) <= (rel) * fabs(w_) + 1e-12,         \
			      "%s = %.17g, want %.17g", #got, g_, w_);          \
	} while (0)

/* ---- dfb_agg_compute -------------------------------------------------- */

START_TEST(agg_even_hand)
{
	/* sorted: 1 1 2 3 4 5 6 9; sum 31, mean 3.875; median (3+4)/2;
	 * squared deviations sum to 52.875, /7 = 7.553571..., sqrt below. */
	const double x[] = { 3, 1, 4, 1, 5, 9, 2, 6 };
	struct dfb_agg a;
	dfb_agg_compute(x, NELEM(x), &a);
	ck_assert_uint_eq(a.n, 8);
	ASSERT_CLOSE(a.mean, 3.875, 1e-12);
	ASSERT_CLOSE(a.median, 3.5, 1e-12);
	ASSERT_CLOSE(a.stddev, sqrt(52.875 / 7.0), 1e-12);
	ASSERT_CLOSE(a.stddev, 2.748376143938713, 1e-12); /* numpy std(ddof=1) */
	ASSERT_CLOSE(a.cv, sqrt(52.875 / 7.0) / 3.875, 1e-12);
	ck_assert(a.min == 1.0);
	ck_assert(a.max == 9.0);
	ck_assert(!a.trimmed);
	ck_assert(a.trimmed_mean == a.mean);
}
END_TEST

START_TEST(agg_odd_hand)
{
	/* mean 3, median 3, stddev sqrt((4 + 0 + 4) / 2) = 2, cv 2/3. */
	const double x[] = { 5, 1, 3 };
	struct dfb_agg a;
	dfb_agg_compute(x, NELEM(x), &a);
	ck_assert_uint_eq(a.n, 3);
	ASSERT_CLOSE(a.mean, 3.0, 1e-12);
	ASSERT_CLOSE(a.median, 3.0, 1e-12);
	ASSERT_CLOSE(a.stddev, 2.0, 1e-12);
	ASSERT_CLOSE(a.cv, 2.0 / 3.0, 1e-12);
	ck_assert(a.min == 1.0 && a.max == 5.0);
}
END_TEST

START_TEST(agg_small_n)
{
	struct dfb_agg a;
	const double one = 42.0;
	dfb_agg_compute(&one, 1, &a);
	ck_assert_uint_eq(a.n, 1);
	ck_assert(a.mean == 42.0 && a.median == 42.0);
	ck_assert(a.stddev == 0.0 && a.cv == 0.0);
	ck_assert(a.min == 42.0 && a.max == 42.0);

	memset(&a, 0xff, sizeof(a));
	dfb_agg_compute(NULL, 0, &a);
	ck_assert_uint_eq(a.n, 0);
	ck_assert(a.mean == 0.0 && a.stddev == 0.0 && !a.trimmed);

	const double two[] = { 10.0, 20.0 }; /* median = mean of the two */
	dfb_agg_compute(two, 2, &a);
	ASSERT_CLOSE(a.median, 15.0, 1e-12);
	ASSERT_CLOSE(a.stddev, sqrt(50.0), 1e-12);
}
END_TEST

/* Fills x[0..n) with 1..n in a scrambled order (11 is coprime to every n used). */
static void scrambled(double *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (double)((i * 11) % n + 1);
}

START_TEST(agg_trim_n20_not_applied)
{
	/* 1..19 and an outlier 1000: n = 20 is not > 20, so no trim. */
	double x[20];
	scrambled(x, 20);
	for (size_t i = 0; i < 20; i++)
		if (x[i] == 20.0)
			x[i] = 1000.0;
	struct dfb_agg a;
	dfb_agg_compute(x, 20, &a);
	ck_assert(!a.trimmed);
	ASSERT_CLOSE(a.mean, (190.0 + 1000.0) / 20.0, 1e-12);
	ck_assert(a.trimmed_mean == a.mean);
	ASSERT_CLOSE(a.median, 10.5, 1e-12);
}
END_TEST

START_TEST(agg_trim_n21_applied)
{
	/* 1..20 and 1000: dropping 1..10 and 12..20,1000 leaves 11. */
	double x[21];
	scrambled(x, 21);
	for (size_t i = 0; i < 21; i++)
		if (x[i] == 21.0)
			x[i] = 1000.0;
	struct dfb_agg a;
	dfb_agg_compute(x, 21, &a);
	ck_assert(a.trimmed);
	ASSERT_CLOSE(a.trimmed_mean, 11.0, 1e-12);
	ASSERT_CLOSE(a.mean, (231.0 - 21.0 + 1000.0) / 21.0, 1e-12);
	ASSERT_CLOSE(a.median, 11.0, 1e-12);
	ck_assert(a.max == 1000.0);
}
END_TEST

START_TEST(agg_trim_n30_applied)
{
	/* 1..29 and 1e6: the trim keeps 11..20, mean 15.5. */
	double x[30];
	scrambled(x, 30);
	for (size_t i = 0; i < 30; i++)
		if (x[i] == 30.0)
			x[i] = 1e6;
	struct dfb_agg a;
	dfb_agg_compute(x, 30, &a);
	ck_assert(a.trimmed);
	ASSERT_CLOSE(a.trimmed_mean, 15.5, 1e-12);
	ASSERT_CLOSE(a.median, 15.5, 1e-12);
	ck_assert(a.mean > 1000.0);
}
END_TEST

START_TEST(agg_input_not_modified)
{
	double x[30], copy[30];
	scrambled(x, 30);
	memcpy(copy, x, sizeof(x));
	struct dfb_agg a;
	dfb_agg_compute(x, 30, &a);
	ck_assert(memcmp(x, copy, sizeof(x)) == 0);
	dfb_agg_compute(x, 7, &a);
	ck_assert(memcmp(x, copy, sizeof(x)) == 0);
}
END_TEST

/* ---- dfb_quantile_sorted ----------------------------------------------- */

START_TEST(quantile_type7)
{
	/* numpy.quantile([3,1,4,1,5,9,2,6], [0,.1,.25,.5,.9,1]) (method
	 * 'linear', type 7) = [1, 1, 1.75, 3.5, 6.9, 9]. */
	const double s[] = { 1, 1, 2, 3, 4, 5, 6, 9 };
	ASSERT_CLOSE(dfb_quantile_sorted(s, 8, 0.0), 1.0, 1e-12);
	ASSERT_CLOSE(dfb_quantile_sorted(s, 8, 0.1), 1.0, 1e-12);
	ASSERT_CLOSE(dfb_quantile_sorted(s, 8, 0.25), 1.75, 1e-12);
	ASSERT_CLOSE(dfb_quantile_sorted(s, 8, 0.5), 3.5, 1e-12);
	ASSERT_CLOSE(dfb_quantile_sorted(s, 8, 0.9), 6.9, 1e-12);
	ASSERT_CLOSE(dfb_quantile_sorted(s, 8, 1.0), 9.0, 1e-12);
	/* out-of-range q clamps */
	ASSERT_CLOSE(dfb_quantile_sorted(s, 8, -1.0), 1.0, 1e-12);
	ASSERT_CLOSE(dfb_quantile_sorted(s, 8, 2.0), 9.0, 1e-12);
	/* one value; none */
	ASSERT_CLOSE(dfb_quantile_sorted(s + 7, 1, 0.3), 9.0, 1e-12);
	ck_assert(isnan(dfb_quantile_sorted(s, 0, 0.5)));
	/* even-n median equals dfb_agg's median */
	struct dfb_agg a;
	dfb_agg_compute(s, 8, &a);
	ASSERT_CLOSE(dfb_quantile_sorted(s, 8, 0.5), a.median, 1e-12);
}
END_TEST

/* ---- dfb_mann_whitney ------------------------------------------------- */

/* Reference values from Debian's scipy 1.10.1:
 *   from scipy.stats import mannwhitneyu
 *   r = mannwhitneyu(a, b, alternative='two-sided', use_continuity=True,
 *                    method='asymptotic')
 *   print(repr(float(r.statistic)), repr(float(r.pvalue)))
 * with a and b as in each case below. */
struct mw_case {
	const char *name;
	const double *a, *b;
	size_t na, nb;
	double U, p;
};

static const double sep_a[] = { 1, 2, 3, 4, 5 }, sep_b[] = { 6, 7, 8, 9, 10 };
static const double ties_a[] = { 1, 2, 2, 3, 3, 3, 4 }, ties_b[] = { 3, 4, 4, 5, 5, 6 };
static const double ov_a[] = { 10.5, 11.2, 9.8, 12.1, 10.9, 11.7, 10.1, 11.0 };
static const double ov_b[] = { 11.9, 12.4, 10.8, 13.0, 12.2, 11.5, 12.8, 12.9, 11.1 };
static const double same_a[] = { 1, 2, 3 }, same_b[] = { 1, 2, 3 };
static const double single_a[] = { 5 }, single_b[] = { 1, 2, 3 };
static const double alleq_a[] = { 2, 2, 2 }, alleq_b[] = { 2, 2 };
/* numpy.random.default_rng(7): round(normal(100, 5, 30)), round(normal(103, 5, 30)) */
static const double big_a[] = {
	100, 101, 99, 96, 98, 95, 100, 107, 98, 97, 102, 102, 101, 95, 100,
	103, 93, 98, 90, 94, 91, 99, 94, 101, 101, 99, 87, 97, 100, 101,
};
static const double big_b[] = {
	95, 101, 98, 99, 108, 99, 103, 107, 100, 102, 104, 103, 97, 103, 110,
	95, 107, 104, 100, 113, 107, 97, 103, 106, 102, 106, 103, 106, 110, 100,
};

#define MW(n, x, y, u, pv) { n, x##_a, y##_b, NELEM(x##_a), NELEM(y##_b), u, pv }
static const struct mw_case mw_cases[] = {
	MW("separated", sep, sep, 0.0, 0.012185780355344813),
	MW("ties", ties, ties, 3.5, 0.012999854364387305),
	MW("overlap", ov, ov, 11.0, 0.018397781423573914),
	MW("identical", same, same, 4.5, 1.0),
	MW("single", single, single, 3.0, 0.37109336952269756),
	MW("all-equal", alleq, alleq, 3.0, 1.0),
	MW("rounds-with-ties", big, big, 192.0, 0.0001346624183946407),
};

START_TEST(mw_scipy)
{
	const struct mw_case *c = &mw_cases[_i];
	double U = -1, p = -1;
	ck_assert_msg(dfb_mann_whitney(c->a, c->na, c->b, c->nb, &U, &p) == 0, "%s", c->name);
	ck_assert_msg(fabs(U - c->U) <= 1e-9, "%s: U = %.17g, want %.17g", c->name, U, c->U);
	ck_assert_msg(fabs(p - c->p) <= 1e-6 * c->p + 1e-12,
		      "%s: p = %.17g, want %.17g", c->name, p, c->p);

	/* Swapping the samples: U becomes na nb - U, p is unchanged. */
	double U2, p2;
	ck_assert(dfb_mann_whitney(c->b, c->nb, c->a, c->na, &U2, &p2) == 0);
	ck_assert_msg(fabs(U2 - ((double)(c->na * c->nb) - c->U)) <= 1e-9, "%s swapped U", c->name);
	ck_assert_msg(fabs(p2 - p) <= 1e-12, "%s swapped p", c->name);
}
END_TEST

/* Student's t against scipy.stats (1.10): t.sf(x, df) * 2 and
 * ttest_ind(equal_var=True). */
START_TEST(t_test_scipy)
{
	ck_assert(fabs(dfb_t_p_two_sided(2.5, 4) - 0.06676654481198813) < 1e-12);
	ck_assert(fabs(dfb_t_p_two_sided(-2.5, 4) - 0.06676654481198813) < 1e-12);
	ck_assert(fabs(dfb_t_p_two_sided(0.3, 30) - 0.7662461052843528) < 1e-12);
	ck_assert(fabs(dfb_t_p_two_sided(12, 2) - 0.00687293367715846) < 1e-12);
	ck_assert(dfb_t_p_two_sided(0, 5) == 1.0);
	const double a[] = {1, 2, 3}, b[] = {4, 5, 7.5};
	ck_assert(fabs(dfb_t_test(a, 3, b, 3) - 0.04236430728367278) < 1e-12);
	ck_assert(isnan(dfb_t_test(a, 1, b, 3)));
}
END_TEST

START_TEST(mw_errors)
{
	const double a[] = { 1, 2 };
	double U = 7, p = 7;
	errno = 0;
	ck_assert_int_eq(dfb_mann_whitney(a, 0, a, 2, &U, &p), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(dfb_mann_whitney(a, 2, a, 0, &U, &p), -1);
	ck_assert(U == 7 && p == 7);
	/* NULL outputs are allowed */
	ck_assert_int_eq(dfb_mann_whitney(a, 2, a, 2, NULL, NULL), 0);
}
END_TEST

/* Deterministic standard normal deviates (an LCG through Box-Muller), so
 * that the samples are the same on every machine. */
static double det_normal(uint64_t *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	double u1 = ((double)(*state >> 11) + 1.0) / 9007199254740993.0;
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	double u2 = (double)(*state >> 11) / 9007199254740992.0;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

START_TEST(two_levels)
{
	double x[120];
	double lo = -1, hi = -1, up = -1;
	uint64_t st = 42;
	/* One level, spread 50: not two, at any size. */
	for (size_t n = 40; n <= 120; n += 40) {
		for (size_t i = 0; i < n; i++)
			x[i] = 1000 + 50 * det_normal(&st);
		qsort(x, n, sizeof(x[0]), dfb_cmp_double);
		ck_assert_msg(!dfb_two_levels(x, n, &lo, &hi, &up), "n %zu", n);
	}
	ck_assert(lo == -1 && hi == -1 && up == -1);
	/* Rounds that switch between about 1050 and 1650 us, 30% in the
	 * upper level (the mailbox rounds of docs/PERFORMANCE.md). */
	for (size_t i = 0; i < 60; i++)
		x[i] = (i % 10 < 3 ? 1650 : 1050) + 50 * det_normal(&st);
	qsort(x, 60, sizeof(x[0]), dfb_cmp_double);
	ck_assert(dfb_two_levels(x, 60, &lo, &hi, &up));
	ck_assert_msg(fabs(lo - 1050) < 40 && fabs(hi - 1650) < 40, "%g %g", lo, hi);
	ck_assert_msg(fabs(up - 0.3) < 0.05, "%g", up);
	/* The same levels 250 apart with a filled middle: one wide level. */
	for (size_t i = 0; i < 60; i++)
		x[i] = 1050 + (double)i * 10;
	qsort(x, 60, sizeof(x[0]), dfb_cmp_double);
	ck_assert(!dfb_two_levels(x, 60, &lo, &hi, &up));
	/* Too few values to tell. */
	ck_assert(!dfb_two_levels(x, DFB_LEVELS_MIN_N - 1, &lo, &hi, &up));
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("agg");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, agg_even_hand);
	tcase_add_test(tc, agg_odd_hand);
	tcase_add_test(tc, agg_small_n);
	tcase_add_test(tc, agg_trim_n20_not_applied);
	tcase_add_test(tc, agg_trim_n21_applied);
	tcase_add_test(tc, agg_trim_n30_applied);
	tcase_add_test(tc, agg_input_not_modified);
	suite_add_tcase(s, tc);

	tc = tcase_create("quantile");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, quantile_type7);
	suite_add_tcase(s, tc);

	tc = tcase_create("mann_whitney");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, mw_scipy, 0, (int)NELEM(mw_cases));
	tcase_add_test(tc, mw_errors);
	tcase_add_test(tc, t_test_scipy);
	suite_add_tcase(s, tc);

	tc = tcase_create("levels");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, two_levels);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
