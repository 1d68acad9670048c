/* The orchestrator: submits the shape's graph into the task rings (one per
 * scope depth), counting each task on its producers and queueing it for
 * thread 0's wiring (wiring.c), closing scopes, and waiting for ring space
 * (flow control) when a window is full.  With orch_to_sched it then joins
 * the scheduler threads. */
#include "dfb_internal.h"

static bool slot_reusable(struct dfb_slot *slot)
{
	/* acquire: pairs with the release store of CONSUMED, so every use
	 * of the slot happens before we overwrite it. */
	int st = atomic_load_explicit(&slot->state, memory_order_acquire);
	return st == DFB_SLOT_CONSUMED || st == DFB_SLOT_FREE;
}

/* Waits until ring `ring` has a slot for its next local id; false when
 * the round stops.  The tail moves past consumed slots only, in order. */
static bool wait_for_ring(struct dfb_runtime *rt, uint32_t ring)
{
	uint64_t window = rt->cfg.window, local = rt->ring_next[ring];
	while (local - rt->ring_tail[ring] >= window) {
		if (slot_reusable(dfb_ring_slot(rt, ring, rt->ring_tail[ring]))) {
			rt->ring_tail[ring]++;
			continue;
		}
		atomic_store_explicit(&rt->orch_phase, DFB_PH_ORCH_WAIT_RING, memory_order_relaxed);
		dfb_spin_hint(rt->hint);
		if (dfb_stopped(rt))
			return false;
	}
	return true;
}

/* Counts `slot` as a consumer of producer p (upstream: the orchestrator's
 * fanout_count++ on each producer; the fanout-list append is thread 0's
 * wiring).  Records the producer in the slot's fanin list, marked when this
 * consumer holds a reference on it. */
static bool count_consumer(struct dfb_runtime *rt, struct dfb_slot *slot, uint64_t p)
{
	const struct dfb_idx *e = &rt->idxmap[p & rt->idxmap_mask];
	if (e->index != p) {
		/* Shapes name producers among recent submissions; the map
		 * holds 4 per slot.  Past that we cannot tell whether the
		 * producer is still alive. */
		dfb_raise(rt, DFB_ERR_INVARIANT, slot, -1,
			  "producer %llu is too far back to track (more than %llu submissions)",
			  (unsigned long long)p, (unsigned long long)rt->idxmap_mask + 1);
		return false;
	}
	struct dfb_slot *ps = &rt->slots[e->number];

	if (ps->index != p || slot_reusable(ps)) {
		slot->fanin[slot->nfanin++] = e->number;
		return true;
	}
	DFB_PREEMPT(); /* stress: between the reuse check and the count */
	uint64_t v = atomic_load_explicit(&ps->fanout_rc, memory_order_relaxed);
	bool consumed;
	do {
		consumed = dfb_fanout_ref(v) == dfb_fanout_count(v);
		if (consumed)
			break;
		/* relaxed: the wiring queue and the consumer's later acq_rel
		 * release order this count. */
	} while (!atomic_compare_exchange_weak_explicit(&ps->fanout_rc, &v, v + DFB_FANOUT_ONE_COUNT,
							memory_order_relaxed,
							memory_order_relaxed));
	slot->fanin[slot->nfanin++] = consumed ? e->number : e->number | DFB_FANIN_HOLDS_REF;
	return true;
}

/* fault=fin_race: the fault task gets two blocks at least and one
 * condition on every subtask, so that a sibling FIN has conditions to
 * register late. */
static bool fin_race_task(struct dfb_runtime *rt, uint64_t index, struct dfb_task_desc *d)
{
	if (rt->cfg.fault != DFB_FAULT_FIN_RACE || index != rt->cfg.fault_task)
		return true;
	if (!d->mask || d->alloc) {
		dfb_raise(rt, DFB_ERR_CONFIG, NULL, -1,
			  "fault=fin_race: task %llu is not a kernel task (fault_task must name one)",
			  (unsigned long long)index);
		return false;
	}
	if (d->blocks < 2)
		d->blocks = 2;
	d->conditions = UINT32_MAX; /* every counter of the slot reset (cores.c) */
	return true;
}

static bool submit(struct dfb_runtime *rt, uint32_t ring, uint64_t index,
		   struct dfb_task_desc *d)
{
	if (!fin_race_task(rt, index, d))
		return false;
	if (!wait_for_ring(rt, ring))
		return false;
	atomic_store_explicit(&rt->orch_phase, DFB_PH_ORCH_SUBMIT, memory_order_relaxed);

	uint64_t local = rt->ring_next[ring]++;
	struct dfb_slot *slot = dfb_ring_slot(rt, ring, local);
	/* acquire: the previous occupant's completion flag, set before it
	 * was consumed (wait_for_ring acquired CONSUMED). */
	if (rt->done_flags && slot->index != UINT64_MAX &&
	    !atomic_load_explicit(&rt->done_flags[slot->index], memory_order_acquire)) {
		dfb_raise(rt, DFB_ERR_INVARIANT, slot, -1,
			  "slot reused for task %llu before task %llu in it completed",
			  (unsigned long long)index, (unsigned long long)slot->index);
		return false;
	}
	uint32_t conditions = d->conditions < rt->counters_per_slot ? d->conditions
								     : rt->counters_per_slot;
	atomic_store_explicit(&slot->token, ((uint64_t)ring << 32) | (local & 0xffffffffu),
			      memory_order_relaxed);
	slot->index = index;
	rt->idxmap[index & rt->idxmap_mask] = (struct dfb_idx){index, slot->number};
	slot->kernel_ns = d->kernel_ns;
	slot->mask = d->mask;
	slot->blocks = d->blocks ? d->blocks : 1;
	slot->total_required_subtasks = slot->blocks * (uint32_t)__builtin_popcount(d->mask);
	slot->conditions = d->mask ? conditions : 0;
	slot->payload = d->mask != 0 && !d->alloc;
	slot->next_block = 0;
	slot->nfanin = 0;
	slot->nfanout = 0;
	slot->fanin_count = 0;           /* set by the wiring */
	for (uint32_t k = 0; k < slot->conditions; k++)
		atomic_store_explicit(&slot->counters[k], 0, memory_order_relaxed);
	atomic_store_explicit(&slot->completed_subtasks, 0, memory_order_relaxed);
	atomic_store_explicit(&slot->fanin_refcount, 0, memory_order_relaxed);
	atomic_store_explicit(&slot->any_subtask_deferred, false, memory_order_relaxed);
	atomic_store_explicit(&slot->closed, 0, memory_order_relaxed);
	/* Scope reference, plus the task's own (dropped at its release);
	 * an alloc task never completes through the scheduler, so it holds
	 * only its scope's. */
	atomic_store_explicit(&slot->fanout_rc, (d->alloc ? 1 : 2) * DFB_FANOUT_ONE_COUNT,
			      memory_order_relaxed);
	atomic_store_explicit(&slot->state, d->alloc ? DFB_SLOT_COMPLETED : DFB_SLOT_PENDING,
			      memory_order_relaxed);
	if (d->alloc) {
		/* Hidden alloc tasks complete inline in the orchestrator and
		 * never reach the wiring queue. */
		if (rt->done_flags)
			atomic_store_explicit(&rt->done_flags[index], 1, memory_order_release);
		return true;
	}
	for (uint32_t i = 0; i < d->nproducers; i++) {
		if (d->producers[i] >= index) {
			dfb_raise(rt, DFB_ERR_INVARIANT, slot, -1,
				  "shape names producer %llu, not earlier than the task",
				  (unsigned long long)d->producers[i]);
			return false;
		}
		if (!count_consumer(rt, slot, d->producers[i]))
			return false;
	}
	return dfb_wiring_push(rt, slot);
}

/* Closes the innermost open scope: drops its reference on each of the
 * tasks submitted at its depth since it opened (all still alive: it held
 * them). */
static void close_scope(struct dfb_runtime *rt, uint32_t depth, uint64_t from)
{
	for (uint64_t l = from; l < rt->ring_next[depth]; l++)
		dfb_release_ref(rt, dfb_ring_slot(rt, depth, l));
}

void *dfb_orchestrator_main(void *arg)
{
	struct dfb_runtime *rt = arg;
	/* scope_start[d]: first local id of the open scope at depth d.  The
	 * depth-0 scope is cut every scope_tasks tasks (or where the shape
	 * says); deeper ones open and close where the shape says. */
	uint64_t scope_start[DFB_MAX_RINGS] = {0};
	uint32_t depth = 0;
	struct dfb_task_desc d;

	dfb_thread_bind(rt, DFB_ROLE_ORCHESTRATOR, 0); /* placement (topology.c) */
	rt->orch_start = dfb_now_ns();
	for (uint32_t r = 0; r < DFB_MAX_RINGS; r++)
		rt->ring_tail[r] = rt->ring_next[r] = 0;
	for (uint64_t i = 0; i < rt->cfg.tasks && !dfb_stopped(rt); i++) {
		rt->shape->task(&rt->cfg, i, &d);
		if (d.nproducers > rt->cfg.max_fanin) {
			dfb_raise(rt, DFB_ERR_FANOUT_OVERFLOW, NULL, -1,
				  "task %llu has %u producers, max_fanin = %llu",
				  (unsigned long long)i, d.nproducers,
				  (unsigned long long)rt->cfg.max_fanin);
			break;
		}
		if (d.open_scope) {
			if (depth + 1 >= rt->nrings) {
				dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1,
					  "task %llu opens scope depth %u; rings = %u",
					  (unsigned long long)i, depth + 1, rt->nrings);
				break;
			}
			depth++;
			scope_start[depth] = rt->ring_next[depth];
		}
		if (!submit(rt, depth, i, &d))
			break;
		atomic_fetch_add_explicit(&rt->orch_progress, 1, memory_order_relaxed);
		for (uint8_t k = 0; k < d.close_scopes && depth > 0; k++, depth--)
			close_scope(rt, depth, scope_start[depth]);
		if (d.scope_end || rt->ring_next[0] - scope_start[0] == rt->cfg.scope_tasks) {
			close_scope(rt, 0, scope_start[0]);
			scope_start[0] = rt->ring_next[0];
		}
	}
	/* The end of the orchestration closes whatever is still open. */
	for (; depth > 0; depth--)
		close_scope(rt, depth, scope_start[depth]);
	close_scope(rt, 0, scope_start[0]);
	rt->orch_end = dfb_now_ns();
	atomic_store_explicit(&rt->orch_done, true, memory_order_relaxed);
	atomic_store_explicit(&rt->orch_phase, DFB_PH_DONE, memory_order_relaxed);
	if (rt->cfg.orch_to_sched && !dfb_stopped(rt))
		dfb_orch_to_sched(rt);
	return NULL;
}
