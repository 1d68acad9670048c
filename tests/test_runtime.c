/* Whole-runtime rounds through the public API, for both strategies, with
 * verify=1: the runtime itself then fails a round (DFB_ERR_INVARIANT) on a
 * task completed twice, a task completed before one of its producers, a
 * task never completed or consumed, or anything left in the wait list, the
 * mailbox or a ready queue at round end.  On top of that each round's
 * counters are checked against what the test expects from the graph it
 * submitted, computed by walking the shape's own task descriptions
 * (struct expect below).
 *
 * Sizes: 100,000 to 200,000 tasks (fewer for the multi-block, MIX and
 * repeated-round tests) through a 256-slot ring, so every slot is reused
 * hundreds of times; kernel_us=0 keeps rounds short.  A test takes well
 * under a second at -O2 and a few seconds with -fsanitize=thread on a
 * loaded 2-core box; the tcase timeout is generous because the box is
 * shared.
 *
 * Shapes: every built-in shape runs, which covers independent tasks,
 * chains, fan-in of 2 and 3, hidden alloc tasks, dependency-only (dummy)
 * tasks and MIX tasks (AIC+AIV0+AIV1, spmd_paged_attention), each with and
 * without deferred completions. */
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deferbench.h"
#include "dfb_internal.h" /* the trackers, for orch_to_sched_joins only */
#include "test_util.h"

#define TCASE_TIMEOUT_S 300
#define BIG_TASKS "tasks=200000"

/* Every round runs with a small ring, verification on, and a hang budget
 * that is long for a loaded box but still ends a stuck test. */
#define COMMON "window=256", "scope_tasks=64", "kernel_us=0", "verify=1", "hang_budget_ms=10000"

/* max_async_waits=1024 >= window: only live ring slots can wait, so the
 * wait list can never overflow whatever the scheduling.  With upstream's 64
 * a deferred run on the 2-core CI box under ThreadSanitizer does overflow:
 * the consumer thread is descheduled while FINs of up to `window` deferred
 * tasks pile up.  That is the overflow error working, not a bug, and
 * test_errors.c covers it. */
/* spinlock_release_in_place: at 293e88a32 a poll_and_complete that finds
 * the release batch full fails the round (ASYNC_WAIT_OVERFLOW), which a
 * busy deferred round reaches sooner or later; these tests are about the
 * rest of the model, so they run the baseline with the merge's in-place
 * release (the failure has tests of its own). */
#define DEFERRED "deferred_fraction=1", "engine_latency_us=1", "max_async_waits=1024", \
		 "spinlock_release_in_place=1"

/* ---- what a round of a given graph must count --------------------------- */

struct expect {
	uint64_t allocs;          /* hidden alloc tasks: complete at submit */
	uint64_t dummies;         /* dependency-only tasks */
	uint64_t kernels;         /* tasks with subtasks */
	uint64_t subtasks;        /* blocks * popcount(mask), summed */
	uint64_t deferred;        /* kernel tasks with conditions */
	uint64_t conditions;      /* their conditions, summed */
	bool multi_deferred;      /* a deferred task has several subtasks */
};

static void expect_of(const struct dfb_config *c, struct expect *e)
{
	const struct dfb_shape *sh = dfb_shapes[c->shape];
	uint64_t per_slot = c->conditions_per_task ? c->conditions_per_task : 1;
	memset(e, 0, sizeof(*e));
	for (uint64_t i = 0; i < c->tasks; i++) {
		struct dfb_task_desc d;
		sh->task(c, i, &d);
		if (d.alloc) {
			e->allocs++;
			continue;
		}
		if (!d.mask) {
			e->dummies++;
			continue;
		}
		uint64_t width = (uint64_t)(d.blocks ? d.blocks : 1) * (uint64_t)__builtin_popcount(d.mask);
		uint64_t cond = d.conditions < per_slot ? d.conditions : per_slot;
		e->kernels++;
		e->subtasks += width;
		if (cond) {
			e->deferred++;
			e->conditions += cond;
			if (width > 1)
				e->multi_deferred = true;
		}
	}
}

static void fail_round(const struct dfb_round_result *r, const char *what)
{
	char msg[600];
	dfb_error_format(&r->error, msg, sizeof(msg));
	/* Check's failure messages are short: the head of the dump. */
	ck_abort_msg("%s: round failed: %s%s%.1500s", what, msg, r->error.dump ? "\n" : "",
		     r->error.dump ? r->error.dump : "");
}

static bool is_spinlock(const char *strategy)
{
	return strcmp(strategy, "spinlock") == 0;
}

/* Checks a successful round (rc: its return value) against the graph. */
static void check_ok(int rc, const struct dfb_config *c, const char *strategy,
		     const struct dfb_round_result *r, const struct expect *e)
{
	if (rc != 0 || r->error.code != DFB_ERR_OK)
		fail_round(r, strategy);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_null(r->error.dump);
	const struct dfb_counters *k = &r->counters;

	ck_assert_uint_eq(r->tasks, c->tasks);
	/* Every subtask dispatched once and FINed once. */
	ck_assert_uint_eq(r->subtasks, k->dispatches);
	ck_assert_uint_eq(k->dispatches, e->subtasks);
	ck_assert_uint_eq(k->fin_events, e->subtasks);
	/* Every task but the alloc tasks completed once, by one path, and
	 * by the path its kind calls for. */
	ck_assert_uint_eq(k->inline_completions + k->consumer_completions + k->dummy_completions,
			  c->tasks - e->allocs);
	ck_assert_uint_eq(k->dummy_completions, e->dummies);
	ck_assert_uint_eq(k->consumer_completions, e->deferred);
	ck_assert_uint_eq(k->inline_completions, e->kernels - e->deferred);
	/* "FINs whose registration left work for the consumer": at least
	 * the last FIN of every deferred task.  (At most one per FIN, too:
	 * see registrations_count_fins.) */
	ck_assert_uint_ge(k->registrations, e->deferred);
	if (e->deferred == 0)
		ck_assert_uint_eq(k->registrations, 0);

	ck_assert_uint_le(r->peak_wait_entries, c->max_async_waits);
	if (e->deferred) {
		ck_assert_uint_gt(r->peak_wait_entries, 0);
		ck_assert_uint_gt(k->polls, 0);
	} else {
		ck_assert_uint_eq(r->peak_wait_entries, 0);
	}

	if (dfb_strategy_find(strategy)->locked_registration) {
		ck_assert_uint_eq(k->drained_msgs, 0);
		ck_assert_uint_eq(k->mailbox_full_retries, 0);
		ck_assert_uint_eq(k->cas_retries, 0);
	} else {
		ck_assert_uint_eq(k->lock_misses, 0);
		/* Every CONDITION and one NORMAL_DONE per deferred task. */
		ck_assert_uint_eq(k->drained_msgs, e->conditions + e->deferred);
		if (e->deferred)
			ck_assert_uint_gt(k->drained_msgs, 0);
	}
	/* Timings are present and ordered (not timed assertions: only
	 * that they were measured). */
	ck_assert(r->host_us > 0);
	ck_assert(r->total_us >= r->orch_us);
	ck_assert(r->total_us >= r->sched_us);
}

/* The baseline has a race upstream has too (docs/MODEL.md, "A race the
 * baseline has"): a FIN calls on_subtask_complete before
 * register_deferred, so when a deferred task's subtasks FIN on different
 * scheduler threads its conditions can arrive after the task completed;
 * the runtime fails the round with ORPHANED_CONDITIONS at that moment.
 * Where that can happen, a spinlock round may fail, but only in that
 * reported way. */
static bool race_possible(const struct dfb_config *c, const char *strategy,
			  const struct expect *e)
{
	return is_spinlock(strategy) && e->multi_deferred && c->sched_threads > 1;
}

static void check_race(const struct dfb_round_result *r)
{
	char msg[600];
	dfb_error_format(&r->error, msg, sizeof(msg));
	ck_assert_msg(r->error.code == DFB_ERR_ORPHANED_CONDITIONS &&
			      strstr(r->error.detail, "293e88a32"),
		      "spinlock: not the FIN-order race: %s", msg);
	ck_assert_ptr_null(r->error.dump);
}

/* Runs `rounds` rounds of c on one runtime and checks each; returns the
 * last result in *out when given. */
static void run_rounds(const struct dfb_config *c, const char *strategy, int rounds,
		       struct dfb_round_result *out)
{
	struct expect e;
	expect_of(c, &e);
	struct dfb_runtime *rt = tu_create(c, strategy);
	struct dfb_round_result r;
	for (int i = 0; i < rounds; i++) {
		int rc = dfb_runtime_run_round(rt, &r);
		if (rc != 0 && race_possible(c, strategy, &e)) {
			check_race(&r);
			break; /* the runtime is not reused after a failure */
		}
		check_ok(rc, c, strategy, &r, &e);
	}
	if (out)
		*out = r;
	dfb_runtime_destroy(rt);
}

static void run1(const struct dfb_config *c, const char *strategy)
{
	run_rounds(c, strategy, 1, NULL);
}

/* ---- ring wrap, 200,000 tasks ------------------------------------------- */

START_TEST(alternating_no_deferral)
{
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", BIG_TASKS, COMMON, NULL);
	run1(&c, TU_STRAT(_i));
}
END_TEST

START_TEST(alternating_all_deferred_virtual)
{
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", BIG_TASKS, COMMON, DEFERRED, "engine=virtual",
		  "conditions_per_task=2", NULL);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* Half the tasks wait for the engine, the rest complete on their FIN
 * thread (the split is the shape's seeded draw, which expect_of repeats). */
START_TEST(alternating_half_deferred_thread)
{
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", BIG_TASKS, COMMON, DEFERRED, "engine=thread",
		  "deferred_fraction=0.5", NULL);
	struct expect e;
	expect_of(&c, &e);
	ck_assert_uint_gt(e.deferred, c.tasks / 4);
	ck_assert_uint_lt(e.deferred, c.tasks * 3 / 4);
	run1(&c, TU_STRAT(_i));
}
END_TEST

START_TEST(deferred_heavy_virtual)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", BIG_TASKS, COMMON, DEFERRED, "engine=virtual", NULL);
	ck_assert_uint_eq(c.conditions_per_task, 4);
	run1(&c, TU_STRAT(_i));
}
END_TEST

START_TEST(deferred_heavy_thread)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", BIG_TASKS, COMMON, DEFERRED, "engine=thread",
		  "engine_latency_us=2", NULL);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* ---- multi-block tasks ------------------------------------------------ */

/* Three blocks per task: three subtasks, each its own FIN, possibly on
 * different scheduler threads.  4 conditions spread 2+1+1 over them. */
START_TEST(multiblock_deferred_heavy)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=40000", COMMON, DEFERRED, "engine=virtual",
		  "blocks=3", NULL);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* One condition over three subtasks: block 0 has it, blocks 1 and 2 FIN
 * with empty slabs.  Whichever FIN is last must still leave the task to
 * the consumer when the deferred block is not last. */
START_TEST(multiblock_one_condition)
{
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", "tasks=40000", COMMON, DEFERRED, "engine=thread",
		  "blocks=3", "conditions_per_task=1", NULL);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* The same on one scheduler thread: a task's FINs are handled one after
 * another, the baseline's race cannot happen, and both strategies must
 * complete every round. */
START_TEST(multiblock_one_thread)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	if (TU_VAR(_i))
		tu_config(&c, "alternating_matmul_add", "tasks=30000", COMMON, DEFERRED,
			  "engine=thread", "blocks=3", "conditions_per_task=1", "sched_threads=1",
			  NULL);
	else
		tu_config(&c, "deferred_heavy", "tasks=30000", COMMON, DEFERRED, "engine=virtual",
			  "blocks=3", "sched_threads=1", NULL);
	struct expect e;
	expect_of(&c, &e);
	ck_assert(e.multi_deferred);
	ck_assert(!race_possible(&c, strategy, &e));
	run1(&c, strategy);
}
END_TEST

START_TEST(multiblock_no_deferral)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", BIG_TASKS, COMMON, "deferred_fraction=0", "blocks=3",
		  NULL);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* ---- the upstream shapes -------------------------------------------------- */


/* Fan-in of 2 (ADD1 <- GEMM1, ADD0), scopes closed by the shape. */
START_TEST(shape_bgemm)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "benchmark_bgemm", "tasks=100000", COMMON, DEFERRED, "engine=virtual",
		  (TU_VAR(_i) & 1) ? "deferred_fraction=1" : "deferred_fraction=0", NULL);
	run1(&c, strategy);
}
END_TEST

/* Hidden alloc tasks (complete at submit, consumed by a whole request),
 * chains, and in variant 2 a chain between two groups' UP tasks. */
START_TEST(shape_paged_attention_unroll)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "paged_attention_unroll", (TU_VAR(_i) & 1) ? "variant=2" : "variant=1",
		  "tasks=100000", COMMON, DEFERRED, "engine=thread", "deferred_fraction=0.5",
		  NULL);
	struct expect e;
	expect_of(&c, &e);
	ck_assert_uint_gt(e.allocs, 0);
	run1(&c, strategy);
}
END_TEST

/* Chunks of 257 tasks (an alloc task and 256 consumers of it) through a
 * 256-slot ring: the alloc task's slot comes round again while the chunk
 * is still being submitted. */
START_TEST(shape_batch_paged_attention)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "batch_paged_attention", "tasks=100000", COMMON, DEFERRED,
		  "engine=virtual", (TU_VAR(_i) & 1) ? "deferred_fraction=1" : "deferred_fraction=0",
		  NULL);
	run1(&c, strategy);
}
END_TEST

/* MIX tasks: every block needs a whole idle cluster (AIC + AIV0 + AIV1);
 * variant 2 has twice as many blocks as clusters.  72 or 144 FINs per
 * task, on every scheduler thread. */
START_TEST(shape_spmd_mix)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "spmd_paged_attention", (TU_VAR(_i) & 2) ? "variant=2" : "variant=1", "tasks=2000",
		  COMMON, DEFERRED, "engine=virtual", "conditions_per_task=4",
		  (TU_VAR(_i) & 1) ? "deferred_fraction=1" : "deferred_fraction=0", NULL);
	ck_assert_uint_eq(c.blocks, (TU_VAR(_i) & 2) ? 48 : 24);
	struct expect e;
	expect_of(&c, &e);
	ck_assert_uint_eq(e.subtasks, c.tasks * c.blocks * 3);
	run1(&c, strategy);
}
END_TEST

/* Dependency-only tasks, drained by scheduler thread 0: a chain through
 * one (variant 1) or four (2), or a barrier of three kernels (3). */
/* Nested scopes on three rings, each ring wrapping many times (window 16,
 * a depth-1 scope of 8 tasks, a depth-2 scope of 4). */
START_TEST(shape_nested_scopes)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "nested_scopes", "tasks=65000", COMMON, DEFERRED, "window=16",
		  "scope_tasks=8", "engine=virtual", TU_VAR(_i) == 0 ? "deferred_fraction=1" : "deferred_fraction=0",
		  NULL);
	ck_assert_uint_eq(c.rings, 4); /* upstream PTO2_MAX_RING_DEPTH; the shape uses 3 */
	run1(&c, strategy);
}
END_TEST

/* A shape that opens deeper scopes than there are rings fails the round
 * with a message, not a hang. */
START_TEST(nested_scopes_too_few_rings)
{
	struct dfb_config c;
	tu_config(&c, "nested_scopes", "tasks=130", COMMON, "rings=2", NULL);
	struct dfb_runtime *rt = tu_create(&c, TU_STRAT(_i));
	struct dfb_round_result r;
	ck_assert_int_eq(dfb_runtime_run_round(rt, &r), -1);
	ck_assert_int_eq(r.error.code, DFB_ERR_INVARIANT);
	ck_assert_ptr_nonnull(strstr(r.error.detail, "rings"));
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(shape_dummy_task)
{
	const char *strategy = TU_STRAT(_i);
	static const char *const variant[] = {"variant=1", "variant=2", "variant=3"};
	struct dfb_config c;
	tu_config(&c, "dummy_task", variant[TU_VAR(_i)], "tasks=100000", COMMON, DEFERRED,
		  "engine=virtual", NULL);
	struct expect e;
	expect_of(&c, &e);
	ck_assert_uint_gt(e.dummies, 0);
	run1(&c, strategy);
}
END_TEST

/* notify_wait tasks defer one condition whatever deferred_fraction says;
 * their consumers wait on them and on a plain producer. */
START_TEST(shape_deferred_notify_demo)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "deferred_notify_demo", "tasks=60000", COMMON, "max_async_waits=1024",
		  (TU_VAR(_i) & 1) ? "engine=thread" : "engine=virtual", "engine_latency_us=1", NULL);
	struct expect e;
	expect_of(&c, &e);
	ck_assert_uint_eq(e.deferred, c.tasks / 3);
	run1(&c, strategy);
}
END_TEST

/* ---- consecutive rounds on one runtime ---------------------------------- */

START_TEST(consecutive_rounds)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=20000", COMMON, DEFERRED, "engine=thread", NULL);
	run_rounds(&c, TU_STRAT(_i), 5, NULL);
}
END_TEST

/* Repeated rounds of an odd size (the ring ends part-way round, the last
 * scope is short), with fan-in, alloc and dependency-only tasks: counters,
 * wait list, mailbox positions and slots carry nothing over. */
START_TEST(consecutive_rounds_odd_sizes)
{
	static const char *const shape[] = {"deferred_heavy", "paged_attention_unroll",
					    "dummy_task", "benchmark_bgemm"};
	struct dfb_config c;
	tu_config(&c, shape[TU_VAR(_i)], "tasks=10007", COMMON, DEFERRED, "engine=virtual",
		  "chains=7", "deferred_fraction=0.7", NULL);
	run_rounds(&c, TU_STRAT(_i), 4, NULL);
}
END_TEST

/* ---- other regimes ------------------------------------------------------ */

/* One scheduler thread: the FIN thread is also the only consumer. */
START_TEST(single_scheduler)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=30000", COMMON, DEFERRED, "engine=virtual",
		  "sched_threads=1", "aic_cores=2", "aiv_cores=4", NULL);
	struct dfb_round_result r;
	run_rounds(&c, TU_STRAT(_i), 1, &r);
	ck_assert_uint_eq(r.counters.lock_misses, 0); /* nobody else to hold it */
	ck_assert_uint_eq(r.counters.poll_lock_misses, 0);
}
END_TEST

/* Single-slot cores (no preloaded pending subtask) and 8 conditions. */
START_TEST(no_dual_slot)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=30000", COMMON, DEFERRED, "engine=virtual",
		  "dual_slot=0", "conditions_per_task=8", NULL);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* Full upstream condition capacity: 64 conditions per task. */
START_TEST(max_conditions)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=5000", COMMON, DEFERRED, "engine=thread",
		  "conditions_per_task=64", NULL);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* No local ready buffer, release batches of one: every ready task goes
 * through the shared queues and every completion is released at once. */
START_TEST(no_local_ready_batch_one)
{
	struct dfb_config c;
	tu_config(&c, "benchmark_bgemm", "tasks=40000", COMMON, DEFERRED, "engine=virtual",
		  "local_ready=0", "release_batch=1", "deferred_fraction=0.5", NULL);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* Every FIN of a single-subtask deferred task leaves work for the consumer
 * and nothing else does, so the registrations counter ("FINs whose
 * registration left work for the consumer") equals fin_events in both
 * strategies: the counter is compared across them in the reports.
 * (Regression: the mailbox once counted the CONDITION pushes and the
 * NORMAL_DONE push of one FIN as two.) */
START_TEST(registrations_count_fins)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=5000", COMMON, DEFERRED, "engine=virtual", NULL);
	struct dfb_round_result r;
	run_rounds(&c, TU_STRAT(_i), 1, &r);
	ck_assert_uint_eq(r.counters.fin_events, c.tasks);
	ck_assert_uint_eq(r.counters.registrations, r.counters.fin_events);
}
END_TEST

/* A full mailbox: upstream's push() spins until the ring has room, but the
 * ring empties only in poll_and_complete, which the scheduler threads run
 * between FINs.  Once every scheduler thread is inside push() (one thread:
 * as soon as one pass over its cores pushes more messages than the ring
 * holds), nobody drains.  Faithful mode reports that as SCHED_HANG (the
 * last test); the mailbox_full_drain deviation lets a producer drain. */
START_TEST(mailbox_full_tiny_ring)
{
	struct dfb_config c;
	/* 8 CONDITIONs from one FIN into a 4-cell ring. */
	tu_config(&c, "deferred_heavy", "tasks=2000", COMMON, DEFERRED, "engine=virtual",
		  "mailbox_capacity=4", "conditions_per_task=8", "sched_threads=1",
		  "hang_budget_ms=5000", "mailbox_full_drain=1", NULL);
	struct dfb_round_result r;
	run_rounds(&c, TU_STRAT(_i), 1, &r);
	if (!strcmp(TU_STRAT(_i), "mailbox"))
		ck_assert_uint_gt(r.counters.mailbox_full_retries, 0);
}
END_TEST

/* mailbox-batch drains a run at a time (tail published once per drain) or,
 * with batch_pop_each=1, one message at a time as the merged mailbox: both
 * deliver every message, in order, on a ring small enough to wrap many
 * times with two producers (verify=1 checks every task). */
START_TEST(batch_drain_run_and_each)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=3000", COMMON, DEFERRED, "engine=virtual",
		  "mailbox_capacity=16", "conditions_per_task=4", "sched_threads=2",
		  _i ? "batch_pop_each=1" : "batch_pop_each=0", NULL);
	struct dfb_round_result r;
	run_rounds(&c, "mailbox-batch", 1, &r);
	/* One subtask a task: its 4 CONDITIONs and its NORMAL_DONE. */
	ck_assert_uint_eq(r.counters.drained_msgs, 5 * c.tasks);
}
END_TEST

/* A completion in poll_and_complete can leave thread 0's release batch
 * full (dfb_release_push releases before it appends); drain_dummies then
 * appended a dependency-only task past the batch's end.  With a batch of
 * one, every round of a chain of kernels and dummies got there (a
 * heap-buffer-overflow in the AddressSanitizer build, found under stress
 * by ThreadSanitizer); now it releases the full batch first. */
START_TEST(dummies_after_a_full_release_batch)
{
	struct dfb_config c;
	tu_config(&c, "dummy_task", _i / TU_NSTRAT ? "variant=3" : "variant=1", "window=256",
		  "scope_tasks=64", "kernel_us=0", "verify=1", "hang_budget_ms=10000",
		  "deferred_fraction=1", "release_batch=1", "sched_threads=1", "engine=virtual",
		  "conditions_per_task=2", "spinlock_release_in_place=1", NULL);
	run_rounds(&c, TU_STRAT(_i % TU_NSTRAT), 3, NULL);
}
END_TEST

/* One round of c with `strategy` that must fail with SCHED_HANG and a
 * hang report holding `in_dump`; its result into *r (whose dump is gone
 * with the runtime when this returns). */
static void expect_hang(const struct dfb_config *c, const char *strategy, const char *in_dump,
			struct dfb_round_result *r)
{
	struct dfb_error err;
	struct dfb_runtime *rt = dfb_runtime_create(c, dfb_strategy_find(strategy), &err);
	ck_assert_ptr_nonnull(rt);
	ck_assert_int_eq(dfb_runtime_run_round(rt, r), -1);
	ck_assert_int_eq(r->error.code, DFB_ERR_SCHED_HANG);
	ck_assert_ptr_nonnull(r->error.dump);
	ck_assert_msg(strstr(r->error.dump, in_dump), "%s", r->error.dump);
	dfb_runtime_destroy(rt);
}

/* A round that moves but does not end within round_limit_ms fails with
 * SCHED_HANG, a report that says so and the counters of what it did
 * (issue 9: a convoy such as ck's on 2 PUs was bounded by nothing). */
START_TEST(round_limit_bounds_a_moving_round)
{
	struct dfb_config c;
	if (_i == 0)
		tu_config(&c, "deferred_heavy", "tasks=2000000", "kernel_us=5", "round_limit_ms=50",
			  "hang_budget_ms=10000", NULL);
	else
		tu_config(&c, "transport", "tasks=400000000", "producers=2", "round_limit_ms=50",
			  "hang_budget_ms=10000", NULL);
	struct dfb_round_result r;
	expect_hang(&c, "mailbox", "still running (and moving)", &r);
	ck_assert_ptr_nonnull(strstr(r.error.detail, "still running after round_limit_ms = 50 ms"));
}
END_TEST

START_TEST(mailbox_full_upstream_capacity)
{
	struct dfb_config c;
	/* Upstream sizes (4096 cells, 72 cores, 64 conditions): 72 FINs in
	 * one pass of the single scheduler push 72 * 65 > 4096 messages. */
	tu_config(&c, "alternating_matmul_add", "tasks=3000", COMMON, DEFERRED,
		  "engine=virtual", "conditions_per_task=64", "sched_threads=1",
		  "kernel_us=20", "hang_budget_ms=5000", "mailbox_full_drain=1", NULL);
	ck_assert_uint_eq(c.mailbox_capacity, 4096);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* Without the deviation a full ring stops the round with a reported
 * SCHED_HANG and a dump, never a stuck process.  Upstream's own sizes
 * (4096 cells, 72 cores, 64 conditions a task) get there when one pass
 * over the cores FINs enough tasks, which depends on timing; here one FIN
 * pushes its 64 CONDITIONs and NORMAL_DONE into a 64-cell ring, and the
 * only scheduler thread, the only one that could drain it, is the one
 * pushing. */
START_TEST(mailbox_full_upstream_hang_reported)
{
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", "tasks=3000", COMMON, DEFERRED,
		  "engine=virtual", "conditions_per_task=64", "sched_threads=1",
		  "mailbox_capacity=64", "hang_budget_ms=300", NULL);
	ck_assert_uint_eq(dfb_config_sopt(&c, dfb_strategy_find("mailbox"))[1], 0); /* full_drain */
	ck_assert_str_eq(dfb_config_key("mailbox_full_drain")->owner, "mailbox");
	struct dfb_round_result r;
	expect_hang(&c, "mailbox", "pushing to a full mailbox", &r);
	ck_assert_uint_gt(r.counters.mailbox_full_retries, 0);
}
END_TEST

/* 293e88a32's poll_and_complete fails with ASYNC_WAIT_OVERFLOW when it
 * completes a task while the thread's release batch is full; the merge
 * (and spinlock_release_in_place) releases the batch in place.  Two
 * deferred tasks FIN in one pass of the only scheduler thread, their
 * virtual conditions are due at once, and one poll completes both: with a
 * batch of one, the second completion finds it full. */
START_TEST(baseline_poll_full_batch)
{
	static const char *const strategy[] = {"spinlock", "spinlock", "mailbox"};
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", "tasks=2", "verify=1", "deferred_fraction=1",
		  "conditions_per_task=1", "engine=virtual", "engine_latency_us=0",
		  "kernel_us=200", "sched_threads=1", "release_batch=1", NULL);
	tu_set(&c, _i == 1 ? "spinlock_release_in_place=1" : "spinlock_release_in_place=0");
	struct dfb_runtime *rt = tu_create(&c, strategy[_i]);
	struct dfb_round_result r;
	int rc = dfb_runtime_run_round(rt, &r);
	if (_i == 0) {
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(r.error.code, DFB_ERR_ASYNC_WAIT_OVERFLOW);
		ck_assert_int_eq(r.error.status, 102);
		ck_assert(strstr(r.error.detail, "release batch") != NULL);
	} else {
		if (rc)
			fail_round(&r, strategy[_i]);
		ck_assert_uint_eq(r.counters.consumer_completions, 2);
	}
	dfb_runtime_destroy(rt);
}
END_TEST

/* orch_to_sched: once its graph is submitted, the orchestrator thread
 * joins the schedulers and the clusters are dealt round-robin over all of
 * them (upstream reassign_cores_for_all_threads); every round still
 * completes every task exactly once, with either engine (the thread engine
 * serves the joined thread's requests too).  _i: strategy, then engine. */
START_TEST(orch_to_sched_joins)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", (TU_VAR(_i) & 1) ? "tasks=1000" : "tasks=3000", COMMON, DEFERRED,
		  (TU_VAR(_i) & 1) ? "engine=thread" : "engine=virtual", "orch_to_sched=1", NULL);
	struct expect e;
	expect_of(&c, &e);
	struct dfb_runtime *rt = tu_create(&c, TU_STRAT(_i));
	for (int round = 0; round < 2; round++) {
		struct dfb_round_result r;
		check_ok(dfb_runtime_run_round(rt, &r), &c, TU_STRAT(_i), &r, &e);
		ck_assert_uint_eq(rt->nsched_all, rt->nsched + 1);
		ck_assert_uint_eq(atomic_load(&rt->active_sched), rt->nsched_all);
		ck_assert_uint_ne(rt->sched[rt->nsched].sched_start, 0);
		uint32_t clusters = 0;
		for (uint32_t t = 0; t < rt->nsched_all; t++) {
			ck_assert_uint_eq(rt->sched[t].trk.nclusters, rt->nclusters / rt->nsched_all);
			clusters += rt->sched[t].trk.nclusters;
		}
		ck_assert_uint_eq(clusters, rt->nclusters);
	}
	dfb_runtime_destroy(rt);
}
END_TEST

/* The a5 preset: 36 clusters (108 cores) and 6 scheduler threads. */
START_TEST(platform_a5)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=3000", "platform=a5", COMMON, DEFERRED,
		  "engine=virtual", NULL);
	ck_assert_uint_eq(c.aic_cores, 36);
	ck_assert_uint_eq(c.aiv_cores, 72);
	ck_assert_uint_eq(c.sched_threads, 6);
	run1(&c, TU_STRAT(_i));
}
END_TEST

/* A strategy over an optional library is either built or listed as
 * unavailable with its package, never dropped; an unavailable name is
 * refused with what to install, an unknown one with the names known. */
START_TEST(strategy_registry_names_every_strategy)
{
	static const char *const listed[] = {"ck", "wfcq"};
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
		bool built = dfb_strategy_find(listed[i]) != NULL;
		size_t missing = 0;
		for (size_t u = 0; u < dfb_nunavailable; u++)
			if (!strcmp(dfb_unavailable[u].name, listed[i])) {
				missing++;
				char msg[512];
				dfb_strategy_unknown(listed[i], msg, sizeof(msg));
				ck_assert_msg(strstr(msg, "not built") &&
						      strstr(msg, dfb_unavailable[u].package),
					      "%s", msg);
			}
		ck_assert_msg(built + missing == 1, "%s: built %d, unavailable %zu", listed[i], built,
			      missing);
	}
	for (size_t u = 0; u < dfb_nunavailable; u++)
		ck_assert_ptr_null(dfb_strategy_find(dfb_unavailable[u].name));
	/* The default list is every built strategy but the opt-in ones, in
	 * table order; an opt-in one is still found by name. */
	const struct dfb_strategy *def[64];
	size_t ndef = dfb_default_strategies(def), k = 0, opt = 0;
	for (size_t i = 0; i < dfb_nstrategies; i++) {
		if (dfb_strategy_opt_in(dfb_strategies[i])) {
			opt++;
			ck_assert_ptr_eq(dfb_strategy_find(dfb_strategies[i]->name), dfb_strategies[i]);
			continue;
		}
		ck_assert_ptr_eq(def[k++], dfb_strategies[i]);
	}
	ck_assert_uint_eq(ndef, k);
	ck_assert_uint_eq(ndef + opt, dfb_nstrategies);
	ck_assert_ptr_eq(def[0], dfb_strategy_find("spinlock")); /* the baseline first */
	char msg[512];
	dfb_strategy_unknown("nope", msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "unknown strategy 'nope' (known: spinlock, mailbox"), "%s", msg);
}
END_TEST

/* A strategy's keys are its own: in the one key table with their owner,
 * stored in its part of the configuration, read through dfb_sopt. */
START_TEST(strategy_keys_are_its_own)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", NULL);
	size_t owned = 0;
	for (size_t s = 0; s < dfb_nstrategies; s++) {
		const struct dfb_strategy *st = dfb_strategies[s];
		const uint64_t *o = dfb_config_sopt(&c, st);
		ck_assert(o >= c.sopt && o + st->nkeys <= c.sopt + DFB_SOPT_MAX);
		for (size_t k = 0; k < st->nkeys; k++) {
			const struct dfb_key *key = dfb_config_key(st->keys[k].name);
			ck_assert_ptr_nonnull(key);
			ck_assert_str_eq(key->owner, st->name);
			ck_assert_uint_eq(o[k], 0); /* off by default */
			char kv[128];
			snprintf(kv, sizeof(kv), "%s=1", key->name);
			tu_set(&c, kv);
			ck_assert_uint_eq(o[k], 1);
			owned++;
		}
	}
	ck_assert_uint_ge(owned, 5);
	ck_assert_ptr_null(dfb_config_key("tasks")->owner);
	/* Each strategy's slots are apart: setting one sets nothing else. */
	uint64_t sum = 0;
	for (size_t i = 0; i < DFB_SOPT_MAX; i++)
		sum += c.sopt[i];
	ck_assert_uint_eq(sum, owned);
	/* The runtime hands the strategy its own values. */
	struct dfb_runtime *rt = tu_create(&c, "mailbox");
	ck_assert(dfb_sopt(rt, 1) == 1);
	ck_assert_ptr_nonnull(dfb_sstate(rt));
	dfb_runtime_destroy(rt);
}
END_TEST

static Suite *runtime_suite(void)
{
	Suite *s = suite_create("runtime");
	TCase *tc;

	tc = tcase_create("ring_wrap");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	TU_LOOP(tc, alternating_no_deferral, 1);
	TU_LOOP(tc, alternating_all_deferred_virtual, 1);
	TU_LOOP(tc, alternating_half_deferred_thread, 1);
	TU_LOOP(tc, deferred_heavy_virtual, 1);
	TU_LOOP(tc, deferred_heavy_thread, 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("multi_block");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	TU_LOOP(tc, multiblock_deferred_heavy, 1);
	TU_LOOP(tc, multiblock_one_condition, 1);
	TU_LOOP(tc, multiblock_one_thread, 2);
	TU_LOOP(tc, multiblock_no_deferral, 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("shapes");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	TU_LOOP(tc, shape_bgemm, 2);
	TU_LOOP(tc, shape_paged_attention_unroll, 2);
	TU_LOOP(tc, shape_batch_paged_attention, 2);
	TU_LOOP(tc, shape_spmd_mix, 4);
	TU_LOOP(tc, shape_dummy_task, 3);
	TU_LOOP(tc, shape_nested_scopes, 2);
	TU_LOOP(tc, nested_scopes_too_few_rings, 1);
	TU_LOOP(tc, shape_deferred_notify_demo, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("rounds");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	TU_LOOP(tc, consecutive_rounds, 1);
	TU_LOOP(tc, consecutive_rounds_odd_sizes, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("regimes");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	TU_LOOP(tc, single_scheduler, 1);
	TU_LOOP(tc, no_dual_slot, 1);
	TU_LOOP(tc, max_conditions, 1);
	TU_LOOP(tc, no_local_ready_batch_one, 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("regressions");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	TU_LOOP(tc, registrations_count_fins, 1);
	TU_LOOP(tc, mailbox_full_tiny_ring, 1);
	tcase_add_loop_test(tc, batch_drain_run_and_each, 0, 2);
	TU_LOOP(tc, dummies_after_a_full_release_batch, 2);
	tcase_add_loop_test(tc, round_limit_bounds_a_moving_round, 0, 2);
	TU_LOOP(tc, mailbox_full_upstream_capacity, 1);
	tcase_add_test(tc, mailbox_full_upstream_hang_reported);
	tcase_add_loop_test(tc, baseline_poll_full_batch, 0, 3);
	TU_LOOP(tc, orch_to_sched_joins, 2);
	TU_LOOP(tc, platform_a5, 1);
	tcase_add_test(tc, strategy_keys_are_its_own);
	tcase_add_test(tc, strategy_registry_names_every_strategy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(runtime_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
