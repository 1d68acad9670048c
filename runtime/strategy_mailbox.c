/* Strategy B: the lock-free MPSC mailbox of upstream PR #895.  FIN threads
 * push CONDITION and TASK_NORMAL_DONE messages; whoever holds the wait-list
 * lock drains them in claim order. */
#include "dfb_internal.h"

static void mailbox_drain(struct dfb_sched *s);

/* Retries a push until it lands; false only when the round is stopping.
 * Upstream only spin-hints and retries: only the wait-list holder empties
 * the ring, so when every scheduler thread is pushing into a full ring
 * nobody drains it and the round hangs (reported as SCHED_HANG).  The
 * mailbox_full_drain deviation lets a producer that finds the ring full
 * drain it itself when it can take the lock. */
static bool push(struct dfb_sched *s, const struct dfb_msg_payload *m)
{
	struct dfb_runtime *rt = s->rt;
	while (!(rt->mailbox.cached_tail
			 ? dfb_mailbox_try_push_cached(&rt->mailbox, m, &s->c.cas_retries)
			 : dfb_mailbox_try_push(&rt->mailbox, m, &s->c.cas_retries))) {
		s->c.mailbox_full_retries++;
		if (rt->cfg.mailbox_full_drain && dfb_wl_try_lock(&rt->wl)) {
			mailbox_drain(s);
			dfb_wl_unlock(&rt->wl);
		} else {
			dfb_spin_hint(rt->hint);
		}
		if (dfb_stopped(rt))
			return false;
	}
	return true;
}

static void mailbox_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_slot *slot = st->slot;
	/* Read before on_subtask_complete: once another FIN or the consumer
	 * completes the task, its slot may be released and reused. */
	const bool payload = slot->payload;
	bool registered = false;
	uint64_t lat = 0;

	if (payload) {
		const struct dfb_slab *slab = &core->slab[st->parity];
		uint64_t t0 = dfb_lat_start(rt);
		if (slab->error_code) {
			dfb_raise(rt, DFB_ERR_SLAB_ERROR, slot, s->id, "slab error code %d",
				  slab->error_code);
			return;
		}
		if (slab->count > rt->max_cond) {
			dfb_raise(rt, DFB_ERR_REGISTRATION_FAILED, slot, s->id,
				  "slab count %u exceeds %u", slab->count, rt->max_cond);
			return;
		}
		if (slab->count > 0) {
			/* release: kept as upstream wrote it; the acq_rel
			 * fetch_add in on_subtask_complete below already
			 * orders it for the last subtask's acquire. */
			atomic_store_explicit(&slot->any_subtask_deferred, true,
					      memory_order_release);
			dfb_set_phase(s, DFB_PH_PUSH);
			for (uint32_t i = 0; i < slab->count; i++) {
				const struct dfb_slab_entry *e = &slab->entries[i];
				struct dfb_msg_payload m = {
					.task_token = slot->token,
					.addr = e->addr,
					.expected_value = e->expected_value,
					.engine = e->engine,
					.completion_type = e->completion_type,
					.kind = DFB_MSG_CONDITION,
				};
				if (!push(s, &m))
					return;
			}
			registered = true;
			dfb_set_phase(s, DFB_PH_FIN);
		}
		if (rt->cfg.measure_latency)
			lat = dfb_now_ns() - t0;
	}

	bool mixed = dfb_on_subtask_complete(slot);
	/* acquire: pairs with the release store above, made by whichever
	 * subtask of this task had conditions. */
	if (mixed && payload &&
	    atomic_load_explicit(&slot->any_subtask_deferred, memory_order_acquire)) {
		uint64_t t0 = dfb_lat_start(rt);
		struct dfb_msg_payload m = {
			.task_token = slot->token,
			.addr = (uint64_t)(uintptr_t)slot,
			.kind = DFB_MSG_TASK_NORMAL_DONE,
		};
		if (!push(s, &m))
			return;
		registered = true;
		if (rt->cfg.measure_latency)
			lat += dfb_now_ns() - t0;
	} else if (mixed) {
		s->c.inline_completions++;
		dfb_complete_task(s, slot);
	}
	s->c.registrations += registered;
	if (payload && rt->cfg.measure_latency)
		dfb_hist_add(&s->lat, lat);
}

static void mailbox_drain(struct dfb_sched *s)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_msg_payload m;

	while (dfb_mailbox_try_pop(&rt->mailbox, &m)) {
		s->c.drained_msgs++;
		struct dfb_wait_entry *e = dfb_wl_find(&rt->wl, m.task_token);
		switch (m.kind) {
		case DFB_MSG_CONDITION: {
			if (!e && !(e = dfb_wl_create(&rt->wl, m.task_token, NULL))) {
				dfb_raise(rt, DFB_ERR_ASYNC_WAIT_OVERFLOW, NULL, s->id,
					  "task token %#llx needs a wait entry; all %u in use",
					  (unsigned long long)m.task_token, rt->wl.max_entries);
				return;
			}
			struct dfb_slab_entry c = {
				.addr = m.addr,
				.expected_value = m.expected_value,
				.engine = m.engine,
				.completion_type = m.completion_type,
			};
			if (dfb_wl_append(&rt->wl, e, &c)) {
				dfb_raise(rt, DFB_ERR_REGISTRATION_FAILED, e->slot, s->id,
					  "task token %#llx has more than %u conditions",
					  (unsigned long long)m.task_token, rt->wl.max_conditions);
				return;
			}
			break;
		}
		case DFB_MSG_TASK_NORMAL_DONE: {
			struct dfb_slot *slot = (struct dfb_slot *)(uintptr_t)m.addr;
			if (e) {
				e->slot = slot;
				e->normal_done = true;
			} else {
				/* No conditions arrived for it: complete now
				 * rather than grow the list (upstream's
				 * try_inline_complete_locked). */
				s->c.inline_completions++;
				dfb_complete_task(s, slot);
			}
			break;
		}
		default:
			dfb_raise(rt, DFB_ERR_UNKNOWN_MSG_KIND, NULL, s->id,
				  "message kind %u for task token %#llx", m.kind,
				  (unsigned long long)m.task_token);
			return;
		}
	}
}

static bool mailbox_has_pending(struct dfb_runtime *rt)
{
	return dfb_mailbox_has_pending(&rt->mailbox);
}

static int mailbox_init(struct dfb_runtime *rt)
{
	if (dfb_mailbox_init(&rt->mailbox, rt->cfg.mailbox_capacity))
		return -1;
	rt->mailbox.refresh_stale_head = rt->cfg.mailbox_refresh_head != 0;
	rt->mailbox.cached_tail = rt->cfg.mailbox_cached_tail != 0;
	return 0;
}

static void mailbox_fini(struct dfb_runtime *rt)
{
	dfb_mailbox_fini(&rt->mailbox);
}

/* Transport scenarios (transport.c): the mailbox alone.  One push attempt
 * as the FIN path makes it (cached_tail per the configuration); the single
 * consumer thread pops without the wait-list lock, which only serialises
 * consumers. */
static bool mailbox_transport_push(struct dfb_runtime *rt, const struct dfb_msg_payload *m,
				   struct dfb_counters *c)
{
	bool ok = rt->mailbox.cached_tail
			  ? dfb_mailbox_try_push_cached(&rt->mailbox, m, &c->cas_retries)
			  : dfb_mailbox_try_push(&rt->mailbox, m, &c->cas_retries);
	c->mailbox_full_retries += !ok;
	return ok;
}

static uint64_t mailbox_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
					uint64_t cap, struct dfb_counters *c)
{
	(void)c;
	uint64_t n = 0;
	while (n < cap && dfb_mailbox_try_pop(&rt->mailbox, &buf[n]))
		n++;
	return n;
}

const struct dfb_strategy dfb_strategy_mailbox = {
	.name = "mailbox",
	.summary = "lock-free MPSC mailbox drained by the wait-list holder (upstream PR #895)",
	.init = mailbox_init,
	.fini = mailbox_fini,
	.on_fin = mailbox_on_fin,
	.drain = mailbox_drain,
	.has_pending = mailbox_has_pending,
	.transport_push = mailbox_transport_push,
	.transport_drain = mailbox_transport_drain,
};
