/* Simulated accelerator cores.  A core is a deadline, not a thread: its
 * subtask FINs once the clock passes start + kernel_ns.  What the kernel
 * itself would do before FIN (write its completion slab, start the DMA or
 * RDMA that completes its conditions) happens here, on the dispatching
 * thread, outside the timed registration path. */
#include "dfb_internal.h"

static void engine_request(struct dfb_sched *s, uint64_t due, _Atomic uint32_t *counter)
{
	struct dfb_spsc *q = &s->engine_q;
	/* relaxed: only this thread writes head. */
	uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	/* acquire: the engine's read of the cell happens before we reuse it. */
	while (h - atomic_load_explicit(&q->tail, memory_order_acquire) > q->mask) {
		dfb_set_phase(s, DFB_PH_ENGINE_PUSH);
		dfb_spin_hint(s->rt->hint);
		if (dfb_stopped(s->rt))
			return;
	}
	struct dfb_engine_req *r = &q->cells[h & q->mask];
	r->due_ns = due;
	r->counter = counter;
	r->value = 1;
	DFB_PREEMPT(); /* stress: the request written, not yet published */
	/* release: publishes the request to the engine's acquire of head. */
	atomic_store_explicit(&q->head, h + 1, memory_order_release);
}

void dfb_core_start(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_slot *slot = st->slot;
	struct dfb_slab *slab = &core->slab[st->parity];
	uint32_t S = slot->total_required_subtasks, C = slot->conditions, g = st->index;
	uint32_t cnt = C / S + (g < C % S);
	uint32_t off = g * (C / S) + (g < C % S ? g : C % S);
	bool fault_task = rt->cfg.fault != DFB_FAULT_NONE && slot->index == rt->cfg.fault_task;
	bool faulty = fault_task && g == 0;
	uint64_t due = st->deadline_ns + (uint64_t)(rt->cfg.engine_latency_us * 1000.0);

	if (fault_task && rt->cfg.fault == DFB_FAULT_FIN_RACE) {
		/* Every subtask leaves one condition, so whichever sibling the
		 * fault stalls has conditions to register late. */
		cnt = 1;
		off = g % rt->counters_per_slot;
		faulty = false;
	}
	/* The faults that act on a condition: the faulty subtask leaves at
	 * least one, so that the fault cannot miss.  (A first subtask with
	 * none means the task has none: no counter of the slot is in use.) */
	const enum dfb_fault fault = (enum dfb_fault)rt->cfg.fault;
	if (faulty && cnt == 0 && fault != DFB_FAULT_SLAB_ERROR &&
	    fault != DFB_FAULT_TOO_MANY_CONDITIONS) {
		cnt = 1;
		off = 0;
		/* submit cleared only the task's own conditions' counters: this
		 * one may still hold a previous occupant's 1, which would let
		 * the fault's condition pass at once.  relaxed: published to
		 * the engine by the request's release, to the poller by the
		 * registration. */
		atomic_store_explicit(&slot->counters[0], 0, memory_order_relaxed);
	}
	slab->count = cnt;
	slab->error_code = faulty && fault == DFB_FAULT_SLAB_ERROR ? DFB_FAULT_SLAB_CODE : 0;
	if (faulty && fault == DFB_FAULT_TOO_MANY_CONDITIONS) {
		/* One more than a task may have: the registration refuses the
		 * count before it reads an entry, so none is written. */
		slab->count = rt->max_cond + 1;
		return;
	}
	uint32_t n = cnt < rt->max_cond ? cnt : rt->max_cond;
	/* engine_never: from the fault task on, no condition completes. */
	const bool never = fault == DFB_FAULT_ENGINE_NEVER && slot->index >= rt->cfg.fault_task;
	/* unknown_kind, producer_stall: the first message carries the mark. */
	const uint32_t mark = faulty && (fault == DFB_FAULT_UNKNOWN_KIND ||
					 fault == DFB_FAULT_PRODUCER_STALL)
				      ? (uint32_t)fault
				      : 0;
	for (uint32_t k = 0; k < n; k++) {
		struct dfb_slab_entry *e = &slab->entries[k];
		_Atomic uint32_t *counter = &slot->counters[off + k];
		bool dropped = never || (faulty && fault == DFB_FAULT_DROP_COMPLETION);
		e->expected_value = 1;
		e->engine = DFB_ENGINE_SDMA;
		if (rt->cfg.engine == DFB_ENGINE_VIRTUAL) {
			e->completion_type = DFB_CT_VIRTUAL;
			e->addr = dropped ? UINT64_MAX : due;
		} else {
			e->completion_type = DFB_CT_COUNTER;
			e->addr = (uint64_t)(uintptr_t)counter;
			if (!dropped)
				engine_request(s, due, counter);
		}
		if (faulty && fault == DFB_FAULT_INVALID_CONDITION)
			e->completion_type = DFB_CT_INVALID;
		e->fault = k == 0 ? mark : 0;
	}
}
