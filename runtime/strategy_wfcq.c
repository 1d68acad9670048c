/* wfcq: liburcu's wait-free concurrent queue (urcu/wfcqueue.h) as the
 * mailbox, with a bounded node pool so that it pushes back like the
 * rings.  The FIN and each message's handling are the merged mailbox's
 * (mailbox_fin.h, dfb_mbs_consume).  An enqueue is one exchange on the
 * tail and a store linking the old tail to the node: wait-free, never
 * refused by the queue itself.  The bound is the pool: each producer
 * (scheduler thread, or transport producer) owns mailbox_capacity nodes;
 * it takes from a private free list, refilled by one exchange from the
 * list the consumer gives nodes back to (many pushes by the one consumer,
 * one take-all by the owner: no ABA).  A producer with no node left is
 * full: it drains when the wait-list lock is free (built in, as
 * mailbox-batch's) or retries.  The consumer, serialised by the wait-list
 * lock, dequeues without blocking: a node whose enqueuer was preempted
 * between its exchange and its link ends the drain (has_pending stays
 * true).  Not upstream: an established queue (docs/MODEL.md, "Strategies
 * beyond upstream").
 *
 * Ordering.  The queue's order is the order of the tail exchanges, and the
 * consumer meets nodes in it (a missing link stops it, it does not skip),
 * so the merged mailbox's argument holds: a task's CONDITIONs are
 * exchanged before its FIN's acq_rel fetch_add, its NORMAL_DONE after the
 * last one's.  The exchange is a full barrier (uatomic_xchg), but liburcu
 * promises the dequeuer only the node's content; the acquire fence after a
 * dequeue extends that to what the FIN wrote before (the slot). */
#define _LGPL_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <urcu/wfcqueue.h>

#include "dfb_internal.h"
#include "dfb_tsan.h"
#include "mailbox_fin.h"

struct wfcq_node {
	struct cds_wfcq_node link;        /* the library's */
	struct dfb_msg_payload p;
	struct wfcq_node *free_next;      /* the pool's */
	uint32_t owner;
} __attribute__((aligned(DFB_CACHELINE)));

struct wfcq_pool {
	/* The owner's free list: its own, no atomics. */
	DFB_ALIGNED struct wfcq_node *local;
	/* Nodes the consumer gave back, taken all at once by the owner. */
	DFB_ALIGNED _Atomic(struct wfcq_node *) returned;
};

struct wfcq_state {
	DFB_ALIGNED struct __cds_wfcq_head head; /* the consumer's end */
	DFB_ALIGNED struct cds_wfcq_tail tail;   /* the producers' exchange */
	DFB_ALIGNED struct wfcq_pool *pools;
	struct wfcq_node *nodes;
	uint32_t npools;
	uint64_t per_pool;
};

static inline struct wfcq_state *state(const struct dfb_runtime *rt)
{
	return dfb_sstate(rt);
}

/* The owner: a free node, or NULL when all of its nodes are in flight. */
static inline struct wfcq_node *node_get(struct wfcq_pool *p)
{
	struct wfcq_node *n = p->local;
	if (!n) {
		/* Cheap test first, so that a full producer's retries do
		 * not take the line from the consumer.  relaxed: a hint. */
		if (!atomic_load_explicit(&p->returned, memory_order_relaxed))
			return NULL;
		/* acquire: pairs with the consumer's release in node_put, so
		 * its reads of the nodes happen before we reuse them. */
		n = atomic_exchange_explicit(&p->returned, NULL, memory_order_acquire);
	}
	p->local = n->free_next;
	return n;
}

/* The consumer: gives n back to its owner. */
static inline void node_put(struct wfcq_state *q, struct wfcq_node *n)
{
	struct wfcq_pool *p = &q->pools[n->owner];
	/* relaxed: the value is only the expected one of the CAS. */
	struct wfcq_node *old = atomic_load_explicit(&p->returned, memory_order_relaxed);
	do
		n->free_next = old;
	/* release: our reads of n (and n->free_next) happen before the
	 * owner's acquire exchange hands n out again. */
	while (!atomic_compare_exchange_weak_explicit(&p->returned, &old, n, memory_order_release,
						      memory_order_relaxed));
}

/* Producer `who`: one attempt; false when its pool is empty. */
static inline bool enqueue(struct wfcq_state *q, uint32_t who, const struct dfb_msg_payload *m)
{
	struct wfcq_node *n = node_get(&q->pools[who]);
	if (!n)
		return false;
	n->p = *m;
	DFB_PREEMPT(); /* stress: before the exchange that links the node */
	/* The library's accesses are its own to check (dfb_tsan.h); the
	 * release is the edge its publication gives the consumer. */
	dfb_tsan_release(q);
	dfb_tsan_lib_begin();
	cds_wfcq_node_init(&n->link);
	cds_wfcq_enqueue(&q->head, &q->tail, &n->link);
	dfb_tsan_lib_end();
	return true;
}

/* The consumer: the next linked message, if any; its node goes back. */
static inline bool dequeue(struct wfcq_state *q, struct dfb_msg_payload *out)
{
	dfb_tsan_lib_begin();
	struct cds_wfcq_node *l = __cds_wfcq_dequeue_nonblocking(&q->head, &q->tail);
	dfb_tsan_lib_end();
	if (!l || l == CDS_WFCQ_WOULDBLOCK)
		return false;
	/* acquire: what the FIN wrote before its exchange, the slot
	 * included, happens before our reads (liburcu orders only the
	 * node's content for a dequeuer). */
	atomic_thread_fence(memory_order_acquire);
	dfb_tsan_acquire(q);
	struct wfcq_node *n = caa_container_of(l, struct wfcq_node, link);
	*out = n->p;
	node_put(q, n);
	return true;
}

static bool push(struct dfb_sched *s, const struct dfb_msg_payload *m)
{
	struct wfcq_state *q = state(s->rt);
	while (!enqueue(q, (uint32_t)s->id, m))
		if (!dfb_mbs_full(s, true))
			return false;
	return true;
}

static void wfcq_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	dfb_mbs_fin(s, core, st, push);
}

/* The merged mailbox's drain: every CONDITION looks its entry up. */
static uint32_t wfcq_drain(struct dfb_sched *s)
{
	struct wfcq_state *q = state(s->rt);
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

static bool queue_empty(struct wfcq_state *q)
{
	dfb_tsan_lib_begin();
	bool e = cds_wfcq_empty(&q->head, &q->tail);
	dfb_tsan_lib_end();
	return e;
}

static bool wfcq_has_pending(struct dfb_runtime *rt)
{
	return !queue_empty(state(rt));
}

/* Control thread: every node free in its owner's list, the queue empty. */
static void clear(struct wfcq_state *q)
{
	for (uint32_t p = 0; p < q->npools; p++) {
		struct wfcq_node *base = q->nodes + (size_t)p * q->per_pool;
		for (uint64_t i = 0; i < q->per_pool; i++) {
			base[i].owner = p;
			base[i].free_next = i + 1 < q->per_pool ? &base[i + 1] : NULL;
		}
		q->pools[p].local = base;
		atomic_store_explicit(&q->pools[p].returned, NULL, memory_order_relaxed);
	}
	dfb_tsan_lib_begin();
	__cds_wfcq_init(&q->head, &q->tail);
	dfb_tsan_lib_end();
}

static int wfcq_init(struct dfb_runtime *rt)
{
	struct wfcq_state *q = state(rt);
	q->npools = rt->shape->transport ? (uint32_t)rt->cfg.producers : rt->nsched_all;
	q->per_pool = rt->cfg.mailbox_capacity;
	q->pools = aligned_alloc(DFB_CACHELINE, q->npools * sizeof(*q->pools));
	q->nodes = aligned_alloc(DFB_CACHELINE, q->npools * q->per_pool * sizeof(*q->nodes));
	if (!q->pools || !q->nodes)
		return -1;
	clear(q);
	return 0;
}

static void wfcq_fini(struct dfb_runtime *rt)
{
	struct wfcq_state *q = dfb_sstate(rt);
	if (!q)
		return;
	free(q->pools);
	free(q->nodes);
}

static void wfcq_reset(struct dfb_runtime *rt)
{
	clear(state(rt));
}

/* Nodes not in their owner's lists: in the queue or in flight. */
static uint64_t in_flight(struct wfcq_state *q)
{
	uint64_t free_nodes = 0;
	for (uint32_t p = 0; p < q->npools; p++) {
		for (struct wfcq_node *n = q->pools[p].local; n; n = n->free_next)
			free_nodes++;
		for (struct wfcq_node *n = atomic_load(&q->pools[p].returned); n; n = n->free_next)
			free_nodes++;
	}
	return q->npools * q->per_pool - free_nodes;
}

/* The hang report: a racy look, as every dump. */
static void wfcq_dump(struct dfb_runtime *rt, char *buf, size_t len)
{
	struct wfcq_state *q = state(rt);
	snprintf(buf, len, "wfcqueue %s; %u pools of %llu nodes", queue_empty(q) ? "empty" : "not empty",
		 q->npools, (unsigned long long)q->per_pool);
}

/* End of a clean round, threads joined: the queue is empty and every node
 * is back with its owner. */
static bool wfcq_check_drained(struct dfb_runtime *rt, char *msg, size_t len)
{
	struct wfcq_state *q = state(rt);
	uint64_t n = in_flight(q);
	if (queue_empty(q) && !n)
		return true;
	snprintf(msg, len, "wfcqueue %s, %llu nodes not back in their pools",
		 queue_empty(q) ? "empty" : "not empty", (unsigned long long)n);
	return false;
}

static bool wfcq_transport_push(struct dfb_runtime *rt, int producer,
				const struct dfb_msg_payload *m, struct dfb_counters *c)
{
	bool ok = enqueue(state(rt), (uint32_t)producer, m);
	c->mailbox_full_retries += !ok;
	return ok;
}

static uint64_t wfcq_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
				     uint64_t cap, struct dfb_counters *c)
{
	(void)c;
	struct wfcq_state *q = state(rt);
	uint64_t n = 0;
	while (n < cap && dequeue(q, &buf[n]))
		n++;
	return n;
}

const struct dfb_strategy dfb_strategy_wfcq = {
	.name = "wfcq",
	.summary = "liburcu wait-free concurrent queue with a bounded node pool per producer; not upstream",
	.state_size = sizeof(struct wfcq_state),
	.init = wfcq_init,
	.fini = wfcq_fini,
	.reset = wfcq_reset,
	.on_fin = wfcq_on_fin,
	.drain = wfcq_drain,
	.has_pending = wfcq_has_pending,
	.transport_push = wfcq_transport_push,
	.transport_drain = wfcq_transport_drain,
	.dump = wfcq_dump,
	.check_drained = wfcq_check_drained,
};
