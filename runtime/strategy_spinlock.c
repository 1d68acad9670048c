/* Strategy A: the spin-lock baseline, upstream at 293e88a32 (the parent of
 * PR #895's merge).  Every FIN of a task with a payload calls
 * on_subtask_complete and then register_deferred under the wait-list
 * try-lock, retrying after the spin hint while the lock is held
 * (scheduler_completion.cpp, complete_slot_task; pto_async_wait.h,
 * register_deferred). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfb_internal.h"
#include "locked_fin.h"

/* The keys of its deviations, this strategy's own. */
enum { SL_REGISTER_FIRST, SL_RELEASE_IN_PLACE, SL__NKEYS };
static const struct dfb_key spinlock_keys[SL__NKEYS] = {
	[SL_REGISTER_FIRST] = {"spinlock_register_first", DFB_KEY_U64, SL_REGISTER_FIRST, 0, 1, NULL,
			       "deviation: the spinlock FIN registers before its on_subtask_complete, "
			       "as the mailbox pushes (upstream: 0)", NULL},
	[SL_RELEASE_IN_PLACE] = {"spinlock_release_in_place", DFB_KEY_U64, SL_RELEASE_IN_PLACE, 0, 1,
				 NULL,
				 "deviation: the spinlock's poll_and_complete releases a full release "
				 "batch in place, the fix the merge made (upstream 293e88a32: 0, fails "
				 "with ASYNC_WAIT_OVERFLOW)", NULL},
};

/* The private state. */
struct spinlock_state {
	/* The baseline's staging array of completions drained from its
	 * (always empty) AICore mailbox: never written here, as upstream's
	 * runtime never pushes to that mailbox, but read where upstream reads
	 * it (the loop gate and absorb_pending_completions_locked), on a line
	 * of its own. */
	DFB_ALIGNED _Atomic int32_t count;
	/* The baseline's AICore mailbox indices, which its poll_and_complete
	 * checks (drain_aicore_completion_mailbox_locked) and nothing moves. */
	DFB_ALIGNED _Atomic uint64_t mailbox_head;
	DFB_ALIGNED _Atomic uint64_t mailbox_tail;
	/* Transport scenarios: register_deferred's lock (the wait list's busy
	 * try-lock) over a bounded array, under that lock. */
	DFB_ALIGNED struct dfb_locked_array la;
};

static inline struct spinlock_state *state(const struct dfb_runtime *rt)
{
	return dfb_sstate(rt);
}

/* Upstream's try_lock: one attempt; the FIN spin-hints and retries. */
static inline bool try_lock(struct dfb_sched *s, struct dfb_wait_list *wl)
{
	(void)s;
	return dfb_wl_try_lock(wl);
}

/* The unit tests' entry: no scheduler, a staging count of its own. */
enum dfb_reg_result dfb_register_deferred(struct dfb_wait_list *wl, struct dfb_slot *slot,
					  const struct dfb_slab *slab, bool mixed,
					  enum dfb_err *err)
{
	int32_t status = 0;
	static _Atomic int32_t none_pending;
	return dfb_register_deferred_with(try_lock, &none_pending, NULL, wl, slot, NULL, slab, mixed,
					  err, &status);
}

static void spinlock_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	dfb_locked_fin(try_lock, &state(s->rt)->count, dfb_sopt(s->rt, SL_REGISTER_FIRST) != 0, s,
		       core, st);
}

/* poll_and_complete's drain at 293e88a32: the empty AICore mailbox's check. */
static uint32_t spinlock_drain(struct dfb_sched *s)
{
	struct spinlock_state *st = state(s->rt);
	/* acquire, both: as upstream writes them; nothing is published. */
	uint64_t t = atomic_load_explicit(&st->mailbox_tail, memory_order_acquire);
	uint64_t h = atomic_load_explicit(&st->mailbox_head, memory_order_acquire);
	(void)(t >= h);
	return 0;
}

/* The loop gate's second term at 293e88a32: the staging array's count. */
static bool spinlock_has_pending(struct dfb_runtime *rt)
{
	return atomic_load_explicit(&state(rt)->count, memory_order_relaxed) > 0;
}

/* 293e88a32's poll_and_complete fails with ASYNC_WAIT_OVERFLOW when the
 * release batch is full; the merge releases it in place. */
static bool spinlock_poll_full_batch_fails(const struct dfb_runtime *rt)
{
	return !dfb_sopt(rt, SL_RELEASE_IN_PLACE);
}

static int spinlock_init(struct dfb_runtime *rt)
{
	return dfb_la_init(&state(rt)->la, rt);
}

static void spinlock_fini(struct dfb_runtime *rt)
{
	if (dfb_sstate(rt))
		free(state(rt)->la.msgs);
}

static void spinlock_reset(struct dfb_runtime *rt)
{
	state(rt)->la.n = 0;
}

static void spinlock_dump(struct dfb_runtime *rt, char *buf, size_t len)
{
	struct spinlock_state *st = state(rt);
	const char *lock = atomic_load(rt->wl.busy) ? "held" : "free";
	if (st->la.msgs)
		snprintf(buf, len, "locked array: %llu of %llu messages, lock %s",
			 (unsigned long long)st->la.n, (unsigned long long)st->la.cap, lock);
	else
		snprintf(buf, len, "wait-list lock %s", lock);
}

static bool spinlock_check_drained(struct dfb_runtime *rt, char *msg, size_t len)
{
	return dfb_la_check_drained(&state(rt)->la, msg, len);
}

/* Transport scenarios (transport.c): register_deferred's lock alone, the
 * wait list's busy try-lock over a bounded array of mailbox_capacity
 * messages.  A push is one try-lock (a miss is SKIPPED: lock_misses), a
 * full array unlocks and refuses (mailbox_full_retries), else appends; the
 * consumer's drain is one try-lock (a miss: poll_lock_misses) and a copy
 * of the array's head. */
static bool spinlock_transport_push(struct dfb_runtime *rt, int producer,
				    const struct dfb_msg_payload *m,
				    struct dfb_counters *c)
{
	(void)producer; /* one transport for every producer */
	if (!dfb_wl_try_lock(&rt->wl)) {
		c->lock_misses++;
		return false;
	}
	bool ok = dfb_la_put(&state(rt)->la, m, c);
	dfb_wl_unlock(&rt->wl);
	return ok;
}

static uint64_t spinlock_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
					 uint64_t cap, struct dfb_counters *c)
{
	return dfb_la_drain(&rt->wl, &state(rt)->la, buf, cap, c);
}

const struct dfb_strategy dfb_strategy_spinlock = {
	.name = "spinlock",
	.summary = "register_deferred under the wait-list try-lock on every FIN (upstream 293e88a32)",
	.state_size = sizeof(struct spinlock_state),
	.locked_registration = true,
	.fin_order_race = true,
	.keys = spinlock_keys,
	.nkeys = SL__NKEYS,
	.init = spinlock_init,
	.fini = spinlock_fini,
	.reset = spinlock_reset,
	.on_fin = spinlock_on_fin,
	.drain = spinlock_drain,
	.has_pending = spinlock_has_pending,
	.poll_full_batch_fails = spinlock_poll_full_batch_fails,
	.transport_push = spinlock_transport_push,
	.transport_drain = spinlock_transport_drain,
	.dump = spinlock_dump,
	.check_drained = spinlock_check_drained,
};
