/* Mixed-task completion, readiness and release (DESIGN.md §2 "Tasks,
 * slots, dependencies"; upstream pto_scheduler.h on_mixed_task_complete,
 * release_fanin_and_check_ready, on_task_release). */
#include "dfb_internal.h"

void dfb_make_ready(struct dfb_runtime *rt, struct dfb_sched *s, struct dfb_slot *slot)
{
	enum dfb_shape_q q = dfb_shape_of(slot->mask);
	if (q != DFB_Q_DUMMY && s) {
		struct dfb_local *l = &s->local[q];
		if (l->n < l->cap) {
			l->slots[l->n++] = slot;
			return;
		}
	}
	dfb_ready_push(rt, q, slot);
}

static void verify_completion(struct dfb_runtime *rt, struct dfb_sched *s,
			      struct dfb_slot *slot)
{
	/* acq_rel: producers' flags (set before their completion released
	 * us) are visible; ours is visible to our consumers. */
	uint8_t was = atomic_exchange_explicit(&rt->done_flags[slot->index], 1,
					       memory_order_acq_rel);
	if (was) {
		dfb_raise(rt, DFB_ERR_INVARIANT, slot, s->id, "task completed twice");
		return;
	}
	/* Every condition an engine thread completes is a counter it
	 * stores 1 into (release; the acquire pairs with it). */
	/* Not where the FIN order lets a task complete before a sibling
	 * registers its conditions: upstream's race, which
	 * ORPHANED_CONDITIONS reports with its story (docs/MODEL.md). */
	if (rt->cfg.engine == DFB_ENGINE_THREAD && rt->cfg.fault == DFB_FAULT_NONE &&
	    !rt->strategy->fin_order_race)
		for (uint32_t k = 0; k < slot->conditions; k++)
			if (atomic_load_explicit(&slot->counters[k], memory_order_acquire) < 1) {
				dfb_raise(rt, DFB_ERR_INVARIANT, slot, s->id,
					  "completed before its condition %u was satisfied", k);
				return;
			}
	struct dfb_task_desc d;
	rt->shape->task(&rt->cfg, slot->index, &d);
	for (uint32_t i = 0; i < d.nproducers; i++)
		if (!atomic_load_explicit(&rt->done_flags[d.producers[i]], memory_order_acquire)) {
			dfb_raise(rt, DFB_ERR_INVARIANT, slot, s->id,
				  "completed before its producer, task index %llu",
				  (unsigned long long)d.producers[i]);
			return;
		}
}

void dfb_complete_task(struct dfb_sched *s, struct dfb_slot *slot)
{
	struct dfb_runtime *rt = s->rt;

	if (rt->done_flags)
		verify_completion(rt, s, slot);

	/* on_mixed_task_complete: mark COMPLETED and take the fanout list
	 * under the fanout lock, so thread 0's wiring either appended a
	 * consumer before we read the list or sees COMPLETED afterwards. */
	dfb_fanout_lock(rt, slot);
	atomic_store_explicit(&slot->state, DFB_SLOT_COMPLETED, memory_order_relaxed);
	uint32_t n = slot->nfanout;
	dfb_fanout_unlock(slot);
	DFB_PREEMPT(); /* stress: COMPLETED, consumers not yet counted */

	for (uint32_t i = 0; i < n; i++) {
		struct dfb_slot *c = &rt->slots[slot->fanout[i]];
		/* Read before our increment: afterwards the consumer may be
		 * made ready by another producer, run, and its slot be reused
		 * (upstream reads it after; see docs/MODEL.md).  The wiring
		 * wrote it before appending the consumer to our list. */
		uint32_t need = c->fanin_count;
		/* acq_rel: the last producer to arrive sees every earlier
		 * producer's effects before making the consumer ready. */
		uint32_t r = atomic_fetch_add_explicit(&c->fanin_refcount, 1,
						       memory_order_acq_rel) + 1;
		if (r == need)
			dfb_make_ready(rt, s, c);
	}
	dfb_progress(s);
}

void dfb_release_push(struct dfb_sched *s, struct dfb_slot *slot)
{
	if (s->nbatch >= s->rt->cfg.release_batch)
		dfb_release_batch(s);
	s->batch[s->nbatch++] = slot;
}

void dfb_release_ref(struct dfb_runtime *rt, struct dfb_slot *slot)
{
	DFB_PREEMPT(); /* stress: before a reference is dropped */
	/* acq_rel: all holders' uses of the slot happen before the last
	 * one consumes it. */
	uint64_t v = atomic_fetch_add_explicit(&slot->fanout_rc, 1, memory_order_acq_rel) + 1;
	if (dfb_fanout_ref(v) == dfb_fanout_count(v)) {
		/* release: the orchestrator's acquire of CONSUMED orders its
		 * reuse of the slot after every use of it. */
		atomic_store_explicit(&slot->state, DFB_SLOT_CONSUMED, memory_order_release);
		atomic_fetch_add_explicit(&rt->consumed, 1, memory_order_relaxed);
	}
}

/* on_task_release: drop the references this task holds on its producers,
 * then its own. */
static void on_task_release(struct dfb_runtime *rt, struct dfb_slot *slot)
{
	for (uint32_t i = 0; i < slot->nfanin; i++)
		if (slot->fanin[i] & DFB_FANIN_HOLDS_REF)
			dfb_release_ref(rt, &rt->slots[slot->fanin[i] & ~DFB_FANIN_HOLDS_REF]);
	dfb_release_ref(rt, slot);
}

void dfb_release_batch(struct dfb_sched *s)
{
	while (s->nbatch > 0)
		on_task_release(s->rt, s->batch[--s->nbatch]);
}
