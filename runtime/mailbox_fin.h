/* The FIN of the per-message mailbox strategies (mailbox, mailbox-faa):
 * upstream's complete_slot_task at 4798fd2ed, every CONDITION pushed
 * before on_subtask_complete, the last FIN's NORMAL_DONE after it.  Only
 * the push differs; always inlined with the caller's own push, so that the
 * call is direct, as in upstream's code.  Scheduler thread. */
#ifndef DFB_MAILBOX_FIN_H
#define DFB_MAILBOX_FIN_H

#include "dfb_internal.h"

static inline __attribute__((always_inline)) void
dfb_mbs_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st,
	    bool (*push)(struct dfb_sched *s, const struct dfb_msg_payload *m))
{
	struct dfb_slot *slot = st->slot;
	/* Read before on_subtask_complete: once another FIN or the consumer
	 * completes the task, its slot may be released and reused. */
	const bool payload = slot->payload;
	bool registered = false;
	/* The sampler: the registration path starts here (dfb_sampled). */
	const bool sampled = payload && dfb_sampled(&s->sampler);
	const uint64_t t0 = sampled ? dfb_now_ns() : 0;

	if (payload) {
		const struct dfb_slab *slab = &core->slab[st->parity];
		if (!dfb_mbs_slab_ok(s, st, slab))
			return;
		uint32_t cond_count = slab->count;
		if (cond_count > 0) {
			/* release: kept as upstream wrote it; the acq_rel
			 * fetch_add in on_subtask_complete below already
			 * orders it for the last subtask's acquire. */
			atomic_store_explicit(&slot->any_subtask_deferred, true,
					      memory_order_release);
			const uint64_t token = dfb_slot_token(slot);
			/* The ORPHANED_CONDITIONS check every strategy pays
			 * where its conditions go out; it cannot fire here. */
			if (dfb_orphaned(s, slot, st, token, cond_count))
				return;
			for (uint32_t i = 0; i < cond_count; i++) {
				struct dfb_msg_payload m;
				dfb_mbs_condition(&slab->entries[i], token, &m);
				if (!push(s, &m))
					return;
			}
			registered = true;
		}
	}

	bool mixed = dfb_on_subtask_complete(slot);
	dfb_fault_fin_race(s, st, mixed);
	/* acquire: pairs with the release store above, made by whichever
	 * subtask of this task had conditions. */
	bool to_consumer = mixed && payload &&
			   atomic_load_explicit(&slot->any_subtask_deferred, memory_order_acquire);
	if (to_consumer) {
		struct dfb_msg_payload m = {
			.task_token = dfb_slot_token(slot),
			.addr = (uint64_t)(uintptr_t)slot,
			.kind = DFB_MSG_TASK_NORMAL_DONE,
		};
		if (!push(s, &m))
			return;
		registered = true;
	}
	if (sampled)
		dfb_hist_add(&s->lat, dfb_now_ns() - t0);
	s->c.registrations += registered;
	if (mixed && !to_consumer) {
		if (payload)
			dfb_close(s, slot, DFB_CLOSED_INLINE);
		dfb_complete_inline(s, slot);
	}
}

#endif
