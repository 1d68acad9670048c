/* Error paths through the public API: every error a round can end with
 * comes back from dfb_runtime_run_round as -1 with its code in
 * result.error, for both strategies, without hanging (each tcase has a
 * timeout, and a round that hangs past it fails the test).  Configuration
 * errors come back from dfb_runtime_create as NULL with DFB_ERR_CONFIG.
 *
 * Not reachable from a configuration, so not here:
 *  - FANOUT_OVERFLOW through max_fanout: no built-in shape gives a kernel
 *    task more than one consumer; the only producers with many consumers
 *    are hidden alloc tasks, which are COMPLETED at submit, so their
 *    consumers are never appended to a fanout list (max_fanout >= 1 always
 *    suffices; fanout_one_is_enough checks that).  The max_fanin side is
 *    reachable and tested (benchmark_bgemm has fan-in 2).
 *  - INVARIANT: a correct runtime never raises it; test_runtime.c runs
 *    every round with verify=1 so that any cause would show.  (The
 *    baseline's FIN-order race is ORPHANED_CONDITIONS, made certain by the
 *    fin_race fault below.) */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deferbench.h"
#include "dfb_internal.h" /* rt->cfg, for the known-bug test only */
#include "strategy.h"     /* which strategies a fault applies to */
#include "test_util.h"

#define TCASE_TIMEOUT_S 120

/* max_async_waits=1024 >= window: no round here overflows the wait list
 * by accident (a 2-core box under ThreadSanitizer starves the consumer
 * enough to overflow upstream's 64) and so fails with the wrong error.
 * async_wait_overflow sets it back down after COMMON.  For the same reason
 * the baseline releases a full release batch in place (the merge's fix):
 * 293e88a32's own ASYNC_WAIT_OVERFLOW there has tests in test_runtime.c
 * and test_register.c. */
#define COMMON "window=256", "kernel_us=1", "verify=1", "hang_budget_ms=20000", \
	"max_async_waits=1024", "spinlock_release_in_place=1"

/* Runs a round that must fail with `code`; returns the result for more
 * checks.  The round must not leave a hang report unless it hung. */
static void run_fails(const struct dfb_config *c, const char *strategy, enum dfb_err code,
		      struct dfb_round_result *r)
{
	struct dfb_runtime *rt = tu_create(c, strategy);
	int rc = dfb_runtime_run_round(rt, r);
	char msg[600];
	dfb_error_format(&r->error, msg, sizeof(msg));
	ck_assert_msg(rc == -1, "%s: round succeeded, expected %s", strategy, dfb_err_name(code));
	ck_assert_msg(r->error.code == code, "%s: expected %s, got %s", strategy,
		      dfb_err_name(code), msg);
	/* The user-facing message names the error. */
	ck_assert_ptr_nonnull(strstr(msg, dfb_err_name(code)));
	if (code == DFB_ERR_SCHED_HANG) {
		ck_assert_ptr_nonnull(r->error.dump);
		ck_assert_ptr_nonnull(strstr(r->error.dump, "hang report"));
		ck_assert_ptr_nonnull(strstr(r->error.dump, "async wait list"));
		/* Copy what the caller wants to inspect: the dump belongs
		 * to the runtime, which is freed here. */
		static char dump[65536];
		strncpy(dump, r->error.dump, sizeof(dump) - 1);
		r->error.dump = dump;
	} else {
		ck_assert_ptr_null(r->error.dump);
	}
	dfb_runtime_destroy(rt);
}

/* A clean round on a fresh runtime of the same strategy: a failed round
 * leaves nothing behind in the library. */
static void clean_round(const char *strategy)
{
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=3000", COMMON, "engine=virtual",
		  "engine_latency_us=1", "max_async_waits=1024", NULL);
	struct dfb_runtime *rt = tu_create(&c, strategy);
	struct dfb_round_result r;
	int rc = dfb_runtime_run_round(rt, &r);
	char msg[600];
	dfb_error_format(&r.error, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "%s: clean round after a failure failed: %s", strategy, msg);
	ck_assert_int_eq(r.error.code, DFB_ERR_OK);
	ck_assert_uint_eq(r.counters.fin_events, c.tasks);
	dfb_runtime_destroy(rt);
}

/* ---- SLAB_ERROR --------------------------------------------------------- */

START_TEST(slab_error_deferred)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=2000", COMMON, "deferred_fraction=1",
		  "fault=slab_error", "fault_task=321", NULL);
	struct dfb_round_result r;
	run_fails(&c, strategy, DFB_ERR_SLAB_ERROR, &r);
	ck_assert_int_eq(r.error.task_index, 321);
	ck_assert_uint_eq(r.error.task_token, 321);
	/* Upstream publishes the kernel's own code as the round's status. */
	ck_assert_int_eq(r.error.status, DFB_FAULT_SLAB_CODE);
	ck_assert_int_ge(r.error.thread, 0);
	ck_assert_int_lt(r.error.thread, (int)c.sched_threads);
	clean_round(strategy);
}
END_TEST

/* A kernel with no conditions can still report an error in its slab. */
START_TEST(slab_error_not_deferred)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", "tasks=2000", COMMON, "deferred_fraction=0",
		  "fault=slab_error", "fault_task=7", NULL);
	struct dfb_round_result r;
	run_fails(&c, strategy, DFB_ERR_SLAB_ERROR, &r);
	ck_assert_int_eq(r.error.task_index, 7);
}
END_TEST

/* ---- REGISTRATION_FAILED -------------------------------------------------- */

/* One subtask leaves 65 conditions: its slab exceeds the 64 a task may
 * register. */
START_TEST(registration_failed_one_slab)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", "tasks=2000", COMMON, "deferred_fraction=1",
		  "conditions_per_task=65", "max_conditions_per_task=64", "engine=virtual",
		  "max_async_waits=1024", NULL);
	struct dfb_round_result r;
	run_fails(&c, strategy, DFB_ERR_REGISTRATION_FAILED, &r);
	ck_assert_int_ge(r.error.task_index, 0);
	ck_assert_int_ge(r.error.thread, 0);
	clean_round(strategy);
}
END_TEST

/* 130 conditions over 3 subtasks (44 + 43 + 43): every slab fits, the
 * task's wait entry does not.  One scheduler thread, so the subtasks FIN
 * in turn (see test_runtime.c on the baseline's FIN-order race); 24 cores,
 * so one pass over them pushes far fewer messages than the mailbox holds
 * (see mailbox_full_* in test_runtime.c). */
START_TEST(registration_failed_across_subtasks)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", "tasks=500", COMMON, "deferred_fraction=1",
		  "conditions_per_task=130", "blocks=3", "sched_threads=1", "engine=virtual",
		  "aic_cores=8", "aiv_cores=16", NULL);
	struct dfb_round_result r;
	run_fails(&c, strategy, DFB_ERR_REGISTRATION_FAILED, &r);
}
END_TEST

/* ---- ASYNC_WAIT_OVERFLOW ------------------------------------------------ */

START_TEST(async_wait_overflow)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	/* Independent tasks, every one deferred for 2 ms: the second one
	 * to FIN finds the single wait entry taken. */
	tu_config(&c, "alternating_matmul_add", "tasks=2000", COMMON, "deferred_fraction=1",
		  "max_async_waits=1", "engine_latency_us=2000", "engine=thread", NULL);
	struct dfb_round_result r;
	run_fails(&c, strategy, DFB_ERR_ASYNC_WAIT_OVERFLOW, &r);
	ck_assert_int_ge(r.error.thread, 0);
	clean_round(strategy);
}
END_TEST

START_TEST(async_wait_overflow_virtual)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", "tasks=2000", COMMON, "deferred_fraction=1",
		  "max_async_waits=4", "engine_latency_us=2000", "engine=virtual", NULL);
	struct dfb_round_result r;
	run_fails(&c, strategy, DFB_ERR_ASYNC_WAIT_OVERFLOW, &r);
}
END_TEST

/* ---- COMPLETION_INVALID ------------------------------------------------- */

START_TEST(completion_invalid)
{
	const char *strategy = TU_STRAT(_i);
	const char *engine = TU_VAR(_i) ? "engine=thread" : "engine=virtual";
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=2000", COMMON, "deferred_fraction=1", engine,
		  "fault=invalid_condition", "fault_task=100", "max_async_waits=1024", NULL);
	struct dfb_round_result r;
	run_fails(&c, strategy, DFB_ERR_COMPLETION_INVALID, &r);
	ck_assert_int_ge(r.error.thread, 0);
	clean_round(strategy);
}
END_TEST

/* ---- SCHED_HANG --------------------------------------------------------- */

START_TEST(sched_hang_dropped_completion)
{
	const char *strategy = TU_STRAT(_i);
	const char *engine = TU_VAR(_i) ? "engine=thread" : "engine=virtual";
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=400", COMMON, "deferred_fraction=1", engine,
		  "fault=drop_completion", "fault_task=5", "hang_budget_ms=300",
		  "max_async_waits=1024", NULL);
	struct dfb_round_result r;
	run_fails(&c, strategy, DFB_ERR_SCHED_HANG, &r);
	/* The stuck task is still waiting: the dump names its entry, with
	 * all its subtasks done. */
	ck_assert_ptr_nonnull(strstr(r.error.dump, "token 0x5,"));
	ck_assert_ptr_nonnull(strstr(r.error.dump, "all subtasks done"));
	ck_assert_int_eq(r.error.thread, -1);
	clean_round(strategy);
}
END_TEST

/* ---- the faults of issue 10: each ends in its named error -------------- */

/* One row per fault: the configuration, the error it must end in and what
 * the message (detail) or the hang report (dump) must say. */
static const struct fault_case {
	const char *fault, *fraction, *engine;
	enum dfb_err code;
	const char *detail, *dump;
	bool locked_ok, needs_claims; /* applies to lock strategies / needs claims_cells */
} fault_cases[] = {
	{"too_many_conditions", "deferred_fraction=1", "engine=virtual",
	 DFB_ERR_REGISTRATION_FAILED, "slab count 65", NULL, true, false},
	/* deferred_fraction=0: the fault task is the only one with a
	 * condition (the fault gives it one), so its message is certain. */
	{"unknown_kind", "deferred_fraction=0", "engine=virtual", DFB_ERR_REGISTRATION_FAILED,
	 "message kind 7 for task token 0x9", NULL, false, false},
	{"wait_overflow", "deferred_fraction=0", "engine=virtual", DFB_ERR_ASYNC_WAIT_OVERFLOW,
	 NULL, NULL, true, false},
	/* The fault task waits in the list for its conditions. */
	{"engine_never", "deferred_fraction=1", "engine=virtual", DFB_ERR_SCHED_HANG, NULL,
	 "token 0x9,", true, false},
	{"engine_never", "deferred_fraction=1", "engine=thread", DFB_ERR_SCHED_HANG, NULL,
	 "token 0x9,", true, false},
	/* The report names the stalled cell. */
	{"producer_stall", "deferred_fraction=1", "engine=virtual", DFB_ERR_SCHED_HANG, NULL,
	 "producer_stall fault: a producer claimed position ", true, true},
};

/* The faults of issue 10: each ends in its named error on every strategy
 * it applies to; the others refuse the configuration at create (exit 2
 * from the command line), naming the fault and the strategy. */
START_TEST(fault_kinds)
{
	const char *strategy = TU_STRAT(_i);
	const struct fault_case *fc = &fault_cases[TU_VAR(_i)];
	const struct dfb_strategy *st = tu_strategy(strategy);
	const bool applies = (fc->locked_ok || !st->locked_registration) &&
			     (!fc->needs_claims || st->claims_cells);
	char fault[64];
	snprintf(fault, sizeof(fault), "fault=%s", fc->fault);
	struct dfb_config c;
	tu_config(&c, "deferred_heavy", "tasks=400", COMMON, fc->fraction, fc->engine, fault,
		  "fault_task=9", "hang_budget_ms=300", NULL);
	if (!applies) {
		struct dfb_error err = {0};
		struct dfb_runtime *rt = dfb_runtime_create(&c, st, &err);
		ck_assert_msg(rt == NULL, "%s: fault %s accepted", strategy, fc->fault);
		ck_assert_int_eq(err.code, DFB_ERR_CONFIG);
		ck_assert_ptr_nonnull(strstr(err.detail, fc->fault));
		ck_assert_ptr_nonnull(strstr(err.detail, strategy));
		return;
	}
	struct dfb_round_result r;
	run_fails(&c, strategy, fc->code, &r);
	if (fc->detail)
		ck_assert_msg(strstr(r.error.detail, fc->detail), "%s: %s", strategy,
			      r.error.detail);
	if (fc->dump) {
		ck_assert_msg(strstr(r.error.dump, fc->dump), "%s: %s", strategy, r.error.dump);
		ck_assert_ptr_nonnull(strstr(r.error.dump, "tasks consumed"));
	}
	clean_round(strategy);
}
END_TEST

/* ---- FANOUT_OVERFLOW -------------------------------------------------------- */

/* benchmark_bgemm's ADD1 (task 3 of each group of 4) has two producers. */
START_TEST(fanout_overflow_fanin)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	tu_config(&c, "benchmark_bgemm", "tasks=1000", COMMON, "max_fanin=1", NULL);
	struct dfb_round_result r;
	run_fails(&c, strategy, DFB_ERR_FANOUT_OVERFLOW, &r);
	ck_assert_ptr_nonnull(strstr(r.error.detail, "task 3 has 2 producers"));
	ck_assert_ptr_nonnull(strstr(r.error.detail, "max_fanin"));
	clean_round(strategy);
}
END_TEST

/* The other side of the same limit: max_fanin=2 and max_fanout=1 are
 * enough for bgemm, and batch_paged_attention's alloc task feeds 256
 * consumers through max_fanout=1 (it is complete at submit). */
START_TEST(fanout_one_is_enough)
{
	const char *strategy = TU_STRAT(_i);
	static const char *const shape[] = {"benchmark_bgemm", "batch_paged_attention"};
	for (int k = 0; k < 2; k++) {
		struct dfb_config c;
		tu_config(&c, shape[k], "tasks=3000", COMMON, "max_fanin=3", "max_fanout=1",
			  "deferred_fraction=0.5", "engine=virtual", NULL);
		struct dfb_runtime *rt = tu_create(&c, strategy);
		struct dfb_round_result r;
		int rc = dfb_runtime_run_round(rt, &r);
		char msg[600];
		dfb_error_format(&r.error, msg, sizeof(msg));
		ck_assert_msg(rc == 0, "%s %s: %s", strategy, shape[k], msg);
		dfb_runtime_destroy(rt);
	}
}
END_TEST

/* ---- CONFIG --------------------------------------------------------------- */

static void create_fails(const struct dfb_config *c, const char *strategy, const char *word)
{
	struct dfb_error err;
	memset(&err, 0x5a, sizeof(err));
	struct dfb_runtime *rt = dfb_runtime_create(c, tu_strategy(strategy), &err);
	ck_assert_ptr_null(rt);
	ck_assert_int_eq(err.code, DFB_ERR_CONFIG);
	ck_assert_int_eq(err.task_index, -1);
	ck_assert_int_eq(err.thread, -1);
	ck_assert_ptr_null(err.dump);
	ck_assert_msg(strstr(err.detail, word) != NULL, "detail '%s' lacks '%s'", err.detail, word);
	/* The config check agrees without building anything. */
	char msg[256];
	ck_assert_int_eq(dfb_config_check(c, msg, sizeof(msg)), -1);
}

/* ---- ORPHANED_CONDITIONS: the baseline's FIN-order race ------------------ */

/* fault=fin_race stalls a sibling FIN of the fault task (spread over the
 * scheduler threads, every subtask with a condition) between its
 * on_subtask_complete and its registration until the task has completed:
 * the baseline registers its conditions for a completed task and fails
 * with ORPHANED_CONDITIONS naming the task, every time; the mailbox, which
 * pushes before its fetch_add, and the baseline with
 * spinlock_register_first pass every time.  _i: 0 spinlock, 1 mailbox,
 * 2 spinlock + spinlock_register_first, each on a deferred and on a
 * non-deferred workload, several rounds. */
START_TEST(fin_race)
{
	static const char *const strategy[] = {"spinlock", "mailbox", "spinlock"};
	const int which = _i % 3;
	struct dfb_config c;
	if (_i < 3)
		tu_config(&c, "deferred_heavy", "tasks=600", COMMON, "engine=virtual",
			  "fault=fin_race", "fault_task=77", "spinlock_release_in_place=1", NULL);
	else
		tu_config(&c, "alternating_matmul_add", "tasks=600", COMMON, "engine=virtual",
			  "fault=fin_race", "fault_task=77", NULL);
	tu_set(&c, which == 2 ? "spinlock_register_first=1" : "spinlock_register_first=0");
	for (int round = 0; round < 5; round++) {
		struct dfb_round_result r;
		if (which == 0) {
			run_fails(&c, strategy[which], DFB_ERR_ORPHANED_CONDITIONS, &r);
			ck_assert_int_eq(r.error.task_index, 77);
			ck_assert_uint_eq(r.error.task_token, 77);
			ck_assert_int_ge(r.error.thread, 0);
			ck_assert_ptr_nonnull(strstr(r.error.detail, "293e88a32"));
			/* The stall ends when the task completed or, if the
			 * stalled thread was off its PU that long, when its
			 * slot was already reused (dfb_fault_fin_race_stall):
			 * both tell the race's story. */
			ck_assert_msg(strstr(r.error.detail, "completed it") ||
					      strstr(r.error.detail, "after its slot was reused by task"),
				      "%s", r.error.detail);
			continue;
		}
		struct dfb_runtime *rt = tu_create(&c, strategy[which]);
		int rc = dfb_runtime_run_round(rt, &r);
		char msg[600];
		dfb_error_format(&r.error, msg, sizeof(msg));
		ck_assert_msg(rc == 0, "%s%s: %s", strategy[which],
			      which == 2 ? " + spinlock_register_first" : "", msg);
		dfb_runtime_destroy(rt);
	}
}
END_TEST

START_TEST(config_errors)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;

	tu_config(&c, "alternating_matmul_add", "window=100", NULL);
	create_fails(&c, strategy, "window");

	tu_config(&c, "alternating_matmul_add", "aic_cores=2", "aiv_cores=4", "sched_threads=3",
		  NULL);
	create_fails(&c, strategy, "sched_threads");

	tu_config(&c, "alternating_matmul_add", "mailbox_capacity=48", NULL);
	create_fails(&c, strategy, "mailbox_capacity");

	tu_config(&c, "alternating_matmul_add", "window=64", "scope_tasks=65", NULL);
	create_fails(&c, strategy, "scope_tasks");

	/* The FIN-order race needs sibling FINs on two scheduler threads. */
	tu_config(&c, "alternating_matmul_add", "fault=fin_race", "sched_threads=1", NULL);
	create_fails(&c, strategy, "sched_threads >= 2");
	/* ... and both of them running: the core transition parks one
	 * while the fault holds the other (a hang, found by stress). */
	tu_config(&c, "alternating_matmul_add", "fault=fin_race", "sched_threads=2",
		  "orch_to_sched=1", NULL);
	create_fails(&c, strategy, "orch_to_sched = 1");

	/* The boundary cases are accepted. */
	tu_config(&c, "alternating_matmul_add", "window=64", "scope_tasks=64", "aic_cores=2",
		  "aiv_cores=4", "sched_threads=2", "tasks=100", NULL);
	struct dfb_error err;
	struct dfb_runtime *rt = dfb_runtime_create(&c, tu_strategy(strategy), &err);
	ck_assert_ptr_nonnull(rt);
	ck_assert_int_eq(err.code, DFB_ERR_OK);
	dfb_runtime_destroy(rt);
}
END_TEST

/* Keys and values the parser refuses, leaving the config untouched. */
START_TEST(config_set_kv_rejects)
{
	static const char *const bad[] = {
		"window",          "=4",           "no_such_key=1",  "window=abc",
		"window=-1",       "window=1",     "max_fanin=9",    "engine=quantum",
		"shape=nope",      "deferred_fraction=1.5", "kernel_us=nan", "tasks=",
	};
	struct dfb_config c, before;
	tu_config(&c, "alternating_matmul_add", NULL);
	before = c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[256] = "";
		ck_assert_msg(dfb_config_set_kv(&c, bad[i], msg, sizeof(msg)) == -1,
			      "'%s' accepted", bad[i]);
		ck_assert_msg(msg[0] != 0, "'%s' refused without a message", bad[i]);
		ck_assert_msg(memcmp(&c, &before, sizeof(c)) == 0, "'%s' changed the config",
			      bad[i]);
	}
	/* A near-miss key gets a suggestion. */
	char msg[256];
	ck_assert_int_eq(dfb_config_set_kv(&c, "windw=64", msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "window"));
}
END_TEST

/* ---- round after a failure ---------------------------------------------- */

/* Every error a round can end with, one after another on fresh runtimes,
 * alternating with clean rounds: no state leaks between runtimes. */
START_TEST(failures_then_clean_rounds)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	struct dfb_round_result r;

	tu_config(&c, "deferred_heavy", "tasks=1000", COMMON, "fault=slab_error",
		  "fault_task=0", NULL);
	run_fails(&c, strategy, DFB_ERR_SLAB_ERROR, &r);
	clean_round(strategy);
	tu_config(&c, "deferred_heavy", "tasks=1000", COMMON, "fault=drop_completion",
		  "fault_task=999", "hang_budget_ms=200", "engine=virtual", NULL);
	run_fails(&c, strategy, DFB_ERR_SCHED_HANG, &r);
	clean_round(strategy);
}
END_TEST

/* The same runtime runs a clean round after a failed one.  (Regression:
 * round_reset once left the failed round's messages and ready slots in the
 * mailbox and the ready queues.) */
START_TEST(same_runtime_after_failure)
{
	const char *strategy = TU_STRAT(_i);
	struct dfb_config c;
	/* Long kernels on few cores and a window holding every task: when
	 * the fault stops the round, most tasks sit in the ready queues. */
	tu_config(&c, "alternating_matmul_add", "tasks=3000", "window=4096", "kernel_us=200",
		  "verify=1", "aic_cores=2", "aiv_cores=4", "sched_threads=1",
		  "deferred_fraction=1", "engine=virtual", "engine_latency_us=1",
		  "max_async_waits=1024", "spinlock_release_in_place=1", "fault=slab_error",
		  "fault_task=20", NULL);
	struct dfb_runtime *rt = tu_create(&c, strategy);
	struct dfb_round_result r;
	ck_assert_int_eq(dfb_runtime_run_round(rt, &r), -1);
	ck_assert_int_eq(r.error.code, DFB_ERR_SLAB_ERROR);
	/* Same runtime, fault moved past the last task. */
	rt->cfg.fault_task = UINT32_MAX;
	char msg[600];
	for (int i = 0; i < 3; i++) {
		int rc = dfb_runtime_run_round(rt, &r);
		dfb_error_format(&r.error, msg, sizeof(msg));
		ck_assert_msg(rc == 0, "round %d after the failure: %s", i, msg);
	}
	dfb_runtime_destroy(rt);
}
END_TEST

static Suite *errors_suite(void)
{
	Suite *s = suite_create("errors");
	TCase *tc;

	tc = tcase_create("round_errors");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	TU_LOOP(tc, slab_error_deferred, 1);
	TU_LOOP(tc, slab_error_not_deferred, 1);
	TU_LOOP(tc, registration_failed_one_slab, 1);
	TU_LOOP(tc, registration_failed_across_subtasks, 1);
	TU_LOOP(tc, async_wait_overflow, 1);
	TU_LOOP(tc, async_wait_overflow_virtual, 1);
	TU_LOOP(tc, completion_invalid, 2);
	TU_LOOP(tc, sched_hang_dropped_completion, 2);
	TU_LOOP(tc, fault_kinds, (int)(sizeof(fault_cases) / sizeof(fault_cases[0])));
	TU_LOOP(tc, fanout_overflow_fanin, 1);
	TU_LOOP(tc, fanout_one_is_enough, 1);
	tcase_add_loop_test(tc, fin_race, 0, 6);
	TU_LOOP(tc, failures_then_clean_rounds, 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_errors");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	TU_LOOP(tc, config_errors, 1);
	tcase_add_test(tc, config_set_kv_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("regressions");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	TU_LOOP(tc, same_runtime_after_failure, 1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(errors_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
