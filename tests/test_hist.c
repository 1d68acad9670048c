/* Tests for runtime/hist.c (log-bucketed histogram), runtime/errors.c
 * (names, texts, the formatted message) and runtime/counters.c. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deferbench.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state;

/* xorshift64*: deterministic, seedable. */
static uint64_t rng_next(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * UINT64_C(2685821657736338717);
}

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return (a > b) - (a < b);
}

/* Values spread over every magnitude: a random 64-bit value shifted right
 * by 0..63 bits, so small and huge values are both common. */
static uint64_t rng_logspread(void)
{
	return rng_next() >> (rng_next() % 64);
}

/* Checks one value: bound, contains, error within 1/16. */
static void check_value(uint64_t v)
{
	unsigned b = dfb_hist_bucket(v);
	ck_assert_msg(b < DFB_HIST_BUCKETS, "bucket(%llu) = %u", (unsigned long long)v, b);
	uint64_t up = dfb_hist_bucket_upper(b);
	ck_assert_msg(up >= v, "upper(bucket(%llu)) = %llu", (unsigned long long)v,
		      (unsigned long long)up);
	ck_assert_msg(up - v <= v / 16, "upper(bucket(%llu)) = %llu: over 1/16",
		      (unsigned long long)v, (unsigned long long)up);
}

/* ---- buckets ------------------------------------------------------------ */

START_TEST(bucket_exact_small)
{
	for (uint64_t v = 0; v < 32; v++) {
		ck_assert_uint_eq(dfb_hist_bucket(v), v); /* 0..31 are exact */
		ck_assert_uint_eq(dfb_hist_bucket_upper((unsigned)v), v);
	}
	ck_assert_uint_eq(dfb_hist_bucket(15), 15);
	ck_assert_uint_eq(dfb_hist_bucket(16), 16);
	ck_assert_uint_eq(dfb_hist_bucket(17), 17);
	ck_assert_uint_eq(dfb_hist_bucket(32), 32);
	ck_assert_uint_eq(dfb_hist_bucket(33), 32); /* 32..33 share a bucket */
	ck_assert_uint_eq(dfb_hist_bucket_upper(32), 33);
}
END_TEST

START_TEST(bucket_top)
{
	unsigned top = dfb_hist_bucket(UINT64_MAX);
	ck_assert_uint_lt(top, DFB_HIST_BUCKETS);
	ck_assert_uint_eq(dfb_hist_bucket_upper(top), UINT64_MAX);
	unsigned b63 = dfb_hist_bucket(UINT64_C(1) << 63);
	ck_assert_uint_le(b63, top);
	ck_assert_uint_eq(dfb_hist_bucket((UINT64_C(1) << 63) - 1), b63 - 1);
	check_value(UINT64_MAX);
	check_value(UINT64_C(1) << 63);
	check_value((UINT64_C(1) << 63) - 1);
	/* buckets past the top one still answer sanely */
	ck_assert_uint_eq(dfb_hist_bucket_upper(DFB_HIST_BUCKETS - 1), UINT64_MAX);
}
END_TEST

START_TEST(bucket_every_boundary)
{
	/* For each used bucket: its upper bound maps to it, the next value maps
	 * to the next bucket: buckets are contiguous, ordered, non-empty. */
	unsigned top = dfb_hist_bucket(UINT64_MAX);
	for (unsigned b = 0; b < top; b++) {
		uint64_t up = dfb_hist_bucket_upper(b);
		ck_assert_uint_eq(dfb_hist_bucket(up), b);
		ck_assert_uint_eq(dfb_hist_bucket(up + 1), b + 1);
		ck_assert_uint_lt(up, dfb_hist_bucket_upper(b + 1));
		check_value(up);
		check_value(up + 1);
	}
}
END_TEST

START_TEST(bucket_monotonic_sampled)
{
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v));
	ck_assert_ptr_nonnull(v);
	size_t n = 0;
	for (uint64_t x = 0; x < 70000; x++)
		v[n++] = x;
	for (unsigned k = 0; k < 64; k++) {
		uint64_t p = UINT64_C(1) << k;
		v[n++] = p - 1;
		v[n++] = p;
		v[n++] = p + 1;
	}
	v[n++] = UINT64_MAX;
	v[n++] = UINT64_MAX - 1;
	rng_state = 0x9e3779b97f4a7c15u;
	while (n < N)
		v[n++] = rng_logspread();
	qsort(v, n, sizeof(*v), cmp_u64);
	unsigned prev = 0;
	for (size_t i = 0; i < n; i++) {
		check_value(v[i]);
		unsigned b = dfb_hist_bucket(v[i]);
		ck_assert_msg(b >= prev, "not monotonic at %llu", (unsigned long long)v[i]);
		prev = b;
	}
	free(v);
}
END_TEST

/* ---- histogram ------------------------------------------------------ */

START_TEST(hist_empty)
{
	struct dfb_hist h;
	memset(&h, 0xab, sizeof(h));
	dfb_hist_reset(&h);
	ck_assert_uint_eq(h.count, 0);
	ck_assert_uint_eq(h.sum, 0);
	ck_assert_uint_eq(h.max, 0);
	ck_assert_uint_eq(h.min, UINT64_MAX);
	for (unsigned i = 0; i < DFB_HIST_BUCKETS; i++)
		ck_assert_uint_eq(h.b[i], 0);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.0), 0);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.5), 0);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 1.0), 0);
}
END_TEST

START_TEST(hist_min_max_clamp)
{
	struct dfb_hist h;
	dfb_hist_reset(&h);
	dfb_hist_add(&h, 1000); /* bucket 992..1023 */
	ck_assert_uint_eq(dfb_hist_bucket_upper(dfb_hist_bucket(1000)), 1023);
	ck_assert_uint_eq(h.min, 1000);
	ck_assert_uint_eq(h.max, 1000);
	/* the bucket bound 1023 is clamped to max */
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.5), 1000);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.0), 1000);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 1.0), 1000);

	dfb_hist_add(&h, 100); /* bucket 96..103 */
	ck_assert_uint_eq(h.min, 100);
	ck_assert_uint_eq(h.count, 2);
	ck_assert_uint_eq(h.sum, 1100);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.0), 100);  /* q = 0: min */
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.5), 103);  /* rank 1: bucket bound */
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.51), 1000); /* rank 2, clamped */
	ck_assert_uint_eq(dfb_hist_quantile(&h, 1.0), 1000); /* q = 1: max */
	/* out-of-range q */
	ck_assert_uint_eq(dfb_hist_quantile(&h, -3.0), 100);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 7.0), 1000);

	/* extremes */
	dfb_hist_reset(&h);
	dfb_hist_add(&h, 0);
	dfb_hist_add(&h, UINT64_MAX);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.5), 0);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.99), UINT64_MAX);

	/* rank = ceil(q * count) in double: p10 of 1..10 is the 1st sample */
	dfb_hist_reset(&h);
	for (uint64_t v = 1; v <= 10; v++)
		dfb_hist_add(&h, v);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.1), 1);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.11), 2);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.7), 7);
	ck_assert_uint_eq(dfb_hist_quantile(&h, 0.9), 9);
}
END_TEST

START_TEST(hist_quantile_error)
{
	static const double qs[] = { 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0 };
	enum { N = 20000 };
	uint64_t *v = malloc(N * sizeof(*v));
	ck_assert_ptr_nonnull(v);
	static struct dfb_hist h;
	for (int trial = 0; trial < 3; trial++) {
		rng_state = 0x1234567u + (uint64_t)trial * 977u;
		dfb_hist_reset(&h);
		for (size_t i = 0; i < N; i++) {
			/* trial 0: latency-like ns (100 ns .. ~1 ms); 1: all
			 * magnitudes; 2: small values with heavy ties */
			uint64_t x = trial == 0 ? 100 + (rng_next() >> (44 + rng_next() % 20))
				   : trial == 1 ? rng_logspread()
						: rng_next() % 40;
			v[i] = x;
			dfb_hist_add(&h, x);
		}
		qsort(v, N, sizeof(*v), cmp_u64);
		ck_assert_uint_eq(h.min, v[0]);
		ck_assert_uint_eq(h.max, v[N - 1]);
		ck_assert_uint_eq(dfb_hist_quantile(&h, 0.0), v[0]);
		for (size_t k = 0; k < NELEM(qs); k++) {
			/* exact: the ceil(q N)-th smallest sample */
			size_t rank = (size_t)ceil(qs[k] * N);
			uint64_t exact = v[rank - 1];
			uint64_t got = dfb_hist_quantile(&h, qs[k]);
			ck_assert_msg(got >= exact && got - exact <= exact / 16,
				      "trial %d q %g: got %llu exact %llu", trial, qs[k],
				      (unsigned long long)got, (unsigned long long)exact);
		}
	}
	free(v);
}
END_TEST

START_TEST(hist_merge)
{
	static struct dfb_hist a, b, all, empty;
	dfb_hist_reset(&a);
	dfb_hist_reset(&b);
	dfb_hist_reset(&all);
	dfb_hist_reset(&empty);
	rng_state = 42;
	for (int i = 0; i < 5000; i++) {
		uint64_t x = rng_logspread() >> 16;
		dfb_hist_add(i % 3 ? &a : &b, x);
		dfb_hist_add(&all, x);
	}
	dfb_hist_merge(&a, &b);
	ck_assert_uint_eq(a.count, all.count);
	ck_assert_uint_eq(a.sum, all.sum);
	ck_assert_uint_eq(a.min, all.min);
	ck_assert_uint_eq(a.max, all.max);
	ck_assert(memcmp(a.b, all.b, sizeof(a.b)) == 0);
	for (double q = 0.0; q <= 1.0; q += 0.01)
		ck_assert_uint_eq(dfb_hist_quantile(&a, q), dfb_hist_quantile(&all, q));

	/* merging an empty histogram changes nothing; into one copies */
	dfb_hist_merge(&a, &empty);
	ck_assert(memcmp(&a, &all, sizeof(a)) == 0);
	dfb_hist_merge(&empty, &all);
	ck_assert(memcmp(&empty, &all, sizeof(a)) == 0);
}
END_TEST

/* ---- errors ----------------------------------------------------------------- */

START_TEST(err_names)
{
	ck_assert_str_eq(dfb_err_name(DFB_ERR_OK), "OK");
	ck_assert_str_eq(dfb_err_name(DFB_ERR_ASYNC_WAIT_OVERFLOW), "ASYNC_WAIT_OVERFLOW");
	ck_assert_str_eq(dfb_err_name(DFB_ERR_SYSTEM), "SYSTEM");
	ck_assert_str_eq(dfb_err_text(DFB_ERR_SCHED_HANG), "no progress within the hang budget, or past round_limit_ms");
	ck_assert_str_eq(dfb_err_name(DFB_ERR__COUNT), "UNKNOWN");
	ck_assert_str_eq(dfb_err_text(DFB_ERR__COUNT), "UNKNOWN");
	ck_assert_str_eq(dfb_err_name((enum dfb_err)-1), "UNKNOWN");
	ck_assert_str_eq(dfb_err_name((enum dfb_err)1000), "UNKNOWN");
	for (int e = 0; e < DFB_ERR__COUNT; e++) {
		ck_assert_ptr_nonnull(dfb_err_name((enum dfb_err)e));
		ck_assert_str_ne(dfb_err_name((enum dfb_err)e), "UNKNOWN");
		ck_assert(dfb_err_text((enum dfb_err)e)[0] != '\0');
	}
}
END_TEST

static struct dfb_error mkerr(enum dfb_err code, int64_t index, uint64_t token, int thread,
			      const char *detail)
{
	struct dfb_error e;
	memset(&e, 0, sizeof(e));
	e.code = code;
	e.task_index = index;
	e.task_token = token;
	e.thread = thread;
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return e;
}

START_TEST(err_format)
{
	char buf[512];
	struct dfb_error e = mkerr(DFB_ERR_ASYNC_WAIT_OVERFLOW, 1234,
				   (UINT64_C(2) << 32) | 57, 1, "65 waiting, capacity 64");
	dfb_error_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ASYNC_WAIT_OVERFLOW: more waiting tasks than the async wait list"
			      " holds, or a full release batch (task 2:57 index 1234, thread 1):"
			      " 65 waiting, capacity 64");
	/* Upstream's status, when the error has one. */
	e.status = dfb_err_upstream_status(DFB_ERR_ASYNC_WAIT_OVERFLOW);
	ck_assert_int_eq(e.status, 102);
	dfb_error_format(&e, buf, sizeof(buf));
	ck_assert(strstr(buf, "capacity 64 [upstream status 102]") != NULL);
	e.status = 0;

	e = mkerr(DFB_ERR_CONFIG, -1, 0, -1, "window must be a power of two");
	dfb_error_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "CONFIG: invalid configuration: window must be a power of two");

	e = mkerr(DFB_ERR_SCHED_HANG, -1, 0, 2, "");
	dfb_error_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "SCHED_HANG: no progress within the hang budget, or past round_limit_ms (thread 2)");

	e = mkerr(DFB_ERR_SLAB_ERROR, 0, 0, -1, "");
	dfb_error_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "SLAB_ERROR: a kernel reported an error code in its completion"
			      " slab (task 0:0 index 0)");

	e = mkerr(DFB_ERR_OK, -1, 0, -1, "");
	dfb_error_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "OK: no error");

	e = mkerr((enum dfb_err)99, -1, 0, -1, "x");
	dfb_error_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "UNKNOWN: UNKNOWN: x");
}
END_TEST

START_TEST(err_format_truncates)
{
	char buf[16];
	memset(buf, 'z', sizeof(buf));
	struct dfb_error e = mkerr(DFB_ERR_INVARIANT, 5, 5, 3, "some long detail text");
	dfb_error_format(&e, buf, 10);
	ck_assert_str_eq(buf, "INVARIANT");
	ck_assert(buf[10] == 'z'); /* nothing past len */

	/* a detail filling the whole array, without a terminator */
	memset(e.detail, 'd', sizeof(e.detail));
	char big[1024];
	dfb_error_format(&e, big, sizeof(big));
	ck_assert_uint_eq(strlen(big), strlen("INVARIANT: a runtime invariant was violated"
					      " (task 0:5 index 5, thread 3): ") + sizeof(e.detail));

	buf[0] = 'q';
	dfb_error_format(&e, buf, 0); /* len 0: untouched */
	ck_assert(buf[0] == 'q');
}
END_TEST

/* ---- counters -------------------------------------------------------------- */

START_TEST(counters_table)
{
	ck_assert_uint_eq(dfb_ncounters, sizeof(struct dfb_counters) / sizeof(uint64_t));
	ck_assert_str_eq(dfb_counter_info[0].name, "fin_events");
	ck_assert_uint_eq(dfb_counter_info[0].offset, offsetof(struct dfb_counters, fin_events));
	ck_assert_str_eq(dfb_counter_info[dfb_ncounters - 1].name, "slow_pushes_retried");
	ck_assert_uint_eq(dfb_counter_info[dfb_ncounters - 1].offset,
			  offsetof(struct dfb_counters, slow_pushes_retried));

	struct dfb_counters a, b;
	for (size_t i = 0; i < dfb_ncounters; i++) {
		ck_assert(dfb_counter_info[i].help[0] != '\0');
		*(uint64_t *)((char *)&a + dfb_counter_info[i].offset) = i;
		*(uint64_t *)((char *)&b + dfb_counter_info[i].offset) = 100 * i + 1;
	}
	dfb_counters_add(&a, &b);
	for (size_t i = 0; i < dfb_ncounters; i++)
		ck_assert_uint_eq(*(uint64_t *)((char *)&a + dfb_counter_info[i].offset),
				  101 * i + 1);
}
END_TEST

static Suite *hist_suite(void)
{
	Suite *s = suite_create("hist");
	TCase *tc = tcase_create("bucket");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, bucket_exact_small);
	tcase_add_test(tc, bucket_top);
	tcase_add_test(tc, bucket_every_boundary);
	tcase_add_test(tc, bucket_monotonic_sampled);
	suite_add_tcase(s, tc);

	tc = tcase_create("hist");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, hist_empty);
	tcase_add_test(tc, hist_min_max_clamp);
	tcase_add_test(tc, hist_quantile_error);
	tcase_add_test(tc, hist_merge);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, err_names);
	tcase_add_test(tc, err_format);
	tcase_add_test(tc, err_format_truncates);
	suite_add_tcase(s, tc);

	tc = tcase_create("counters");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, counters_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hist_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
