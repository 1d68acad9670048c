/* Internal structures of the runtime model.  Not installed; tests include
 * it to drive the wait list and strategies directly. */
#ifndef DFB_INTERNAL_H
#define DFB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "deferbench.h"
#include "dfb_arch.h"
#include "dfb_mailbox.h"
#include "dfb_mpmc.h"
#include "topology.h"

/* ---- task slots ----------------------------------------------------- */

enum dfb_slot_state {
	DFB_SLOT_FREE = 0,   /* never used this round */
	DFB_SLOT_PENDING,    /* submitted, not complete */
	DFB_SLOT_COMPLETED,  /* all subtasks and conditions done */
	DFB_SLOT_CONSUMED,   /* released by scope, consumers and itself: reusable */
};

/* Completion types (upstream COUNTER and EVENT_RECORD, plus the virtual
 * engine's deadline, a named deviation: its addr holds a due time). */
enum dfb_completion_type {
	DFB_CT_COUNTER = 0,
	DFB_CT_EVENT_RECORD = 1,  /* exists upstream; not modelled: rejected as invalid */
	DFB_CT_VIRTUAL = 2,
	DFB_CT_INVALID = 7,       /* written by the invalid_condition fault */
};
enum dfb_engine_id { DFB_ENGINE_SDMA = 0, DFB_ENGINE_ROCE, DFB_ENGINE_URMA, DFB_ENGINE_CCU };

/* Packs fanout_count (high 32) and fanout_refcount (low 32) in one word so
 * that "add a consumer unless already consumed" and "drop a reference and
 * see whether it was the last" are each a single atomic step. */
#define DFB_FANOUT_ONE_COUNT (1ull << 32)
static inline uint32_t dfb_fanout_count(uint64_t v) { return (uint32_t)(v >> 32); }
static inline uint32_t dfb_fanout_ref(uint64_t v) { return (uint32_t)v; }

/* Producer references kept by a consumer: the producer's slot number plus
 * whether this consumer holds a fanout reference on it (dropped at its
 * release; only then is the slot number dereferenced). */
#define DFB_FANIN_HOLDS_REF (1ull << 63)

/* Nested scopes submit into separate rings, ring = scope depth (upstream:
 * at most 3). */
#define DFB_MAX_RINGS 3

struct dfb_slot {
	/* Written by the orchestrator before the slot is published (through
	 * a ready-queue push or a producer's fanout lock). */
	DFB_ALIGNED uint64_t token;
	uint64_t index;                 /* submission index this round */
	uint64_t kernel_ns;
	uint32_t total_required_subtasks;
	uint32_t fanin_count;
	uint32_t conditions;
	uint16_t blocks;
	uint8_t mask;
	uint8_t payload;                /* a kernel that may write a slab */
	uint32_t number;                /* this slot's index in rt->slots */
	uint32_t nfanin;
	uint32_t next_block;            /* dispatch cursor, owned by the popper */
	uint64_t *fanin;                /* producers (slot number | HOLDS_REF) */
	uint32_t *fanout;               /* consumers' slot numbers, under fanout_lock */
	uint32_t nfanout;
	_Atomic uint32_t *counters;     /* condition counters the engine stores */

	/* Shared between scheduler threads. */
	DFB_ALIGNED _Atomic uint32_t completed_subtasks;
	_Atomic uint32_t fanin_refcount;
	_Atomic uint64_t fanout_rc;     /* fanout_count:fanout_refcount, see DFB_FANOUT_ONE_COUNT */
	_Atomic int state;
	_Atomic int fanout_lock;
	_Atomic bool any_subtask_deferred;
};

/* ---- completion slab and async wait list ---------------------------- */

struct dfb_slab_entry {
	uint64_t addr;
	uint32_t expected_value;
	uint8_t engine;
	uint8_t completion_type;
};

struct dfb_slab {
	uint32_t count;
	int32_t error_code;
	struct dfb_slab_entry *entries;  /* max_conditions_per_task */
};

struct dfb_cond {
	uint64_t addr;
	uint32_t expected_value;
	uint8_t engine;
	uint8_t completion_type;
	uint8_t done;
};

struct dfb_wait_entry {
	struct dfb_slot *slot;           /* NULL until NORMAL_DONE attaches it */
	uint64_t task_token;
	uint32_t condition_count;
	int32_t waiting_count;
	bool normal_done;
	struct dfb_cond *conditions;     /* max_conditions_per_task */
};

struct dfb_wait_list {
	DFB_ALIGNED _Atomic int busy;
	/* Read by every scheduler's loop gate without the lock. */
	DFB_ALIGNED _Atomic uint32_t count;
	DFB_ALIGNED uint32_t max_entries;
	uint32_t max_conditions;
	uint32_t peak;
	struct dfb_wait_entry *entries;
	struct dfb_cond *pool;
};

int dfb_wl_init(struct dfb_wait_list *wl, uint32_t max_entries, uint32_t max_conditions);
void dfb_wl_fini(struct dfb_wait_list *wl);
void dfb_wl_reset(struct dfb_wait_list *wl);

static inline bool dfb_wl_try_lock(struct dfb_wait_list *wl)
{
	int expected = 0;
	/* acquire: the previous holder's entry updates (and mailbox tail)
	 * happen before ours. The relaxed pre-check keeps losers off the
	 * line in exclusive state. */
	if (atomic_load_explicit(&wl->busy, memory_order_relaxed))
		return false;
	return atomic_compare_exchange_strong_explicit(&wl->busy, &expected, 1,
						       memory_order_acquire,
						       memory_order_relaxed);
}

static inline void dfb_wl_unlock(struct dfb_wait_list *wl)
{
	/* release: publishes our entry updates to the next holder. */
	atomic_store_explicit(&wl->busy, 0, memory_order_release);
}

static inline uint32_t dfb_wl_count(struct dfb_wait_list *wl)
{
	return atomic_load_explicit(&wl->count, memory_order_relaxed);
}

/* Under the lock. */
struct dfb_wait_entry *dfb_wl_find(struct dfb_wait_list *wl, uint64_t token);
/* Under the lock: a new empty entry, or NULL when the list is full
 * (ASYNC_WAIT_OVERFLOW). */
struct dfb_wait_entry *dfb_wl_create(struct dfb_wait_list *wl, uint64_t token,
				     struct dfb_slot *slot);
/* Under the lock: appends one condition; -1 when the entry is full. */
int dfb_wl_append(struct dfb_wait_list *wl, struct dfb_wait_entry *e,
		  const struct dfb_slab_entry *c);
/* Under the lock: removes entry i by moving the last one into its place. */
void dfb_wl_remove(struct dfb_wait_list *wl, uint32_t i);

/* ---- simulated cores -------------------------------------------------- */

enum dfb_core_kind { DFB_CORE_AIC = 0, DFB_CORE_AIV = 1 };

struct dfb_subtask {
	struct dfb_slot *slot;
	uint64_t start_ns, deadline_ns;
	uint32_t index;                  /* block * popcount(mask) + kind rank */
	uint8_t parity;
	uint8_t valid;
};

/* A core belongs to one scheduler thread: no field here is shared. */
struct dfb_core {
	struct dfb_subtask run, pend;
	uint32_t id, cluster;
	uint8_t kind, bit;               /* bit: 1 AIC, 2 AIV0, 4 AIV1 */
	uint64_t dispatched;             /* parity = dispatched & 1 */
	struct dfb_slab slab[2];
};

/* ---- engine requests (thread engine) --------------------------------- */

struct dfb_engine_req {
	uint64_t due_ns;
	_Atomic uint32_t *counter;
	uint32_t value;
};

/* Single-producer (one scheduler thread) single-consumer (engine thread). */
struct dfb_spsc {
	DFB_ALIGNED _Atomic uint64_t head;
	DFB_ALIGNED _Atomic uint64_t tail;
	DFB_ALIGNED uint64_t mask;
	struct dfb_engine_req *cells;
};

/* ---- threads ---------------------------------------------------------- */

enum dfb_phase {
	DFB_PH_START = 0, DFB_PH_IDLE, DFB_PH_FIN, DFB_PH_REGISTER, DFB_PH_PUSH,
	DFB_PH_POLL, DFB_PH_DISPATCH, DFB_PH_RELEASE, DFB_PH_ORCH_SUBMIT,
	DFB_PH_ORCH_WAIT_RING, DFB_PH_ORCH_FANOUT_LOCK, DFB_PH_ENGINE_PUSH,
	DFB_PH_DONE, DFB_PH__COUNT
};
extern const char *const dfb_phase_names[];

struct dfb_sched {
	DFB_ALIGNED struct dfb_runtime *rt;
	int id;
	uint32_t ncores;
	struct dfb_core *cores;
	struct dfb_slot **local;         /* local ready buffer */
	uint32_t nlocal;
	struct dfb_slot **batch;         /* release batch */
	uint32_t nbatch;
	struct dfb_spsc engine_q;
	uint64_t sched_start, sched_end;
	struct dfb_counters c;
	struct dfb_hist lat;
	pthread_t thread;
	/* Read by the watchdog while the thread runs. */
	DFB_ALIGNED _Atomic uint64_t progress;
	_Atomic int phase;
	_Atomic uint64_t phase_token;
};

/* ---- the runtime -------------------------------------------------- */

struct dfb_strategy {
	const char *name;
	const char *summary;
	int (*init)(struct dfb_runtime *rt);
	void (*fini)(struct dfb_runtime *rt);
	/* FIN thread: one subtask's FIN, from registration to the inline
	 * completion decision. */
	void (*on_fin)(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st);
	/* Consumer, under the wait-list lock, before the entry walk; NULL if
	 * the strategy has nothing to drain. */
	void (*drain)(struct dfb_sched *s);
	/* Loop gate, any thread: consumer work may be pending besides the
	 * wait-list entries.  NULL means never. */
	bool (*has_pending)(struct dfb_runtime *rt);
	/* Transport scenarios (transport.c; NULL: the strategy has none).
	 * Producer thread: one attempt to hand m to the consumer; false when
	 * the transport is full or busy (the caller spin-hints and retries).
	 * Counts its own retries in c. */
	bool (*transport_push)(struct dfb_runtime *rt, const struct dfb_msg_payload *m,
			       struct dfb_counters *c);
	/* The consumer thread: moves up to cap messages, in order, into buf;
	 * returns how many. */
	uint64_t (*transport_drain)(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
				    uint64_t cap, struct dfb_counters *c);
};

/* ---- transport scenarios (transport.c) ------------------------------- */

/* task_token of a transport message: producer << 40 | sequence. */
#define DFB_TRANSPORT_SHIFT 40

/* A producer thread, or the consumer. */
struct dfb_tthread {
	DFB_ALIGNED struct dfb_runtime *rt;
	int id;                          /* producer index; -1 for the consumer */
	uint64_t count;                  /* messages to push (to pop: the consumer) */
	uint64_t t_start, t_end;         /* first push / after the last push; first / last pop */
	struct dfb_counters c;
	struct dfb_hist lat;             /* ns per push, retries included */
	pthread_t thread;
	/* Read by the watchdog while the thread runs. */
	DFB_ALIGNED _Atomic uint64_t progress;  /* messages pushed or popped */
	_Atomic int phase;
};

struct dfb_transport {
	uint32_t nproducers;
	struct dfb_tthread *threads;     /* producers 0..P-1, then the consumer */
	uint64_t *next_seq;              /* consumer: next sequence per producer */
	struct dfb_msg_payload *buf;     /* consumer: drain buffer */
	uint64_t buf_cap;
	/* The spinlock strategy's transport: register_deferred's lock (the
	 * wait list's busy try-lock) over a bounded array. */
	struct dfb_msg_payload *locked;
	uint64_t nlocked, locked_cap;
	DFB_ALIGNED _Atomic uint32_t ready;  /* start barrier */
	_Atomic bool go;
};

enum dfb_shape_q { DFB_Q_AIC = 0, DFB_Q_AIV, DFB_Q_MIX, DFB_Q_DUMMY, DFB_Q__COUNT };

struct dfb_runtime {
	struct dfb_config cfg;
	const struct dfb_strategy *strategy;
	const struct dfb_shape *shape;
	uint32_t window_mask;
	uint32_t max_cond;
	enum dfb_spin_hint hint;

	struct dfb_slot *slots;
	uint64_t *fanin_pool;
	uint32_t *fanout_pool;
	_Atomic uint32_t *counter_pool;
	uint32_t counters_per_slot;

	struct dfb_mpmc ready[DFB_Q__COUNT];
	struct dfb_wait_list wl;
	struct dfb_mailbox mailbox;

	uint32_t nsched;
	struct dfb_sched *sched;
	struct dfb_core *cores;
	uint32_t ncores, nclusters;
	struct dfb_slab_entry *slab_pool;

	/* Orchestrator state (its own thread). */
	pthread_t orch_thread;
	uint64_t orch_start, orch_end;
	uint64_t ring_tail[DFB_MAX_RINGS];   /* oldest slot not yet reusable */
	uint64_t ring_next[DFB_MAX_RINGS];   /* next local id */
	uint32_t nrings;
	/* Submission index -> slot number of recent tasks, for wiring
	 * producers named by index (direct-mapped, 4 entries per slot). */
	struct dfb_idx { uint64_t index; uint32_t number; } *idxmap;
	uint64_t idxmap_mask;
	DFB_ALIGNED _Atomic uint64_t orch_progress;
	_Atomic int orch_phase;

	/* Engine thread. */
	pthread_t engine_thread;
	struct dfb_engine_req *heap;
	uint64_t heap_len, heap_cap;
	DFB_ALIGNED _Atomic uint64_t engine_fired;

	/* Round control. */
	DFB_ALIGNED _Atomic uint64_t consumed;
	DFB_ALIGNED _Atomic bool stop;
	_Atomic int err_code;
	struct dfb_error err;            /* written by the first raiser only */
	char *dump;
	size_t dump_cap;
	/* verify mode: one flag per task index */
	_Atomic uint8_t *done_flags;
	uint64_t round_start;

	/* Thread placement (topology.c): the plan and, per thread, its
	 * binding result (written by each thread at its start). */
	struct dfb_plan *plan;

	/* Transport scenarios only (rt->shape->transport), else NULL. */
	struct dfb_transport *transport;
};

/* Clears the stop flag and the error before a round.  Control thread. */
void dfb_round_control_reset(struct dfb_runtime *rt);

/* Appends to the hang dump rt->dump; needs a size_t o in scope. */
#define DUMP(...)                                                                     \
	do {                                                                          \
		if (o < rt->dump_cap)                                                 \
			o += (size_t)snprintf(rt->dump + o, rt->dump_cap - o, __VA_ARGS__); \
	} while (0)

/* First error wins: records it and stops every thread.  Any thread. */
void dfb_raise(struct dfb_runtime *rt, enum dfb_err code, const struct dfb_slot *slot,
	       int thread, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static inline bool dfb_stopped(struct dfb_runtime *rt)
{
	return atomic_load_explicit(&rt->stop, memory_order_relaxed);
}

static inline void dfb_set_phase(struct dfb_sched *s, enum dfb_phase p)
{
	atomic_store_explicit(&s->phase, (int)p, memory_order_relaxed);
}

/* ---- completion path (complete.c) ------------------------------------ */

/* on_subtask_complete: true for the FIN that completes the last subtask. */
static inline bool dfb_on_subtask_complete(struct dfb_slot *slot)
{
	/* acq_rel: every earlier subtask's FIN-side writes (the
	 * any_subtask_deferred flag, its pushes) happen before the last
	 * FIN's completion decision. */
	/* The total is read first: once our increment is in, the last FIN
	 * may complete the task and its slot be released and reused. */
	uint32_t total = slot->total_required_subtasks;
	uint32_t done = atomic_fetch_add_explicit(&slot->completed_subtasks, 1,
						  memory_order_acq_rel) + 1;
	return done == total;
}

/* Mixed completion plus batched release, on scheduler thread s. */
void dfb_complete_task(struct dfb_sched *s, struct dfb_slot *slot);
/* Releases every slot in s's batch. */
void dfb_release_batch(struct dfb_sched *s);
/* Drops one fanout reference; consumes the slot on the last one. */
void dfb_release_ref(struct dfb_runtime *rt, struct dfb_slot *slot);
void dfb_make_ready(struct dfb_runtime *rt, struct dfb_sched *s, struct dfb_slot *slot);

/* poll_and_complete (scheduler.c). */
bool dfb_poll_and_complete(struct dfb_sched *s);

/* Pushes a ready slot.  At most `window` live slots are ever queued, so
 * the queue is never really full, but a Vyukov queue also refuses a push
 * while the target cell's previous item is still being popped by another
 * thread: transient, so retry.  False only when the round is stopping. */
static inline bool dfb_ready_push(struct dfb_runtime *rt, int q, struct dfb_slot *slot)
{
	while (!dfb_mpmc_push(&rt->ready[q], slot)) {
		if (dfb_stopped(rt))
			return false;
		dfb_spin_hint(rt->hint);
	}
	return true;
}

/* Slot of a local id in a ring (ring = scope depth). */
static inline struct dfb_slot *dfb_ring_slot(struct dfb_runtime *rt, uint32_t ring, uint64_t local)
{
	return &rt->slots[(uint64_t)ring * rt->cfg.window + (local & rt->window_mask)];
}

/* Orchestrator, engine and scheduler thread bodies. */
void *dfb_orchestrator_main(void *arg);
void *dfb_engine_main(void *arg);
void *dfb_scheduler_main(void *arg);
/* Dispatch-side kernel simulation: fills the slab, feeds the engine. */
void dfb_core_start(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st);
int dfb_spsc_init(struct dfb_spsc *q, uint64_t cap);
void dfb_spsc_fini(struct dfb_spsc *q);
int dfb_heap_init(struct dfb_runtime *rt);

/* Time a registration path when measure_latency is on. */
static inline uint64_t dfb_lat_start(const struct dfb_runtime *rt)
{
	return rt->cfg.measure_latency ? dfb_now_ns() : 0;
}

extern const struct dfb_strategy dfb_strategy_spinlock;
extern const struct dfb_strategy dfb_strategy_mailbox;

/* Transport scenarios (transport.c).  init: at create, when the shape is a
 * transport (0, or -1 with *err filled); fini: at destroy (NULL-safe); a
 * round: what dfb_runtime_run_round runs for them; roles: the placement's
 * thread roles (consumer, then producer 0..P-1), the count written. */
int dfb_transport_init(struct dfb_runtime *rt, struct dfb_error *err);
void dfb_transport_fini(struct dfb_runtime *rt);
int dfb_transport_run_round(struct dfb_runtime *rt, struct dfb_round_result *out);
unsigned dfb_transport_roles(const struct dfb_config *c, struct dfb_thread_role *roles,
			     unsigned cap);

/* Baseline register_deferred (strategy_spinlock.c), exposed for tests. */
enum dfb_reg_result { DFB_REG_NOT_DEFERRED = 0, DFB_REG_REGISTERED, DFB_REG_SKIPPED, DFB_REG_ERROR };
enum dfb_reg_result dfb_register_deferred(struct dfb_wait_list *wl, struct dfb_slot *slot,
					  const struct dfb_slab *slab, bool mixed,
					  enum dfb_err *err);

#endif
