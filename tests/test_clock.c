/* The instrument: the clock (runtime/clock.c) and the registration-latency
 * sampler (dfb_sampled, runtime/dfb_internal.h).
 *
 * The clock: the TSC, when there is an invariant one, agrees with
 * CLOCK_MONOTONIC after calibration, never runs backwards on a thread, and
 * DFB_CLOCK=monotonic forces the fallback.  Check forks every test, so each
 * one calibrates afresh in its own process.  Nothing here asserts how fast
 * a read is: that is measured and reported, not tested.
 *
 * The sampler: off takes nothing, N = 1 takes everything, N takes about
 * one in N at irregular gaps, and the percentiles of a known distribution
 * seen through it stay within bounds of the full distribution's. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deferbench.h"
#include "dfb_arch.h"
#include "dfb_internal.h"

START_TEST(agrees_with_monotonic)
{
	dfb_clock_init();
	char d[160];
	dfb_clock_describe(d, sizeof(d));
	ck_assert_ptr_nonnull(strstr(d, dfb_clock_name()));
	ck_assert(dfb_clock_read_ns() > 0);
	/* Over 50 ms of sleep the two clocks advance alike: within 1% plus
	 * 100 us for a descheduling between the paired reads. */
	for (int i = 0; i < 3; i++) {
		uint64_t m0 = dfb_monotonic_ns(), c0 = dfb_now_ns();
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
		uint64_t c1 = dfb_now_ns(), m1 = dfb_monotonic_ns();
		double dm = (double)(m1 - m0), dc = (double)(c1 - c0);
		ck_assert_msg(dc <= dm + 1000 && dc >= dm * 0.99 - 100000,
			      "%s: %.0f ns against CLOCK_MONOTONIC's %.0f", dfb_clock_name(), dc, dm);
	}
	/* And it reads CLOCK_MONOTONIC's time, not only its rate. */
	uint64_t m = dfb_monotonic_ns(), c = dfb_now_ns();
	ck_assert_msg(c + 1000000 >= m && c <= m + 1000000, "now %llu, monotonic %llu",
		      (unsigned long long)c, (unsigned long long)m);
}
END_TEST

START_TEST(never_backwards)
{
	dfb_clock_init();
	uint64_t last = dfb_now_ns();
	for (int i = 0; i < 1000000; i++) {
		uint64_t t = dfb_now_ns();
		ck_assert_msg(t >= last, "read %d went back %llu ns", i,
			      (unsigned long long)(last - t));
		last = t;
	}
}
END_TEST

START_TEST(forced_fallback)
{
	setenv("DFB_CLOCK", "monotonic", 1);
	dfb_clock_init();
	ck_assert_str_eq(dfb_clock_name(), "monotonic");
	char d[160];
	dfb_clock_describe(d, sizeof(d));
	ck_assert_ptr_nonnull(strstr(d, "DFB_CLOCK=monotonic"));
	uint64_t m = dfb_monotonic_ns(), c = dfb_now_ns();
	ck_assert(c >= m && c - m < 1000000);
}
END_TEST

START_TEST(sampler_rates)
{
	struct dfb_sampler sm;
	dfb_sampler_init(&sm, 0, 42);
	for (int i = 0; i < 100000; i++)
		ck_assert(!dfb_sampled(&sm));
	dfb_sampler_init(&sm, 1, 42);
	for (int i = 0; i < 100000; i++)
		ck_assert(dfb_sampled(&sm));
	/* N = 64: about 15625 of a million, at gaps that vary. */
	dfb_sampler_init(&sm, 64, 42);
	unsigned taken = 0, gap = 0, gmin = ~0u, gmax = 0;
	for (int i = 0; i < 1000000; i++) {
		gap++;
		if (dfb_sampled(&sm)) {
			taken++;
			gmin = gap < gmin ? gap : gmin;
			gmax = gap > gmax ? gap : gmax;
			gap = 0;
		}
	}
	ck_assert_msg(taken > 15000 && taken < 16250, "%u of 1e6 taken", taken);
	ck_assert_uint_ge(gmin, 1);
	ck_assert_uint_le(gmax, 127);
	ck_assert_msg(gmax - gmin > 100, "gaps %u..%u: not random enough", gmin, gmax);
	/* Distinct threads and rounds get distinct sequences. */
	struct dfb_config c;
	dfb_config_defaults(&c);
	ck_assert_uint_ne(dfb_sampler_seed(&c, 0, 1), dfb_sampler_seed(&c, 1, 1));
	ck_assert_uint_ne(dfb_sampler_seed(&c, 0, 1), dfb_sampler_seed(&c, 0, 2));
}
END_TEST

/* A known distribution (log-uniform from 10 ns to 100 us, plus a 0.5%
 * tail at 1 ms) through the sampler at N = 64: the sampled p50, p90 and
 * p99 are within 15% of the full histogram's, and the tail shows. */
START_TEST(sampler_percentiles)
{
	static struct dfb_hist all, some;
	dfb_hist_reset(&all);
	dfb_hist_reset(&some);
	struct dfb_sampler sm;
	dfb_sampler_init(&sm, 64, 7);
	uint64_t x = 0x243f6a8885a308d3ull;
	for (int i = 0; i < 2000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double u = (double)(x >> 11) * 0x1.0p-53;
		uint64_t v = i % 200 == 0 ? 1000000 : (uint64_t)(10.0 * pow(1e4, u));
		dfb_hist_add(&all, v);
		if (dfb_sampled(&sm))
			dfb_hist_add(&some, v);
	}
	ck_assert_uint_gt(some.count, 30000);
	const double q[] = {0.5, 0.9, 0.99};
	for (int k = 0; k < 3; k++) {
		double a = (double)dfb_hist_quantile(&all, q[k]);
		double b = (double)dfb_hist_quantile(&some, q[k]);
		ck_assert_msg(b >= a * 0.85 && b <= a * 1.15, "p%g: sampled %.0f, full %.0f",
			      q[k] * 100, b, a);
	}
	ck_assert_uint_eq(dfb_hist_quantile(&some, 0.999), dfb_hist_quantile(&all, 0.999));
}
END_TEST

static Suite *clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, agrees_with_monotonic);
	tcase_add_test(tc, never_backwards);
	tcase_add_test(tc, forced_fallback);
	tcase_add_test(tc, sampler_rates);
	tcase_add_test(tc, sampler_percentiles);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(clock_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
