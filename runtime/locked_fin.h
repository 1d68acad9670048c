/* The FIN of the lock-based strategies (spinlock, mutex): upstream's
 * complete_slot_task and register_deferred at 293e88a32, with the wait-list
 * lock as a parameter.  Always inlined with the caller's own lock function,
 * so that the call is direct, as in upstream's code.  Scheduler thread. */
#ifndef DFB_LOCKED_FIN_H
#define DFB_LOCKED_FIN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfb_internal.h"

/* Takes the wait-list lock for a registration; false: not taken (the
 * spinlock's try-lock missed, or the round stopped while waiting). */
typedef bool (*dfb_wl_lock_fn)(struct dfb_sched *s, struct dfb_wait_list *wl);

/* Upstream's register_deferred under `lock` (a miss: SKIPPED); pending
 * is the staging count its absorb loop reads.  `fin` is the FIN's own
 * subtask record (its token and index captured at dispatch), NULL from the
 * unit tests;
 * with it, conditions that arrive for a task whose registration is already
 * closed fail the round as ORPHANED_CONDITIONS.  *status receives the
 * status upstream publishes on ERROR. */
static inline enum dfb_reg_result
dfb_register_deferred_with(dfb_wl_lock_fn lock, _Atomic int32_t *pending, struct dfb_sched *s,
			   struct dfb_wait_list *wl, struct dfb_slot *slot,
			   const struct dfb_subtask *fin, const struct dfb_slab *slab,
			   bool normal_done, enum dfb_err *err, int32_t *status)
{
	if (!lock(s, wl))
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
	/* absorb_pending_completions_locked: a loop over the strategy's
	 * staging count, which nothing raises. */
	for (int32_t i = 0; i < atomic_load_explicit(pending, memory_order_relaxed); i++)
		;
out:
	dfb_wl_unlock(wl);
	return r;
}

/* Registers until it is not SKIPPED; false when the round stops (an error
 * raised here, or another thread's). */
static inline __attribute__((always_inline)) bool
dfb_register_until_done(dfb_wl_lock_fn lock, _Atomic int32_t *pending, struct dfb_sched *s,
			struct dfb_slot *slot, const struct dfb_subtask *st,
			const struct dfb_slab *slab, bool normal_done, bool count,
			enum dfb_reg_result *r)
{
	struct dfb_runtime *rt = s->rt;
	enum dfb_err err = DFB_ERR_OK;
	int32_t status = 0;
	dfb_set_phase(s, DFB_PH_REGISTER);
	for (;;) {
		*r = dfb_register_deferred_with(lock, pending, s, &rt->wl, slot, st, slab,
						normal_done, &err, &status);
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
	if (*r == DFB_REG_REGISTERED && count)
		s->c.registrations++;
	return true;
}

static inline __attribute__((always_inline)) void
dfb_locked_fin(dfb_wl_lock_fn lock, _Atomic int32_t *pending, bool register_first,
	       struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
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

	if (payload && register_first) {
		/* Deviation: register the conditions before the fetch_add, as
		 * the mailbox orders its pushes; the last FIN then takes the
		 * lock a second time to set normal_done. */
		if (!dfb_register_until_done(lock, pending, s, slot, st, slab, false, true, &r))
			return;
	}
	/* A FIN counts one registration, however many lock holds it takes. */
	const bool first_registered = r == DFB_REG_REGISTERED;
	bool mixed = dfb_on_subtask_complete(slot);
	if (!payload) {
		if (mixed)
			dfb_complete_inline(s, slot);
		return;
	}
	dfb_fault_fin_race(s, st, mixed);
	if (!register_first) {
		if (!dfb_register_until_done(lock, pending, s, slot, st, slab, mixed, true, &r))
			return;
	} else if (mixed) {
		static const struct dfb_slab none = {0, 0, NULL};
		if (!dfb_register_until_done(lock, pending, s, slot, st, &none, true,
					     !first_registered, &r))
			return;
	}
	if (sampled)
		dfb_hist_add(&s->lat, dfb_now_ns() - t0);
	if (mixed && r != DFB_REG_REGISTERED)
		dfb_complete_inline(s, slot);
}

/* The transport scenarios' bounded array of the lock-based strategies,
 * read and written only under the wait-list lock. */
struct dfb_locked_array {
	struct dfb_msg_payload *msgs;
	uint64_t n, cap;
};

/* Under the lock: appends m; false when full (counted). */
static inline bool dfb_la_put(struct dfb_locked_array *a, const struct dfb_msg_payload *m,
			      struct dfb_counters *c)
{
	if (a->n == a->cap) {
		c->mailbox_full_retries++;
		return false;
	}
	a->msgs[a->n++] = *m;
	return true;
}

/* Under the lock: moves up to cap messages from the head into buf. */
static inline uint64_t dfb_la_take(struct dfb_locked_array *a, struct dfb_msg_payload *buf,
				   uint64_t cap)
{
	uint64_t n = a->n < cap ? a->n : cap;
	memcpy(buf, a->msgs, n * sizeof(*buf));
	if (n < a->n)
		memmove(a->msgs, a->msgs + n, (a->n - n) * sizeof(*buf));
	a->n -= n;
	return n;
}

/* The consumer's drain: a try-lock (a miss: poll_lock_misses) and a take. */
static inline uint64_t dfb_la_drain(struct dfb_wait_list *wl, struct dfb_locked_array *a,
				    struct dfb_msg_payload *buf, uint64_t cap,
				    struct dfb_counters *c)
{
	if (!dfb_wl_try_lock(wl)) {
		c->poll_lock_misses++;
		return 0;
	}
	c->polls++;
	uint64_t n = dfb_la_take(a, buf, cap);
	dfb_wl_unlock(wl);
	return n;
}

/* init (only transport scenarios have one), fini, reset, check_drained. */
static inline int dfb_la_init(struct dfb_locked_array *a, const struct dfb_runtime *rt)
{
	if (!rt->shape->transport)
		return 0;
	a->cap = rt->cfg.mailbox_capacity;
	return (a->msgs = calloc(a->cap, sizeof(*a->msgs))) ? 0 : -1;
}

static inline bool dfb_la_check_drained(const struct dfb_locked_array *a, char *msg, size_t len)
{
	if (!a->n)
		return true;
	snprintf(msg, len, "%llu messages left in the locked array", (unsigned long long)a->n);
	return false;
}

#endif
