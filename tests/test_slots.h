/* A task slot as the orchestrator leaves it, for the tests that drive the
 * runtime's internals by hand (test_register.c, test_sched.c).  Control
 * thread only, on a runtime no round is running on. */
#ifndef DFB_TEST_SLOTS_H
#define DFB_TEST_SLOTS_H

#include <stdatomic.h>

#include "dfb_internal.h"

/* Slot i holding task `token`: PENDING, submitted (not wired: fanin_count
 * 0), `blocks` blocks of `mask`, a payload, no condition, a kernel of
 * kernel_ns, the scope's and its own fanout reference. */
static inline struct dfb_slot *tu_slot(struct dfb_runtime *rt, uint32_t i, uint64_t token,
				       uint8_t mask, uint16_t blocks, uint64_t kernel_ns)
{
	struct dfb_slot *s = &rt->slots[i];
	atomic_store(&s->token, token);
	s->index = i;
	s->kernel_ns = kernel_ns;
	s->mask = mask;
	s->blocks = blocks;
	s->total_required_subtasks = blocks * (uint32_t)__builtin_popcount(mask);
	s->conditions = 0;
	s->payload = 1;
	s->next_block = 0;
	s->nfanin = 0;
	s->nfanout = 0;
	s->fanin_count = 0;
	atomic_store(&s->completed_subtasks, 0);
	atomic_store(&s->fanin_refcount, 0);
	atomic_store(&s->fanout_rc, 2 * DFB_FANOUT_ONE_COUNT);
	atomic_store(&s->state, DFB_SLOT_PENDING);
	atomic_store(&s->fanout_lock, 0);
	atomic_store(&s->any_subtask_deferred, false);
	atomic_store(&s->closed, 0);
	return s;
}

#endif
