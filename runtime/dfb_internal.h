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
#include "strategy.h"
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

/* Nested scopes submit into separate rings, ring = scope depth (upstream
 * PTO2_MAX_RING_DEPTH 4). */
#define DFB_MAX_RINGS 4

struct dfb_slot {
	/* Written by the orchestrator before the slot is published (through
	 * the wiring queue).  The token is atomic (relaxed) because upstream's
	 * baseline re-reads it after its fetch_add, when the slot may already
	 * have been reused: see dfb_slot_token. */
	DFB_ALIGNED _Atomic uint64_t token;
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
	/* Who closed the task's registration, for ORPHANED_CONDITIONS
	 * (DFB_CLOSED_*): written where the completion is decided, read by a
	 * late sibling's registration.  Instrumentation, paid alike by every
	 * strategy. */
	_Atomic uint32_t closed;
};

/* closed = thread + 1 | path << 16. */
enum dfb_closed_path {
	DFB_CLOSED_INLINE = 1,     /* the last FIN completed it inline */
	DFB_CLOSED_CONSUMER = 2,   /* the wait-list holder completed it */
};
static inline uint32_t dfb_closed_word(int thread, enum dfb_closed_path path)
{
	return (uint32_t)(thread + 1) | (uint32_t)path << 16;
}

/* The slot's current task token.  relaxed: a hint compared with the token
 * a FIN captured at dispatch; the slot's other fields are ordered by the
 * wiring queue and the fanout locks. */
static inline uint64_t dfb_slot_token(const struct dfb_slot *slot)
{
	return atomic_load_explicit(&((struct dfb_slot *)slot)->token, memory_order_relaxed);
}

/* ---- completion slab and async wait list ---------------------------- */

/* Upstream's DeferredCompletionEntry (24 bytes). */
struct dfb_slab_entry {
	uint64_t addr;
	uint32_t expected_value;
	uint32_t engine;
	int32_t completion_type;
	/* Upstream's padding; deferbench's faults mark an entry here (enum
	 * dfb_fault: unknown_kind, producer_stall), 0 otherwise. */
	uint32_t fault;
};
_Static_assert(sizeof(struct dfb_slab_entry) == 24, "upstream DeferredCompletionEntry is 24 bytes");

struct dfb_slab {
	uint32_t count;
	int32_t error_code;
	struct dfb_slab_entry *entries;  /* max_conditions_per_task */
};

/* Upstream's CompletionCondition, field for field (40 bytes): the size of
 * a wait entry, and so the stride of every token search and the bytes an
 * entry removal copies, follow from it. */
struct dfb_cond {
	uint32_t engine;
	int32_t completion_type;
	uint8_t done;                    /* upstream `satisfied` */
	uint8_t retired;
	_Atomic uint32_t *counter;       /* counter_addr: COUNTER conditions only */
	uint64_t addr;
	uint32_t expected_value;
};
_Static_assert(sizeof(struct dfb_cond) == 40, "upstream CompletionCondition is 40 bytes");

/* A wait entry.  Upstream embeds its 64 conditions (AsyncWaitEntry, about
 * 2.6 KB); so does this model: `conditions` points just past this header
 * into the entry's own storage, and entries lie `stride` bytes apart.  With
 * waitlist_compact (a deviation) the conditions live in a pool instead and
 * an entry is this header alone. */
struct dfb_wait_entry {
	struct dfb_slot *slot;           /* NULL until NORMAL_DONE attaches it */
	uint64_t task_token;
	struct dfb_cond *conditions;     /* max_conditions_per_task of them */
	uint32_t condition_count;
	int32_t waiting_count;
	bool normal_done;
};

/* The async wait list.  Its memory is one block laid out as upstream's
 * AsyncWaitList: the busy word, the entries right behind it (so `busy`
 * shares a cache line with the first entry), then `count` and the
 * mailbox's shared skipped-push counter side by side.  waitlist_padded (a
 * deviation) gives busy and count lines of their own and counts skipped
 * pushes per thread instead.  Everything in this struct is read-only
 * after init; what threads write lives in the block. */
struct dfb_wait_list {
	_Atomic int *busy;
	_Atomic uint32_t *count;         /* read by every scheduler's loop gate */
	_Atomic uint64_t *skipped;       /* upstream mpsc_skipped_count (shared mode) */
	uint32_t *peak;                  /* instrumentation: a line of its own */
	char *entries;
	size_t stride;
	uint32_t max_entries;
	uint32_t max_conditions;
	uint8_t lock_mode;               /* enum dfb_wl_lock_mode */
	bool compact, padded;
	pthread_mutex_t *mutex;          /* DFB_WL_MUTEX only, a line of its own */
	struct dfb_cond *pool;           /* waitlist_compact only */
	void *block;
};

/* Options of dfb_wl_init: the waitlist_* keys, and DFB_WL_MUTEX, which
 * a strategy asks for (struct dfb_strategy's wl_flags). */
enum { DFB_WL_TTAS = 1, DFB_WL_COMPACT = 2, DFB_WL_PADDED = 4, DFB_WL_MUTEX = 8 };
/* How the wait-list lock is taken: upstream's one CAS on the busy word
 * (0, so that the faithful path tests one byte as it did for ttas), the
 * waitlist_ttas deviation, or the mutex strategy's pthread mutex. */
enum dfb_wl_lock_mode { DFB_WL_LOCK_CAS, DFB_WL_LOCK_TTAS, DFB_WL_LOCK_MUTEX };

int dfb_wl_init(struct dfb_wait_list *wl, uint32_t max_entries, uint32_t max_conditions,
		unsigned flags);
void dfb_wl_fini(struct dfb_wait_list *wl);
void dfb_wl_reset(struct dfb_wait_list *wl);

static inline struct dfb_wait_entry *dfb_wl_entry(const struct dfb_wait_list *wl, uint32_t i)
{
	return (struct dfb_wait_entry *)(void *)(wl->entries + (size_t)i * wl->stride);
}

static inline bool dfb_wl_try_lock(struct dfb_wait_list *wl)
{
	int expected = 0;
	/* Upstream's try_lock is one strong CAS.  The waitlist_ttas deviation
	 * first loads the word (relaxed), so losers stay off the line in
	 * exclusive state; the mutex strategy's lock is a pthread mutex. */
	if (__builtin_expect(wl->lock_mode != DFB_WL_LOCK_CAS, 0)) {
		if (wl->lock_mode == DFB_WL_LOCK_MUTEX)
			return pthread_mutex_trylock(wl->mutex) == 0;
		if (atomic_load_explicit(wl->busy, memory_order_relaxed))
			return false;
	}
	DFB_PREEMPT(); /* stress: before the lock word */
	/* acquire: the previous holder's entry updates (and mailbox tail)
	 * happen before ours. */
	return atomic_compare_exchange_strong_explicit(wl->busy, &expected, 1,
						       memory_order_acquire,
						       memory_order_relaxed);
}

static inline void dfb_wl_unlock(struct dfb_wait_list *wl)
{
	if (__builtin_expect(wl->mutex != NULL, 0)) {
		pthread_mutex_unlock(wl->mutex);
		return;
	}
	/* release: publishes our entry updates to the next holder. */
	atomic_store_explicit(wl->busy, 0, memory_order_release);
}

static inline uint32_t dfb_wl_count(const struct dfb_wait_list *wl)
{
	/* relaxed: a gate hint outside the lock (upstream reads a plain int);
	 * under the lock, the lock's acquire orders it. */
	return atomic_load_explicit(wl->count, memory_order_relaxed);
}

/* Under the lock: upstream's find_entry_by_token, a linear scan. */
struct dfb_wait_entry *dfb_wl_find(struct dfb_wait_list *wl, uint64_t token);
/* Under the lock: a new empty entry, or NULL when the list is full
 * (ASYNC_WAIT_OVERFLOW). */
struct dfb_wait_entry *dfb_wl_create(struct dfb_wait_list *wl, uint64_t token,
				     struct dfb_slot *slot);
/* Under the lock: upstream's append_condition_locked; -1 when the entry is
 * full (ASYNC_REGISTRATION_FAILED). */
int dfb_wl_append(struct dfb_wait_list *wl, struct dfb_wait_entry *e, uint64_t addr,
		  uint32_t expected_value, uint32_t engine, int32_t completion_type);
/* Under the lock: removes entry i.  Upstream copies the whole last entry
 * over it (`entries[i] = entries[last]`, conditions included);
 * waitlist_compact swaps two headers instead. */
void dfb_wl_remove(struct dfb_wait_list *wl, uint32_t i);

/* The host simulation's cache_invalidate_range: an empty function in a
 * file of its own, called where upstream calls it (runtime/cache_ops.c). */
void dfb_cache_invalidate_range(const void *addr, size_t size);

/* ---- simulated cores -------------------------------------------------- */

enum dfb_core_kind { DFB_CORE_AIC = 0, DFB_CORE_AIV = 1 };

struct dfb_subtask {
	struct dfb_slot *slot;
	uint64_t token;                  /* the task's token and index at dispatch */
	uint64_t task_index;
	uint64_t start_ns, deadline_ns;
	uint32_t index;                  /* block * popcount(mask) + kind rank */
	uint8_t parity;
	uint8_t valid;
};

/* A core belongs to one scheduler thread at a time (its tracker's owner):
 * no field here is shared. */
struct dfb_core {
	struct dfb_subtask run, pend;
	uint32_t id, cluster;
	uint8_t kind, bit;               /* bit: 1 AIC, 2 AIV0, 4 AIV1 */
	uint8_t present;                 /* rt->cores has 3 a cluster; some configurations leave gaps */
	uint64_t dispatched;             /* parity = dispatched & 1 */
	struct dfb_slab slab[2];
};

/* Upstream's CoreTracker: a scheduler thread's clusters as bit sets, 3
 * bits a cluster (AIC, AIV0, AIV1), 21 clusters a 64-bit word so that no
 * cluster straddles a word (upstream holds 21 in one word; more clusters
 * per thread, which upstream cannot have, take more words). */
#define DFB_TRK_CLUSTERS_PER_WORD 21
struct dfb_tracker {
	uint32_t nclusters, nwords;
	uint64_t *base;                  /* bit 3c of every cluster (upstream aic_mask_) */
	uint64_t *aic, *aiv;             /* present cores */
	/* 1 = idle (upstream core_states_), pending payload occupied: the
	 * owner writes them, peers read them as hints (relaxed). */
	_Atomic uint64_t *states, *pocc;
	struct dfb_core **core;          /* [nwords * 64]: bit offset -> core */
};

/* Resource shapes, upstream's order (PTO2ResourceShape). */
enum dfb_shape_q { DFB_Q_AIC = 0, DFB_Q_AIV, DFB_Q_MIX, DFB_Q_DUMMY, DFB_Q__COUNT };
#define DFB_NSHAPES 3                    /* shapes with cores: AIC, AIV, MIX */

/* Core sets of a tracker (upstream get_idle_core_offset_states and
 * get_pending_core_offset_states), one 64-bit word at a time: AIC and AIV
 * sets hold core bits, MIX sets cluster base bits.  Owner or peers
 * (relaxed reads of the owner's words: hints, as upstream's). */
static inline uint64_t dfb_trk_idle_word(const struct dfb_tracker *t, uint32_t w, enum dfb_shape_q q)
{
	uint64_t s = atomic_load_explicit(&t->states[w], memory_order_relaxed);
	switch (q) {
	case DFB_Q_AIC:
		/* An idle AIC whose pending payload is still unacknowledged
		 * is not offered (upstream's AIC-only filter). */
		return s & t->aic[w] & ~(atomic_load_explicit(&t->pocc[w], memory_order_relaxed) & t->aic[w]);
	case DFB_Q_AIV:
		return s & t->aiv[w];
	default:
		/* MIX: clusters whose three cores are all idle. */
		return (s >> 1) & (s >> 2) & s & t->base[w];
	}
}

static inline uint64_t dfb_trk_pending_word(const struct dfb_tracker *t, uint32_t w, enum dfb_shape_q q)
{
	uint64_t s = atomic_load_explicit(&t->states[w], memory_order_relaxed);
	uint64_t p = atomic_load_explicit(&t->pocc[w], memory_order_relaxed);
	uint64_t present = t->aic[w] | t->aiv[w];
	switch (q) {
	case DFB_Q_AIC:
		return ~s & t->aic[w] & ~(p & t->aic[w]);
	case DFB_Q_AIV:
		return ~s & t->aiv[w] & ~p;
	default: {
		/* MIX: clusters whose three pending slots are free and where
		 * at least one core runs (fully idle ones are the IDLE
		 * phase's). */
		uint64_t avail = ~p & present;
		uint64_t mix = avail & (avail >> 1) & (avail >> 2) & t->base[w];
		uint64_t run = ~s & present;
		return mix & (run | run >> 1 | run >> 2) & t->base[w];
	}
	}
}

static inline bool dfb_trk_dispatchable(const struct dfb_tracker *t, enum dfb_shape_q q, bool pending,
			  uint64_t *out)
{
	uint64_t any = 0;
	for (uint32_t w = 0; w < t->nwords; w++)
		any |= out[w] = pending ? dfb_trk_pending_word(t, w, q) : dfb_trk_idle_word(t, w, q);
	return any != 0;
}

static inline bool dfb_trk_has_idle(const struct dfb_tracker *t, enum dfb_shape_q q)
{
	for (uint32_t w = 0; w < t->nwords; w++)
		if (dfb_trk_idle_word(t, w, q))
			return true;
	return false;
}

/* Owner-only updates of the state words (relaxed: peers read hints). */
static inline void dfb_trk_update(_Atomic uint64_t *w, uint64_t set, uint64_t clear)
{
	uint64_t v = atomic_load_explicit(w, memory_order_relaxed);
	atomic_store_explicit(w, (v | set) & ~clear, memory_order_relaxed);
}

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
	DFB_PH_POLL, DFB_PH_DISPATCH, DFB_PH_RELEASE, DFB_PH_WIRING, DFB_PH_TRANSITION,
	DFB_PH_FAULT_STALL, DFB_PH_ORCH_SUBMIT, DFB_PH_ORCH_WAIT_RING, DFB_PH_ORCH_WIRING_FULL,
	DFB_PH_ORCH_REASSIGN, DFB_PH_ENGINE_PUSH, DFB_PH_DONE,
	DFB_PH__COUNT
};
extern const char *const dfb_phase_names[];

/* A local ready buffer: LIFO, one per shape (upstream PTO2LocalReadyBuffer,
 * LOCAL_READY_CAP_PER_TYPE = 64). */
struct dfb_local {
	struct dfb_slot **slots;
	uint32_t n, cap;
};

/* See dfb_sampled. */
struct dfb_sampler {
	uint64_t gap, rng, n;
};

struct dfb_sched {
	DFB_ALIGNED struct dfb_runtime *rt;
	int id;
	struct dfb_sampler sampler;
	struct dfb_tracker trk;
	uint64_t *scratch;               /* a core set being dispatched */
	struct dfb_slot **popped;        /* a batch popped for dispatch */
	struct dfb_local local[DFB_NSHAPES];
	struct dfb_slot **batch;         /* release batch */
	uint32_t nbatch;
	uint32_t fault_claimed;          /* fin_race: blocks of the fault task claimed */
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

/* Progress for the watchdog: only this thread writes it, so a relaxed
 * load and store (no locked add) suffice. */
static inline void dfb_progress(struct dfb_sched *s)
{
	atomic_store_explicit(&s->progress,
			      atomic_load_explicit(&s->progress, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* ---- the runtime -------------------------------------------------- */

/* struct dfb_strategy: strategy.h. */

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
	struct dfb_sampler sampler;
	struct dfb_hist lat;             /* ns per sampled push, retries included */
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
	DFB_ALIGNED _Atomic uint32_t ready;  /* start barrier */
	_Atomic bool go;
};

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
	void *sstate;                    /* the strategy's private state (strategy.h) */
	const uint64_t *sopt;            /* its keys' values (dfb_sopt) */

	uint32_t nsched;                 /* scheduler threads at the start */
	uint32_t nsched_all;             /* + the orchestrator with orch_to_sched */
	uint32_t trk_words;              /* words of every tracker: all clusters fit */
	struct dfb_sched *sched;         /* nsched_all of them */
	struct dfb_core *cores;
	uint32_t ncores, nclusters;
	struct dfb_slab_entry *slab_pool;
	/* Threads whose trackers hold cores: nsched, then nsched_all once
	 * the orchestrator has joined (upstream active_sched_threads_). */
	DFB_ALIGNED _Atomic uint32_t active_sched;

	/* The wiring queue: the orchestrator pushes every submitted task,
	 * scheduler thread 0 wires it (upstream WiringState).  The batch
	 * fields are thread 0's own. */
	struct dfb_wiring {
		DFB_ALIGNED _Atomic uint64_t head;   /* orchestrator */
		uint64_t tail_cached;
		DFB_ALIGNED _Atomic uint64_t tail;   /* thread 0 */
		uint64_t head_cached;
		DFB_ALIGNED struct dfb_slot **cells;
		uint64_t mask;
		uint32_t batch_count, batch_index, backoff;
		struct dfb_slot *batch[32];
	} wiring;
	/* Set by the orchestrator when its graph is submitted (upstream
	 * orchestrator_done_), read by thread 0's wiring drain. */
	DFB_ALIGNED _Atomic bool orch_done;
	/* orch_to_sched: the core transition (upstream transition_requested_,
	 * wait_reassign_, reassigned_). */
	_Atomic bool transition_requested, reassigned;
	_Atomic uint32_t wait_reassign;

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
	uint64_t rounds_run;             /* rounds started: varies the samplers' seeds */

	/* Thread placement (topology.c): the plan and, per thread, its
	 * binding result (written by each thread at its start). */
	struct dfb_plan *plan;

	/* Transport scenarios only (rt->shape->transport), else NULL. */
	struct dfb_transport *transport;
};

/* The strategy's private state and its keys' values (strategy.h). */
static inline void *dfb_sstate(const struct dfb_runtime *rt)
{
	return rt->sstate;
}
static inline uint64_t dfb_sopt(const struct dfb_runtime *rt, size_t i)
{
	return rt->sopt[i];
}

/* ---- the mailbox strategies' ring and consumer (strategy_mailbox.c) ----
 * mailbox and mailbox-batch share the merged mailbox's ring, drain and
 * transport; their private state is this struct. */
struct dfb_mbs {
	struct dfb_mailbox mb;
	bool full_drain;                 /* mailbox_full_drain, resolved at init */
};
int dfb_mbs_init(struct dfb_runtime *rt, bool refresh_head, bool cached_tail, bool full_drain);
void dfb_mbs_fini(struct dfb_runtime *rt);
void dfb_mbs_reset(struct dfb_runtime *rt);
/* The consumer's drain, under the wait-list lock; returns the tasks it
 * completed.  An error is raised and stops the round. */
uint32_t dfb_mbs_drain(struct dfb_sched *s);
/* One drained message, on the consumer under the wait-list lock: a
 * CONDITION appended to its task's entry, a NORMAL_DONE marking it or
 * completing the task.  Returns 1 when it completed a task, 0 otherwise,
 * -1 after raising an error (which stops the round).  last, when not NULL:
 * the entry of the previous CONDITION, reused for the next one of the same
 * task instead of a search (entries move only in the poll walk, never
 * during a drain); NULL looks every one up, as upstream does. */
int dfb_mbs_consume(struct dfb_sched *s, const struct dfb_msg_payload *m,
		    struct dfb_wait_entry **last);
/* The same, but a CONDITION of the same task as the one before it reuses
 * that one's entry instead of searching the list (mailbox-batch). */
uint32_t dfb_mbs_drain_batched(struct dfb_sched *s);
bool dfb_mbs_has_pending(struct dfb_runtime *rt);
void dfb_mbs_dump(struct dfb_runtime *rt, char *buf, size_t len);
bool dfb_mbs_check_drained(struct dfb_runtime *rt, char *msg, size_t len);
bool dfb_mbs_transport_push(struct dfb_runtime *rt, int producer, const struct dfb_msg_payload *m,
			    struct dfb_counters *c);
uint64_t dfb_mbs_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
				 uint64_t cap, struct dfb_counters *c);
/* A push found the ring full: counts it (upstream's mpsc_skipped_count),
 * then, with `drain`, drains the ring with the strategy's own drain if the
 * wait-list lock is free, else spin-hints.  False when the round is
 * stopping.  Any mailbox-like strategy (its state need not be dfb_mbs). */
bool dfb_mbs_full(struct dfb_sched *s, bool drain);
void dfb_mbs_count_skipped(struct dfb_sched *s);
/* The FIN's slab checks every mailbox strategy makes before it sends:
 * false after raising SLAB_ERROR or REGISTRATION_FAILED. */
bool dfb_mbs_slab_ok(struct dfb_sched *s, const struct dfb_subtask *st,
		     const struct dfb_slab *slab);
/* The CONDITION message of slab entry e for task `token`. */
void dfb_mbs_condition(const struct dfb_slab_entry *e, uint64_t token, struct dfb_msg_payload *m);

/* Clears the stop flag and the error before a round.  Control thread. */
void dfb_round_control_reset(struct dfb_runtime *rt);

/* Appends to the hang dump rt->dump; needs a size_t o in scope. */
#define DUMP(...)                                                                     \
	do {                                                                          \
		if (o < rt->dump_cap)                                                 \
			o += (size_t)snprintf(rt->dump + o, rt->dump_cap - o, __VA_ARGS__); \
	} while (0)

/* First error wins: records it and stops every thread.  Any thread.
 * `status` is what upstream would publish (a slab error: the kernel's own
 * code); dfb_raise takes it from the error table. */
void dfb_raise_status(struct dfb_runtime *rt, enum dfb_err code, int32_t status,
		      const struct dfb_slot *slot, int thread, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
#define dfb_raise(rt, code, ...) \
	dfb_raise_status((rt), (code), dfb_err_upstream_status(code), __VA_ARGS__)

/* The watchdogs' SCHED_HANG: no progress for hang_budget_ms, or (slow)
 * a round past round_limit_ms that still moves, `done` of cfg.tasks
 * `unit` so far; `who` prefixes the message. */
void dfb_raise_hang(struct dfb_runtime *rt, const char *who, bool slow, const char *unit,
		    uint64_t done);

static inline bool dfb_stopped(struct dfb_runtime *rt)
{
	return atomic_load_explicit(&rt->stop, memory_order_relaxed);
}

/* Every task of the round consumed: upstream's `completed_`, on which the
 * core transition's waits also give up (a thread that sees it exits,
 * so it may never arrive at the transition). */
static inline bool dfb_all_consumed(struct dfb_runtime *rt)
{
	/* relaxed: ends a wait; the exiting thread reads nothing after. */
	return atomic_load_explicit(&rt->consumed, memory_order_relaxed) == rt->cfg.tasks;
}

static inline void dfb_set_phase(struct dfb_sched *s, enum dfb_phase p)
{
	atomic_store_explicit(&s->phase, (int)p, memory_order_relaxed);
}

/* ---- completion path (complete.c) ------------------------------------ */

/* A slot's fanout lock (upstream lock_fanout / unlock_fanout), taken by the
 * completing thread (mark COMPLETED, take the list) and by thread 0's
 * wiring (check COMPLETED, append). */
static inline void dfb_fanout_lock(struct dfb_runtime *rt, struct dfb_slot *slot)
{
	int expected = 0;
	/* acquire: the previous holder's COMPLETED store, or its append and
	 * the consumer slot fields it names, happen before what we read. */
	while (!atomic_compare_exchange_weak_explicit(&slot->fanout_lock, &expected, 1,
						      memory_order_acquire,
						      memory_order_relaxed)) {
		expected = 0;
		dfb_spin_hint(rt->hint);
	}
}

static inline void dfb_fanout_unlock(struct dfb_slot *slot)
{
	/* release: pairs with the next holder's acquire. */
	atomic_store_explicit(&slot->fanout_lock, 0, memory_order_release);
}

/* on_subtask_complete: true for the FIN that completes the last subtask. */
static inline bool dfb_on_subtask_complete(struct dfb_slot *slot)
{
	/* acq_rel: every earlier subtask's FIN-side writes (the
	 * any_subtask_deferred flag, its pushes) happen before the last
	 * FIN's completion decision. */
	/* The total is read first: once our increment is in, the last FIN
	 * may complete the task and its slot be released and reused. */
	uint32_t total = slot->total_required_subtasks;
	DFB_PREEMPT(); /* stress: on both sides of the completion count */
	uint32_t done = atomic_fetch_add_explicit(&slot->completed_subtasks, 1,
						  memory_order_acq_rel) + 1;
	DFB_PREEMPT();
	return done == total;
}

/* on_mixed_task_complete: marks COMPLETED, makes ready every consumer whose
 * last producer this was (local-first, per shape).  Scheduler thread s. */
void dfb_complete_task(struct dfb_sched *s, struct dfb_slot *slot);
/* Appends a completed slot to s's release batch, releasing the whole batch
 * first when it is full (upstream's in-place release). */
void dfb_release_push(struct dfb_sched *s, struct dfb_slot *slot);
/* The inline completion every path shares: complete, then batch. */
static inline void dfb_complete_inline(struct dfb_sched *s, struct dfb_slot *slot)
{
	s->c.inline_completions++;
	dfb_complete_task(s, slot);
	dfb_release_push(s, slot);
}
/* Releases every slot in s's batch, last in first (upstream's order). */
void dfb_release_batch(struct dfb_sched *s);
/* Drops one fanout reference; consumes the slot on the last one. */
void dfb_release_ref(struct dfb_runtime *rt, struct dfb_slot *slot);
/* release_fanin: a consumer all of whose producers are done goes to s's
 * local buffer of its shape, or its shared queue when that is full or s
 * is NULL; a dependency-only task to the dummy queue. */
void dfb_make_ready(struct dfb_runtime *rt, struct dfb_sched *s, struct dfb_slot *slot);
/* The shape queue of a slot's mask (upstream ActiveMask::to_shape). */
static inline enum dfb_shape_q dfb_shape_of(uint8_t mask)
{
	if (mask == 0)
		return DFB_Q_DUMMY;
	if (__builtin_popcount(mask) > 1)
		return DFB_Q_MIX;
	return mask == 1 ? DFB_Q_AIC : DFB_Q_AIV;
}

/* Marks the task's registration closed (ORPHANED_CONDITIONS bookkeeping). */
static inline void dfb_close(struct dfb_sched *s, struct dfb_slot *slot, enum dfb_closed_path path)
{
	/* relaxed: the readers that matter hold the wait-list lock, as the
	 * writers that matter do; elsewhere it is bookkeeping only. */
	atomic_store_explicit(&slot->closed, dfb_closed_word(s->id, path), memory_order_relaxed);
}
/* True (and the round failed with ORPHANED_CONDITIONS, the whole story in
 * its detail) when `n` conditions of the FIN `st` arrive for a task whose
 * registration is closed, or whose slot now holds `token_now` of another
 * task.  Scheduler thread s, on the registration path. */
bool dfb_orphaned(struct dfb_sched *s, struct dfb_slot *slot, const struct dfb_subtask *st,
		  uint64_t token_now, uint32_t n);
/* The fin_race fault: stalls the FIN st of the fault task after its
 * fetch_add, until the task completes, when it is not the task's last FIN
 * and no other subtask of the task is left on this thread. */
void dfb_fault_fin_race_stall(struct dfb_sched *s, const struct dfb_subtask *st);
static inline void dfb_fault_fin_race(struct dfb_sched *s, const struct dfb_subtask *st, bool mixed)
{
	if (__builtin_expect(s->rt->cfg.fault == DFB_FAULT_FIN_RACE, 0) && !mixed &&
	    st->task_index == s->rt->cfg.fault_task)
		dfb_fault_fin_race_stall(s, st);
}

/* poll_and_complete (scheduler.c): true when it completed a task. */
bool dfb_poll_and_complete(struct dfb_sched *s);

/* Pushes a ready slot.  The queues hold every live slot, so a push cannot
 * find them full, but a Vyukov queue also refuses a push while the target
 * cell's previous item is still being popped by another thread: transient,
 * so retry.  False only when the round is stopping. */
static inline bool dfb_ready_push(struct dfb_runtime *rt, int q, struct dfb_slot *slot)
{
	DFB_PREEMPT(); /* stress: before a ready push */
	while (!dfb_mpmc_push(&rt->ready[q], slot)) {
		if (dfb_stopped(rt))
			return false;
		dfb_spin_hint(rt->hint);
	}
	return true;
}

/* dfb_ready_push for a run of slots (upstream's push_batch), with the same
 * bound: it used to spin unboundedly on a cell not yet free, the one wait
 * of a round that did not look at the stop flag, so a stopped round could
 * not be joined.  False only when the round is stopping. */
static inline bool dfb_ready_push_batch(struct dfb_runtime *rt, int q, void *const *items,
					unsigned n)
{
	while (!dfb_mpmc_try_push_batch(&rt->ready[q], items, n)) {
		if (dfb_stopped(rt))
			return false;
		dfb_spin_hint(rt->hint);
	}
	return true;
}

/* The dispatch stage of a loop iteration (dispatch.c); sets *progress
 * when it dispatched something. */
void dfb_dispatch_ready(struct dfb_sched *s, uint64_t now, bool *progress);

/* Wiring (wiring.c).  Orchestrator: queues a submitted task (false when
 * the round stops).  Thread 0: upstream's drain_wiring_queue, the number
 * of tasks wired. */
bool dfb_wiring_push(struct dfb_runtime *rt, struct dfb_slot *slot);
uint32_t dfb_wiring_drain(struct dfb_sched *s);

/* orch_to_sched (scheduler.c): the orchestrator, once done, hands the
 * clusters round-robin to every thread, itself included, and then runs
 * the scheduler loop as thread nsched.  Assigns the clusters of `nthreads`
 * threads; control thread at create, orchestrator at the transition. */
void dfb_assign_clusters(struct dfb_runtime *rt, uint32_t nthreads);
void dfb_orch_to_sched(struct dfb_runtime *rt);

/* Slot of a local id in a ring (ring = scope depth). */
static inline struct dfb_slot *dfb_ring_slot(struct dfb_runtime *rt, uint32_t ring, uint64_t local)
{
	return &rt->slots[(uint64_t)ring * rt->cfg.window + (local & rt->window_mask)];
}

/* The raise of an error about a task known by index and token (its slot may
 * hold another task by now). */
void dfb_raise_task(struct dfb_runtime *rt, enum dfb_err code, int32_t status, uint64_t index,
		    uint64_t token, int thread, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* Orchestrator, engine and scheduler thread bodies. */
void *dfb_orchestrator_main(void *arg);
void *dfb_engine_main(void *arg);
void *dfb_scheduler_main(void *arg);
/* Dispatch-side kernel simulation: fills the slab, feeds the engine. */
void dfb_core_start(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st);
int dfb_spsc_init(struct dfb_spsc *q, uint64_t cap);
void dfb_spsc_fini(struct dfb_spsc *q);
int dfb_heap_init(struct dfb_runtime *rt);

/* The registration-latency sampler (latency_sample = N): one FIN in N on
 * average, at random gaps (uniform in 1 .. 2N-1, xorshift64), so that no
 * periodic pattern of the workload lines up with it.  A FIN not sampled
 * pays a decrement and a branch; a sampled one two clock reads and a
 * histogram update, the same on every strategy: one read where its
 * registration path starts (before its on_subtask_complete or its first
 * push), one where it ends (after register_deferred returns, after the
 * NORMAL_DONE push), both before any inline completion.  Thread-local. */
static inline void dfb_sampler_init(struct dfb_sampler *sm, uint64_t n, uint64_t seed)
{
	sm->n = n;
	sm->rng = seed | 1;
	sm->gap = n ? 1 + sm->rng % (2 * n - 1) : UINT64_MAX; /* off: never */
}

static inline bool dfb_sampled(struct dfb_sampler *sm)
{
	if (__builtin_expect(--sm->gap != 0, 1))
		return false;
	sm->rng ^= sm->rng << 13;
	sm->rng ^= sm->rng >> 7;
	sm->rng ^= sm->rng << 17;
	sm->gap = 1 + sm->rng % (2 * sm->n - 1);
	return true;
}

/* A seed for thread `id`'s sampler in round `round`: distinct per thread
 * and round. */
static inline uint64_t dfb_sampler_seed(const struct dfb_config *c, int id, uint64_t round)
{
	uint64_t x = c->seed * 0x9e3779b97f4a7c15ull + (uint64_t)(id + 1) * 0xbf58476d1ce4e5b9ull +
		     round * 0xd6e8feb86659fd93ull;
	x ^= x >> 31;
	return x * 0x94d049bb133111ebull;
}


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
