/* Wait-list-level tests: the baseline's register_deferred
 * (runtime/strategy_spinlock.c), the mailbox strategy's drain
 * (runtime/strategy_mailbox.c) and poll_and_complete (runtime/scheduler.c),
 * driven by hand on a real runtime's wait list, mailbox and scheduler 0,
 * with slots and slabs set up by the test.  No round runs: the test thread
 * is the only user, except in the SKIPPED case, where a second thread holds
 * the wait-list lock (and never calls ck_assert).
 *
 * Check forks per test, so each test gets a fresh runtime; dfb_raise sets
 * rt->stop, which only a round's reset clears. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfb_internal.h"
#include "test_slots.h"
#include "test_util.h"

#define TCASE_TIMEOUT_S 60
#define MAX_COND 64   /* max_conditions_per_task (upstream default) */
#define MAX_WAITS 64  /* max_async_waits (upstream default) */

/* ---- fixtures ----------------------------------------------------------- */

static struct dfb_runtime *make_rt(const char *strategy)
{
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", "window=64", "aic_cores=2", "aiv_cores=4",
		  "sched_threads=1", "verify=0", NULL);
	ck_assert_uint_eq(c.max_conditions_per_task, MAX_COND);
	ck_assert_uint_eq(c.max_async_waits, MAX_WAITS);
	struct dfb_runtime *rt = tu_create(&c, strategy);
	ck_assert_uint_eq(rt->nsched, 1);
	ck_assert_uint_eq(rt->wl.max_conditions, MAX_COND);
	ck_assert_uint_eq(rt->wl.max_entries, MAX_WAITS);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
	return rt;
}

/* Slot i as the orchestrator would leave it for a PENDING single-core
 * task with `subtasks` subtasks and a payload, all dispatched. */
static struct dfb_slot *make_slot(struct dfb_runtime *rt, uint32_t i, uint64_t token,
				  uint32_t subtasks)
{
	struct dfb_slot *s = tu_slot(rt, i, token, 0x1, (uint16_t)subtasks, 0);
	s->next_block = subtasks;
	return s;
}

/* A completion slab with room for more entries than any wait entry
 * takes, so "count > capacity" slabs can be built. */
struct test_slab {
	struct dfb_slab slab;
	struct dfb_slab_entry e[2 * MAX_COND];
};

/* Counters the conditions point at; tests store to them. */
static _Atomic uint32_t ctr[2 * MAX_COND];

static struct dfb_slab *make_slab(struct test_slab *t, uint32_t count, int32_t error_code)
{
	memset(t, 0, sizeof(*t));
	t->slab.entries = t->e;
	t->slab.count = count;
	t->slab.error_code = error_code;
	for (uint32_t k = 0; k < count && k < 2 * MAX_COND; k++) {
		atomic_store(&ctr[k], 0);
		t->e[k].addr = (uint64_t)(uintptr_t)&ctr[k];
		t->e[k].expected_value = 1 + k;
		t->e[k].engine = (uint8_t)(k % 4);
		t->e[k].completion_type = DFB_CT_COUNTER;
	}
	return &t->slab;
}

static bool lock_is_free(struct dfb_wait_list *wl)
{
	if (atomic_load(wl->busy) != 0)
		return false;
	if (!dfb_wl_try_lock(wl))
		return false;
	dfb_wl_unlock(wl);
	return true;
}

static struct dfb_wait_entry *find(struct dfb_runtime *rt, uint64_t token)
{
	/* Single-threaded here: no one else holds the lock. */
	ck_assert(dfb_wl_try_lock(&rt->wl));
	struct dfb_wait_entry *e = dfb_wl_find(&rt->wl, token);
	dfb_wl_unlock(&rt->wl);
	return e;
}

/* ---- register_deferred ------------------------------------------------- */

/* Every call goes through here, so a change of the function's signature
 * is a change of this line. */
static enum dfb_reg_result reg(struct dfb_runtime *rt, struct dfb_slot *slot,
			       const struct dfb_slab *slab, bool mixed, enum dfb_err *err)
{
	return dfb_register_deferred(&rt->wl, slot, slab, mixed, err);
}

START_TEST(reg_not_deferred)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 3, 0x100000003ull, 1);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	for (int mixed = 0; mixed < 2; mixed++) {
		enum dfb_reg_result r =
			reg(rt, s, make_slab(&ts, 0, 0), mixed, &err);
		ck_assert_int_eq(r, DFB_REG_NOT_DEFERRED);
		ck_assert_int_eq(err, DFB_ERR_OK);
		ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
		ck_assert_ptr_null(find(rt, s->token));
		ck_assert(lock_is_free(&rt->wl));
	}
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(reg_registered_creates_entry)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 5, 0x200000005ull, 2);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	struct dfb_slab *slab = make_slab(&ts, 3, 0);
	ck_assert_int_eq(reg(rt, s, slab, false, &err), DFB_REG_REGISTERED);
	ck_assert_int_eq(err, DFB_ERR_OK);
	ck_assert(lock_is_free(&rt->wl));
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
	struct dfb_wait_entry *e = find(rt, s->token);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_eq(e->slot, s);
	ck_assert_uint_eq(e->task_token, s->token);
	ck_assert_uint_eq(e->condition_count, 3);
	ck_assert_int_eq(e->waiting_count, 3);
	ck_assert(!e->normal_done);
	for (uint32_t k = 0; k < 3; k++) {
		ck_assert_uint_eq(e->conditions[k].addr, slab->entries[k].addr);
		ck_assert_uint_eq(e->conditions[k].expected_value, slab->entries[k].expected_value);
		ck_assert_uint_eq(e->conditions[k].engine, slab->entries[k].engine);
		ck_assert_uint_eq(e->conditions[k].completion_type, DFB_CT_COUNTER);
		ck_assert_uint_eq(e->conditions[k].done, 0);
	}
	/* Registering touches neither the slot's state nor its counters. */
	ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_PENDING);
	ck_assert_uint_eq(atomic_load(&s->completed_subtasks), 0);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(reg_mixed_sets_normal_done)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 0, 7, 1);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 2, 0), true, &err),
			 DFB_REG_REGISTERED);
	struct dfb_wait_entry *e = find(rt, 7);
	ck_assert_ptr_nonnull(e);
	ck_assert(e->normal_done);
	ck_assert_ptr_eq(e->slot, s);
	ck_assert_uint_eq(e->condition_count, 2);
	ck_assert_int_eq(e->waiting_count, 2);
	ck_assert(lock_is_free(&rt->wl));
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(reg_second_call_appends)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *a = make_slot(rt, 1, 11, 3);
	struct dfb_slot *b = make_slot(rt, 2, 12, 1);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	ck_assert_int_eq(reg(rt, a, make_slab(&ts, 2, 0), false, &err),
			 DFB_REG_REGISTERED);
	/* Another task in between: its own entry. */
	ck_assert_int_eq(reg(rt, b, make_slab(&ts, 1, 0), false, &err),
			 DFB_REG_REGISTERED);
	struct dfb_slab *slab = make_slab(&ts, 3, 0);
	ts.e[0].expected_value = 99;
	ck_assert_int_eq(reg(rt, a, slab, false, &err), DFB_REG_REGISTERED);
	ck_assert_int_eq(err, DFB_ERR_OK);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 2);
	struct dfb_wait_entry *e = find(rt, 11);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->condition_count, 5);
	ck_assert_int_eq(e->waiting_count, 5);
	ck_assert(!e->normal_done);
	ck_assert_uint_eq(e->conditions[2].expected_value, 99);
	ck_assert_uint_eq(e->conditions[4].expected_value, 3);
	struct dfb_wait_entry *f = find(rt, 12);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->condition_count, 1);
	ck_assert(lock_is_free(&rt->wl));
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(reg_count0_mixed_on_existing_entry)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 4, 44, 2);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 1, 0), false, &err),
			 DFB_REG_REGISTERED);
	/* The last subtask had no conditions: it still hands the task to
	 * the consumer, because the entry exists. */
	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 0, 0), true, &err),
			 DFB_REG_REGISTERED);
	ck_assert_int_eq(err, DFB_ERR_OK);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
	struct dfb_wait_entry *e = find(rt, 44);
	ck_assert_ptr_nonnull(e);
	ck_assert(e->normal_done);
	ck_assert_uint_eq(e->condition_count, 1);
	ck_assert_int_eq(e->waiting_count, 1);
	/* A count-0 non-mixed call on the existing entry changes nothing
	 * but still reports REGISTERED (the entry exists). */
	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 0, 0), false, &err),
			 DFB_REG_REGISTERED);
	ck_assert_uint_eq(e->condition_count, 1);
	ck_assert(e->normal_done);
	ck_assert(lock_is_free(&rt->wl));
	dfb_runtime_destroy(rt);
}
END_TEST

/* Holds the wait-list lock from another thread until told to let go.
 * state: 0 starting, 1 holding, 2 release requested, 3 released. */
struct holder {
	struct dfb_wait_list *wl;
	_Atomic int state;
	pthread_t th;
};

static void *holder_main(void *arg)
{
	struct holder *h = arg;
	while (!dfb_wl_try_lock(h->wl))
		sched_yield();
	atomic_store(&h->state, 1);
	while (atomic_load(&h->state) != 2)
		sched_yield();
	dfb_wl_unlock(h->wl);
	atomic_store(&h->state, 3);
	return NULL;
}

static void holder_start(struct holder *h, struct dfb_wait_list *wl)
{
	h->wl = wl;
	atomic_store(&h->state, 0);
	ck_assert_int_eq(pthread_create(&h->th, NULL, holder_main, h), 0);
	while (atomic_load(&h->state) != 1)
		sched_yield();
}

static void holder_stop(struct holder *h)
{
	atomic_store(&h->state, 2);
	ck_assert_int_eq(pthread_join(h->th, NULL), 0);
	ck_assert_int_eq(atomic_load(&h->state), 3);
}

START_TEST(reg_skipped_while_locked)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 9, 99, 1);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;
	struct holder h;

	holder_start(&h, &rt->wl);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(reg(rt, s, make_slab(&ts, 2, 0), true, &err),
				 DFB_REG_SKIPPED);
		/* Not even an error slab is looked at without the lock. */
		ck_assert_int_eq(reg(rt, s, make_slab(&ts, 0, 5), true, &err),
				 DFB_REG_SKIPPED);
	}
	ck_assert_int_eq(err, DFB_ERR_OK);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
	/* poll_and_complete loses the same race and counts it. */
	ck_assert(!dfb_poll_and_complete(&rt->sched[0]));
	ck_assert_uint_eq(rt->sched[0].c.poll_lock_misses, 1);
	ck_assert_uint_eq(rt->sched[0].c.polls, 0);
	/* The holder still holds it: SKIPPED did not unlock someone else's lock. */
	ck_assert_int_eq(atomic_load(rt->wl.busy), 1);
	holder_stop(&h);

	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 2, 0), true, &err),
			 DFB_REG_REGISTERED);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
	ck_assert(lock_is_free(&rt->wl));
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(reg_error_slab_error)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 0, 1, 1);
	struct test_slab ts;

	/* With and without conditions, new task and existing entry. */
	for (uint32_t count = 0; count < 3; count += 2) {
		enum dfb_err err = DFB_ERR_OK;
		ck_assert_int_eq(reg(rt, s, make_slab(&ts, count, -3), false, &err),
				 DFB_REG_ERROR);
		ck_assert_int_eq(err, DFB_ERR_SLAB_ERROR);
		ck_assert(lock_is_free(&rt->wl));
		ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
	}
	enum dfb_err err = DFB_ERR_OK;
	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 1, 0), false, &err),
			 DFB_REG_REGISTERED);
	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 1, 1), true, &err),
			 DFB_REG_ERROR);
	ck_assert_int_eq(err, DFB_ERR_SLAB_ERROR);
	ck_assert(lock_is_free(&rt->wl));
	struct dfb_wait_entry *e = find(rt, 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->condition_count, 1); /* nothing appended */
	ck_assert(!e->normal_done);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(reg_error_too_many_conditions)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 0, 1, 2);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	/* Exactly the capacity is fine. */
	ck_assert_int_eq(reg(rt, s, make_slab(&ts, MAX_COND, 0), false, &err),
			 DFB_REG_REGISTERED);
	ck_assert_uint_eq(find(rt, 1)->condition_count, MAX_COND);

	struct dfb_slot *t = make_slot(rt, 1, 2, 1);
	ck_assert_int_eq(reg(rt, t, make_slab(&ts, MAX_COND + 1, 0), true, &err),
			 DFB_REG_ERROR);
	ck_assert_int_eq(err, DFB_ERR_REGISTRATION_FAILED);
	ck_assert(lock_is_free(&rt->wl));
	ck_assert_ptr_null(find(rt, 2)); /* refused before creating an entry */
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(reg_error_entry_overflow_across_calls)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 0, 1, 2);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 40, 0), false, &err),
			 DFB_REG_REGISTERED);
	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 30, 0), true, &err),
			 DFB_REG_ERROR);
	ck_assert_int_eq(err, DFB_ERR_REGISTRATION_FAILED);
	ck_assert(lock_is_free(&rt->wl));
	struct dfb_wait_entry *e = find(rt, 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->condition_count, MAX_COND); /* filled, never past it */
	ck_assert_int_eq(e->waiting_count, MAX_COND);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(reg_error_async_wait_overflow)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	for (uint32_t i = 0; i < MAX_WAITS; i++) {
		struct dfb_slot *s = make_slot(rt, i, 1000 + i, 1);
		ck_assert_int_eq(reg(rt, s, make_slab(&ts, 1, 0), false, &err),
				 DFB_REG_REGISTERED);
	}
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), MAX_WAITS);
	ck_assert_uint_eq(*rt->wl.peak, MAX_WAITS);

	/* Full: a new deferred task overflows ... */
	/* Every ring slot has an entry; this task's slot is outside the ring
	 * (register_deferred reads only its token). */
	static struct dfb_slot spare;
	struct dfb_slot *x = &spare;
	x->token = 5000;
	ck_assert_int_eq(reg(rt, x, make_slab(&ts, 1, 0), true, &err),
			 DFB_REG_ERROR);
	ck_assert_int_eq(err, DFB_ERR_ASYNC_WAIT_OVERFLOW);
	ck_assert(lock_is_free(&rt->wl));
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), MAX_WAITS);
	ck_assert_ptr_null(find(rt, 5000));

	/* ... but a non-deferred one does not, and a task that has an
	 * entry still appends. */
	err = DFB_ERR_OK;
	ck_assert_int_eq(reg(rt, x, make_slab(&ts, 0, 0), true, &err),
			 DFB_REG_NOT_DEFERRED);
	struct dfb_slot *y = &rt->slots[3];
	ck_assert_uint_eq(y->token, 1003);
	ck_assert_int_eq(reg(rt, y, make_slab(&ts, 2, 0), true, &err),
			 DFB_REG_REGISTERED);
	ck_assert_int_eq(err, DFB_ERR_OK);
	ck_assert_uint_eq(find(rt, 1003)->condition_count, 3);
	ck_assert(lock_is_free(&rt->wl));
	dfb_runtime_destroy(rt);
}
END_TEST

/* ---- mailbox drain ----------------------------------------------------- */

/* One push into the mailbox strategy's ring, through its transport hook
 * (one attempt, as a FIN makes it): the ring is the strategy's private
 * state. */
static void push(struct dfb_runtime *rt, const struct dfb_msg_payload *m)
{
	struct dfb_counters c = {0};
	ck_assert(rt->strategy->transport_push(rt, 0, m, &c));
	ck_assert_uint_eq(c.cas_retries, 0);
}

static void push_cond(struct dfb_runtime *rt, uint64_t token, _Atomic uint32_t *counter,
		      uint32_t expected)
{
	struct dfb_msg_payload m = {
		.task_token = token,
		.addr = (uint64_t)(uintptr_t)counter,
		.expected_value = expected,
		.engine = DFB_ENGINE_ROCE,
		.completion_type = DFB_CT_COUNTER,
		.kind = DFB_MSG_CONDITION,
	};
	push(rt, &m);
}

static void push_done(struct dfb_runtime *rt, struct dfb_slot *slot)
{
	struct dfb_msg_payload m = {
		.task_token = slot->token,
		.addr = (uint64_t)(uintptr_t)slot,
		.kind = DFB_MSG_TASK_NORMAL_DONE,
	};
	push(rt, &m);
}

/* Drains as poll_and_complete does: under the wait-list lock. */
static void drain(struct dfb_runtime *rt)
{
	ck_assert(dfb_wl_try_lock(&rt->wl));
	dfb_strategy_mailbox.drain(&rt->sched[0]);
	dfb_wl_unlock(&rt->wl);
	ck_assert(lock_is_free(&rt->wl));
}

START_TEST(mb_condition_creates_entry)
{
	struct dfb_runtime *rt = make_rt("mailbox");
	ck_assert_ptr_eq(rt->strategy, &dfb_strategy_mailbox);
	push_cond(rt, 0x300000001ull, &ctr[0], 7);
	ck_assert(rt->strategy->has_pending(rt));
	drain(rt);
	ck_assert(!rt->strategy->has_pending(rt));
	ck_assert_uint_eq(rt->sched[0].c.drained_msgs, 1);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
	struct dfb_wait_entry *e = find(rt, 0x300000001ull);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_null(e->slot);
	ck_assert(!e->normal_done);
	ck_assert_int_eq(e->waiting_count, 1);
	ck_assert_uint_eq(e->condition_count, 1);
	ck_assert_uint_eq(e->conditions[0].addr, (uint64_t)(uintptr_t)&ctr[0]);
	ck_assert_uint_eq(e->conditions[0].expected_value, 7);
	ck_assert_uint_eq(e->conditions[0].engine, DFB_ENGINE_ROCE);
	ck_assert_uint_eq(e->conditions[0].completion_type, DFB_CT_COUNTER);
	ck_assert_uint_eq(e->conditions[0].done, 0);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_OK);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(mb_normal_done_without_entry_completes_inline)
{
	struct dfb_runtime *rt = make_rt("mailbox");
	struct dfb_slot *s = make_slot(rt, 6, 6, 1);
	/* An unrelated entry exists: the NORMAL_DONE must not attach to it. */
	push_cond(rt, 77, &ctr[1], 1);
	push_done(rt, s);
	drain(rt);
	struct dfb_sched *sc = &rt->sched[0];
	ck_assert_uint_eq(sc->c.drained_msgs, 2);
	ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_COMPLETED);
	ck_assert_uint_eq(sc->nbatch, 1);
	ck_assert_ptr_eq(sc->batch[0], s);
	ck_assert_uint_eq(sc->c.inline_completions, 0);
	ck_assert_uint_eq(sc->c.consumer_completions, 1);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
	ck_assert_ptr_null(find(rt, 6));
	struct dfb_wait_entry *e = find(rt, 77);
	ck_assert_ptr_nonnull(e);
	ck_assert(!e->normal_done);
	ck_assert_ptr_null(e->slot);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_OK);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(mb_normal_done_attaches)
{
	struct dfb_runtime *rt = make_rt("mailbox");
	struct dfb_slot *s = make_slot(rt, 2, 0x2, 3);
	push_cond(rt, 0x2, &ctr[0], 1);
	drain(rt);
	push_done(rt, s);
	drain(rt);
	ck_assert_uint_eq(rt->sched[0].c.drained_msgs, 2);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
	struct dfb_wait_entry *e = find(rt, 0x2);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_eq(e->slot, s);
	ck_assert(e->normal_done);
	ck_assert_int_eq(e->waiting_count, 1);
	/* Not completed: its condition is unsatisfied. */
	ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_PENDING);
	ck_assert_uint_eq(rt->sched[0].nbatch, 0);
	ck_assert_uint_eq(rt->sched[0].c.inline_completions, 0);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(mb_condition_attaches)
{
	struct dfb_runtime *rt = make_rt("mailbox");
	push_cond(rt, 0x55, &ctr[0], 1);
	drain(rt);
	push_cond(rt, 0x56, &ctr[2], 1); /* another task between */
	push_cond(rt, 0x55, &ctr[1], 4);
	drain(rt);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 2);
	struct dfb_wait_entry *e = find(rt, 0x55);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->condition_count, 2);
	ck_assert_int_eq(e->waiting_count, 2);
	ck_assert_uint_eq(e->conditions[1].addr, (uint64_t)(uintptr_t)&ctr[1]);
	ck_assert_uint_eq(e->conditions[1].expected_value, 4);
	ck_assert_uint_eq(find(rt, 0x56)->condition_count, 1);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(mb_conditions_then_done_in_one_drain)
{
	struct dfb_runtime *rt = make_rt("mailbox");
	struct dfb_slot *s = make_slot(rt, 8, 8, 2);
	for (int k = 0; k < 3; k++)
		push_cond(rt, 8, &ctr[k], 1);
	push_done(rt, s);
	drain(rt);
	struct dfb_wait_entry *e = find(rt, 8);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->condition_count, 3);
	ck_assert(e->normal_done);
	ck_assert_ptr_eq(e->slot, s);
	ck_assert_uint_eq(rt->sched[0].c.inline_completions, 0);
	dfb_runtime_destroy(rt);
}
END_TEST

/* Upstream (4798fd2ed) reports a message of unknown kind as a failed
 * registration: ASYNC_REGISTRATION_FAILED, status 103. */
START_TEST(mb_unknown_kind)
{
	struct dfb_runtime *rt = make_rt("mailbox");
	struct dfb_msg_payload m = {.task_token = 0x42, .kind = 0x7f};
	push(rt, &m);
	push_cond(rt, 0x43, &ctr[0], 1); /* behind the bad message */
	drain(rt);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_REGISTRATION_FAILED);
	ck_assert_int_eq(rt->err.code, DFB_ERR_REGISTRATION_FAILED);
	ck_assert_int_eq(rt->err.status, 103);
	ck_assert_int_eq(rt->err.thread, 0);
	ck_assert(strstr(rt->err.detail, "kind 127") != NULL);
	ck_assert(dfb_stopped(rt));
	ck_assert_uint_eq(rt->sched[0].c.drained_msgs, 1);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(mb_kind_values_are_upstreams)
{
	/* MSG_KIND_CONDITION 0, MSG_KIND_TASK_NORMAL_DONE 1; 2 is unknown. */
	ck_assert_int_eq(DFB_MSG_CONDITION, 0);
	ck_assert_int_eq(DFB_MSG_TASK_NORMAL_DONE, 1);
	struct dfb_runtime *rt = make_rt("mailbox");
	struct dfb_msg_payload m = {.task_token = 0x42, .kind = 2};
	push(rt, &m);
	drain(rt);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_REGISTRATION_FAILED);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(mb_drain_overflow)
{
	struct dfb_runtime *rt = make_rt("mailbox");
	for (uint32_t i = 0; i < MAX_WAITS; i++)
		push_cond(rt, 100 + i, &ctr[0], 1);
	drain(rt);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), MAX_WAITS);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_OK);
	push_cond(rt, 100, &ctr[1], 1); /* existing: fine */
	push_cond(rt, 999, &ctr[1], 1); /* new: overflow */
	drain(rt);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_ASYNC_WAIT_OVERFLOW);
	ck_assert_uint_eq(find(rt, 100)->condition_count, 2);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), MAX_WAITS);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(mb_drain_too_many_conditions)
{
	struct dfb_runtime *rt = make_rt("mailbox");
	for (uint32_t i = 0; i < MAX_COND + 1; i++)
		push_cond(rt, 5, &ctr[i], 1);
	drain(rt);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_REGISTRATION_FAILED);
	ck_assert_uint_eq(find(rt, 5)->condition_count, MAX_COND);
	dfb_runtime_destroy(rt);
}
END_TEST

/* ---- poll_and_complete ------------------------------------------------- */

START_TEST(poll_completes_when_counter_reaches_expected)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_sched *sc = &rt->sched[0];
	struct dfb_slot *s = make_slot(rt, 10, 10, 1);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	struct dfb_slab *slab = make_slab(&ts, 1, 0);
	ts.e[0].expected_value = 3;
	ck_assert_int_eq(reg(rt, s, slab, true, &err), DFB_REG_REGISTERED);

	for (uint32_t v = 0; v < 3; v++) {
		atomic_store(&ctr[0], v);
		dfb_poll_and_complete(sc);
		ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
		ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_PENDING);
		ck_assert_uint_eq(sc->c.consumer_completions, 0);
		ck_assert_uint_eq(sc->nbatch, 0);
		ck_assert_int_eq(find(rt, 10)->waiting_count, 1);
	}
	ck_assert_uint_eq(sc->c.polls, 3);
	atomic_store(&ctr[0], 3);
	ck_assert(dfb_poll_and_complete(sc));
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
	ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_COMPLETED);
	ck_assert_uint_eq(sc->c.consumer_completions, 1);
	ck_assert_uint_eq(sc->c.inline_completions, 0);
	ck_assert_uint_eq(sc->nbatch, 1);
	ck_assert_ptr_eq(sc->batch[0], s);
	ck_assert(lock_is_free(&rt->wl));
	/* Nothing left: another pass completes nothing more. */
	ck_assert(!dfb_poll_and_complete(sc));
	ck_assert_uint_eq(sc->c.consumer_completions, 1);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_OK);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(poll_counter_past_expected_satisfies)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 1, 1, 1);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;
	struct dfb_slab *slab = make_slab(&ts, 2, 0); /* expects 1 and 2 */
	ck_assert_int_eq(reg(rt, s, slab, true, &err), DFB_REG_REGISTERED);
	atomic_store(&ctr[0], 0xffffffffu);
	dfb_poll_and_complete(&rt->sched[0]);
	ck_assert_int_eq(find(rt, 1)->waiting_count, 1);
	ck_assert_uint_eq(find(rt, 1)->conditions[0].done, 1);
	atomic_store(&ctr[1], 5);
	dfb_poll_and_complete(&rt->sched[0]);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
	ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_COMPLETED);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(poll_waits_for_normal_done)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_sched *sc = &rt->sched[0];
	struct dfb_slot *s = make_slot(rt, 2, 2, 2);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 1, 0), false, &err),
			 DFB_REG_REGISTERED);
	atomic_store(&ctr[0], 1);
	for (int i = 0; i < 3; i++)
		dfb_poll_and_complete(sc);
	struct dfb_wait_entry *e = find(rt, 2);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->waiting_count, 0);
	ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_PENDING);
	ck_assert_uint_eq(sc->c.consumer_completions, 0);

	/* The last subtask FINs without conditions. */
	ck_assert_int_eq(reg(rt, s, make_slab(&ts, 0, 0), true, &err),
			 DFB_REG_REGISTERED);
	ck_assert(dfb_poll_and_complete(sc));
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
	ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_COMPLETED);
	ck_assert_uint_eq(sc->c.consumer_completions, 1);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(poll_removes_only_satisfied_entries)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_sched *sc = &rt->sched[0];
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;
	struct dfb_slot *s[4];

	/* Entry i waits on ctr[i] >= 1. */
	for (uint32_t i = 0; i < 4; i++) {
		s[i] = make_slot(rt, i, 500 + i, 1);
		struct dfb_slab *slab = make_slab(&ts, 1, 0);
		atomic_store(&ctr[i], 0);
		ts.e[0].addr = (uint64_t)(uintptr_t)&ctr[i];
		ts.e[0].expected_value = 1;
		ck_assert_int_eq(reg(rt, s[i], slab, true, &err),
				 DFB_REG_REGISTERED);
	}
	/* Middle and first: swap-removal must keep the others findable. */
	atomic_store(&ctr[1], 1);
	atomic_store(&ctr[0], 1);
	dfb_poll_and_complete(sc);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 2);
	ck_assert_ptr_null(find(rt, 500));
	ck_assert_ptr_null(find(rt, 501));
	ck_assert_ptr_eq(find(rt, 502)->slot, s[2]);
	ck_assert_ptr_eq(find(rt, 503)->slot, s[3]);
	ck_assert_int_eq(atomic_load(&s[0]->state), DFB_SLOT_COMPLETED);
	ck_assert_int_eq(atomic_load(&s[1]->state), DFB_SLOT_COMPLETED);
	ck_assert_int_eq(atomic_load(&s[2]->state), DFB_SLOT_PENDING);
	ck_assert_int_eq(atomic_load(&s[3]->state), DFB_SLOT_PENDING);
	ck_assert_uint_eq(sc->c.consumer_completions, 2);
	/* The survivors' conditions moved with them. */
	ck_assert_uint_eq(find(rt, 503)->conditions[0].addr, (uint64_t)(uintptr_t)&ctr[3]);
	ck_assert_uint_eq(find(rt, 502)->conditions[0].addr, (uint64_t)(uintptr_t)&ctr[2]);

	atomic_store(&ctr[3], 1);
	atomic_store(&ctr[2], 1);
	dfb_poll_and_complete(sc);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
	ck_assert_uint_eq(sc->c.consumer_completions, 4);
	ck_assert_uint_eq(sc->nbatch, 4);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(poll_virtual_deadline)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *a = make_slot(rt, 0, 1, 1), *b = make_slot(rt, 1, 2, 1);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;

	struct dfb_slab *slab = make_slab(&ts, 1, 0);
	ts.e[0].completion_type = DFB_CT_VIRTUAL;
	ts.e[0].addr = dfb_now_ns(); /* due already */
	ck_assert_int_eq(reg(rt, a, slab, true, &err), DFB_REG_REGISTERED);
	ts.e[0].addr = UINT64_MAX; /* never due */
	ck_assert_int_eq(reg(rt, b, slab, true, &err), DFB_REG_REGISTERED);
	dfb_poll_and_complete(&rt->sched[0]);
	ck_assert_int_eq(atomic_load(&a->state), DFB_SLOT_COMPLETED);
	ck_assert_int_eq(atomic_load(&b->state), DFB_SLOT_PENDING);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
	ck_assert_ptr_nonnull(find(rt, 2));
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(poll_invalid_completion_type)
{
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 0, 1, 1);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;
	struct dfb_slab *slab = make_slab(&ts, 1, 0);
	ts.e[0].completion_type = DFB_CT_INVALID;
	ck_assert_int_eq(reg(rt, s, slab, true, &err), DFB_REG_REGISTERED);
	dfb_poll_and_complete(&rt->sched[0]);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_COMPLETION_INVALID);
	ck_assert(dfb_stopped(rt));
	ck_assert(lock_is_free(&rt->wl));
	ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_PENDING);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(poll_event_record_is_invalid)
{
	/* EVENT_RECORD exists upstream but is not modelled: rejected. */
	struct dfb_runtime *rt = make_rt("spinlock");
	struct dfb_slot *s = make_slot(rt, 0, 1, 1);
	struct test_slab ts;
	enum dfb_err err = DFB_ERR_OK;
	struct dfb_slab *slab = make_slab(&ts, 1, 0);
	ts.e[0].completion_type = DFB_CT_EVENT_RECORD;
	ck_assert_int_eq(reg(rt, s, slab, true, &err), DFB_REG_REGISTERED);
	dfb_poll_and_complete(&rt->sched[0]);
	ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_COMPLETION_INVALID);
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(poll_drains_mailbox_first)
{
	struct dfb_runtime *rt = make_rt("mailbox");
	struct dfb_sched *sc = &rt->sched[0];
	struct dfb_slot *s = make_slot(rt, 3, 3, 1);
	atomic_store(&ctr[0], 1);
	push_cond(rt, 3, &ctr[0], 1);
	push_done(rt, s);
	ck_assert(dfb_strategy_mailbox.has_pending(rt));
	ck_assert(dfb_poll_and_complete(sc));
	ck_assert(!dfb_strategy_mailbox.has_pending(rt));
	ck_assert_uint_eq(sc->c.drained_msgs, 2);
	ck_assert_uint_eq(sc->c.consumer_completions, 1);
	ck_assert_uint_eq(sc->c.inline_completions, 0);
	ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
	ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_COMPLETED);
	ck_assert_uint_eq(sc->nbatch, 1);
	ck_assert(lock_is_free(&rt->wl));
	dfb_runtime_destroy(rt);
}
END_TEST

/* ---- the wait list's memory: upstream's layout ----------------------------- */

static struct dfb_runtime *make_rt_with(const char *strategy, const char *kv)
{
	struct dfb_config c;
	tu_config(&c, "alternating_matmul_add", "window=64", "aic_cores=2", "aiv_cores=4",
		  "sched_threads=1", "verify=0", "release_batch=32", kv, NULL);
	return tu_create(&c, strategy);
}

static uintptr_t line_of(const volatile void *p)
{
	return (uintptr_t)p / 64;
}

/* Upstream's AsyncWaitList: `busy`, then the entries, each embedding its
 * 64 conditions (40 bytes each, about 2.6 KB an entry), then `count` with
 * the shared mpsc_skipped_count beside it.  waitlist_padded gives busy and
 * count lines of their own. */
START_TEST(wl_layout)
{
	struct dfb_runtime *rt = make_rt_with("mailbox", "waitlist_padded=0");
	struct dfb_wait_list *wl = &rt->wl;
	ck_assert_uint_eq(sizeof(struct dfb_cond), 40);
	ck_assert_uint_ge(wl->stride, 64 * sizeof(struct dfb_cond));
	ck_assert_uint_gt(wl->stride, 2560);
	struct dfb_wait_entry *e0 = dfb_wl_entry(wl, 0);
	ck_assert_uint_eq(line_of(wl->busy), line_of(e0));             /* busy beside entry 0 */
	ck_assert_uint_eq(line_of(wl->count), line_of(wl->skipped));   /* count beside skipped */
	ck_assert_ptr_eq(e0->conditions, (struct dfb_cond *)(void *)(e0 + 1)); /* embedded */
	ck_assert((char *)wl->count >= (char *)dfb_wl_entry(wl, MAX_WAITS - 1) + wl->stride);
	dfb_runtime_destroy(rt);

	rt = make_rt_with("mailbox", "waitlist_padded=1");
	wl = &rt->wl;
	ck_assert_uint_ne(line_of(wl->busy), line_of(dfb_wl_entry(wl, 0)));
	ck_assert_uint_ne(line_of(wl->busy), line_of(wl->count));
	ck_assert_uint_ne(line_of(wl->count), line_of(dfb_wl_entry(wl, 0)));
	dfb_runtime_destroy(rt);

	rt = make_rt_with("mailbox", "waitlist_compact=1");
	wl = &rt->wl;
	ck_assert_uint_eq(wl->stride, sizeof(struct dfb_wait_entry));
	ck_assert(dfb_wl_entry(wl, 0)->conditions == wl->pool);
	dfb_runtime_destroy(rt);
}
END_TEST

/* Upstream removes entry i by copying the whole last entry over it
 * (`entries[i] = entries[last]`, conditions included); waitlist_compact
 * swaps the two headers, so the conditions move by pointer.  _i: 0
 * faithful, 1 compact. */
START_TEST(wl_remove_copies_entry)
{
	struct dfb_runtime *rt = make_rt_with("spinlock", _i ? "waitlist_compact=1" : "waitlist_compact=0");
	struct dfb_wait_list *wl = &rt->wl;
	ck_assert(dfb_wl_try_lock(wl));
	for (uint32_t t = 0; t < 3; t++) {
		struct dfb_wait_entry *e = dfb_wl_create(wl, 100 + t, NULL);
		ck_assert_ptr_nonnull(e);
		for (uint32_t k = 0; k <= t; k++)
			ck_assert_int_eq(dfb_wl_append(wl, e, 1000 * t + k, k, 0, DFB_CT_VIRTUAL), 0);
	}
	struct dfb_wait_entry *e0 = dfb_wl_entry(wl, 0);
	struct dfb_cond *own = e0->conditions;
	dfb_wl_remove(wl, 0);
	ck_assert_uint_eq(dfb_wl_count(wl), 2);
	ck_assert_uint_eq(e0->task_token, 102);
	ck_assert_uint_eq(e0->condition_count, 3);
	for (uint32_t k = 0; k < 3; k++)
		ck_assert_uint_eq(e0->conditions[k].addr, 2000 + k);
	if (_i == 0) {
		/* Copied into entry 0's own storage. */
		ck_assert_ptr_eq(e0->conditions, own);
		ck_assert_ptr_eq(e0->conditions, (struct dfb_cond *)(void *)(e0 + 1));
	} else {
		/* The conditions came along by pointer. */
		ck_assert_ptr_ne(e0->conditions, own);
	}
	ck_assert_ptr_eq(dfb_wl_find(wl, 101), dfb_wl_entry(wl, 1));
	dfb_wl_unlock(wl);
	dfb_runtime_destroy(rt);
}
END_TEST

/* poll_and_complete completing a task while the thread's release batch
 * is full: 293e88a32 (spinlock) fails with ASYNC_WAIT_OVERFLOW, status
 * 102, completing nothing; 4798fd2ed (mailbox) and spinlock with
 * spinlock_release_in_place release the batch in place.  _i: 0 spinlock,
 * 1 mailbox, 2 spinlock + release in place. */
START_TEST(poll_full_release_batch)
{
	static const char *const strategy[] = {"spinlock", "mailbox", "spinlock"};
	struct dfb_runtime *rt =
		make_rt_with(strategy[_i], _i == 2 ? "spinlock_release_in_place=1"
						   : "spinlock_release_in_place=0");
	struct dfb_sched *sc = &rt->sched[0];
	struct dfb_slot *s = make_slot(rt, 5, 5, 1);
	/* A full batch of completed, releasable slots. */
	for (uint32_t i = 0; i < rt->cfg.release_batch; i++) {
		struct dfb_slot *b = make_slot(rt, 16 + i, 16 + i, 1);
		atomic_store(&b->state, DFB_SLOT_COMPLETED);
		atomic_store(&b->fanout_rc, 1 * DFB_FANOUT_ONE_COUNT + 0);
		sc->batch[sc->nbatch++] = b;
	}
	ck_assert(dfb_wl_try_lock(&rt->wl));
	struct dfb_wait_entry *e = dfb_wl_create(&rt->wl, 5, s);
	e->normal_done = true;
	dfb_wl_unlock(&rt->wl);
	bool done = dfb_poll_and_complete(sc);
	if (_i == 0) {
		ck_assert(!done);
		ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_ASYNC_WAIT_OVERFLOW);
		ck_assert_int_eq(rt->err.status, 102);
		ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_PENDING);
		ck_assert_uint_eq(dfb_wl_count(&rt->wl), 1);
		ck_assert_uint_eq(sc->nbatch, rt->cfg.release_batch);
	} else {
		ck_assert(done);
		ck_assert_int_eq(atomic_load(&rt->err_code), DFB_ERR_OK);
		ck_assert_int_eq(atomic_load(&s->state), DFB_SLOT_COMPLETED);
		ck_assert_uint_eq(dfb_wl_count(&rt->wl), 0);
		ck_assert_uint_eq(sc->nbatch, 1); /* released in place, then appended */
		ck_assert_ptr_eq(sc->batch[0], s);
	}
	ck_assert(lock_is_free(&rt->wl));
	dfb_runtime_destroy(rt);
}
END_TEST

static Suite *register_suite(void)
{
	Suite *s = suite_create("register");
	TCase *tc;

	tc = tcase_create("register_deferred");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_test(tc, reg_not_deferred);
	tcase_add_test(tc, reg_registered_creates_entry);
	tcase_add_test(tc, reg_mixed_sets_normal_done);
	tcase_add_test(tc, reg_second_call_appends);
	tcase_add_test(tc, reg_count0_mixed_on_existing_entry);
	tcase_add_test(tc, reg_skipped_while_locked);
	tcase_add_test(tc, reg_error_slab_error);
	tcase_add_test(tc, reg_error_too_many_conditions);
	tcase_add_test(tc, reg_error_entry_overflow_across_calls);
	tcase_add_test(tc, reg_error_async_wait_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("mailbox_drain");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_test(tc, mb_condition_creates_entry);
	tcase_add_test(tc, mb_normal_done_without_entry_completes_inline);
	tcase_add_test(tc, mb_normal_done_attaches);
	tcase_add_test(tc, mb_condition_attaches);
	tcase_add_test(tc, mb_conditions_then_done_in_one_drain);
	tcase_add_test(tc, mb_unknown_kind);
	tcase_add_test(tc, mb_kind_values_are_upstreams);
	tcase_add_test(tc, mb_drain_overflow);
	tcase_add_test(tc, mb_drain_too_many_conditions);
	suite_add_tcase(s, tc);

	tc = tcase_create("poll_and_complete");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_test(tc, poll_completes_when_counter_reaches_expected);
	tcase_add_test(tc, poll_counter_past_expected_satisfies);
	tcase_add_test(tc, poll_waits_for_normal_done);
	tcase_add_test(tc, poll_removes_only_satisfied_entries);
	tcase_add_test(tc, poll_virtual_deadline);
	tcase_add_test(tc, poll_invalid_completion_type);
	tcase_add_test(tc, poll_event_record_is_invalid);
	tcase_add_test(tc, poll_drains_mailbox_first);
	tcase_add_loop_test(tc, poll_full_release_batch, 0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_create("wait_list_layout");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_test(tc, wl_layout);
	tcase_add_loop_test(tc, wl_remove_copies_entry, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(register_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
