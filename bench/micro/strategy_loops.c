/* Measured loops for the per-strategy transport micro-benchmarks
 * (bench/micro/micro_strategies.cc): every registered strategy's
 * transport_push / transport_drain, the code the transport scenarios run,
 * on a runtime made for shape `transport`.  C, because the runtime's
 * headers use C11 _Atomic; the C++ glue only drives these functions. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfb_internal.h"
#include "micro_util.h"
#include "strategy_loops.h"

struct dfb_micro_tr {
	struct dfb_runtime *rt;
	uint64_t capacity;
	struct dfb_msg_payload *buf;
	uint64_t surplus;            /* consumer: drained beyond what it was asked */
	/* The consumer's drain is single-consumer: one thread at a time. */
	DFB_ALIGNED atomic_int busy;
};

size_t dfb_micro_nstrategies(void)
{
	return dfb_nstrategies;
}

const char *dfb_micro_strategy(size_t i)
{
	return dfb_strategy_name(dfb_strategies[i]);
}

struct dfb_micro_tr *dfb_micro_tr_new(size_t strategy, uint64_t capacity, unsigned producers)
{
	struct dfb_config c;
	char msg[256], kv[64];
	dfb_config_defaults(&c);
	const char *sets[] = {"shape=transport", "placement=compact", "latency_sample=0"};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (dfb_config_set_kv(&c, sets[i], msg, sizeof(msg)))
			micro_die(msg);
	snprintf(kv, sizeof(kv), "mailbox_capacity=%llu", (unsigned long long)capacity);
	if (dfb_config_set_kv(&c, kv, msg, sizeof(msg)))
		micro_die(msg);
	snprintf(kv, sizeof(kv), "producers=%u", producers ? producers : 1);
	if (dfb_config_set_kv(&c, kv, msg, sizeof(msg)))
		micro_die(msg);
	struct dfb_micro_tr *t = aligned_alloc(DFB_CACHELINE, sizeof(*t));
	struct dfb_error err;
	if (!t || !(t->rt = dfb_runtime_create(&c, dfb_strategies[strategy], &err)))
		micro_die(t ? err.detail : "out of memory");
	t->capacity = capacity;
	if (!(t->buf = calloc(capacity, sizeof(*t->buf))))
		micro_die("out of memory");
	atomic_init(&t->busy, 0);
	t->surplus = 0;
	return t;
}

void dfb_micro_tr_free(struct dfb_micro_tr *t)
{
	dfb_runtime_destroy(t->rt);
	free(t->buf);
	free(t);
}

/* Thread 0 is the consumer, thread i producer i - 1: pinned where the
 * transport scenarios' compact placement puts them. */
void dfb_micro_tr_bind(struct dfb_micro_tr *t, int thread)
{
	if (thread == 0)
		dfb_thread_bind(t->rt, DFB_ROLE_CONSUMER, 0);
	else
		dfb_thread_bind(t->rt, DFB_ROLE_PRODUCER, thread - 1);
}

static inline struct dfb_msg_payload micro_msg(uint64_t i)
{
	return (struct dfb_msg_payload){.task_token = i, .addr = 0x1000 + i,
					.expected_value = (uint32_t)i, .engine = 1,
					.kind = DFB_MSG_CONDITION};
}

static uint64_t drain(struct dfb_micro_tr *t, struct dfb_counters *c)
{
	int expect = 0;
	/* acquire / release: the drain's single-consumer section. */
	if (!atomic_compare_exchange_strong_explicit(&t->busy, &expect, 1, memory_order_acquire,
						     memory_order_relaxed))
		return 0;
	uint64_t n = t->rt->strategy->transport_drain(t->rt, t->buf, t->capacity, c);
	atomic_store_explicit(&t->busy, 0, memory_order_release);
	return n;
}

/* n uncontended push+drain pairs on the calling thread; returns a
 * checksum so that the copies cannot be elided. */
uint64_t dfb_micro_tr_pushpop(struct dfb_micro_tr *t, uint64_t n)
{
	const int producer = 0;
	struct dfb_counters c = {0};
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		struct dfb_msg_payload m = micro_msg(i);
		if (!t->rt->strategy->transport_push(t->rt, producer, &m, &c))
			micro_die("an uncontended push was refused");
		if (drain(t, &c) != 1)
			micro_die("an uncontended drain did not return the message");
		sum += t->buf[0].task_token;
	}
	return sum;
}

/* Pushes until the transport is full (capacity messages, or one fewer for
 * a ring that keeps a slot free, as ck_ring), then drains until all are
 * back: what draining costs per message.  Returns the messages drained. */
uint64_t dfb_micro_tr_fill_drain(struct dfb_micro_tr *t)
{
	const int producer = 0;
	struct dfb_counters c = {0};
	uint64_t pushed = 0;
	for (; pushed < t->capacity; pushed++) {
		struct dfb_msg_payload m = micro_msg(pushed);
		if (!t->rt->strategy->transport_push(t->rt, producer, &m, &c))
			break;
	}
	if (pushed + 1 < t->capacity)
		micro_die("a push into a ring with room was refused");
	uint64_t got = 0;
	while (got < pushed) {
		uint64_t n = drain(t, &c);
		if (!n)
			micro_die("a full transport drained nothing");
		got += n;
	}
	return got;
}

/* A producer: n messages, each retried until accepted; the retries the
 * strategy counted are added to the three counters. */
uint64_t dfb_micro_tr_produce(struct dfb_micro_tr *t, int producer, uint64_t n, uint64_t *full,
			      uint64_t *lock_misses, uint64_t *cas)
{
	struct dfb_counters c = {0};
	for (uint64_t i = 0; i < n; i++) {
		struct dfb_msg_payload m = micro_msg(i);
		uint64_t since = 0;
		while (!t->rt->strategy->transport_push(t->rt, producer, &m, &c)) {
			micro_stalled(&since, "a producer made no progress for 10 s");
			dfb_spin_hint(DFB_SPIN_YIELD);
		}
	}
	*full += c.mailbox_full_retries;
	*lock_misses += c.lock_misses;
	*cas += c.cas_retries;
	return n;
}

/* The consumer: drains until n messages have come out (a drain can
 * return more than asked: the surplus counts for the next call). */
uint64_t dfb_micro_tr_consume(struct dfb_micro_tr *t, uint64_t n)
{
	struct dfb_counters c = {0};
	uint64_t got = t->surplus < n ? t->surplus : n, since = 0;
	t->surplus -= got;
	while (got < n) {
		uint64_t k = drain(t, &c);
		got += k;
		if (k) {
			since = 0;
			continue;
		}
		micro_stalled(&since, "the consumer got nothing for 10 s");
		dfb_spin_hint(DFB_SPIN_PAUSE);
	}
	t->surplus += got - n;
	return n;
}

/* ---- registration with K live wait entries ------------------------------
 * The wait list with K entries of other tasks, then one task with one
 * condition registered and its entry removed again, n times: the
 * baseline's register_deferred (try-lock, search over K entries, create,
 * append), or the merged mailbox's drain of that CONDITION
 * (dfb_mbs_consume: the same search, create and append, under the lock the
 * caller holds).  A runtime of the deferred regime, no round running. */
struct dfb_micro_reg {
	struct dfb_runtime *rt;
	struct dfb_slab slab;
	struct dfb_slab_entry entry;
	_Atomic uint32_t counter;
	uint32_t k;
};

struct dfb_micro_reg *dfb_micro_reg_new(const char *strategy, uint32_t k)
{
	struct dfb_config c;
	char msg[256];
	dfb_config_defaults(&c);
	const char *sets[] = {"shape=deferred_heavy", "latency_sample=0", "sched_threads=1"};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (dfb_config_set_kv(&c, sets[i], msg, sizeof(msg)))
			micro_die(msg);
	const struct dfb_strategy *s = dfb_strategy_find(strategy);
	struct dfb_micro_reg *r = calloc(1, sizeof(*r));
	struct dfb_error err;
	if (!s || !r || !(r->rt = dfb_runtime_create(&c, s, &err)))
		micro_die(r && s ? err.detail : "no such strategy, or out of memory");
	if (k + 1 > r->rt->wl.max_entries)
		micro_die("K + 1 exceeds max_async_waits");
	r->k = k;
	for (uint32_t i = 0; i < k; i++)
		if (!dfb_wl_create(&r->rt->wl, 0x7000000000ull + i, NULL))
			micro_die("cannot create the K entries");
	atomic_init(&r->counter, 0);
	r->entry = (struct dfb_slab_entry){.addr = (uint64_t)(uintptr_t)&r->counter,
					   .expected_value = 1, .engine = 1,
					   .completion_type = DFB_CT_COUNTER};
	r->slab = (struct dfb_slab){.count = 1, .error_code = 0, .entries = &r->entry};
	struct dfb_slot *slot = &r->rt->slots[0];
	atomic_store(&slot->token, 0x1000ull);
	slot->payload = 1;
	return r;
}

void dfb_micro_reg_free(struct dfb_micro_reg *r)
{
	dfb_runtime_destroy(r->rt);
	free(r);
}

uint64_t dfb_micro_reg_baseline(struct dfb_micro_reg *r, uint64_t n)
{
	enum dfb_err err = DFB_ERR_OK;
	for (uint64_t i = 0; i < n; i++) {
		if (dfb_register_deferred(&r->rt->wl, &r->rt->slots[0], &r->slab, false, &err) !=
		    DFB_REG_REGISTERED)
			micro_die("register_deferred did not register");
		dfb_wl_remove(&r->rt->wl, r->k); /* the new entry is the last */
	}
	return n;
}

uint64_t dfb_micro_reg_mailbox(struct dfb_micro_reg *r, uint64_t n)
{
	struct dfb_msg_payload m;
	dfb_mbs_condition(&r->entry, 0x1000ull, &m);
	struct dfb_sched *s = &r->rt->sched[0];
	for (uint64_t i = 0; i < n; i++) {
		if (!dfb_wl_try_lock(&r->rt->wl))
			micro_die("the wait-list lock is held");
		if (dfb_mbs_consume(s, &m, NULL) < 0)
			micro_die("the drain raised an error");
		dfb_wl_remove(&r->rt->wl, r->k);
		dfb_wl_unlock(&r->rt->wl);
	}
	return n;
}
