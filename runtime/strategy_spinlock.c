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
	DFB_ALIGNED struct dfb_msg_payload *locked;
	uint64_t nlocked, locked_cap;
};

static inline struct spinlock_state *state(const struct dfb_runtime *rt)
{
	return dfb_sstate(rt);
}

/* Upstream's register_deferred.  `fin` is the FIN's own subtask record
 * (its token and index captured at dispatch), NULL from the unit tests;
 * with it, conditions that arrive for a task whose registration is already
 * closed fail the round as ORPHANED_CONDITIONS.  *status receives the
 * status upstream publishes on ERROR. */
static enum dfb_reg_result register_deferred(struct dfb_sched *s, struct dfb_wait_list *wl,
					     struct dfb_slot *slot, const struct dfb_subtask *fin,
					     const struct dfb_slab *slab, bool normal_done,
					     enum dfb_err *err, int32_t *status)
{
	if (!dfb_wl_try_lock(wl))
		return DFB_REG_SKIPPED;
	enum dfb_reg_result r = DFB_REG_REGISTERED;
	if (slab->error_code) {
		*err = DFB_ERR_SLAB_ERROR;
		*status = slab->error_code;  /* upstream publishes the kernel's own code */
		r = DFB_REG_ERROR;
		goto out;
	}
	uint32_t deferred_count = slab->count;
	if (deferred_count > wl->max_conditions) {
		*err = DFB_ERR_REGISTRATION_FAILED;
		r = DFB_REG_ERROR;
		goto out;
	}
	/* Upstream re-reads the task id here, after on_subtask_complete:
	 * the slot may hold another task by now (docs/MODEL.md). */
	uint64_t token = dfb_slot_token(slot);
	if (deferred_count > 0 && fin && s && dfb_orphaned(s, slot, fin, token, deferred_count)) {
		*err = DFB_ERR_ORPHANED_CONDITIONS;
		r = DFB_REG_ERROR;
		goto out;
	}
	struct dfb_wait_entry *e = dfb_wl_find(wl, token);
	if (!e && deferred_count == 0) {
		/* The last FIN completes the task inline once we unlock:
		 * its registration is closed from here on. */
		if (normal_done && s)
			dfb_close(s, slot, DFB_CLOSED_INLINE);
		r = DFB_REG_NOT_DEFERRED;
		goto out;
	}
	if (!e) {
		e = dfb_wl_create(wl, token, slot);
		if (!e) {
			*err = DFB_ERR_ASYNC_WAIT_OVERFLOW;
			r = DFB_REG_ERROR;
			goto out;
		}
	}
	if (normal_done)
		e->normal_done = true;
	for (uint32_t i = 0; i < deferred_count; i++) {
		const struct dfb_slab_entry *d = &slab->entries[i];
		if (d->completion_type == DFB_CT_COUNTER)
			dfb_cache_invalidate_range(
				(const void *)(uintptr_t)(d->addr & ~(uint64_t)(DFB_CACHELINE - 1)),
				sizeof(uint32_t));
		if (dfb_wl_append(wl, e, d->addr, d->expected_value, d->engine, d->completion_type)) {
			*err = DFB_ERR_REGISTRATION_FAILED;
			r = DFB_REG_ERROR;
			goto out;
		}
	}
	/* absorb_pending_completions_locked: a loop over nothing (the unit
	 * tests' calls, without a scheduler, read a count of their own). */
	static _Atomic int32_t none_pending;
	_Atomic int32_t *pending = s ? &state(s->rt)->count : &none_pending;
	for (int32_t i = 0; i < atomic_load_explicit(pending, memory_order_relaxed); i++)
		;
out:
	dfb_wl_unlock(wl);
	return r;
}

enum dfb_reg_result dfb_register_deferred(struct dfb_wait_list *wl, struct dfb_slot *slot,
					  const struct dfb_slab *slab, bool mixed,
					  enum dfb_err *err)
{
	int32_t status = 0;
	return register_deferred(NULL, wl, slot, NULL, slab, mixed, err, &status);
}

/* Registers until it is not SKIPPED; false when the round stops (an error
 * raised here, or another thread's). */
static bool register_until_done(struct dfb_sched *s, struct dfb_slot *slot,
				const struct dfb_subtask *st, const struct dfb_slab *slab,
				bool normal_done, enum dfb_reg_result *r)
{
	struct dfb_runtime *rt = s->rt;
	enum dfb_err err = DFB_ERR_OK;
	int32_t status = 0;
	dfb_set_phase(s, DFB_PH_REGISTER);
	for (;;) {
		*r = register_deferred(s, &rt->wl, slot, st, slab, normal_done, &err, &status);
		if (*r != DFB_REG_SKIPPED)
			break;
		s->c.lock_misses++;
		dfb_spin_hint(rt->hint);
		if (dfb_stopped(rt))
			return false;
	}
	dfb_set_phase(s, DFB_PH_FIN);
	if (*r == DFB_REG_ERROR) {
		if (err == DFB_ERR_ORPHANED_CONDITIONS)
			return false; /* raised, with its story, by dfb_orphaned */
		if (err != DFB_ERR_SLAB_ERROR)
			status = dfb_err_upstream_status(err);
		dfb_raise_task(rt, err, status, st->task_index, st->token, s->id,
			       "register_deferred failed (slab count %u, error code %d)",
			       slab->count, slab->error_code);
		return false;
	}
	if (*r == DFB_REG_REGISTERED)
		s->c.registrations++;
	return true;
}

static void spinlock_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_slot *slot = st->slot;
	/* Read before on_subtask_complete: afterwards another thread may
	 * complete the task and the slot be reused.  (The token upstream
	 * re-reads inside register_deferred, on purpose.) */
	const bool payload = slot->payload;
	const struct dfb_slab *slab = &core->slab[st->parity];
	enum dfb_reg_result r = DFB_REG_NOT_DEFERRED;
	/* The sampler: the registration path starts here (dfb_sampled). */
	const bool sampled = payload && dfb_sampled(&s->sampler);
	const uint64_t t0 = sampled ? dfb_now_ns() : 0;

	const bool register_first = dfb_sopt(rt, SL_REGISTER_FIRST) != 0;
	if (payload && register_first) {
		/* Deviation: register the conditions before the fetch_add, as
		 * the mailbox orders its pushes; the last FIN then takes the
		 * lock a second time to set normal_done. */
		if (!register_until_done(s, slot, st, slab, false, &r))
			return;
	}
	bool mixed = dfb_on_subtask_complete(slot);
	if (!payload) {
		if (mixed)
			dfb_complete_inline(s, slot);
		return;
	}
	dfb_fault_fin_race(s, st, mixed);
	if (!register_first) {
		if (!register_until_done(s, slot, st, slab, mixed, &r))
			return;
	} else if (mixed) {
		static const struct dfb_slab none = {0, 0, NULL};
		if (!register_until_done(s, slot, st, &none, true, &r))
			return;
	}
	if (sampled)
		dfb_hist_add(&s->lat, dfb_now_ns() - t0);
	if (mixed && r != DFB_REG_REGISTERED)
		dfb_complete_inline(s, slot);
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
	struct spinlock_state *st = state(rt);
	if (rt->shape->transport) {
		st->locked_cap = rt->cfg.mailbox_capacity;
		if (!(st->locked = calloc(st->locked_cap, sizeof(*st->locked))))
			return -1;
	}
	return 0;
}

static void spinlock_fini(struct dfb_runtime *rt)
{
	if (dfb_sstate(rt))
		free(state(rt)->locked);
}

static void spinlock_reset(struct dfb_runtime *rt)
{
	state(rt)->nlocked = 0;
}

static void spinlock_dump(struct dfb_runtime *rt, char *buf, size_t len)
{
	struct spinlock_state *st = state(rt);
	if (st->locked)
		snprintf(buf, len, "locked array: %llu of %llu messages, lock %s",
			 (unsigned long long)st->nlocked, (unsigned long long)st->locked_cap,
			 atomic_load(rt->wl.busy) ? "held" : "free");
	else
		snprintf(buf, len, "wait-list lock %s", atomic_load(rt->wl.busy) ? "held" : "free");
}

static bool spinlock_check_drained(struct dfb_runtime *rt, char *msg, size_t len)
{
	struct spinlock_state *st = state(rt);
	if (!st->nlocked)
		return true;
	snprintf(msg, len, "%llu messages left in the locked array",
		 (unsigned long long)st->nlocked);
	return false;
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
	struct spinlock_state *t = state(rt);
	if (!dfb_wl_try_lock(&rt->wl)) {
		c->lock_misses++;
		return false;
	}
	if (t->nlocked == t->locked_cap) {
		dfb_wl_unlock(&rt->wl);
		c->mailbox_full_retries++;
		return false;
	}
	t->locked[t->nlocked++] = *m;
	dfb_wl_unlock(&rt->wl);
	return true;
}

static uint64_t spinlock_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
					 uint64_t cap, struct dfb_counters *c)
{
	struct spinlock_state *t = state(rt);
	if (!dfb_wl_try_lock(&rt->wl)) {
		c->poll_lock_misses++;
		return 0;
	}
	c->polls++;
	uint64_t n = t->nlocked < cap ? t->nlocked : cap;
	memcpy(buf, t->locked, n * sizeof(*buf));
	if (n < t->nlocked)
		memmove(t->locked, t->locked + n, (t->nlocked - n) * sizeof(*buf));
	t->nlocked -= n;
	dfb_wl_unlock(&rt->wl);
	return n;
}

const struct dfb_strategy dfb_strategy_spinlock = {
	.name = "spinlock",
	.summary = "register_deferred under the wait-list try-lock on every FIN (upstream 293e88a32)",
	.state_size = sizeof(struct spinlock_state),
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
