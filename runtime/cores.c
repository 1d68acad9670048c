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
	slab->count = cnt;
	slab->error_code = faulty && rt->cfg.fault == DFB_FAULT_SLAB_ERROR ? DFB_FAULT_SLAB_CODE : 0;
	uint32_t n = cnt < rt->max_cond ? cnt : rt->max_cond;
	for (uint32_t k = 0; k < n; k++) {
		struct dfb_slab_entry *e = &slab->entries[k];
		_Atomic uint32_t *counter = &slot->counters[off + k];
		bool dropped = faulty && rt->cfg.fault == DFB_FAULT_DROP_COMPLETION;
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
		if (faulty && rt->cfg.fault == DFB_FAULT_INVALID_CONDITION)
			e->completion_type = DFB_CT_INVALID;
	}
}
