/* Lock-free MPSC completion mailbox (upstream PR #895's
 * AICoreCompletionMailbox), public type plus inline push/pop so that the
 * micro-benchmarks measure exactly the code the runtime runs.
 *
 * Any number of producers (FIN-handling scheduler threads) push; one consumer
 * at a time pops.  Callers guarantee the single consumer: the runtime only
 * pops while holding the async wait list's busy lock. */
#ifndef DFB_MAILBOX_H
#define DFB_MAILBOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfb_arch.h"
#include "dfb_preempt.h"

/* Upstream's kinds and values (MSG_KIND_CONDITION 0, TASK_NORMAL_DONE 1). */
enum dfb_msg_kind {
	DFB_MSG_CONDITION = 0,        /* one deferred slab entry */
	DFB_MSG_TASK_NORMAL_DONE = 1, /* all subtasks FINed; addr = slot pointer */
};

/* The payload a producer hands over: upstream's message after seq, field
 * for field (AICoreCompletionMailboxMessage). */
struct dfb_msg_payload {
	uint64_t task_token;
	uint64_t addr;
	uint32_t expected_value;
	uint32_t engine;
	int32_t completion_type;
	uint32_t kind;
};

/* One 64-byte ring cell: seq is the publication word, the rest is payload.
 * seq holds the absolute claim position + 1, so a cell's generations
 * disambiguate themselves and the consumer never resets it. */
struct dfb_msg {
	_Atomic uint64_t seq;
	struct dfb_msg_payload p;
	char pad[DFB_CACHELINE - sizeof(uint64_t) - sizeof(struct dfb_msg_payload)];
} __attribute__((aligned(DFB_CACHELINE)));

_Static_assert(sizeof(struct dfb_msg) == DFB_CACHELINE, "message is one cache line");

struct dfb_mailbox {
	/* Producers hammer head; the consumer owns tail: separate lines so a
	 * claim does not invalidate the consumer's line and vice versa. */
	DFB_ALIGNED _Atomic uint64_t head;
	/* Producers' copy of tail (cached_tail deviation): on the producers'
	 * own line, so a push reads the consumer's line only when the copy
	 * says full. */
	_Atomic uint64_t tail_cache;
	DFB_ALIGNED _Atomic uint64_t tail;
	/* Read-only after init, shared by everyone. */
	DFB_ALIGNED uint64_t capacity;
	uint64_t mask;
	struct dfb_msg *cells;
	bool refresh_stale_head;        /* see dfb_mailbox_try_push */
	bool cached_tail;               /* see dfb_mailbox_try_push_cached */
};

/* Allocates a ring of `capacity` cells (a power of two >= 2), with
 * refresh_stale_head off (upstream's behaviour).
 * Any thread, before sharing.  Returns 0, or -1 (errno EINVAL/ENOMEM). */
int dfb_mailbox_init(struct dfb_mailbox *mb, uint64_t capacity);
/* Frees the cells.  Only after every user has stopped. */
void dfb_mailbox_fini(struct dfb_mailbox *mb);

/* Fills the claimed cell h and publishes it.  Field by field: a struct
 * copy reloads the caller's just-written payload in 8-byte pieces, which
 * stalls on store forwarding when the caller wrote it in smaller stores. */
static inline void dfb_mailbox_publish(struct dfb_mailbox *mb, uint64_t h,
				       const struct dfb_msg_payload *m)
{
	struct dfb_msg *c = &mb->cells[h & mb->mask];
	c->p.task_token = m->task_token;
	c->p.addr = m->addr;
	c->p.expected_value = m->expected_value;
	c->p.engine = m->engine;
	c->p.completion_type = m->completion_type;
	c->p.kind = m->kind;
	/* release: publishes the payload to the consumer's acquire of seq. */
	atomic_store_explicit(&c->seq, h + 1, memory_order_release);
}

/* The push; `cached` is a compile-time constant in both callers below, so
 * each gets only its own path.  Like upstream's try_push_*, every attempt
 * re-reads head and tail; a lost claim race retries at once. */
static inline bool dfb_mailbox_push_impl(struct dfb_mailbox *mb,
					 const struct dfb_msg_payload *m,
					 uint64_t *cas_retries, const bool cached)
{
	uint64_t h;
	for (;;) {
		h = atomic_load_explicit(&mb->head, memory_order_relaxed);
		/* acquire: pairs with the consumer's release store of tail
		 * (or, for the cached copy, with the release store of it
		 * below, which carries that ordering forward), so the
		 * consumer's copy-out of the cell we are about to reuse
		 * happens before our payload stores into it. */
		uint64_t t = atomic_load_explicit(cached ? &mb->tail_cache : &mb->tail,
						  memory_order_acquire);
		if (cached && h - t >= mb->capacity) {
			/* acquire: as above, from the consumer's own tail. */
			t = atomic_load_explicit(&mb->tail, memory_order_acquire);
			/* release: hands that ordering on to the producers
			 * that acquire the copy. */
			atomic_store_explicit(&mb->tail_cache, t, memory_order_release);
		}
		if (h - t >= mb->capacity) {
			/* A head older than the tail just read (other producers
			 * and the consumer moved on meanwhile) underflows and
			 * looks full.  Upstream reports that as full, a spurious
			 * skipped push; refresh_stale_head retries instead (a
			 * named deviation, off by default).  Full path only. */
			if ((int64_t)(h - t) < 0 && mb->refresh_stale_head)
				continue;
			return false;
		}
		/* relaxed: the claim orders nothing by itself; publication is
		 * the seq store in dfb_mailbox_publish. */
		if (atomic_compare_exchange_weak_explicit(&mb->head, &h, h + 1,
							  memory_order_relaxed,
							  memory_order_relaxed))
			break;
		++*cas_retries;
	}
	DFB_PREEMPT_CLAIMED(h); /* stress: between the claim and the publish */
	dfb_mailbox_publish(mb, h, m);
	return true;
}

/* Producer side, any thread: upstream's push, which reads the consumer's
 * tail on every call.  Returns false when the ring is full: the caller
 * counts a skipped push (upstream's mpsc_skipped_count), spin-hints and
 * retries.  *cas_retries counts lost claim races. */
static inline bool dfb_mailbox_try_push(struct dfb_mailbox *mb,
					const struct dfb_msg_payload *m,
					uint64_t *cas_retries)
{
	return dfb_mailbox_push_impl(mb, m, cas_retries, false);
}

/* The cached_tail deviation of dfb_mailbox_try_push (same contract): the
 * full check first uses the producers' copy of tail and reads the
 * consumer's tail only when the copy says full, so a push does not pull the
 * consumer's line across cores on every message.  A stale copy only makes
 * the check conservative. */
static inline bool dfb_mailbox_try_push_cached(struct dfb_mailbox *mb,
					       const struct dfb_msg_payload *m,
					       uint64_t *cas_retries)
{
	return dfb_mailbox_push_impl(mb, m, cas_retries, true);
}

/* Producer side, any thread: claims k consecutive cells (1 <= k <=
 * capacity) with one CAS on head, the claim the mailbox-batch strategy
 * makes for all of a FIN's messages.  On success *first is the first
 * claimed position; the caller fills and publishes each with
 * dfb_mailbox_publish (in any order: the consumer stops at the first
 * unpublished cell, so claim order is kept).  False when fewer than k
 * cells are free.  Same ordering argument as dfb_mailbox_push_impl. */
static inline bool dfb_mailbox_try_claim(struct dfb_mailbox *mb, uint64_t k, uint64_t *first,
					 uint64_t *cas_retries)
{
	for (;;) {
		uint64_t h = atomic_load_explicit(&mb->head, memory_order_relaxed);
		/* acquire: pairs with the consumer's release store of tail, so
		 * its copy-out of every cell we reuse happens before our
		 * payload stores into them. */
		uint64_t t = atomic_load_explicit(&mb->tail, memory_order_acquire);
		if ((int64_t)(h - t) < 0)
			continue; /* a head older than that tail: re-read both */
		if (h - t + k > mb->capacity)
			return false;
		/* relaxed: the claim orders nothing by itself; publication is
		 * each cell's seq store. */
		if (atomic_compare_exchange_weak_explicit(&mb->head, &h, h + k,
							  memory_order_relaxed,
							  memory_order_relaxed)) {
			/* (The caller's publish loop holds the claim point,
			 * DFB_PREEMPT_CLAIMED, before each cell.) */
			*first = h;
			return true;
		}
		++*cas_retries;
	}
}

/* Consumer side, one thread at a time: upstream's try_pop.  Copies the next
 * message in claim order into *out; returns false when the ring is empty
 * (tail has reached the head it reads) or at the first unpublished cell (a
 * producer that claimed but has not yet published stops the drain there,
 * keeping claim order). */
static inline bool dfb_mailbox_try_pop(struct dfb_mailbox *mb,
				       struct dfb_msg_payload *out)
{
	/* relaxed: tail is written only by the consumer, and consumers are
	 * serialised by the caller's lock, whose acquire orders this load. */
	uint64_t t = atomic_load_explicit(&mb->tail, memory_order_relaxed);
	/* relaxed: head only bounds the scan; the seq acquire below is what
	 * publishes a cell. */
	uint64_t h = atomic_load_explicit(&mb->head, memory_order_relaxed);
	if (t >= h)
		return false;
	struct dfb_msg *c = &mb->cells[t & mb->mask];
	/* acquire: pairs with the producer's release of seq (payload). */
	if (atomic_load_explicit(&c->seq, memory_order_acquire) != t + 1)
		return false;
	out->task_token = c->p.task_token;
	out->addr = c->p.addr;
	out->expected_value = c->p.expected_value;
	out->engine = c->p.engine;
	out->completion_type = c->p.completion_type;
	out->kind = c->p.kind;
	DFB_PREEMPT(); /* stress: copied out, the cell not yet freed */
	/* release: our read of the cell happens before a producer that
	 * acquires this tail value reuses it. */
	atomic_store_explicit(&mb->tail, t + 1, memory_order_release);
	return true;
}

/* Loop-gate hint, any thread: upstream's has_pending.  May be stale
 * either way; the gate only decides whether to try the lock. */
static inline bool dfb_mailbox_has_pending(struct dfb_mailbox *mb)
{
	/* acquire, both: as upstream writes it; the gate orders nothing. */
	return atomic_load_explicit(&mb->tail, memory_order_acquire) <
	       atomic_load_explicit(&mb->head, memory_order_acquire);
}

#endif
