/* Scheduler-level tests of what upstream's scheduler_dispatch.cpp decides,
 * driven by hand on a real runtime's scheduler 0 with slots set up by the
 * test (no round runs; the test thread is the only user):
 *  - dependency wiring happens on scheduler thread 0, from the wiring
 *    queue, in batches after a backoff (upstream drain_wiring_queue);
 *  - the dispatch stage's order: MIX first with strict priority, AIC and
 *    AIV by thread parity, an IDLE then a PENDING phase, a task's blocks
 *    claimed and the task handed back, the local ready buffers of 64 per
 *    shape.
 * Timing is not looked at: kernels are long enough that nothing FINs. */
#include <check.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "dfb_internal.h"
#include "test_slots.h"
#include "test_util.h"

#define LONG_KERNEL_NS (UINT64_C(1) << 40)

static struct dfb_runtime *make_rt(const char *kv)
{
	struct dfb_config c;
	/* 2 clusters (2 AIC, 4 AIV cores) on one scheduler thread. */
	tu_config(&c, "alternating_matmul_add", "window=64", "aic_cores=2", "aiv_cores=4",
		  "sched_threads=1", "verify=0", kv, NULL);
	return tu_create(&c, "mailbox");
}

/* Slot i as the orchestrator leaves it: submitted, not wired. */
static struct dfb_slot *make_slot(struct dfb_runtime *rt, uint32_t i, uint8_t mask,
				  uint16_t blocks)
{
	return tu_slot(rt, i, i, mask, blocks, LONG_KERNEL_NS);
}

/* A wired, ready slot in its shape's shared queue. */
static struct dfb_slot *ready_slot(struct dfb_runtime *rt, uint32_t i, uint8_t mask,
				   uint16_t blocks)
{
	struct dfb_slot *s = make_slot(rt, i, mask, blocks);
	s->fanin_count = 1;
	atomic_store(&s->fanin_refcount, 1);
	ck_assert(dfb_ready_push(rt, dfb_shape_of(mask), s));
	return s;
}

/* Subtasks of slot s running (run) and preloaded (pend) on scheduler 0's
 * cores. */
static void count_on_cores(struct dfb_runtime *rt, const struct dfb_slot *s, unsigned *run,
			   unsigned *pend)
{
	*run = *pend = 0;
	for (uint32_t k = 0; k < 3 * rt->nclusters; k++) {
		const struct dfb_core *c = &rt->cores[k];
		*run += c->run.valid && c->run.slot == s;
		*pend += c->pend.valid && c->pend.slot == s;
	}
}

static uint64_t queued(struct dfb_runtime *rt, enum dfb_shape_q q)
{
	return dfb_mpmc_size(&rt->ready[q]);
}

/* ---- wiring ------------------------------------------------------------- */

/* The orchestrator only queues a task; scheduler thread 0 wires it, once
 * 30 tasks wait, after 32 calls without, or at once when the orchestrator
 * is done.  (The model once wired on the orchestrator thread at submit.) */
START_TEST(wiring_by_thread_0)
{
	struct dfb_runtime *rt = make_rt("sched_threads=1");
	struct dfb_sched *s0 = &rt->sched[0];
	struct dfb_slot *p = make_slot(rt, 1, 0x1, 1);
	struct dfb_slot *c = make_slot(rt, 2, 0x2, 1);
	/* c consumes p, holding a reference on it (the orchestrator's count). */
	c->fanin[c->nfanin++] = p->number | DFB_FANIN_HOLDS_REF;
	atomic_fetch_add(&p->fanout_rc, DFB_FANOUT_ONE_COUNT);
	ck_assert(dfb_wiring_push(rt, p));
	ck_assert(dfb_wiring_push(rt, c));

	/* Backoff: fewer than a batch queued, the orchestrator not done. */
	for (int i = 0; i < 32; i++)
		ck_assert_uint_eq(dfb_wiring_drain(s0), 0);
	ck_assert_uint_eq(p->nfanout, 0);
	ck_assert_uint_eq(c->fanin_count, 0);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIC), 0);

	ck_assert_uint_eq(dfb_wiring_drain(s0), 2);
	/* p has no producer: ready in the shared queue (not a local buffer). */
	ck_assert_uint_eq(p->fanin_count, 1);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIC), 1);
	ck_assert_uint_eq(s0->local[DFB_Q_AIC].n, 0);
	/* c waits on p: on p's fanout list, its count the producers plus the
	 * wiring's own share, which it has added. */
	ck_assert_uint_eq(p->nfanout, 1);
	ck_assert_uint_eq(p->fanout[0], c->number);
	ck_assert_uint_eq(c->fanin_count, 2);
	ck_assert_uint_eq(atomic_load(&c->fanin_refcount), 1);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 0);

	/* A producer already COMPLETED when wired counts as finished. */
	struct dfb_slot *d = make_slot(rt, 3, 0x2, 1);
	atomic_store(&p->state, DFB_SLOT_COMPLETED);
	d->fanin[d->nfanin++] = p->number | DFB_FANIN_HOLDS_REF;
	ck_assert(dfb_wiring_push(rt, d));
	atomic_store(&rt->orch_done, true); /* no backoff any more */
	ck_assert_uint_eq(dfb_wiring_drain(s0), 1);
	ck_assert_uint_eq(p->nfanout, 1);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 1);
	dfb_runtime_destroy(rt);
}
END_TEST

/* ---- the dispatch stage ------------------------------------------------- */

/* MIX first, with strict priority: two idle clusters take two MIX tasks,
 * and while a third waits AIC and AIV tasks are not dispatched at all in
 * this pass, idle cores or not.  (The model once dispatched AIC, then AIV,
 * then MIX.) */
START_TEST(dispatch_mix_first)
{
	struct dfb_runtime *rt = make_rt("dual_slot=1");
	struct dfb_sched *s0 = &rt->sched[0];
	struct dfb_slot *mix[3], *aic = ready_slot(rt, 10, 0x1, 1), *aiv = ready_slot(rt, 11, 0x2, 1);
	for (int i = 0; i < 3; i++)
		mix[i] = ready_slot(rt, 20 + i, 0x7, 1);
	bool progress = false;
	dfb_dispatch_ready(s0, 0, &progress);
	ck_assert(progress);
	unsigned run, pend;
	for (int i = 0; i < 2; i++) {
		count_on_cores(rt, mix[i], &run, &pend);
		ck_assert_uint_eq(run, 3); /* AIC + AIV0 + AIV1 of one cluster */
	}
	count_on_cores(rt, mix[2], &run, &pend);
	ck_assert_uint_eq(run + pend, 0);
	ck_assert_uint_eq(queued(rt, DFB_Q_MIX), 1);
	count_on_cores(rt, aic, &run, &pend);
	ck_assert_uint_eq(run + pend, 0);
	count_on_cores(rt, aiv, &run, &pend);
	ck_assert_uint_eq(run + pend, 0);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIC), 1);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 1);
	dfb_runtime_destroy(rt);
}
END_TEST

/* IDLE then PENDING: idle cores first; a core just dispatched keeps its
 * pending payload slot until its ACK, so the PENDING phase of the same
 * pass preloads nothing; once acknowledged (the next poll of the core), a
 * running core takes a pending subtask.  A 6-block task claims the 4 idle
 * AIV cores and goes back to the queue for the rest. */
START_TEST(dispatch_idle_then_pending)
{
	struct dfb_runtime *rt = make_rt("dual_slot=1");
	struct dfb_sched *s0 = &rt->sched[0];
	struct dfb_slot *a[3], *v = ready_slot(rt, 30, 0x2, 6);
	for (int i = 0; i < 3; i++)
		a[i] = ready_slot(rt, 10 + i, 0x1, 1);
	bool progress = false;
	dfb_dispatch_ready(s0, 0, &progress);
	unsigned run, pend, aic_run = 0;
	for (int i = 0; i < 3; i++) {
		count_on_cores(rt, a[i], &run, &pend);
		ck_assert_uint_eq(pend, 0);
		aic_run += run;
	}
	ck_assert_uint_eq(aic_run, 2);         /* both AIC cores */
	ck_assert_uint_eq(queued(rt, DFB_Q_AIC), 1);
	count_on_cores(rt, v, &run, &pend);
	ck_assert_uint_eq(run, 4);             /* the 4 AIV cores: blocks 0-3 */
	ck_assert_uint_eq(pend, 0);
	ck_assert_uint_eq(v->next_block, 4);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 1); /* handed back for blocks 4-5 */

	/* The cores acknowledge their payloads (upstream: the running ACK
	 * clears pending_occupied). */
	for (uint32_t w = 0; w < s0->trk.nwords; w++)
		atomic_store(&s0->trk.pocc[w], 0);
	dfb_dispatch_ready(s0, 0, &progress);
	aic_run = 0;
	unsigned aic_pend = 0;
	for (int i = 0; i < 3; i++) {
		count_on_cores(rt, a[i], &run, &pend);
		aic_run += run;
		aic_pend += pend;
	}
	ck_assert_uint_eq(aic_run, 2);
	ck_assert_uint_eq(aic_pend, 1);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIC), 0);
	count_on_cores(rt, v, &run, &pend);
	ck_assert_uint_eq(run, 4);
	ck_assert_uint_eq(pend, 2);            /* blocks 4-5 preloaded */
	ck_assert_uint_eq(v->next_block, 6);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 0);
	dfb_runtime_destroy(rt);
}
END_TEST

/* Without dual-slot dispatch (upstream: a PMU run) there is no PENDING
 * phase at all. */
START_TEST(dispatch_no_pending_without_dual_slot)
{
	struct dfb_runtime *rt = make_rt("dual_slot=0");
	struct dfb_sched *s0 = &rt->sched[0];
	struct dfb_slot *v = ready_slot(rt, 30, 0x2, 6);
	bool progress = false;
	dfb_dispatch_ready(s0, 0, &progress);
	for (uint32_t w = 0; w < s0->trk.nwords; w++)
		atomic_store(&s0->trk.pocc[w], 0);
	dfb_dispatch_ready(s0, 0, &progress);
	unsigned run, pend;
	count_on_cores(rt, v, &run, &pend);
	ck_assert_uint_eq(run, 4);
	ck_assert_uint_eq(pend, 0);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 1);
	dfb_runtime_destroy(rt);
}
END_TEST

/* The PENDING phase preloads a shape only when no peer thread has an idle
 * core for it: the peer's next IDLE pass takes the task sooner. */
START_TEST(dispatch_pending_yields_to_idle_peer)
{
	/* 2 clusters on 2 threads: one AIC and two AIV cores each. */
	struct dfb_runtime *rt = make_rt("sched_threads=2");
	struct dfb_sched *s0 = &rt->sched[0], *s1 = &rt->sched[1];
	for (int i = 0; i < 3; i++)
		ready_slot(rt, 10 + i, 0x2, 1);
	bool progress = false;
	dfb_dispatch_ready(s0, 0, &progress);
	for (uint32_t w = 0; w < s0->trk.nwords; w++)
		atomic_store(&s0->trk.pocc[w], 0);
	dfb_dispatch_ready(s0, 0, &progress); /* thread 1's AIV cores are idle */
	ck_assert_uint_eq(s0->c.dispatches, 2);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 1);
	dfb_dispatch_ready(s1, 0, &progress);
	ck_assert_uint_eq(s1->c.dispatches, 1);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 0);
	dfb_runtime_destroy(rt);
}
END_TEST

/* A ready task goes to the completing thread's local buffer of its shape,
 * 64 each (upstream LOCAL_READY_CAP_PER_TYPE), the shared queue past
 * that; the dispatch stage takes local tasks first and leaves no local
 * buffer filled (upstream's flush). */
START_TEST(dispatch_local_buffers_per_shape)
{
	struct dfb_runtime *rt = make_rt("local_ready=64");
	struct dfb_sched *s0 = &rt->sched[0];
	for (int q = 0; q < DFB_NSHAPES; q++)
		ck_assert_uint_eq(s0->local[q].cap, 64);
	/* 65 AIV tasks become ready on thread 0: 64 stay local, one goes to
	 * the shared queue. */
	for (uint32_t i = 0; i < 65; i++)
		dfb_make_ready(rt, s0, make_slot(rt, i, 0x2, 1));
	ck_assert_uint_eq(s0->local[DFB_Q_AIV].n, 64);
	ck_assert_uint_eq(s0->local[DFB_Q_AIC].n, 0);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 1);
	/* A dependency-only task never goes to a local buffer. */
	dfb_make_ready(rt, s0, make_slot(rt, 70, 0, 1));
	ck_assert_uint_eq(queued(rt, DFB_Q_DUMMY), 1);
	/* The dispatch stage takes local ones first, and leaves none behind:
	 * 4 AIV cores take 4, the other 60 local ones go to the shared queue. */
	bool progress = false;
	dfb_dispatch_ready(s0, 0, &progress);
	for (int q = 0; q < DFB_NSHAPES; q++)
		ck_assert_uint_eq(s0->local[q].n, 0);
	ck_assert_uint_eq(s0->c.dispatches, 4);
	ck_assert_uint_eq(queued(rt, DFB_Q_AIV), 61);
	dfb_runtime_destroy(rt);
}
END_TEST

static Suite *sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("wiring");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, wiring_by_thread_0);
	suite_add_tcase(s, tc);

	tc = tcase_create("dispatch");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, dispatch_mix_first);
	tcase_add_test(tc, dispatch_idle_then_pending);
	tcase_add_test(tc, dispatch_no_pending_without_dual_slot);
	tcase_add_test(tc, dispatch_pending_yields_to_idle_peer);
	tcase_add_test(tc, dispatch_local_buffers_per_shape);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sched_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
