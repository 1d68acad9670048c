/* mailbox-spsc: one single-producer ring per scheduler thread (per
 * producer in a transport scenario), which the consumer drains in turn,
 * so that a preempted producer delays only its own messages.  The FIN and
 * each message's handling are the merged mailbox's (mailbox_fin.h,
 * dfb_mbs_consume); a FIN facing its full ring drains every ring when the
 * wait-list lock is free (built in).  Cells as mailbox-faa's: seq is 2p when
 * the cell is free for position p, 2p + 1 when p is published in it.  Not
 * upstream: a candidate design (docs/MODEL.md, "Strategies beyond
 * upstream").
 *
 * Ordering.  With one ring per thread there is no common claim order: a
 * task's CONDITIONs can sit in thread A's ring while its NORMAL_DONE, from
 * thread B, is already in B's.  What holds is that A published them before
 * its acq_rel fetch_add in on_subtask_complete, and B published NORMAL_DONE
 * after its own, so a consumer that has read NORMAL_DONE (acquire) sees
 * them, in any pass over the rings that starts after that read.  So a drain
 * (1) takes everything from every ring, handling CONDITIONs at once and
 * keeping NORMAL_DONEs aside; (2) handles the NORMAL_DONEs kept by the
 * previous drain, whose CONDITIONs step (1) has now drained; (3) keeps this
 * drain's NORMAL_DONEs for the next.  has_pending stays true while any are
 * kept, so the next drain comes. */
#include <stdio.h>
#include <stdlib.h>

#include "dfb_internal.h"
#include "mailbox_fin.h"

struct spsc_cell {
	_Atomic uint64_t seq;
	struct dfb_msg_payload p;
	char pad[DFB_CACHELINE - sizeof(uint64_t) - sizeof(struct dfb_msg_payload)];
} __attribute__((aligned(DFB_CACHELINE)));

struct spsc_ring {
	/* The producer's next position; others read it as a hint only. */
	DFB_ALIGNED _Atomic uint64_t head;
	/* The consumer's next position; others read it as a hint only. */
	DFB_ALIGNED _Atomic uint64_t tail;
	struct spsc_cell *cells;
};

struct spsc_state {
	uint32_t nrings;
	uint64_t capacity, mask;
	struct spsc_ring *rings;
	/* The consumer's (under the wait-list lock): NORMAL_DONEs kept from
	 * the previous drain, and this drain's. */
	struct dfb_msg_payload *held, *fresh;
	uint64_t held_cap;
	DFB_ALIGNED _Atomic uint64_t nheld; /* read by has_pending, a hint */
};

static inline struct spsc_state *state(const struct dfb_runtime *rt)
{
	return dfb_sstate(rt);
}

static void clear(struct spsc_state *q)
{
	for (uint32_t r = 0; r < q->nrings; r++) {
		for (uint64_t i = 0; i < q->capacity; i++)
			atomic_store_explicit(&q->rings[r].cells[i].seq, 2 * i, memory_order_relaxed);
		atomic_store_explicit(&q->rings[r].head, 0, memory_order_relaxed);
		atomic_store_explicit(&q->rings[r].tail, 0, memory_order_relaxed);
	}
	atomic_store_explicit(&q->nheld, 0, memory_order_relaxed);
}

/* The producer of ring r: one attempt; false when its next cell is not
 * free yet. */
static inline bool ring_push(struct spsc_state *q, uint32_t r, const struct dfb_msg_payload *m)
{
	struct spsc_ring *g = &q->rings[r];
	/* relaxed: head is this producer's own. */
	uint64_t h = atomic_load_explicit(&g->head, memory_order_relaxed);
	struct spsc_cell *c = &g->cells[h & q->mask];
	/* acquire: pairs with the consumer's release that freed the cell. */
	if (atomic_load_explicit(&c->seq, memory_order_acquire) != 2 * h)
		return false;
	DFB_PREEMPT_CLAIMED(h); /* stress: the cell is ours, not yet published */
	c->p = *m;
	/* release: publishes the payload to the consumer's acquire. */
	atomic_store_explicit(&c->seq, 2 * h + 1, memory_order_release);
	/* relaxed: head is only a hint to others (has_pending). */
	atomic_store_explicit(&g->head, h + 1, memory_order_relaxed);
	return true;
}

/* The consumer: the next published message of ring r, if any. */
static inline bool ring_pop(struct spsc_state *q, uint32_t r, struct dfb_msg_payload *out)
{
	struct spsc_ring *g = &q->rings[r];
	/* relaxed: tail is the consumer's own; consumers are serialised. */
	uint64_t t = atomic_load_explicit(&g->tail, memory_order_relaxed);
	struct spsc_cell *c = &g->cells[t & q->mask];
	/* acquire: pairs with the producer's release of seq (payload). */
	if (atomic_load_explicit(&c->seq, memory_order_acquire) != 2 * t + 1)
		return false;
	*out = c->p;
	DFB_PREEMPT(); /* stress: copied out, the cell not yet freed */
	/* release: our read happens before the producer reuses the cell. */
	atomic_store_explicit(&c->seq, 2 * (t + q->capacity), memory_order_release);
	/* relaxed: a hint to others (has_pending). */
	atomic_store_explicit(&g->tail, t + 1, memory_order_relaxed);
	return true;
}

static bool push(struct dfb_sched *s, const struct dfb_msg_payload *m)
{
	struct spsc_state *q = state(s->rt);
	while (!ring_push(q, (uint32_t)s->id, m))
		if (!dfb_mbs_full(s, true))
			return false;
	return true;
}

static void spsc_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	dfb_mbs_fin(s, core, st, push);
}

static uint32_t spsc_drain(struct dfb_sched *s)
{
	struct dfb_runtime *rt = s->rt;
	struct spsc_state *q = state(rt);
	struct dfb_msg_payload m;
	uint32_t completed = 0;
	uint64_t nfresh = 0;
	/* (1) every ring; CONDITIONs now, NORMAL_DONEs kept. */
	for (uint32_t r = 0; r < q->nrings; r++)
		while (ring_pop(q, r, &m)) {
			if (m.kind == DFB_MSG_TASK_NORMAL_DONE) {
				if (nfresh == q->held_cap) {
					dfb_raise(rt, DFB_ERR_INVARIANT, NULL, s->id,
						  "more than %llu NORMAL_DONEs kept",
						  (unsigned long long)q->held_cap);
					return completed;
				}
				q->fresh[nfresh++] = m;
				continue;
			}
			if (dfb_mbs_consume(s, &m, NULL) < 0)
				return completed;
		}
	/* (2) the previous drain's NORMAL_DONEs: their CONDITIONs are in. */
	uint64_t nheld = atomic_load_explicit(&q->nheld, memory_order_relaxed);
	for (uint64_t i = 0; i < nheld; i++) {
		int r = dfb_mbs_consume(s, &q->held[i], NULL);
		if (r < 0)
			return completed;
		completed += (uint32_t)r;
	}
	/* (3) this drain's, for the next. */
	struct dfb_msg_payload *t = q->held;
	q->held = q->fresh;
	q->fresh = t;
	/* relaxed: a hint to the loop gate; the lock orders the rest. */
	atomic_store_explicit(&q->nheld, nfresh, memory_order_relaxed);
	return completed;
}

static bool spsc_has_pending(struct dfb_runtime *rt)
{
	struct spsc_state *q = state(rt);
	/* relaxed, all: the loop gate only decides whether to try the lock. */
	if (atomic_load_explicit(&q->nheld, memory_order_relaxed))
		return true;
	for (uint32_t r = 0; r < q->nrings; r++)
		if (atomic_load_explicit(&q->rings[r].tail, memory_order_relaxed) <
		    atomic_load_explicit(&q->rings[r].head, memory_order_relaxed))
			return true;
	return false;
}

static int spsc_init(struct dfb_runtime *rt)
{
	struct spsc_state *q = state(rt);
	q->nrings = rt->shape->transport ? (uint32_t)rt->cfg.producers : rt->nsched_all;
	q->capacity = rt->cfg.mailbox_capacity;
	q->mask = q->capacity - 1;
	/* At most every task in the rings' windows is waiting for its
	 * NORMAL_DONE at once. */
	q->held_cap = rt->cfg.window * rt->cfg.rings;
	q->rings = aligned_alloc(DFB_CACHELINE, q->nrings * sizeof(*q->rings));
	q->held = calloc(q->held_cap, sizeof(*q->held));
	q->fresh = calloc(q->held_cap, sizeof(*q->fresh));
	if (!q->rings || !q->held || !q->fresh)
		return -1;
	for (uint32_t r = 0; r < q->nrings; r++)
		q->rings[r].cells = NULL;
	for (uint32_t r = 0; r < q->nrings; r++)
		if (!(q->rings[r].cells = aligned_alloc(DFB_CACHELINE,
							q->capacity * sizeof(struct spsc_cell))))
			return -1;
	clear(q);
	return 0;
}

static void spsc_fini(struct dfb_runtime *rt)
{
	struct spsc_state *q = dfb_sstate(rt);
	if (!q)
		return;
	for (uint32_t r = 0; q->rings && r < q->nrings; r++)
		free(q->rings[r].cells);
	free(q->rings);
	free(q->held);
	free(q->fresh);
}

static void spsc_reset(struct dfb_runtime *rt)
{
	clear(state(rt));
}

static void spsc_dump(struct dfb_runtime *rt, char *buf, size_t len)
{
	struct spsc_state *q = state(rt);
	int o = snprintf(buf, len, "%llu NORMAL_DONEs kept;",
			 (unsigned long long)atomic_load(&q->nheld));
	for (uint32_t r = 0; r < q->nrings && r < 8 && o > 0 && (size_t)o < len; r++)
		o += snprintf(buf + o, len - (size_t)o, " ring %u head %llu tail %llu;", r,
			      (unsigned long long)atomic_load(&q->rings[r].head),
			      (unsigned long long)atomic_load(&q->rings[r].tail));
}

static bool spsc_check_drained(struct dfb_runtime *rt, char *msg, size_t len)
{
	if (!spsc_has_pending(rt))
		return true;
	snprintf(msg, len, "mailbox-spsc rings not empty or NORMAL_DONEs kept");
	return false;
}

static bool spsc_transport_push(struct dfb_runtime *rt, int producer,
				const struct dfb_msg_payload *m, struct dfb_counters *c)
{
	bool ok = ring_push(state(rt), (uint32_t)producer, m);
	c->mailbox_full_retries += !ok;
	return ok;
}

/* Each producer's messages in order; the rings in turn. */
static uint64_t spsc_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
				     uint64_t cap, struct dfb_counters *c)
{
	(void)c;
	struct spsc_state *q = state(rt);
	uint64_t n = 0;
	for (uint32_t r = 0; r < q->nrings; r++)
		while (n < cap && ring_pop(q, r, &buf[n]))
			n++;
	return n;
}

const struct dfb_strategy dfb_strategy_mailbox_spsc = {
	.name = "mailbox-spsc",
	.summary = "one single-producer ring per scheduler thread, drained in turn; not upstream",
	.state_size = sizeof(struct spsc_state),
	.init = spsc_init,
	.fini = spsc_fini,
	.reset = spsc_reset,
	.on_fin = spsc_on_fin,
	.drain = spsc_drain,
	.has_pending = spsc_has_pending,
	.transport_push = spsc_transport_push,
	.transport_drain = spsc_transport_drain,
	.claims_cells = true,
	.dump = spsc_dump,
	.check_drained = spsc_check_drained,
};
