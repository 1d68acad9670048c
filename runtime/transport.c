/* Transport scenarios (shape `transport`, docs/MODEL.md "Transport
 * scenarios"): P producer threads and one consumer thread on the
 * strategy's registration transport alone, without the rest of the
 * runtime.  The mailbox strategy's transport is the MPSC mailbox; the
 * baseline's is register_deferred's lock: a lock-protected bounded array.
 *
 * A round: every thread binds itself (roles consumer, producer 0..P-1),
 * waits at a start barrier, then producer i pushes its share of the
 * round's `tasks` messages (tasks / P, the remainder to the first ones),
 * message j carrying task_token = i << 40 | j, while the consumer drains
 * and checks that every producer's messages arrive once and in order.
 * The control thread watches progress counters: no progress for
 * hang_budget_ms is SCHED_HANG, with a dump.  Nothing is allocated inside
 * a round. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dfb_internal.h"

#define SEQ_MASK ((1ull << DFB_TRANSPORT_SHIFT) - 1)
/* A timed push slower than this is counted as slow, by kind (issue 9's
 * mailbox-spsc goal is a worst push under 1 ms). */
#define DFB_SLOW_PUSH_NS 1000000

static inline uint64_t share(const struct dfb_runtime *rt, uint32_t p)
{
	uint64_t n = rt->cfg.tasks, np = rt->transport->nproducers;
	return n / np + (p < n % np);
}

unsigned dfb_transport_roles(const struct dfb_config *c, struct dfb_thread_role *roles,
			     unsigned cap)
{
	/* The consumer first: with compact placement it gets PU 0 and
	 * producer i PU (1 + i) mod PUs, as bench/mailbox_throughput does. */
	unsigned n = 0;
	if (n < cap)
		roles[n++] = (struct dfb_thread_role){DFB_ROLE_CONSUMER, 0};
	for (unsigned i = 0; i < c->producers && n < cap; i++)
		roles[n++] = (struct dfb_thread_role){DFB_ROLE_PRODUCER, (int)i};
	return n;
}

int dfb_transport_init(struct dfb_runtime *rt, struct dfb_error *err)
{
	const struct dfb_strategy *s = rt->strategy;
	if (!s->transport_push || !s->transport_drain) {
		err->code = DFB_ERR_CONFIG;
		snprintf(err->detail, sizeof(err->detail),
			 "strategy %s has no transport: it cannot run shape %s", s->name,
			 rt->shape->name);
		return -1;
	}
	struct dfb_transport *t = calloc(1, sizeof(*t));
	rt->transport = t;
	if (!t)
		goto nomem;
	t->nproducers = (uint32_t)rt->cfg.producers;
	size_t nth = (size_t)t->nproducers + 1;
	t->threads = aligned_alloc(DFB_CACHELINE, nth * sizeof(*t->threads));
	t->next_seq = calloc(t->nproducers, sizeof(*t->next_seq));
	/* The whole transport fits: the baseline's drain copies its array out
	 * in one piece, as upstream's consumer does. */
	t->buf_cap = rt->cfg.mailbox_capacity;
	t->buf = calloc(t->buf_cap, sizeof(*t->buf));
	if (!t->threads || !t->next_seq || !t->buf)
		goto nomem;
	memset(t->threads, 0, nth * sizeof(*t->threads));
	for (size_t i = 0; i < nth; i++) {
		t->threads[i].rt = rt;
		t->threads[i].id = i < t->nproducers ? (int)i : -1;
	}
	return 0;
nomem:
	err->code = DFB_ERR_SYSTEM;
	snprintf(err->detail, sizeof(err->detail), "cannot allocate the transport: %s",
		 strerror(errno ? errno : ENOMEM));
	return -1;
}

void dfb_transport_fini(struct dfb_runtime *rt)
{
	struct dfb_transport *t = rt->transport;
	if (!t)
		return;
	free(t->threads);
	free(t->next_seq);
	free(t->buf);
	free(t);
	rt->transport = NULL;
}

/* Start barrier: true once the control thread says go, false when the
 * round is stopping. */
static bool wait_go(struct dfb_runtime *rt)
{
	struct dfb_transport *t = rt->transport;
	/* release: our binding result (plan entry) is written before the
	 * control thread sees the count. */
	atomic_fetch_add_explicit(&t->ready, 1, memory_order_release);
	/* acquire: pairs with the control thread's release of go (the
	 * round's reset state). */
	while (!atomic_load_explicit(&t->go, memory_order_acquire)) {
		if (dfb_stopped(rt))
			return false;
		dfb_spin_hint(DFB_SPIN_YIELD);
	}
	return true;
}

static void *producer_main(void *arg)
{
	struct dfb_tthread *me = arg;
	struct dfb_runtime *rt = me->rt;
	const struct dfb_strategy *s = rt->strategy;
	const uint64_t base = (uint64_t)me->id << DFB_TRANSPORT_SHIFT;
	const uint64_t count = me->count;
	uint64_t pushed = 0;

	dfb_thread_bind(rt, DFB_ROLE_PRODUCER, me->id); /* placement (topology.c) */
	if (!wait_go(rt))
		goto out;
	atomic_store_explicit(&me->phase, DFB_PH_PUSH, memory_order_relaxed);
	me->t_start = dfb_now_ns();
	for (; pushed < count; pushed++) {
		/* Every field written explicitly: see dfb_mailbox_publish. */
		struct dfb_msg_payload m = {
			.task_token = base | pushed,
			.addr = ~(base | pushed),
			.expected_value = (uint32_t)pushed,
			.engine = DFB_ENGINE_SDMA,
			.completion_type = DFB_CT_COUNTER,
			.kind = DFB_MSG_CONDITION,
		};
		const bool sampled = dfb_sampled(&me->sampler);
		uint64_t t0 = sampled ? dfb_now_ns() : 0;
		bool retried = false;
		while (!s->transport_push(rt, me->id, &m, &me->c)) {
			if (dfb_stopped(rt))
				goto out;
			retried = true;
			dfb_spin_hint(rt->hint);
		}
		if (sampled) {
			uint64_t ns = dfb_now_ns() - t0;
			dfb_hist_add(&me->lat, ns);
			/* Which a slow push was: one done at its first call or
			 * one refused and called again.  Where a strategy's
			 * call is one attempt (spinlock, mailbox, mailbox-spsc,
			 * wfcq), the first kind was held up while it ran (the
			 * producer descheduled inside the timed push), not by
			 * another thread. */
			if (ns > DFB_SLOW_PUSH_NS) {
				me->c.slow_pushes_first_call += !retried;
				me->c.slow_pushes_retried += retried;
			}
		}
		/* relaxed: a progress count for the watchdog only. */
		atomic_store_explicit(&me->progress, pushed + 1, memory_order_relaxed);
	}
	me->t_end = dfb_now_ns();
out:
	me->c.registrations = pushed;
	atomic_store_explicit(&me->phase, DFB_PH_DONE, memory_order_relaxed);
	return NULL;
}

/* Checks one message; false (with the error raised) on a violation. */
static bool check_msg(struct dfb_runtime *rt, const struct dfb_msg_payload *m)
{
	struct dfb_transport *t = rt->transport;
	uint64_t id = m->task_token >> DFB_TRANSPORT_SHIFT, seq = m->task_token & SEQ_MASK;
	if (id >= t->nproducers || m->kind != DFB_MSG_CONDITION || m->addr != ~m->task_token ||
	    m->expected_value != (uint32_t)seq) {
		dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1,
			  "consumer: corrupt message (token %#llx, addr %#llx, value %u, kind %u)",
			  (unsigned long long)m->task_token, (unsigned long long)m->addr,
			  m->expected_value, m->kind);
		return false;
	}
	if (seq != t->next_seq[id]) {
		dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1,
			  "consumer: producer %llu's message %llu arrived when %llu was next (%s)",
			  (unsigned long long)id, (unsigned long long)seq,
			  (unsigned long long)t->next_seq[id],
			  seq < t->next_seq[id] ? "a duplicate" : "lost or out of order");
		return false;
	}
	t->next_seq[id] = seq + 1;
	return true;
}

static void *consumer_main(void *arg)
{
	struct dfb_tthread *me = arg;
	struct dfb_runtime *rt = me->rt;
	struct dfb_transport *t = rt->transport;
	const struct dfb_strategy *s = rt->strategy;
	const uint64_t total = rt->cfg.tasks;
	uint64_t popped = 0;

	dfb_thread_bind(rt, DFB_ROLE_CONSUMER, 0); /* placement (topology.c) */
	if (!wait_go(rt))
		goto out;
	atomic_store_explicit(&me->phase, DFB_PH_POLL, memory_order_relaxed);
	while (popped < total) {
		uint64_t n = s->transport_drain(rt, t->buf, t->buf_cap, &me->c);
		if (!n) {
			if (dfb_stopped(rt))
				goto out;
			dfb_spin_hint(rt->hint);
			continue;
		}
		if (!popped)
			me->t_start = dfb_now_ns();
		for (uint64_t i = 0; i < n; i++)
			if (!check_msg(rt, &t->buf[i]))
				goto out;
		popped += n;
		/* relaxed: the watchdog's progress count; the control thread
		 * reads the rest after joining. */
		atomic_store_explicit(&me->progress, popped, memory_order_relaxed);
	}
	me->t_end = dfb_now_ns();
out:
	me->c.drained_msgs = popped;
	atomic_store_explicit(&me->phase, DFB_PH_DONE, memory_order_relaxed);
	return NULL;
}

static void transport_reset(struct dfb_runtime *rt)
{
	struct dfb_transport *t = rt->transport;
	uint32_t nth = t->nproducers + 1;
	for (uint32_t i = 0; i < nth; i++) {
		struct dfb_tthread *th = &t->threads[i];
		memset(&th->c, 0, sizeof(th->c));
		dfb_hist_reset(&th->lat);
		dfb_sampler_init(&th->sampler, rt->cfg.latency_sample,
				 dfb_sampler_seed(&rt->cfg, th->id, rt->rounds_run));
		th->t_start = th->t_end = 0;
		th->count = i < t->nproducers ? share(rt, i) : rt->cfg.tasks;
		atomic_store_explicit(&th->progress, 0, memory_order_relaxed);
		atomic_store_explicit(&th->phase, DFB_PH_START, memory_order_relaxed);
	}
	memset(t->next_seq, 0, t->nproducers * sizeof(*t->next_seq));
	/* A failed round can leave messages behind. */
	if (rt->strategy->reset)
		rt->strategy->reset(rt);
	atomic_store_explicit(&t->ready, 0, memory_order_relaxed);
	atomic_store_explicit(&t->go, false, memory_order_relaxed);
	dfb_round_control_reset(rt);
}

static uint64_t progress(struct dfb_transport *t)
{
	uint64_t p = atomic_load_explicit(&t->ready, memory_order_relaxed);
	for (uint32_t i = 0; i <= t->nproducers; i++)
		p += atomic_load_explicit(&t->threads[i].progress, memory_order_relaxed);
	return p;
}

/* What a transport thread is doing, for the hang dump. */
static const char *phase_name(int phase, bool consumer)
{
	switch (phase) {
	case DFB_PH_START:
		return "waiting at the start barrier";
	case DFB_PH_DONE:
		return "finished";
	default:
		return consumer ? "draining" : "pushing";
	}
}

/* After the join: phases were captured while the threads ran. */
static void hang_dump(struct dfb_runtime *rt, const int *phases, bool slow)
{
	struct dfb_transport *t = rt->transport;
	struct dfb_tthread *cons = &t->threads[t->nproducers];
	size_t o = 0;
	DUMP("transport hang report: %s %llu ms; %llu of %llu messages popped\n",
	     slow ? "still running (and moving) after round_limit_ms =" : "no progress for",
	     (unsigned long long)(slow ? rt->cfg.round_limit_ms : rt->cfg.hang_budget_ms),
	     (unsigned long long)atomic_load(&cons->progress), (unsigned long long)rt->cfg.tasks);
	for (uint32_t i = 0; i < t->nproducers; i++) {
		struct dfb_tthread *p = &t->threads[i];
		if (i == 16 && t->nproducers > 17) {
			DUMP("  ... %u more producers\n", t->nproducers - 16);
			break;
		}
		DUMP("producer %u: %s, %llu of %llu pushed, %llu full retries, %llu lock misses\n", i,
		     phase_name(phases[i], false), (unsigned long long)atomic_load(&p->progress),
		     (unsigned long long)p->count, (unsigned long long)p->c.mailbox_full_retries,
		     (unsigned long long)p->c.lock_misses);
	}
	DUMP("consumer: %s, %llu popped, %llu poll lock misses\n",
	     phase_name(phases[t->nproducers], true), (unsigned long long)atomic_load(&cons->progress),
	     (unsigned long long)cons->c.poll_lock_misses);
	if (rt->strategy->dump) {
		char line[256];
		rt->strategy->dump(rt, line, sizeof(line));
		DUMP("%s: %s\n", rt->strategy->name, line);
	}
}

/* End-of-round checks, after the join, on a round without an error. */
static void check_round(struct dfb_runtime *rt)
{
	struct dfb_transport *t = rt->transport;
	struct dfb_tthread *cons = &t->threads[t->nproducers];
	for (uint32_t i = 0; i < t->nproducers; i++)
		if (t->threads[i].c.registrations != t->threads[i].count ||
		    t->next_seq[i] != t->threads[i].count) {
			dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1,
				  "producer %u: %llu of %llu pushed, %llu popped", i,
				  (unsigned long long)t->threads[i].c.registrations,
				  (unsigned long long)t->threads[i].count,
				  (unsigned long long)t->next_seq[i]);
			return;
		}
	if (cons->c.drained_msgs != rt->cfg.tasks)
		dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1, "consumer: %llu of %llu messages popped",
			  (unsigned long long)cons->c.drained_msgs, (unsigned long long)rt->cfg.tasks);
	else if (rt->strategy->check_drained) {
		char msg[200];
		if (!rt->strategy->check_drained(rt, msg, sizeof(msg)))
			dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1, "transport not empty at round end: %s",
				  msg);
	}
}

int dfb_transport_run_round(struct dfb_runtime *rt, struct dfb_round_result *out)
{
	uint64_t host0 = dfb_now_ns();
	struct dfb_transport *t = rt->transport;
	const uint32_t nth = t->nproducers + 1;
	struct dfb_tthread *cons = &t->threads[t->nproducers];
	memset(out, 0, sizeof(*out));
	rt->rounds_run++;
	dfb_preempt_configure((uint32_t)rt->cfg.preempt, rt->cfg.seed * 1000003u + rt->rounds_run,
			      NULL, NULL);
	transport_reset(rt);

	int phases[1025];
	uint64_t hang_at = 0;
	bool slow = false;
	uint32_t started = 0;
	int rc;
	/* The consumer first, then the producers. */
	for (; started < nth; started++) {
		uint32_t k = started == 0 ? t->nproducers : started - 1;
		if ((rc = pthread_create(&t->threads[k].thread, NULL,
					 k == t->nproducers ? consumer_main : producer_main,
					 &t->threads[k]))) {
			dfb_raise(rt, DFB_ERR_SYSTEM, NULL, -1, "pthread_create: %s", strerror(rc));
			break;
		}
	}

	/* Watchdog: the barrier, then the round.  The control thread sleeps
	 * in short steps and fails the round when nothing moves for
	 * hang_budget_ms. */
	uint64_t last = progress(t), last_change = dfb_now_ns();
	uint64_t budget = rt->cfg.hang_budget_ms * 1000000ull;
	const uint64_t t_start = last_change, limit = rt->cfg.round_limit_ms * 1000000ull;
	bool go = false;
	while (!dfb_stopped(rt) &&
	       atomic_load_explicit(&cons->progress, memory_order_relaxed) != rt->cfg.tasks) {
		if (!go && atomic_load_explicit(&t->ready, memory_order_acquire) == nth) {
			/* release: the reset state before every thread's start. */
			atomic_store_explicit(&t->go, true, memory_order_release);
			go = true;
		}
		struct timespec ts = {0, go ? 200000 : 20000};
		nanosleep(&ts, NULL);
		uint64_t p = progress(t), now = dfb_now_ns();
		if (p != last) {
			last = p;
			last_change = now;
		}
		const bool stuck = now - last_change > budget;
		if (stuck || (limit && now - t_start > limit)) {
			for (uint32_t i = 0; i < nth; i++)
				phases[i] = atomic_load_explicit(&t->threads[i].phase,
								 memory_order_relaxed);
			hang_at = now;
			slow = !stuck;
			dfb_raise_hang(rt, "transport: ", slow, "messages popped",
				       atomic_load_explicit(&cons->progress, memory_order_relaxed));
		}
	}
	for (uint32_t i = 0; i < started; i++)
		pthread_join(t->threads[i == 0 ? t->nproducers : i - 1].thread, NULL);
	uint64_t host1 = dfb_now_ns();

	if (atomic_load(&rt->err_code) == DFB_ERR_OK)
		check_round(rt);
	if (hang_at && atomic_load(&rt->err_code) == DFB_ERR_SCHED_HANG)
		hang_dump(rt, phases, slow);

	uint64_t p0 = UINT64_MAX, p1 = 0;
	dfb_hist_reset(&out->reg_latency);
	for (uint32_t i = 0; i < nth; i++) {
		struct dfb_tthread *th = &t->threads[i];
		dfb_counters_add(&out->counters, &th->c);
		dfb_hist_merge(&out->reg_latency, &th->lat);
		if (i == t->nproducers)
			continue;
		if (th->t_start && th->t_start < p0)
			p0 = th->t_start;
		if (th->t_end > p1)
			p1 = th->t_end;
	}
	out->transport = true;
	out->host_us = (double)(host1 - host0) / 1e3;
	out->total_us = cons->t_end > p0 && p0 != UINT64_MAX ? (double)(cons->t_end - p0) / 1e3 : 0;
	out->sched_us = cons->t_end > cons->t_start ? (double)(cons->t_end - cons->t_start) / 1e3 : 0;
	out->orch_us = p1 > p0 && p0 != UINT64_MAX ? (double)(p1 - p0) / 1e3 : 0;
	out->tasks = rt->cfg.tasks;
	out->subtasks = 0;
	out->error = rt->err;
	out->error.code = (enum dfb_err)atomic_load(&rt->err_code);
	out->error.dump = hang_at ? rt->dump : NULL;
	return out->error.code == DFB_ERR_OK ? 0 : -1;
}
