/* Bounded MPMC queue of pointers (Vyukov's per-cell sequence design) for the
 * ready queues: any scheduler thread or the orchestrator pushes, any
 * scheduler thread pops.  Sized to the task window, so a push cannot find
 * it full while every queued item is a live slot. */
#ifndef DFB_MPMC_H
#define DFB_MPMC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dfb_arch.h"
#include "dfb_preempt.h"

struct dfb_mpmc_cell {
	_Atomic uint64_t seq;
	void *data;
};

struct dfb_mpmc {
	DFB_ALIGNED _Atomic uint64_t enq;
	DFB_ALIGNED _Atomic uint64_t deq;
	DFB_ALIGNED uint64_t mask;
	struct dfb_mpmc_cell *cells;
};

int dfb_mpmc_init(struct dfb_mpmc *q, uint64_t capacity);
void dfb_mpmc_fini(struct dfb_mpmc *q);

static inline bool dfb_mpmc_push(struct dfb_mpmc *q, void *data)
{
	uint64_t pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
	for (;;) {
		struct dfb_mpmc_cell *c = &q->cells[pos & q->mask];
		/* acquire: the popper that freed this cell finished reading
		 * it (pairs with its release of seq). */
		uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		int64_t dif = (int64_t)(seq - pos);
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->enq, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				DFB_PREEMPT(); /* stress: claimed, not yet published */
				c->data = data;
				/* release: publishes data (and the slot
				 * it points to) to the popper's acquire. */
				atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
				return true;
			}
		} else if (dif < 0) {
			return false;
		} else {
			pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
		}
	}
}

static inline void *dfb_mpmc_pop(struct dfb_mpmc *q)
{
	/* Upstream's fast path: skip the cell when the queue is clearly
	 * empty (relaxed: a hint). */
	if (atomic_load_explicit(&q->deq, memory_order_relaxed) >=
	    atomic_load_explicit(&q->enq, memory_order_relaxed))
		return NULL;
	uint64_t pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
	for (;;) {
		struct dfb_mpmc_cell *c = &q->cells[pos & q->mask];
		/* acquire: pairs with the pusher's release of seq. */
		uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		int64_t dif = (int64_t)(seq - (pos + 1));
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->deq, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				void *data = c->data;
				/* release: our read of data happens before a
				 * pusher reuses the cell. */
				atomic_store_explicit(&c->seq, pos + q->mask + 1,
						      memory_order_release);
				return data;
			}
		} else if (dif < 0) {
			return NULL;
		} else {
			pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
		}
	}
}

/* Upstream's pop_batch: claims a run of up to max published cells with one
 * CAS; returns how many it took. */
static inline unsigned dfb_mpmc_pop_batch(struct dfb_mpmc *q, void **out, unsigned max)
{
	uint64_t pos;
	unsigned n;
	for (;;) {
		pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
		n = 0;
		bool retry = false;
		while (n < max) {
			struct dfb_mpmc_cell *c = &q->cells[(pos + n) & q->mask];
			/* acquire: pairs with the pusher's release of seq. */
			uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
			int64_t dif = (int64_t)(seq - (pos + n + 1));
			if (dif == 0) {
				n++;
				continue;
			}
			retry = dif > 0; /* another popper moved on: start over */
			break;
		}
		if (retry)
			continue;
		if (n == 0)
			return 0;
		if (atomic_compare_exchange_weak_explicit(&q->deq, &pos, pos + n,
							  memory_order_relaxed, memory_order_relaxed))
			break;
	}
	for (unsigned i = 0; i < n; i++) {
		struct dfb_mpmc_cell *c = &q->cells[(pos + i) & q->mask];
		out[i] = c->data;
		/* release: our read of data happens before a pusher reuses
		 * the cell. */
		atomic_store_explicit(&c->seq, pos + i + q->mask + 1, memory_order_release);
	}
	return n;
}

/* Upstream's push_batch: reserves n cells with one CAS once every one of
 * them is free, then publishes them in order.  False, with nothing pushed,
 * when a cell is not free yet (a popper still reading it, or the queue
 * full): the caller retries with its own bound (dfb_ready_push_batch). */
static inline bool dfb_mpmc_try_push_batch(struct dfb_mpmc *q, void *const *items, unsigned n)
{
	if (n == 0)
		return true;
	uint64_t pos;
	for (;;) {
		pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
		bool ready = true;
		for (unsigned i = 0; i < n && ready; i++) {
			struct dfb_mpmc_cell *c = &q->cells[(pos + i) & q->mask];
			/* acquire: the popper that freed the cell finished
			 * reading it. */
			ready = atomic_load_explicit(&c->seq, memory_order_acquire) == pos + i;
		}
		if (!ready)
			return false;
		if (atomic_compare_exchange_weak_explicit(&q->enq, &pos, pos + n,
							  memory_order_relaxed, memory_order_relaxed))
			break;
	}
	for (unsigned i = 0; i < n; i++) {
		struct dfb_mpmc_cell *c = &q->cells[(pos + i) & q->mask];
		c->data = items[i];
		/* release: publishes data to the popper's acquire. */
		atomic_store_explicit(&c->seq, pos + i + 1, memory_order_release);
	}
	return true;
}

/* Upstream's size(): a relaxed snapshot, a hint. */
static inline uint64_t dfb_mpmc_size(struct dfb_mpmc *q)
{
	uint64_t e = atomic_load_explicit(&q->enq, memory_order_relaxed);
	uint64_t d = atomic_load_explicit(&q->deq, memory_order_relaxed);
	return e >= d ? e - d : 0;
}

/* Gate hint, any thread; may be stale. */
static inline bool dfb_mpmc_empty(struct dfb_mpmc *q)
{
	return atomic_load_explicit(&q->enq, memory_order_relaxed) ==
	       atomic_load_explicit(&q->deq, memory_order_relaxed);
}

#endif
