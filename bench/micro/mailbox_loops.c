/* Measured loops for the mailbox micro-benchmarks (bench/micro/micro_mailbox.cc).
 *
 * runtime/dfb_mailbox.h uses C11 _Atomic and does not compile as C++, so the
 * loops live here, in C, calling the very inline try_push/try_pop the runtime
 * runs; the C++ side only drives them through these plain functions. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dfb_arch.h"
#include "dfb_mailbox.h"
#include "micro_util.h"

/* Prototypes (the C++ glue repeats them inside extern "C"). */
struct dfb_mailbox *dfb_micro_mailbox_new(uint64_t capacity);
void dfb_micro_mailbox_free(struct dfb_mailbox *mb);
uint64_t dfb_micro_pushpop(struct dfb_mailbox *mb, uint64_t n);
uint64_t dfb_micro_fill_drain(struct dfb_mailbox *mb);
struct dfb_micro_mt;
struct dfb_micro_mt *dfb_micro_mt_new(uint64_t capacity);
void dfb_micro_mt_free(struct dfb_micro_mt *mt);
uint64_t dfb_micro_mt_push(struct dfb_micro_mt *mt, int drainer, uint64_t n,
			   uint64_t *full, uint64_t *cas, uint64_t *popped);
uint64_t dfb_micro_mt_drain(struct dfb_micro_mt *mt);

struct dfb_mailbox *dfb_micro_mailbox_new(uint64_t capacity)
{
	struct dfb_mailbox *mb = aligned_alloc(DFB_CACHELINE, sizeof(*mb));
	if (!mb)
		micro_die("out of memory");
	if (dfb_mailbox_init(mb, capacity) != 0)
		micro_die("dfb_mailbox_init failed");
	return mb;
}

void dfb_micro_mailbox_free(struct dfb_mailbox *mb)
{
	dfb_mailbox_fini(mb);
	free(mb);
}

static inline struct dfb_msg_payload micro_msg(uint64_t i)
{
	struct dfb_msg_payload m = {
		.task_token = i,
		.addr = 0x1000 + i,
		.expected_value = (uint32_t)i,
		.engine = 1,
		.completion_type = 0,
		.kind = DFB_MSG_CONDITION,
	};
	return m;
}

/* n uncontended push+pop pairs on the calling thread.  Returns a checksum of
 * what was popped so the copies cannot be elided. */
uint64_t dfb_micro_pushpop(struct dfb_mailbox *mb, uint64_t n)
{
	uint64_t cas = 0, sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		struct dfb_msg_payload m = micro_msg(i), out;
		if (!dfb_mailbox_try_push(mb, &m, &cas))
			micro_die("uncontended push found the ring full");
		if (!dfb_mailbox_try_pop(mb, &out))
			micro_die("uncontended pop found the ring empty");
		sum += out.task_token;
	}
	if (cas)
		micro_die("uncontended push lost a CAS");
	return sum;
}

/* Push until the ring reports full, then pop everything.  Returns the number
 * of messages that went through (== capacity). */
uint64_t dfb_micro_fill_drain(struct dfb_mailbox *mb)
{
	uint64_t cas = 0, pushed = 0, popped = 0;
	for (;;) {
		struct dfb_msg_payload m = micro_msg(pushed);
		if (!dfb_mailbox_try_push(mb, &m, &cas))
			break;
		pushed++;
	}
	struct dfb_msg_payload out;
	while (dfb_mailbox_try_pop(mb, &out))
		popped++;
	if (pushed != popped || pushed != mb->capacity)
		micro_die("fill/drain count mismatch");
	return popped;
}

/* Multi-threaded push: several producers, one designated drainer (thread 0)
 * that pops after each of its own pushes.  Pops are serialised by a busy
 * try-lock, as the runtime serialises them with the wait list's lock.  A
 * non-drainer that finds the ring full may take the lock and drain itself
 * (counted in *popped); without that, a producer still pushing after thread 0
 * has finished its iterations would wait forever at a full ring. */
struct dfb_micro_mt {
	struct dfb_mailbox mb;
	DFB_ALIGNED atomic_int busy;
};

struct dfb_micro_mt *dfb_micro_mt_new(uint64_t capacity)
{
	struct dfb_micro_mt *mt = aligned_alloc(DFB_CACHELINE, sizeof(*mt));
	if (!mt)
		micro_die("out of memory");
	if (dfb_mailbox_init(&mt->mb, capacity) != 0)
		micro_die("dfb_mailbox_init failed");
	atomic_init(&mt->busy, 0);
	return mt;
}

void dfb_micro_mt_free(struct dfb_micro_mt *mt)
{
	dfb_mailbox_fini(&mt->mb);
	free(mt);
}

static uint64_t mt_try_drain(struct dfb_micro_mt *mt)
{
	int expect = 0;
	if (!atomic_compare_exchange_strong_explicit(&mt->busy, &expect, 1,
						     memory_order_acquire,
						     memory_order_relaxed))
		return 0;
	uint64_t n = 0;
	struct dfb_msg_payload out;
	while (dfb_mailbox_try_pop(&mt->mb, &out))
		n++;
	atomic_store_explicit(&mt->busy, 0, memory_order_release);
	return n;
}

uint64_t dfb_micro_mt_drain(struct dfb_micro_mt *mt)
{
	return mt_try_drain(mt);
}

uint64_t dfb_micro_mt_push(struct dfb_micro_mt *mt, int drainer, uint64_t n,
			   uint64_t *full, uint64_t *cas, uint64_t *popped)
{
	for (uint64_t i = 0; i < n; i++) {
		struct dfb_msg_payload m = micro_msg(i);
		uint64_t since = 0;
		while (!dfb_mailbox_try_push(&mt->mb, &m, cas)) {
			++*full;
			uint64_t got = mt_try_drain(mt);
			*popped += got;
			if (got) {
				since = 0;
				continue;
			}
			micro_stalled(&since, "no progress on a full ring for 10 s");
			dfb_spin_hint(DFB_SPIN_YIELD);
		}
		if (drainer)
			*popped += mt_try_drain(mt);
	}
	return n;
}
