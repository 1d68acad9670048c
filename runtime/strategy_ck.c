/* ck: ConcurrencyKit's ck_ring in its MPSC mode as the mailbox.  The FIN
 * and each message's handling are the merged mailbox's (mailbox_fin.h,
 * dfb_mbs_consume); only the ring differs: ck_ring_enqueue_mpsc claims a
 * slot with a CAS on p_head, copies the message into the ring's own array
 * (no cell per message: 48-byte messages back to back) and then waits for
 * the producers before it to publish, in claim order, by moving p_tail;
 * the consumer (the wait-list holder) reads up to p_tail and moves c_head.
 * A ring of mailbox_capacity slots holds mailbox_capacity - 1 messages;
 * the wait for earlier producers is deferbench's (enqueue, below).
 * A FIN facing a full ring drains it when the wait-list lock is free
 * (built in, as mailbox-batch's).  Not upstream: an established queue
 * (docs/MODEL.md, "Strategies beyond upstream").
 *
 * Ordering.  Publication is in claim order (p_tail moves past a slot only
 * after every earlier slot), and the consumer reads in that order, so the
 * merged mailbox's argument holds as it is: a task's CONDITIONs are
 * claimed before its FIN's acq_rel fetch_add, its NORMAL_DONE after the
 * last one's.  ck's producer fences its stores before moving p_tail and
 * its consumer fences loads after reading it, which gives the consumer
 * what the FIN wrote before the push (the slot's fields), not only the
 * message. */
#include <ck_ring.h>
#include <stdio.h>
#include <stdlib.h>

#include "dfb_internal.h"
#include "dfb_tsan.h"
#include "mailbox_fin.h"

CK_RING_PROTOTYPE(dfb_msg, dfb_msg_payload)

/* Looks at p_tail with a bare pause before the spin hint takes over. */
#define CK_SPIN_LOOKS 1024

struct ck_state {
	/* ck lays out c_head and p_tail/p_head on lines of their own. */
	DFB_ALIGNED struct ck_ring ring;
	struct dfb_msg_payload *buf;
	unsigned int capacity;
	bool stock;                      /* ck_stock_enqueue, resolved at init */
};

/* The key of its one variant, its own. */
enum { CK_STOCK_ENQUEUE, CK__NKEYS };
static const struct dfb_key ck_keys[CK__NKEYS] = {
	[CK_STOCK_ENQUEUE] = {"ck_stock_enqueue", DFB_KEY_U64, CK_STOCK_ENQUEUE, 0, 1, NULL,
			      "push with ck_ring_enqueue_mpsc as shipped, whose wait for earlier "
			      "producers is an unbounded pause loop (default 0: ck's reserve/commit, "
			      "1024 pauses then a yield between looks, bounded by the stop flag)", NULL},
};

static inline struct ck_state *state(const struct dfb_runtime *rt)
{
	return dfb_sstate(rt);
}

/* One attempt: 1 pushed, 0 full, -1 the round stopped while waiting.
 * ck_ring publishes in claim order: a producer waits for every producer
 * claimed before it.  ck's own ck_ring_enqueue_mpsc (ck_stock_enqueue = 1)
 * waits with a bare pause loop, neither yielding nor bounded, so with more
 * threads than PUs a waiter can spin through its time slice for a
 * predecessor that is not running.  By default the same ring is filled
 * through ck's reserve/commit calls and the wait before the commit is
 * deferbench's: CK_SPIN_LOOKS pauses, then a yield between looks (even
 * with spin_hint = pause), the stop flag its bound.  (A yield from the
 * first look cost 100x on transport_p2, where the predecessor runs on the
 * other PU.)  The library's accesses are its own to check (dfb_tsan.h);
 * the release before it is the edge its publication gives the consumer. */
static inline int enqueue(struct dfb_runtime *rt, struct ck_state *q,
			  const struct dfb_msg_payload *m)
{
	dfb_tsan_release(q);
	if (q->stock) {
		dfb_tsan_lib_begin();
		bool ok = ck_ring_enqueue_mpsc_dfb_msg(&q->ring, q->buf,
						       (struct dfb_msg_payload *)m);
		dfb_tsan_lib_end();
		return ok;
	}
	unsigned int ticket;
	dfb_tsan_lib_begin();
	struct dfb_msg_payload *slot = ck_ring_enqueue_reserve_mpsc_dfb_msg(&q->ring, q->buf,
									    &ticket);
	if (slot)
		*slot = *m;
	bool mine = slot && ck_pr_load_uint(&q->ring.p_tail) == ticket;
	dfb_tsan_lib_end();
	if (!slot)
		return 0;
	DFB_PREEMPT_CLAIMED(ticket); /* stress: reserved, not yet committed */
	for (unsigned looks = 0; !mine; looks++) {
		/* The predecessor is usually running on another PU: a short
		 * pause loop first, then the spin hint (a yield) between
		 * looks, so that a waiter gives its PU to a preempted one. */
		if (looks < CK_SPIN_LOOKS)
			dfb_cpu_relax();
		else
			/* A yield whatever spin_hint says: the predecessor may
			 * be preempted on this PU, and pausing would wait out
			 * a time slice per message (spin_hint=pause on
			 * transport_p4: over 60 s for 40,000 messages). */
			dfb_spin_hint(DFB_SPIN_YIELD);
		if (dfb_stopped(rt))
			return -1;
		dfb_tsan_lib_begin();
		mine = ck_pr_load_uint(&q->ring.p_tail) == ticket;
		dfb_tsan_lib_end();
	}
	dfb_tsan_lib_begin();
	ck_ring_enqueue_commit_mpsc(&q->ring, ticket);
	dfb_tsan_lib_end();
	return 1;
}

/* The consumer (serialised by the wait-list lock, or the one transport
 * consumer): the next published message, if any. */
static inline bool dequeue(struct ck_state *q, struct dfb_msg_payload *out)
{
	dfb_tsan_lib_begin();
	bool ok = ck_ring_dequeue_mpsc_dfb_msg(&q->ring, q->buf, out);
	dfb_tsan_lib_end();
	if (ok)
		dfb_tsan_acquire(q);
	return ok;
}

static inline unsigned int queued(const struct ck_state *q)
{
	dfb_tsan_lib_begin();
	unsigned int n = ck_ring_size(&q->ring);
	dfb_tsan_lib_end();
	return n;
}

static bool push(struct dfb_sched *s, const struct dfb_msg_payload *m)
{
	struct ck_state *q = state(s->rt);
	int r;
	while (!(r = enqueue(s->rt, q, m)))
		if (!dfb_mbs_full(s, true))
			return false;
	return r > 0;
}

static void ck_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	dfb_mbs_fin(s, core, st, push);
}

/* The merged mailbox's drain: every CONDITION looks its entry up. */
static uint32_t ck_drain(struct dfb_sched *s)
{
	struct ck_state *q = state(s->rt);
	struct dfb_msg_payload m;
	uint32_t completed = 0;
	while (dequeue(q, &m)) {
		int r = dfb_mbs_consume(s, &m, NULL);
		if (r < 0)
			break;
		completed += (uint32_t)r;
	}
	return completed;
}

static bool ck_has_pending(struct dfb_runtime *rt)
{
	return queued(state(rt)) > 0;
}

static int ck_init(struct dfb_runtime *rt)
{
	struct ck_state *q = state(rt);
	/* mailbox_capacity is a power of two (config.c), as ck requires. */
	q->capacity = (unsigned int)rt->cfg.mailbox_capacity;
	q->stock = dfb_sopt(rt, CK_STOCK_ENQUEUE) != 0;
	if (!(q->buf = aligned_alloc(DFB_CACHELINE, (size_t)q->capacity * sizeof(*q->buf))))
		return -1;
	ck_ring_init(&q->ring, q->capacity);
	return 0;
}

static void ck_fini(struct dfb_runtime *rt)
{
	if (dfb_sstate(rt))
		free(state(rt)->buf);
}

/* Control thread, between rounds: what a failed round left is dropped. */
static void ck_reset(struct dfb_runtime *rt)
{
	struct ck_state *q = state(rt);
	ck_ring_init(&q->ring, q->capacity);
}

static void ck_dump(struct dfb_runtime *rt, char *buf, size_t len)
{
	struct ck_state *q = state(rt);
	dfb_tsan_lib_begin();
	unsigned int c = ck_pr_load_uint(&q->ring.c_head), t = ck_pr_load_uint(&q->ring.p_tail),
		     h = ck_pr_load_uint(&q->ring.p_head);
	dfb_tsan_lib_end();
	snprintf(buf, len, "ck_ring c_head %u, p_tail %u, p_head %u, %u slots%s", c, t, h,
		 q->capacity, t != h ? " (a claim not yet published)" : "");
}

static bool ck_check_drained(struct dfb_runtime *rt, char *msg, size_t len)
{
	unsigned int n = queued(state(rt));
	if (!n)
		return true;
	snprintf(msg, len, "ck_ring holds %u messages", n);
	return false;
}

static bool ck_transport_push(struct dfb_runtime *rt, int producer,
			      const struct dfb_msg_payload *m, struct dfb_counters *c)
{
	(void)producer; /* one ring for every producer */
	int r = enqueue(rt, state(rt), m);
	c->mailbox_full_retries += !r;
	return r != 0; /* stopped: the round is over, the message need not land */
}

static uint64_t ck_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
				   uint64_t cap, struct dfb_counters *c)
{
	(void)c;
	struct ck_state *q = state(rt);
	uint64_t n = 0;
	while (n < cap && dequeue(q, &buf[n]))
		n++;
	return n;
}

const struct dfb_strategy dfb_strategy_ck = {
	.name = "ck",
	.summary = "ConcurrencyKit ck_ring (MPSC) as the mailbox; not upstream",
	.state_size = sizeof(struct ck_state),
	.opt_in = true, /* its convoy (docs/PERFORMANCE.md): named with -s only */
	.keys = ck_keys,
	.nkeys = CK__NKEYS,
	.init = ck_init,
	.fini = ck_fini,
	.reset = ck_reset,
	.on_fin = ck_on_fin,
	.drain = ck_drain,
	.has_pending = ck_has_pending,
	.transport_push = ck_transport_push,
	.transport_drain = ck_transport_drain,
	.claims_cells = true,
	.dump = ck_dump,
	.check_drained = ck_check_drained,
};
