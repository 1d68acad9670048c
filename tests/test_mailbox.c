/* Transport-level tests of the MPSC completion mailbox (runtime/dfb_mailbox.h,
 * runtime/mailbox.c): the ring itself, not the wait-list entry semantics.
 *
 * Threads never call ck_assert (Check's failure path exits or longjmps and is
 * not thread-safe): they record the first failure in their context, raise the
 * stop flag so everyone else winds down, and the test thread asserts after
 * joining.  Every wait is bounded by HANG_NS of no progress, so a broken ring
 * fails the test instead of hanging it. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfb_arch.h"
#include "dfb_mailbox.h"

#define TCASE_TIMEOUT_S 60
#define HANG_NS (10ull * 1000000000ull) /* no progress for this long: fail */
#define MAX_PRODUCERS 8
/* Added to each producer's cas_retries before it starts, so a push that
 * overwrote or reset the counter instead of adding to it would show. */
#define RETRIES_BASE (UINT64_C(1) << 40)

/* ---- message encoding ------------------------------------------------ */

/* Producer id and per-producer sequence go into task_token (and the
 * sequence again into expected_value); every other field is derived from
 * them, so the consumer can tell a torn or stale cell from a good one. */
static struct dfb_msg_payload encode(unsigned id, uint64_t seq)
{
	struct dfb_msg_payload m;
	memset(&m, 0, sizeof(m));
	m.task_token = ((uint64_t)(id + 1) << 40) | seq;
	m.addr = m.task_token * UINT64_C(0x9e3779b97f4a7c15);
	m.expected_value = (uint32_t)seq ^ 0x5a5a5a5au;
	m.engine = (uint8_t)id;
	m.completion_type = (uint8_t)(seq * 7 + id);
	m.kind = seq % 5 == 4 ? DFB_MSG_TASK_NORMAL_DONE : DFB_MSG_CONDITION;
	return m;
}

/* Returns true and the producer id and sequence when every field of *m is
 * consistent with encode(). */
static bool decode(const struct dfb_msg_payload *m, unsigned *id, uint64_t *seq)
{
	uint64_t hi = m->task_token >> 40;
	if (hi == 0 || hi > MAX_PRODUCERS)
		return false;
	struct dfb_msg_payload want = encode((unsigned)(hi - 1), m->task_token & ((UINT64_C(1) << 40) - 1));
	if (m->addr != want.addr || m->expected_value != want.expected_value ||
	    m->engine != want.engine || m->completion_type != want.completion_type ||
	    m->kind != want.kind)
		return false;
	*id = (unsigned)(hi - 1);
	*seq = m->task_token & ((UINT64_C(1) << 40) - 1);
	return true;
}

static void assert_payload_eq(const struct dfb_msg_payload *got, const struct dfb_msg_payload *want)
{
	ck_assert_uint_eq(got->task_token, want->task_token);
	ck_assert_uint_eq(got->addr, want->addr);
	ck_assert_uint_eq(got->expected_value, want->expected_value);
	ck_assert_uint_eq(got->engine, want->engine);
	ck_assert_uint_eq(got->completion_type, want->completion_type);
	ck_assert_uint_eq(got->kind, want->kind);
}

static uint64_t cell_seq(struct dfb_mailbox *mb, uint64_t pos)
{
	return atomic_load_explicit(&mb->cells[pos & mb->mask].seq, memory_order_relaxed);
}

/* ---- single-threaded ------------------------------------------------- */

START_TEST(test_push_pop_roundtrip)
{
	struct dfb_mailbox mb;
	ck_assert_int_eq(dfb_mailbox_init(&mb, 8), 0);
	static int slot_state; /* stands in for the slot a NORMAL_DONE carries */
	const struct dfb_msg_payload in[2] = {
		{
			.task_token = UINT64_C(0xfedcba9876543210),
			.addr = UINT64_C(0x0123456789abcdef),
			.expected_value = 0xffffffffu,
			.engine = 0xff,
			.completion_type = 3,
			.kind = DFB_MSG_CONDITION,
		},
		{
			.task_token = (UINT64_C(7) << 32) | 42,
			.addr = (uint64_t)(uintptr_t)&slot_state,
			.expected_value = 0,
			.engine = 1,
			.completion_type = 0,
			.kind = DFB_MSG_TASK_NORMAL_DONE,
		},
	};
	uint64_t retries = 0;
	for (int i = 0; i < 2; i++) {
		ck_assert(dfb_mailbox_try_push(&mb, &in[i], &retries));
		struct dfb_msg_payload out;
		memset(&out, 0xcc, sizeof(out));
		ck_assert(dfb_mailbox_try_pop(&mb, &out));
		assert_payload_eq(&out, &in[i]);
	}
	/* Both queued at once come back in order, still intact. */
	for (int i = 0; i < 2; i++)
		ck_assert(dfb_mailbox_try_push(&mb, &in[i], &retries));
	for (int i = 0; i < 2; i++) {
		struct dfb_msg_payload out;
		ck_assert(dfb_mailbox_try_pop(&mb, &out));
		assert_payload_eq(&out, &in[i]);
	}
	dfb_mailbox_fini(&mb);
	ck_assert_ptr_null(mb.cells);
}
END_TEST

/* Upstream's try_pop loads head and reports empty at tail >= head before it
 * looks at the cell's seq: a cell whose seq says "published" is not
 * popped while head has not moved past it.  (A pop that skipped the head
 * read, as this model's once did, would return it.) */
START_TEST(test_pop_reads_head)
{
	struct dfb_mailbox mb;
	ck_assert_int_eq(dfb_mailbox_init(&mb, 8), 0);
	/* Cell 0 looks published, but nothing was claimed. */
	mb.cells[0].p.kind = DFB_MSG_CONDITION;
	atomic_store(&mb.cells[0].seq, 1);
	struct dfb_msg_payload out;
	ck_assert(!dfb_mailbox_try_pop(&mb, &out));
	ck_assert_uint_eq(atomic_load(&mb.tail), 0);
	ck_assert(!dfb_mailbox_has_pending(&mb));
	/* Once head covers it, it pops. */
	atomic_store(&mb.head, 1);
	ck_assert(dfb_mailbox_has_pending(&mb));
	ck_assert(dfb_mailbox_try_pop(&mb, &out));
	ck_assert_uint_eq(atomic_load(&mb.tail), 1);
	ck_assert(!dfb_mailbox_try_pop(&mb, &out));
	dfb_mailbox_fini(&mb);
}
END_TEST

START_TEST(test_empty)
{
	struct dfb_mailbox mb;
	ck_assert_int_eq(dfb_mailbox_init(&mb, 4), 0);
	struct dfb_msg_payload out, m = encode(0, 0);
	uint64_t retries = 0;

	ck_assert(!dfb_mailbox_has_pending(&mb));
	ck_assert(!dfb_mailbox_try_pop(&mb, &out));
	ck_assert(!dfb_mailbox_try_pop(&mb, &out)); /* and again: no state change */
	ck_assert(!dfb_mailbox_has_pending(&mb));

	ck_assert(dfb_mailbox_try_push(&mb, &m, &retries));
	ck_assert(dfb_mailbox_has_pending(&mb));
	ck_assert(dfb_mailbox_has_pending(&mb)); /* a hint, not a consume */
	ck_assert(dfb_mailbox_try_pop(&mb, &out));
	assert_payload_eq(&out, &m);
	ck_assert(!dfb_mailbox_has_pending(&mb));
	ck_assert(!dfb_mailbox_try_pop(&mb, &out));

	/* Empty again after the ring has wrapped: stale cells of an older
	 * generation must not look published. */
	for (uint64_t i = 1; i <= 9; i++) {
		m = encode(0, i);
		ck_assert(dfb_mailbox_try_push(&mb, &m, &retries));
		ck_assert(dfb_mailbox_try_pop(&mb, &out));
		assert_payload_eq(&out, &m);
		ck_assert(!dfb_mailbox_has_pending(&mb));
		ck_assert(!dfb_mailbox_try_pop(&mb, &out));
	}
	dfb_mailbox_fini(&mb);
}
END_TEST

START_TEST(test_full)
{
	struct dfb_mailbox mb;
	ck_assert_int_eq(dfb_mailbox_init(&mb, 8), 0);
	struct dfb_msg_payload out, m;
	uint64_t retries = 0;

	for (uint64_t i = 0; i < 8; i++) {
		m = encode(0, i);
		ck_assert_msg(dfb_mailbox_try_push(&mb, &m, &retries), "push %" PRIu64 " of 8 failed", i);
	}
	m = encode(0, 8);
	ck_assert_msg(!dfb_mailbox_try_push(&mb, &m, &retries), "9th push into capacity 8 succeeded");
	ck_assert(!dfb_mailbox_try_push(&mb, &m, &retries)); /* still full */
	/* A refused push claims nothing and publishes nothing. */
	ck_assert_uint_eq(atomic_load(&mb.head), 8);
	ck_assert_uint_eq(cell_seq(&mb, 8), 1); /* cell 0 still holds generation 0 */

	struct dfb_msg_payload first = encode(0, 0);
	ck_assert(dfb_mailbox_try_pop(&mb, &out));
	assert_payload_eq(&out, &first);
	ck_assert_msg(dfb_mailbox_try_push(&mb, &m, &retries), "push after a pop from a full ring failed");
	struct dfb_msg_payload m9 = encode(0, 9);
	ck_assert(!dfb_mailbox_try_push(&mb, &m9, &retries));

	/* Drain: 1..8 in order, then empty. */
	for (uint64_t i = 1; i <= 8; i++) {
		struct dfb_msg_payload want = encode(0, i);
		ck_assert(dfb_mailbox_try_pop(&mb, &out));
		assert_payload_eq(&out, &want);
	}
	ck_assert(!dfb_mailbox_try_pop(&mb, &out));
	ck_assert(!dfb_mailbox_has_pending(&mb));
	dfb_mailbox_fini(&mb);
}
END_TEST

START_TEST(test_init_rejects)
{
	static const uint64_t bad[] = {
		0, 1, 3, 5, 6, 7, 12, 100, 4095, 4097, (UINT64_C(1) << 20) + 1,
		UINT64_MAX, (UINT64_C(1) << 63) + 1,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dfb_mailbox mb;
		errno = 0;
		ck_assert_msg(dfb_mailbox_init(&mb, bad[i]) == -1, "init accepted capacity %" PRIu64, bad[i]);
		ck_assert_msg(errno == EINVAL, "capacity %" PRIu64 ": errno %d, want EINVAL", bad[i], errno);
	}
	static const uint64_t good[] = { 2, 4, 8, 4096 };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct dfb_mailbox mb;
		ck_assert_msg(dfb_mailbox_init(&mb, good[i]) == 0, "init refused capacity %" PRIu64, good[i]);
		ck_assert_uint_eq(mb.capacity, good[i]);
		ck_assert_uint_eq(mb.mask, good[i] - 1);
		ck_assert_ptr_nonnull(mb.cells);
		ck_assert_uint_eq((uintptr_t)mb.cells % DFB_CACHELINE, 0);
		ck_assert(!dfb_mailbox_has_pending(&mb));
		dfb_mailbox_fini(&mb);
	}
	/* The smallest ring works: 2 in, third refused, 2 out. */
	struct dfb_mailbox mb;
	struct dfb_msg_payload out, m0 = encode(0, 0), m1 = encode(0, 1);
	uint64_t retries = 0;
	ck_assert_int_eq(dfb_mailbox_init(&mb, 2), 0);
	ck_assert(dfb_mailbox_try_push(&mb, &m0, &retries));
	ck_assert(dfb_mailbox_try_push(&mb, &m1, &retries));
	ck_assert(!dfb_mailbox_try_push(&mb, &m0, &retries));
	ck_assert(dfb_mailbox_try_pop(&mb, &out));
	assert_payload_eq(&out, &m0);
	ck_assert(dfb_mailbox_try_pop(&mb, &out));
	assert_payload_eq(&out, &m1);
	ck_assert(!dfb_mailbox_try_pop(&mb, &out));
	dfb_mailbox_fini(&mb);
}
END_TEST

/* Capacity 4, 1000 messages, with the fill level cycling 1..4 so every
 * cell is reused at every depth; checks FIFO order, payloads, and that each
 * cell's seq carries the generation (absolute position + 1) it was last
 * published with, never reset by the consumer. */
START_TEST(test_wrap_fifo_generations)
{
	enum { CAP = 4, TOTAL = 1000 };
	struct dfb_mailbox mb;
	ck_assert_int_eq(dfb_mailbox_init(&mb, CAP), 0);
	uint64_t pushed = 0, popped = 0, retries = 0;
	struct dfb_msg_payload out;

	for (unsigned round = 0; popped < TOTAL; round++) {
		unsigned batch = round % CAP + 1;
		for (unsigned k = 0; k < batch && pushed < TOTAL; k++) {
			struct dfb_msg_payload m = encode(1, pushed);
			ck_assert_msg(dfb_mailbox_try_push(&mb, &m, &retries), "push at position %" PRIu64 " failed", pushed);
			ck_assert_uint_eq(cell_seq(&mb, pushed), pushed + 1);
			pushed++;
		}
		ck_assert_uint_eq(atomic_load(&mb.head), pushed);
		if (pushed - popped == CAP) {
			struct dfb_msg_payload m = encode(1, pushed);
			ck_assert(!dfb_mailbox_try_push(&mb, &m, &retries));
		}
		ck_assert(dfb_mailbox_has_pending(&mb));
		while (popped < pushed) {
			unsigned id;
			uint64_t seq;
			ck_assert(dfb_mailbox_try_pop(&mb, &out));
			ck_assert_msg(decode(&out, &id, &seq), "corrupt payload at position %" PRIu64, popped);
			ck_assert_uint_eq(id, 1);
			ck_assert_uint_eq(seq, popped);
			/* The consumer leaves the generation in place. */
			ck_assert_uint_eq(cell_seq(&mb, popped), popped + 1);
			popped++;
		}
		ck_assert_uint_eq(atomic_load(&mb.tail), popped);
		ck_assert(!dfb_mailbox_has_pending(&mb));
		ck_assert(!dfb_mailbox_try_pop(&mb, &out));
	}
	ck_assert_uint_eq(popped, TOTAL);
	ck_assert_uint_ge(TOTAL / CAP, 10); /* many wraps */
	for (uint64_t p = TOTAL - CAP; p < TOTAL; p++)
		ck_assert_uint_eq(cell_seq(&mb, p), p + 1);
	dfb_mailbox_fini(&mb);
}
END_TEST

/* ---- multi-threaded harness ------------------------------------------ */

struct ctx;

struct producer {
	struct ctx *c;
	unsigned id;
	pthread_t th;
	uint64_t cas_retries; /* starts at RETRIES_BASE */
	uint64_t retries_delta; /* sum of per-call increments */
	uint64_t skipped;       /* pushes refused as full */
};

struct ctx {
	struct dfb_mailbox mb;
	unsigned nprod;
	uint64_t per_prod;
	bool full_is_error;     /* ring can never be full: a refused push is a bug */
	/* Producers wait until their previous message is popped, so at most
	 * nprod messages are ever unpopped (acked[id] = next seq to send). */
	bool one_outstanding;
	_Atomic uint64_t acked[MAX_PRODUCERS];
	/* start gate */
	_Atomic unsigned ready;
	_Atomic bool go;
	/* shutdown */
	_Atomic bool stop;
	_Atomic unsigned producers_done;
	pthread_mutex_t err_mu;
	bool failed;
	char err[512];
	/* consumer state: one consumer at a time (handed over by pthread_join) */
	uint64_t next_seq[MAX_PRODUCERS];
	uint64_t popped;
	struct producer prod[MAX_PRODUCERS];
};

static void ctx_fail(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ctx_fail(struct ctx *c, const char *fmt, ...)
{
	pthread_mutex_lock(&c->err_mu);
	if (!c->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof(c->err), fmt, ap);
		va_end(ap);
		c->failed = true;
	}
	pthread_mutex_unlock(&c->err_mu);
	atomic_store_explicit(&c->stop, true, memory_order_relaxed);
}

static bool stopped(struct ctx *c)
{
	return atomic_load_explicit(&c->stop, memory_order_relaxed);
}

static void ctx_init(struct ctx *c, uint64_t capacity, unsigned nprod, uint64_t per_prod)
{
	memset(c, 0, sizeof(*c));
	ck_assert_int_le(nprod, MAX_PRODUCERS);
	ck_assert_int_eq(dfb_mailbox_init(&c->mb, capacity), 0);
	c->nprod = nprod;
	c->per_prod = per_prod;
	atomic_init(&c->ready, 0);
	atomic_init(&c->go, false);
	atomic_init(&c->stop, false);
	atomic_init(&c->producers_done, 0);
	for (unsigned i = 0; i < MAX_PRODUCERS; i++)
		atomic_init(&c->acked[i], 0);
	pthread_mutex_init(&c->err_mu, NULL);
	for (unsigned i = 0; i < nprod; i++) {
		c->prod[i].c = c;
		c->prod[i].id = i;
		c->prod[i].cas_retries = RETRIES_BASE;
	}
}

static void ctx_fini(struct ctx *c)
{
	dfb_mailbox_fini(&c->mb);
	pthread_mutex_destroy(&c->err_mu);
}

/* Thread side of the start barrier: check in, then wait (bounded) for go. */
static bool gate_wait(struct ctx *c)
{
	atomic_fetch_add_explicit(&c->ready, 1, memory_order_relaxed);
	uint64_t t0 = dfb_now_ns();
	/* acquire: pairs with the release of go, though the threads only
	 * share the ring, which orders itself. */
	while (!atomic_load_explicit(&c->go, memory_order_acquire)) {
		if (stopped(c))
			return false;
		if (dfb_now_ns() - t0 > HANG_NS) {
			ctx_fail(c, "start gate: go never came");
			return false;
		}
		dfb_spin_hint(DFB_SPIN_YIELD);
	}
	return !stopped(c);
}

/* Main side: wait (bounded) until n threads have checked in, then open the
 * gate.  On failure the gate opens anyway with stop raised, so every thread
 * that did start leaves. */
static void gate_open(struct ctx *c, unsigned n)
{
	uint64_t t0 = dfb_now_ns();
	while (atomic_load_explicit(&c->ready, memory_order_relaxed) < n && !stopped(c)) {
		if (dfb_now_ns() - t0 > HANG_NS) {
			ctx_fail(c, "start gate: only %u of %u threads arrived",
				 atomic_load(&c->ready), n);
			break;
		}
		dfb_spin_hint(DFB_SPIN_YIELD);
	}
	/* release: see gate_wait */
	atomic_store_explicit(&c->go, true, memory_order_release);
}

/* Bounded wait until the consumer has popped producer id's message seq-1. */
static bool wait_acked(struct ctx *c, unsigned id, uint64_t seq)
{
	uint64_t t0 = 0;
	/* acquire: pairs with consume()'s release of acked (not load-bearing
	 * for the ring, which orders itself). */
	while (atomic_load_explicit(&c->acked[id], memory_order_acquire) != seq) {
		if (stopped(c))
			return false;
		uint64_t now = dfb_now_ns();
		if (!t0) {
			t0 = now;
		} else if (now - t0 > HANG_NS) {
			ctx_fail(c, "producer %u: message %" PRIu64 " not popped for 10 s", id, seq - 1);
			return false;
		}
		dfb_spin_hint(DFB_SPIN_YIELD);
	}
	return true;
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	struct ctx *c = p->c;
	uint64_t stuck_since = 0;

	if (gate_wait(c)) {
		for (uint64_t seq = 0; seq < c->per_prod && !stopped(c);) {
			if (c->one_outstanding && !wait_acked(c, p->id, seq))
				break;
			struct dfb_msg_payload m = encode(p->id, seq);
			uint64_t before = p->cas_retries;
			bool ok = c->mb.cached_tail
					  ? dfb_mailbox_try_push_cached(&c->mb, &m, &p->cas_retries)
					  : dfb_mailbox_try_push(&c->mb, &m, &p->cas_retries);
			if (p->cas_retries < before) {
				ctx_fail(c, "producer %u: cas_retries went from %" PRIu64 " to %" PRIu64,
					 p->id, before, p->cas_retries);
				break;
			}
			p->retries_delta += p->cas_retries - before;
			if (ok) {
				seq++;
				stuck_since = 0;
				continue;
			}
			p->skipped++;
			if (c->full_is_error) {
				ctx_fail(c, "producer %u: push %" PRIu64 " refused as full, but the ring (capacity %" PRIu64
					 ") cannot be full here (head %" PRIu64 ", tail %" PRIu64 " after the call)",
					 p->id, seq, c->mb.capacity, atomic_load(&c->mb.head), atomic_load(&c->mb.tail));
				break;
			}
			uint64_t now = dfb_now_ns();
			if (!stuck_since) {
				stuck_since = now;
			} else if (now - stuck_since > HANG_NS) {
				ctx_fail(c, "producer %u: ring full for 10 s at message %" PRIu64, p->id, seq);
				break;
			}
			dfb_spin_hint(DFB_SPIN_YIELD);
		}
	}
	/* release: orders every push above before a consumer's acquire of
	 * producers_done, so "all done and pop fails" means "all popped". */
	atomic_fetch_add_explicit(&c->producers_done, 1, memory_order_release);
	return NULL;
}

/* Consumer check of one popped message: intact payload, known producer,
 * and exactly the next sequence of that producer (a smaller one is a
 * duplicate, a larger one a loss or reordering). */
static void consume(struct ctx *c, const struct dfb_msg_payload *m)
{
	unsigned id;
	uint64_t seq;
	if (!decode(m, &id, &seq) || id >= c->nprod) {
		ctx_fail(c, "message %" PRIu64 ": corrupt payload (token %#" PRIx64 ", addr %#" PRIx64
			 ", expected %#x, engine %u, type %u, kind %u)",
			 c->popped, m->task_token, m->addr, m->expected_value, m->engine,
			 m->completion_type, m->kind);
		return;
	}
	if (seq != c->next_seq[id]) {
		ctx_fail(c, "message %" PRIu64 ": producer %u sequence %" PRIu64 ", expected %" PRIu64 " (%s)",
			 c->popped, id, seq, c->next_seq[id],
			 seq < c->next_seq[id] ? "duplicate or out of order" : "lost message(s)");
		return;
	}
	if (seq >= c->per_prod) {
		ctx_fail(c, "producer %u: sequence %" PRIu64 " beyond the %" PRIu64 " it sent", id, seq, c->per_prod);
		return;
	}
	c->next_seq[id] = seq + 1;
	c->popped++;
	if (c->one_outstanding)
		/* release: see wait_acked */
		atomic_store_explicit(&c->acked[id], seq + 1, memory_order_release);
}

/* Pops everything currently visible; returns how many. */
static uint64_t drain_visible(struct ctx *c)
{
	struct dfb_msg_payload m;
	uint64_t n = 0;
	while (!stopped(c) && dfb_mailbox_try_pop(&c->mb, &m)) {
		consume(c, &m);
		n++;
	}
	return n;
}

/* Drains while the producers run, until they are all done (then one last
 * pass if final_pass) or a failure.  Fails after HANG_NS with nothing to pop. */
static void drain_while_producing(struct ctx *c, bool final_pass)
{
	uint64_t idle_since = 0;
	while (!stopped(c)) {
		if (drain_visible(c)) {
			idle_since = 0;
			continue;
		}
		/* acquire: pairs with producer_main's release increment */
		if (atomic_load_explicit(&c->producers_done, memory_order_acquire) == c->nprod) {
			if (final_pass)
				drain_visible(c);
			return;
		}
		uint64_t now = dfb_now_ns();
		if (!idle_since) {
			idle_since = now;
		} else if (now - idle_since > HANG_NS) {
			ctx_fail(c, "consumer: nothing to pop for 10 s after %" PRIu64 " messages (head %" PRIu64
				 ", tail %" PRIu64 ")", c->popped, atomic_load(&c->mb.head), atomic_load(&c->mb.tail));
			return;
		}
		dfb_spin_hint(DFB_SPIN_YIELD);
	}
}

static unsigned start_producers(struct ctx *c)
{
	unsigned started = 0;
	for (unsigned i = 0; i < c->nprod; i++) {
		int rc = pthread_create(&c->prod[i].th, NULL, producer_main, &c->prod[i]);
		if (rc) {
			ctx_fail(c, "pthread_create: %s", strerror(rc));
			break;
		}
		started++;
	}
	return started;
}

static void join_producers(struct ctx *c, unsigned started)
{
	for (unsigned i = 0; i < started; i++)
		pthread_join(c->prod[i].th, NULL);
}

static bool verbose(void)
{
	return getenv("DFB_TEST_VERBOSE") != NULL;
}

/* After all threads are joined: no recorded failure, every message of every
 * producer popped exactly once, ring empty, counters sane. */
static void assert_complete(struct ctx *c, const char *name)
{
	ck_assert_msg(!c->failed, "%s", c->err);
	uint64_t total = (uint64_t)c->nprod * c->per_prod;
	ck_assert_uint_eq(c->popped, total);
	for (unsigned i = 0; i < c->nprod; i++)
		ck_assert_uint_eq(c->next_seq[i], c->per_prod);
	struct dfb_msg_payload m;
	ck_assert(!dfb_mailbox_try_pop(&c->mb, &m));
	ck_assert(!dfb_mailbox_has_pending(&c->mb));
	ck_assert_uint_eq(atomic_load(&c->mb.head), total);
	ck_assert_uint_eq(atomic_load(&c->mb.tail), total);

	uint64_t retries = 0, skipped = 0;
	for (unsigned i = 0; i < c->nprod; i++) {
		const struct producer *p = &c->prod[i];
		/* Accumulates into the caller's counter: never reset, never
		 * wrapped, and equal to the sum of what each call added. */
		ck_assert_uint_ge(p->cas_retries, RETRIES_BASE);
		ck_assert_uint_eq(p->cas_retries - RETRIES_BASE, p->retries_delta);
		retries += p->retries_delta;
		skipped += p->skipped;
	}
	if (verbose())
		fprintf(stderr, "%s: %" PRIu64 " messages, capacity %" PRIu64 " (%" PRIu64
			" wraps), cas_retries %" PRIu64 ", skipped (full) %" PRIu64 "\n",
			name, total, c->mb.capacity, total / c->mb.capacity, retries, skipped);
}

/* ---- multi-threaded cases -------------------------------------------- */

/* Upstream's shape: all producers finish, then one drain.  The ring holds
 * every message, so a refused push is itself a failure. */
START_TEST(test_producers_then_drain)
{
	enum { NPROD = 4, PER = 20000 };
	static struct ctx c;
	ctx_init(&c, 131072, NPROD, PER);
	ck_assert_uint_ge(c.mb.capacity, (uint64_t)NPROD * PER);
	c.full_is_error = true;

	unsigned started = start_producers(&c);
	gate_open(&c, started);
	join_producers(&c, started);
	ck_assert_msg(!c.failed, "%s", c.err);
	ck_assert(dfb_mailbox_has_pending(&c.mb));
	drain_visible(&c);
	assert_complete(&c, "producers_then_drain");
	for (unsigned i = 0; i < NPROD; i++)
		ck_assert_uint_eq(c.prod[i].skipped, 0);
	ctx_fini(&c);
}
END_TEST

struct drainer {
	struct ctx *c;
	pthread_t th;
	uint64_t popped;
};

static void *drainer_main(void *arg)
{
	struct drainer *d = arg;
	if (gate_wait(d->c)) {
		drain_while_producing(d->c, false);
	}
	d->popped = d->c->popped;
	return NULL;
}

/* One producer, one drainer thread popping concurrently; the drainer is
 * joined before the main thread's final drain, so there is never more than
 * one consumer (the review finding on upstream's version of this test). */
START_TEST(test_producer_interleaved_with_drainer)
{
	enum { CAP = 64, PER = 200000 };
	static struct ctx c;
	ctx_init(&c, CAP, 1, PER);

	struct drainer d = { .c = &c };
	int rc = pthread_create(&d.th, NULL, drainer_main, &d);
	ck_assert_msg(rc == 0, "pthread_create: %s", strerror(rc));
	unsigned started = start_producers(&c);
	gate_open(&c, started + 1);
	join_producers(&c, started);
	pthread_join(d.th, NULL); /* the only consumer hand-over */

	ck_assert_msg(!c.failed, "%s", c.err);
	/* The producer cannot finish unless the drainer made room: it must
	 * have popped all but at most one ring's worth. */
	ck_assert_uint_ge(d.popped, PER - CAP);
	drain_visible(&c);
	assert_complete(&c, "producer_interleaved_with_drainer");
	ctx_fini(&c);
}
END_TEST

/* Producers push while this thread drains; the context checks loss,
 * duplicates and per-producer order message by message during the drain. */
static void concurrent_run(uint64_t cap, unsigned nprod, uint64_t per, bool cached,
			   bool no_full, const char *what)
{
	static struct ctx c;
	ctx_init(&c, cap, nprod, per);
	c.mb.cached_tail = cached;
	if (no_full) {
		/* At most nprod < cap messages are ever unpopped (each
		 * producer waits for its previous one), so any refusal is
		 * spurious. */
		c.mb.refresh_stale_head = true;
		c.full_is_error = true;
		c.one_outstanding = true;
	}
	unsigned started = start_producers(&c);
	gate_open(&c, started);
	drain_while_producing(&c, true); /* this thread is the consumer */
	join_producers(&c, started);
	ck_assert_msg(!c.failed, "%s", c.err);
	assert_complete(&c, what);
	ctx_fini(&c);
}

/* What upstream lacked: several producers pushing while the consumer drains
 * concurrently, across many wraps of a small ring. */
START_TEST(test_producers_concurrent_with_consumer)
{
	ck_assert_uint_ge(4 * 50000 / 16, 10);
	concurrent_run(16, 4, 50000, false, false, "producers_concurrent_with_consumer");
}
END_TEST

/* The same with the cached-tail push (mailbox_cached_tail deviation). */
START_TEST(test_cached_tail_concurrent_with_consumer)
{
	concurrent_run(16, 4, 50000, true, false, "cached_tail_concurrent_with_consumer");
}
END_TEST

/* A push must refuse only when `capacity` messages are unpopped.
 * try_push loads head (relaxed) and only then tail; when other producers
 * and the consumer move tail past that stale head in between, `h - t`
 * underflows and reads as full.  Upstream behaves so (a spurious skipped
 * push); the refresh_stale_head deviation re-reads head, and this proves
 * it (without it, a refusal came within 1-3 million pushes on 2
 * oversubscribed cores). */
START_TEST(test_no_spurious_full)
{
	concurrent_run(16, 8, 150000, false, true, "no_spurious_full");
}
END_TEST

/* The same with the cached tail. */
START_TEST(test_cached_tail_no_spurious_full)
{
	concurrent_run(16, 8, 150000, true, true, "cached_tail_no_spurious_full");
}
END_TEST

/* capacity * sizeof(struct dfb_msg) overflows for capacity >= 2^58: init
 * must refuse, not allocate a short ring.  (Regression: it once allocated
 * 0 bytes and then wrote 2^58 cells.) */
START_TEST(test_init_rejects_size_overflow)
{
	struct dfb_mailbox mb;
	errno = 0;
	ck_assert_int_eq(dfb_mailbox_init(&mb, UINT64_C(1) << 58), -1);
	ck_assert(errno == EINVAL || errno == ENOMEM);
}
END_TEST

static Suite *mailbox_suite(void)
{
	Suite *s = suite_create("mailbox");
	TCase *tc;

	tc = tcase_create("single");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_test(tc, test_push_pop_roundtrip);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_pop_reads_head);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_init_rejects);
	tcase_add_test(tc, test_wrap_fifo_generations);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrent");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_test(tc, test_producers_then_drain);
	tcase_add_test(tc, test_producer_interleaved_with_drainer);
	tcase_add_test(tc, test_producers_concurrent_with_consumer);
	tcase_add_test(tc, test_cached_tail_concurrent_with_consumer);
	tcase_add_test(tc, test_cached_tail_no_spurious_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("regressions");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_test(tc, test_no_spurious_full);
	tcase_add_test(tc, test_init_rejects_size_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mailbox_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
