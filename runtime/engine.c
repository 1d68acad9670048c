/* The thread engine: stores to condition counters when their due time
 * passes, as a DMA or RDMA engine's completion write would. */
#include <stdlib.h>

#include "dfb_internal.h"

int dfb_spsc_init(struct dfb_spsc *q, uint64_t cap)
{
	uint64_t c = 2;
	while (c < cap)
		c <<= 1;
	q->cells = calloc(c, sizeof(*q->cells));
	if (!q->cells)
		return -1;
	q->mask = c - 1;
	atomic_init(&q->head, 0);
	atomic_init(&q->tail, 0);
	return 0;
}

void dfb_spsc_fini(struct dfb_spsc *q)
{
	free(q->cells);
	q->cells = NULL;
}

int dfb_heap_init(struct dfb_runtime *rt)
{
	rt->heap_cap = 0;
	for (uint32_t i = 0; i < rt->nsched_all; i++)
		rt->heap_cap += rt->sched[i].engine_q.mask + 1;
	rt->heap = calloc(rt->heap_cap, sizeof(*rt->heap));
	return rt->heap ? 0 : -1;
}

static void heap_push(struct dfb_runtime *rt, const struct dfb_engine_req *r)
{
	uint64_t i = rt->heap_len++;
	while (i > 0) {
		uint64_t p = (i - 1) / 2;
		if (rt->heap[p].due_ns <= r->due_ns)
			break;
		rt->heap[i] = rt->heap[p];
		i = p;
	}
	rt->heap[i] = *r;
}

static void heap_pop(struct dfb_runtime *rt)
{
	struct dfb_engine_req last = rt->heap[--rt->heap_len];
	uint64_t i = 0, n = rt->heap_len;
	for (;;) {
		uint64_t l = 2 * i + 1, m = i;
		if (l < n && rt->heap[l].due_ns < last.due_ns)
			m = l;
		if (l + 1 < n && rt->heap[l + 1].due_ns < (m == i ? last.due_ns : rt->heap[m].due_ns))
			m = l + 1;
		if (m == i)
			break;
		rt->heap[i] = rt->heap[m];
		i = m;
	}
	if (n)
		rt->heap[i] = last;
}

void *dfb_engine_main(void *arg)
{
	struct dfb_runtime *rt = arg;
	uint64_t total = rt->cfg.tasks;

	dfb_thread_bind(rt, DFB_ROLE_ENGINE, 0); /* placement (topology.c) */
	while (!dfb_stopped(rt)) {
		bool busy = false;
		for (uint32_t i = 0; i < rt->nsched_all && rt->heap_len < rt->heap_cap; i++) {
			struct dfb_spsc *q = &rt->sched[i].engine_q;
			uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
			/* acquire: pairs with the scheduler's release of head. */
			uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
			if (t == h)
				continue;
			while (t != h && rt->heap_len < rt->heap_cap)
				heap_push(rt, &q->cells[t++ & q->mask]);
			/* release: our reads of the cells happen before the
			 * scheduler overwrites them. */
			atomic_store_explicit(&q->tail, t, memory_order_release);
			busy = true;
		}
		uint64_t now = dfb_now_ns();
		while (rt->heap_len && rt->heap[0].due_ns <= now) {
			/* release: whatever the engine "moved" is visible
			 * to the consumer that acquires the counter. */
			atomic_store_explicit(rt->heap[0].counter, rt->heap[0].value,
					      memory_order_release);
			heap_pop(rt);
			atomic_fetch_add_explicit(&rt->engine_fired, 1, memory_order_relaxed);
			busy = true;
		}
		if (!busy) {
			if (atomic_load_explicit(&rt->consumed, memory_order_relaxed) == total)
				break;
			dfb_spin_hint(rt->hint);
		}
	}
	return NULL;
}
