/* Strategy A: the spin-lock baseline, upstream before PR #895.  Every FIN
 * of a task with a payload takes the wait-list lock through
 * register_deferred, retrying after the spin hint while the lock is held. */
#include <string.h>

#include "dfb_internal.h"

/* `token` is the task's, read by the caller before its on_subtask_complete:
 * afterwards another thread may complete the task and the slot be reused. */
static enum dfb_reg_result register_deferred(struct dfb_wait_list *wl, struct dfb_slot *slot,
					     uint64_t token, const struct dfb_slab *slab,
					     bool mixed, enum dfb_err *err)
{
	if (!dfb_wl_try_lock(wl))
		return DFB_REG_SKIPPED;
	enum dfb_reg_result r = DFB_REG_REGISTERED;
	if (slab->error_code) {
		*err = DFB_ERR_SLAB_ERROR;
		r = DFB_REG_ERROR;
		goto out;
	}
	if (slab->count > wl->max_conditions) {
		*err = DFB_ERR_REGISTRATION_FAILED;
		r = DFB_REG_ERROR;
		goto out;
	}
	struct dfb_wait_entry *e = dfb_wl_find(wl, token);
	if (!e && slab->count == 0) {
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
	if (mixed)
		e->normal_done = true;
	for (uint32_t i = 0; i < slab->count; i++)
		if (dfb_wl_append(wl, e, &slab->entries[i])) {
			*err = DFB_ERR_REGISTRATION_FAILED;
			r = DFB_REG_ERROR;
			goto out;
		}
	/* Upstream then absorbs completions staged earlier for this token
	 * (pending_completions[]).  In this model nothing stages them: the
	 * only producers of staged entries were removed by the same change,
	 * so there is nothing to absorb. */
out:
	dfb_wl_unlock(wl);
	return r;
}

enum dfb_reg_result dfb_register_deferred(struct dfb_wait_list *wl, struct dfb_slot *slot,
					  const struct dfb_slab *slab, bool mixed,
					  enum dfb_err *err)
{
	return register_deferred(wl, slot, slot->token, slab, mixed, err);
}

static void spinlock_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_slot *slot = st->slot;
	/* Read before on_subtask_complete, after which another thread may
	 * complete the task and the slot be reused. */
	const bool payload = slot->payload;
	const uint64_t token = slot->token;
	bool mixed = dfb_on_subtask_complete(slot);

	if (!payload) {
		if (mixed) {
			s->c.inline_completions++;
			dfb_complete_task(s, slot);
		}
		return;
	}
	const struct dfb_slab *slab = &core->slab[st->parity];
	enum dfb_err err = DFB_ERR_OK;
	enum dfb_reg_result r;
	uint64_t t0 = dfb_lat_start(rt);
	dfb_set_phase(s, DFB_PH_REGISTER);
	do {
		r = register_deferred(&rt->wl, slot, token, slab, mixed, &err);
		if (r == DFB_REG_SKIPPED) {
			s->c.lock_misses++;
			dfb_spin_hint(rt->hint);
			if (dfb_stopped(rt))
				return;
		}
	} while (r == DFB_REG_SKIPPED);
	if (rt->cfg.measure_latency)
		dfb_hist_add(&s->lat, dfb_now_ns() - t0);
	dfb_set_phase(s, DFB_PH_FIN);

	if (r == DFB_REG_ERROR) {
		dfb_raise(rt, err, slot, s->id, "register_deferred failed (slab count %u, error code %d)",
			  slab->count, slab->error_code);
		return;
	}
	if (r == DFB_REG_REGISTERED)
		s->c.registrations++;
	if (mixed && r != DFB_REG_REGISTERED) {
		s->c.inline_completions++;
		dfb_complete_task(s, slot);
	}
}

/* Transport scenarios (transport.c): register_deferred's lock alone, the
 * wait list's busy try-lock over a bounded array of mailbox_capacity
 * messages.  A push is one try-lock (a miss is SKIPPED: lock_misses), a
 * full array unlocks and refuses (mailbox_full_retries), else appends; the
 * consumer's drain is one try-lock (a miss: poll_lock_misses) and a copy
 * of the array's head. */
static bool spinlock_transport_push(struct dfb_runtime *rt, const struct dfb_msg_payload *m,
				    struct dfb_counters *c)
{
	struct dfb_transport *t = rt->transport;
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
	struct dfb_transport *t = rt->transport;
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
	.summary = "register_deferred under the wait-list try-lock on every FIN (upstream baseline)",
	.init = NULL,
	.fini = NULL,
	.on_fin = spinlock_on_fin,
	.drain = NULL,
	.has_pending = NULL,
	.transport_push = spinlock_transport_push,
	.transport_drain = spinlock_transport_drain,
};
