/* Tests for the transport scenarios (runtime/transport.c): P producers and
 * one consumer on each strategy's transport alone, through the ordinary
 * dfb_runtime_run_round path.  A 16-message transport forces wrap-around
 * and full retries; the consumer itself checks per-producer order, loss and
 * duplicates (INVARIANT), and these tests check the counts. */
#include <check.h>
#include <string.h>
#include <stdlib.h>

#include "dfb_internal.h"
#include "test_util.h"

static const unsigned producer_counts[] = {1, 2, 4, 8};
#define NPRODUCERS (sizeof(producer_counts) / sizeof(producer_counts[0]))

static void check_round(const struct dfb_config *c, const struct dfb_round_result *r)
{
	char msg[600];
	dfb_error_format(&r->error, msg, sizeof(msg));
	ck_assert_msg(r->error.code == DFB_ERR_OK, "round failed: %s%s", msg,
		      r->error.dump ? r->error.dump : "");
	ck_assert(r->transport);
	ck_assert_uint_eq(r->tasks, c->tasks);
	ck_assert_uint_eq(r->counters.registrations, c->tasks);
	ck_assert_uint_eq(r->counters.drained_msgs, c->tasks);
	ck_assert_uint_eq(r->subtasks, 0);
	ck_assert_uint_eq(r->counters.fin_events, 0);
	/* latency_sample: none, every push, or about one in N. */
	if (c->latency_sample == 0)
		ck_assert_uint_eq(r->reg_latency.count, 0);
	else if (c->latency_sample == 1)
		ck_assert_uint_eq(r->reg_latency.count, c->tasks);
	else
		ck_assert(r->reg_latency.count > 0 && r->reg_latency.count < c->tasks);
	ck_assert(r->total_us > 0 && r->sched_us > 0 && r->orch_us > 0);
	ck_assert_msg(r->host_us >= r->total_us && r->total_us >= r->sched_us,
		      "host %.1f total %.1f sched %.1f", r->host_us, r->total_us, r->sched_us);
}

/* Runs `rounds` rounds; returns the summed counters. */
static struct dfb_counters run_rounds(const struct dfb_config *c, const char *strategy,
				      unsigned rounds)
{
	struct dfb_runtime *rt = tu_create(c, strategy);
	struct dfb_round_result *r = malloc(sizeof(*r));
	struct dfb_counters sum = {0};
	ck_assert_ptr_nonnull(r);
	for (unsigned i = 0; i < rounds; i++) {
		int rc = dfb_runtime_run_round(rt, r);
		check_round(c, r);
		ck_assert_int_eq(rc, 0);
		dfb_counters_add(&sum, &r->counters);
	}
	free(r);
	dfb_runtime_destroy(rt);
	return sum;
}

START_TEST(counts_small_capacity)
{
	struct dfb_config c;
	char p[32];
	snprintf(p, sizeof(p), "producers=%u", producer_counts[TU_VAR(_i)]);
	/* 20003: not a multiple of any P, so the remainder goes somewhere. */
	tu_config(&c, "transport", p, "tasks=20003", "mailbox_capacity=16", NULL);
	struct dfb_counters sum = run_rounds(&c, TU_STRAT(_i), 3);
	/* What cannot happen to each: a CAS retry without a CAS, a lock
	 * miss without a lock. */
	if (!strcmp(TU_STRAT(_i), "mailbox")) {
		ck_assert_uint_eq(sum.lock_misses, 0);
		ck_assert_uint_eq(sum.poll_lock_misses, 0);
	} else if (!strcmp(TU_STRAT(_i), "spinlock")) {
		ck_assert_uint_eq(sum.cas_retries, 0);
	}
}
END_TEST

/* The cached_tail and refresh_head deviations of the mailbox push. */
START_TEST(mailbox_deviations)
{
	struct dfb_config c;
	char p[32];
	snprintf(p, sizeof(p), "producers=%u", producer_counts[_i % NPRODUCERS]);
	tu_config(&c, "transport", p, "tasks=20003", "mailbox_capacity=16",
		  _i < (int)NPRODUCERS ? "mailbox_cached_tail=1" : "mailbox_refresh_head=1", NULL);
	run_rounds(&c, "mailbox", 2);
}
END_TEST

/* One producer and a 2-message transport: the producer waits on the
 * consumer at nearly every push, and the count still comes out exact. */
START_TEST(capacity_two)
{
	struct dfb_config c;
	tu_config(&c, "transport", "producers=1", "tasks=5000", "mailbox_capacity=2",
		  "latency_sample=0", NULL);
	run_rounds(&c, TU_STRAT(_i), 2);
}
END_TEST

START_TEST(defaults)
{
	struct dfb_config c;
	tu_config(&c, "transport", NULL);
	ck_assert_uint_eq(c.tasks, 1000000);
	ck_assert_uint_eq(c.mailbox_capacity, 4096);
	ck_assert_uint_eq(c.producers, 1);
	ck_assert(dfb_shape_find("transport")->transport);
	ck_assert(dfb_shape_find("transport")->task == NULL);
	char msg[128];
	ck_assert_int_eq(dfb_config_set_kv(&c, "producers=0", msg, sizeof(msg)), -1);
	ck_assert_int_eq(dfb_config_set_kv(&c, "producers=1025", msg, sizeof(msg)), -1);
	ck_assert_int_eq(dfb_config_set_kv(&c, "producers=1024", msg, sizeof(msg)), 0);
}
END_TEST

/* The plan holds the consumer, then producer 0..P-1, pinned compactly. */
START_TEST(placement_roles)
{
	struct dfb_config c;
	tu_config(&c, "transport", "producers=3", "tasks=3000", "placement=compact", NULL);
	struct dfb_runtime *rt = tu_create(&c, TU_STRAT(_i));
	const struct dfb_plan *p = dfb_runtime_plan(rt);
	ck_assert_uint_eq(p->nthreads, 4);
	ck_assert_int_eq(p->entries[0].role, DFB_ROLE_CONSUMER);
	for (unsigned i = 1; i < 4; i++) {
		ck_assert_int_eq(p->entries[i].role, DFB_ROLE_PRODUCER);
		ck_assert_int_eq(p->entries[i].index, (int)i - 1);
		ck_assert_int_eq(p->entries[i].pu, (int)(i % p->npus));
	}
	struct dfb_round_result *r = malloc(sizeof(*r));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(dfb_runtime_run_round(rt, r), 0);
	check_round(&c, r);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_ne(p->entries[i].bind, DFB_BIND_PENDING);
	free(r);
	dfb_runtime_destroy(rt);
}
END_TEST

static Suite *transport_suite(void)
{
	Suite *s = suite_create("transport");
	TCase *tc = tcase_create("transport");
	TU_LOOP(tc, counts_small_capacity, NPRODUCERS);
	tcase_add_loop_test(tc, mailbox_deviations, 0, 2 * NPRODUCERS);
	TU_LOOP(tc, capacity_two, 1);
	tcase_add_test(tc, defaults);
	TU_LOOP(tc, placement_roles, 1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(transport_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
