/* The registration-strategy interface: what a FIN does with a finished
 * subtask's deferred conditions, what the wait-list holder drains, and the
 * transport the transport scenarios measure.
 *
 * A strategy is one file, runtime/strategy_NAME.c, defining `const struct
 * dfb_strategy dfb_strategy_NAME`, plus one line in runtime/strategies.def
 * and one in Makefile.am.  Its state is private: state_size bytes,
 * cache-line aligned and zeroed, at rt->sstate (dfb_sstate()).  Its keys
 * are its own (keys, nkeys: rows of config.c's kind whose offset is the
 * index into the strategy's options, U64 only, default 0), read with
 * dfb_sopt(rt, i); config.c splices them into the one key table, so a
 * scenario file sets them like any key.  wl_flags asks for a wait-list
 * lock of its own kind (DFB_WL_MUTEX).  The runtime calls:
 *
 *   init      at create (after the wait list and scheduler threads exist);
 *             -1: out of memory.  fini at destroy (NULL-safe state).
 *   reset     before each round (control thread): drop what a failed round
 *             left behind.
 *   on_fin    on the FIN thread, from registration to the inline-completion
 *             decision.
 *   drain     on the consumer, under the wait-list lock, before the entry
 *             walk; returns the tasks it completed.
 *   has_pending  the loop gate, any thread: consumer work pending besides
 *             the wait-list entries.  NULL: never.
 *   poll_full_batch_fails  poll_and_complete finding the release batch
 *             full: true fails the round with ASYNC_WAIT_OVERFLOW, false
 *             releases the batch in place.  NULL: false.
 *   transport_push / transport_drain  the transport scenarios (NULL: the
 *             strategy has none).
 *   dump      one line of the hang report about its state (NULL: none).
 *   check_drained  end of a clean round: false, with a message, when
 *             anything of its own is left.  NULL: nothing can be.
 *
 * Every non-relaxed atomic in a strategy says why in a comment (STYLE.md). */
#ifndef DFB_STRATEGY_H
#define DFB_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dfb_runtime;
struct dfb_sched;
struct dfb_core;
struct dfb_subtask;
struct dfb_msg_payload;
struct dfb_counters;
struct dfb_key;

struct dfb_strategy {
	const char *name;
	const char *summary;
	size_t state_size;
	unsigned wl_flags;               /* DFB_WL_* the strategy needs (DFB_WL_MUTEX) */
	/* Its FIN registers under the wait-list lock (no messages: nothing
	 * drained, lock_misses counted), as the baseline does. */
	bool locked_registration;
	/* Its FIN may complete a task before a sibling FIN registers its
	 * conditions (upstream's baseline order, docs/MODEL.md): verify leaves
	 * that to ORPHANED_CONDITIONS, stress counts it apart. */
	bool fin_order_race;
	/* Its producers claim a cell and publish it later, with a
	 * DFB_PREEMPT_CLAIMED point between: the producer_stall fault applies. */
	bool claims_cells;
	/* Not in the default strategy list (a run's or suite's -s default):
	 * only when named.  For a design whose worst case makes a default run
	 * unbounded in time on common machines (ck's convoy). */
	bool opt_in;
	const struct dfb_key *keys;
	size_t nkeys;
	int (*init)(struct dfb_runtime *rt);
	void (*fini)(struct dfb_runtime *rt);
	void (*reset)(struct dfb_runtime *rt);
	void (*on_fin)(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st);
	uint32_t (*drain)(struct dfb_sched *s);
	bool (*has_pending)(struct dfb_runtime *rt);
	bool (*poll_full_batch_fails)(const struct dfb_runtime *rt);
	/* Producer thread: one attempt to hand m to the consumer; false when
	 * the transport is full or busy (the caller spin-hints and retries).
	 * Counts its own retries in c. */
	bool (*transport_push)(struct dfb_runtime *rt, int producer,
			       const struct dfb_msg_payload *m, struct dfb_counters *c);
	/* The consumer thread: moves up to cap messages, in order, into buf;
	 * returns how many. */
	uint64_t (*transport_drain)(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
				    uint64_t cap, struct dfb_counters *c);
	void (*dump)(struct dfb_runtime *rt, char *buf, size_t len);
	bool (*check_drained)(struct dfb_runtime *rt, char *msg, size_t len);
};

/* The registry (strategy.c), in runtime/strategies.def order. */
#define DFB_STRATEGY(name) extern const struct dfb_strategy dfb_strategy_##name;
#include "strategies.def"
#undef DFB_STRATEGY

#endif
