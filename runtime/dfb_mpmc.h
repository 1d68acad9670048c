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

/* Gate hint, any thread; may be stale. */
static inline bool dfb_mpmc_empty(struct dfb_mpmc *q)
{
	return atomic_load_explicit(&q->enq, memory_order_relaxed) ==
	       atomic_load_explicit(&q->deq, memory_order_relaxed);
}

#endif
