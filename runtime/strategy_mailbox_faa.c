/* mailbox-faa: a bounded MPSC ring whose producers claim a cell by
 * fetch-and-add on head (no claim can fail or be retried) and wait on that
 * cell, not on head, until the consumer has freed it; the consumer never
 * reads head, the producers never read tail.  Each cell's seq says what it
 * holds: 2p when it is free for position p, 2p + 1 when position p is
 * published in it.  The FIN, the drain's handling of each message and the
 * transport scenarios are the merged mailbox's (mailbox_fin.h,
 * dfb_mbs_consume).  A FIN whose cell is still full drains the ring when
 * the wait-list lock is free (built in, as mailbox-batch).  Not upstream:
 * a candidate design (docs/MODEL.md, "Strategies beyond upstream").
 *
 * Ordering (all CONDITIONs of a task drained before its NORMAL_DONE): the
 * consumer takes positions in order and stops at the first cell not yet
 * published for its position.  A task's CONDITIONs get their positions
 * (fetch_add, a read-modify-write of head) before their FIN's acq_rel
 * fetch_add in on_subtask_complete; the last FIN takes NORMAL_DONE's
 * position after its own, which happens after theirs, so by the coherence
 * of head it is later. */
#include <stdio.h>
#include <stdlib.h>

#include "dfb_internal.h"
#include "mailbox_fin.h"

struct faa_cell {
	_Atomic uint64_t seq;
	struct dfb_msg_payload p;
	char pad[DFB_CACHELINE - sizeof(uint64_t) - sizeof(struct dfb_msg_payload)];
} __attribute__((aligned(DFB_CACHELINE)));

struct faa_state {
	DFB_ALIGNED _Atomic uint64_t head;   /* producers' fetch_add */
	DFB_ALIGNED _Atomic uint64_t tail;   /* the consumer's; others read it as a hint */
	DFB_ALIGNED struct faa_cell *cells;  /* read-only after init */
	uint64_t capacity, mask;
};

static inline struct faa_state *state(const struct dfb_runtime *rt)
{
	return dfb_sstate(rt);
}

/* Every cell free for its first position; head = tail = 0.  Control
 * thread, with no producer or consumer running. */
static void faa_clear(struct faa_state *q)
{
	for (uint64_t i = 0; i < q->capacity; i++)
		atomic_store_explicit(&q->cells[i].seq, 2 * i, memory_order_relaxed);
	atomic_store_explicit(&q->head, 0, memory_order_relaxed);
	atomic_store_explicit(&q->tail, 0, memory_order_relaxed);
}

/* Fills and publishes position h once its cell is free; `full` is called
 * while it is not (false: give up, the round is stopping). */
static inline bool faa_put(struct faa_state *q, uint64_t h, const struct dfb_msg_payload *m,
			   bool (*full)(void *arg), void *arg)
{
	struct faa_cell *c = &q->cells[h & q->mask];
	/* acquire: pairs with the consumer's release store that freed the
	 * cell, so its read of the previous message happens before our
	 * payload stores. */
	while (atomic_load_explicit(&c->seq, memory_order_acquire) != 2 * h)
		if (!full(arg))
			return false;
	DFB_PREEMPT_CLAIMED(h); /* stress: the cell is ours, not yet published */
	c->p = *m;
	/* release: publishes the payload to the consumer's acquire. */
	atomic_store_explicit(&c->seq, 2 * h + 1, memory_order_release);
	return true;
}

/* The consumer (one at a time: the wait-list holder, or the transport's
 * consumer thread): the next message in position order, if published. */
static inline bool faa_pop(struct faa_state *q, struct dfb_msg_payload *out)
{
	/* relaxed: tail is the consumer's own; consumers are serialised by
	 * the caller's lock. */
	uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
	struct faa_cell *c = &q->cells[t & q->mask];
	/* acquire: pairs with the producer's release of seq (payload). */
	if (atomic_load_explicit(&c->seq, memory_order_acquire) != 2 * t + 1)
		return false;
	*out = c->p;
	DFB_PREEMPT(); /* stress: copied out, the cell not yet freed */
	/* release: our read of the cell happens before the producer of
	 * position t + capacity, which acquires this value, reuses it. */
	atomic_store_explicit(&c->seq, 2 * (t + q->capacity), memory_order_release);
	/* relaxed: only has_pending reads tail, as a hint. */
	atomic_store_explicit(&q->tail, t + 1, memory_order_relaxed);
	return true;
}

static bool fin_full(void *arg)
{
	return dfb_mbs_full(arg, true);
}

static bool push(struct dfb_sched *s, const struct dfb_msg_payload *m)
{
	struct faa_state *q = state(s->rt);
	/* relaxed: the position orders nothing; the cell's seq does. */
	uint64_t h = atomic_fetch_add_explicit(&q->head, 1, memory_order_relaxed);
	return faa_put(q, h, m, fin_full, s);
}

static void faa_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	dfb_mbs_fin(s, core, st, push);
}

static uint32_t faa_drain(struct dfb_sched *s)
{
	struct dfb_msg_payload m;
	uint32_t completed = 0;
	while (faa_pop(state(s->rt), &m)) {
		int r = dfb_mbs_consume(s, &m, NULL);
		if (r < 0)
			break;
		completed += (uint32_t)r;
	}
	return completed;
}

static bool faa_has_pending(struct dfb_runtime *rt)
{
	struct faa_state *q = state(rt);
	/* relaxed, both: the loop gate only decides whether to try the lock. */
	return atomic_load_explicit(&q->tail, memory_order_relaxed) <
	       atomic_load_explicit(&q->head, memory_order_relaxed);
}

static int faa_init(struct dfb_runtime *rt)
{
	struct faa_state *q = state(rt);
	q->capacity = rt->cfg.mailbox_capacity;
	q->mask = q->capacity - 1;
	q->cells = aligned_alloc(DFB_CACHELINE, q->capacity * sizeof(*q->cells));
	if (!q->cells)
		return -1;
	faa_clear(q);
	return 0;
}

static void faa_fini(struct dfb_runtime *rt)
{
	if (dfb_sstate(rt))
		free(state(rt)->cells);
}

/* A failed round can leave messages, or a claimed cell never published:
 * the ring starts over. */
static void faa_reset(struct dfb_runtime *rt)
{
	faa_clear(state(rt));
}

static void faa_dump(struct dfb_runtime *rt, char *buf, size_t len)
{
	struct faa_state *q = state(rt);
	snprintf(buf, len, "ring head %llu, tail %llu, capacity %llu",
		 (unsigned long long)atomic_load(&q->head), (unsigned long long)atomic_load(&q->tail),
		 (unsigned long long)q->capacity);
}

static bool faa_check_drained(struct dfb_runtime *rt, char *msg, size_t len)
{
	if (!faa_has_pending(rt))
		return true;
	snprintf(msg, len, "mailbox-faa ring not empty");
	return false;
}

/* Transport scenarios: a push cannot be refused once its position is
 * taken, so one call takes a position and waits for its cell, counting
 * each look at a full cell as a full retry. */
struct transport_wait {
	struct dfb_runtime *rt;
	struct dfb_counters *c;
};

static bool transport_full(void *arg)
{
	struct transport_wait *w = arg;
	w->c->mailbox_full_retries++;
	dfb_spin_hint(w->rt->hint);
	return !dfb_stopped(w->rt);
}

static bool faa_transport_push(struct dfb_runtime *rt, int producer, const struct dfb_msg_payload *m,
			       struct dfb_counters *c)
{
	(void)producer; /* one transport for every producer */
	struct faa_state *q = state(rt);
	struct transport_wait w = {rt, c};
	/* relaxed: as push above. */
	uint64_t h = atomic_fetch_add_explicit(&q->head, 1, memory_order_relaxed);
	return faa_put(q, h, m, transport_full, &w);
}

static uint64_t faa_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
				    uint64_t cap, struct dfb_counters *c)
{
	(void)c;
	uint64_t n = 0;
	while (n < cap && faa_pop(state(rt), &buf[n]))
		n++;
	return n;
}

const struct dfb_strategy dfb_strategy_mailbox_faa = {
	.name = "mailbox-faa",
	.summary = "a bounded ring claimed by fetch-and-add, each producer waiting on its own cell; "
		   "not upstream",
	.state_size = sizeof(struct faa_state),
	.init = faa_init,
	.fini = faa_fini,
	.reset = faa_reset,
	.on_fin = faa_on_fin,
	.drain = faa_drain,
	.has_pending = faa_has_pending,
	.transport_push = faa_transport_push,
	.transport_drain = faa_transport_drain,
	.claims_cells = true,
	.dump = faa_dump,
	.check_drained = faa_check_drained,
};
