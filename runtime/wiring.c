/* Deferred dependency wiring (upstream WiringState, drain_wiring_queue and
 * wire_task at 293e88a32 and 4798fd2ed alike): the orchestrator only counts
 * a consumer on each producer and pushes the task into a single-producer
 * single-consumer queue; scheduler thread 0, once a loop, pops batches of
 * up to 30 and wires each task: fanout-list appends under each producer's
 * fanout lock, the producers already finished counted, and the task made
 * ready when none is left. */
#include "dfb_internal.h"

#define WIRING_BATCH 30   /* upstream WiringState::BATCH_SIZE */
#define WIRING_BACKOFF 32 /* upstream WiringState::BACKOFF_LIMIT */

_Static_assert(WIRING_BATCH <= sizeof(((struct dfb_wiring *)0)->batch) /
				       sizeof(((struct dfb_wiring *)0)->batch[0]),
	       "the wiring batch fits");

/* Upstream's PTO2SpscQueue::push, Rigtorp's cached-index ring: the
 * producer reads the consumer's index only when its copy says full. */
static bool spsc_push(struct dfb_wiring *w, struct dfb_slot *slot)
{
	uint64_t h = atomic_load_explicit(&w->head, memory_order_relaxed);
	if (h + 1 - w->tail_cached > w->mask) {
		/* acquire: thread 0's reads of the cells it freed happen
		 * before we overwrite them. */
		w->tail_cached = atomic_load_explicit(&w->tail, memory_order_acquire);
		if (h + 1 - w->tail_cached > w->mask)
			return false;
	}
	w->cells[h & w->mask] = slot;
	DFB_PREEMPT(); /* stress: the cell written, not yet published */
	/* release: publishes the cell and the slot's submitted fields to
	 * thread 0's acquire of head. */
	atomic_store_explicit(&w->head, h + 1, memory_order_release);
	return true;
}

static uint32_t spsc_pop_batch(struct dfb_wiring *w, struct dfb_slot **out, uint32_t max)
{
	uint64_t t = atomic_load_explicit(&w->tail, memory_order_relaxed);
	uint64_t avail = w->head_cached - t;
	if (avail == 0) {
		/* acquire: pairs with the orchestrator's release of head. */
		w->head_cached = atomic_load_explicit(&w->head, memory_order_acquire);
		avail = w->head_cached - t;
		if (avail == 0)
			return 0;
	}
	uint32_t n = avail < max ? (uint32_t)avail : max;
	for (uint32_t i = 0; i < n; i++)
		out[i] = w->cells[(t + i) & w->mask];
	/* release: our reads of the cells happen before the orchestrator
	 * reuses them. */
	atomic_store_explicit(&w->tail, t + n, memory_order_release);
	return n;
}

/* Upstream's size(), a backoff hint (acquire loads, as upstream). */
static uint64_t spsc_size(struct dfb_wiring *w)
{
	/* acquire, both: as upstream writes them; only a hint here. */
	uint64_t h = atomic_load_explicit(&w->head, memory_order_acquire);
	uint64_t t = atomic_load_explicit(&w->tail, memory_order_acquire);
	return h - t;
}

bool dfb_wiring_push(struct dfb_runtime *rt, struct dfb_slot *slot)
{
	while (!spsc_push(&rt->wiring, slot)) {
		atomic_store_explicit(&rt->orch_phase, DFB_PH_ORCH_WIRING_FULL, memory_order_relaxed);
		dfb_spin_hint(rt->hint);
		if (dfb_stopped(rt))
			return false;
	}
	return true;
}

/* Upstream's wire_task.  fanin_count is the producers plus one, the
 * wiring's own share, so no producer finishing meanwhile can make the task
 * ready before the wiring has counted the ones already finished. */
static void wire_task(struct dfb_sched *s, struct dfb_slot *slot)
{
	struct dfb_runtime *rt = s->rt;
	const uint32_t need = slot->nfanin + 1;
	slot->fanin_count = need;
	uint32_t early = 0;
	for (uint32_t i = 0; i < slot->nfanin; i++) {
		if (!(slot->fanin[i] & DFB_FANIN_HOLDS_REF)) {
			/* The orchestrator found the producer consumed: it is
			 * finished, and its slot may already be reused. */
			early++;
			continue;
		}
		struct dfb_slot *p = &rt->slots[slot->fanin[i] & ~DFB_FANIN_HOLDS_REF];
		dfb_fanout_lock(rt, p);
		DFB_PREEMPT(); /* stress: holding a producer's fanout lock */
		if (atomic_load_explicit(&p->state, memory_order_relaxed) >= DFB_SLOT_COMPLETED) {
			early++;
		} else if (p->nfanout == rt->cfg.max_fanout) {
			dfb_raise(rt, DFB_ERR_FANOUT_OVERFLOW, p, s->id,
				  "more than max_fanout = %llu consumers",
				  (unsigned long long)rt->cfg.max_fanout);
		} else {
			p->fanout[p->nfanout++] = slot->number;
		}
		dfb_fanout_unlock(p);
	}
	uint32_t init = early + 1;
	DFB_PREEMPT(); /* stress: wired, the count not yet added */
	/* acq_rel: as a producer's increment (complete.c). */
	uint32_t r = atomic_fetch_add_explicit(&slot->fanin_refcount, init, memory_order_acq_rel) + init;
	/* The count we wrote, not the slot's: once our increment is in, the
	 * producers may make the task ready, it may run and its slot be
	 * reused (upstream re-reads ws->fanin_count, which its slot reset
	 * leaves alone; here the orchestrator's reset would zero it). */
	if (r >= need)
		dfb_make_ready(rt, NULL, slot); /* push_ready_routed: the shared queues */
}

uint32_t dfb_wiring_drain(struct dfb_sched *s)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_wiring *w = &rt->wiring;
	uint32_t wired = 0;

	if (w->batch_index >= w->batch_count) {
		/* Backoff: wait for a full batch unless the orchestrator is
		 * done or the backoff limit is reached. */
		bool force = atomic_load_explicit(&rt->orch_done, memory_order_relaxed);
		if (!force && spsc_size(w) < WIRING_BATCH && w->backoff < WIRING_BACKOFF) {
			w->backoff++;
			return 0;
		}
		w->backoff = 0;
		w->batch_count = spsc_pop_batch(w, w->batch, WIRING_BATCH);
		w->batch_index = 0;
		if (w->batch_count == 0)
			return 0;
	}
	dfb_set_phase(s, DFB_PH_WIRING);
	while (w->batch_index < w->batch_count) {
		wire_task(s, w->batch[w->batch_index++]);
		wired++;
	}
	return wired;
}
