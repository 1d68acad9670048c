/* deferbench: a host-CPU model of the PTO runtime's scheduling and
 * deferred-completion path, with the registration strategy chosen at run
 * time.  Public API of libdeferbench.
 *
 * Threading: a dfb_runtime is driven by one control thread (create, run
 * rounds, destroy); dfb_runtime_run_round starts and joins the runtime's own
 * threads.  Nothing here calls exit(): errors come back as dfb_err codes. */
#ifndef DEFERBENCH_H
#define DEFERBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the clock ---------------------------------------------------------- */

/* Decides, once, which clock every timing reads (runtime/dfb_arch.h): the
 * invariant TSC calibrated against CLOCK_MONOTONIC, or clock_gettime.
 * Thread-safe and idempotent; dfb_runtime_create calls it.  DFB_CLOCK=
 * monotonic in the environment forces the fallback. */
void dfb_clock_init(void);
/* "tsc" or "monotonic" (after dfb_clock_init). */
const char *dfb_clock_name(void);
/* The measured cost of one read, nanoseconds (after dfb_clock_init). */
double dfb_clock_read_ns(void);
/* "tsc (invariant TSC, 2.5960 GHz against CLOCK_MONOTONIC), 9.1 ns a
 * read", or the fallback and why: what the outputs print. */
void dfb_clock_describe(char *buf, size_t len);

/* ---- errors --------------------------------------------------------- */

/* Each code with its explanation and the status upstream's scheduler
 * publishes for it (pto_runtime_status.h: 100 SCHEDULER_TIMEOUT, 101
 * ASYNC_COMPLETION_INVALID, 102 ASYNC_WAIT_OVERFLOW, 103
 * ASYNC_REGISTRATION_FAILED; a slab error publishes the kernel's own code;
 * 0: an error of this model's own, which upstream would not report). */
#define DFB_ERRORS(X)                                                          \
	X(OK, 0, "no error")                                                   \
	X(SLAB_ERROR, 0, "a kernel reported an error code in its completion slab") \
	X(REGISTRATION_FAILED, 103, "a registration upstream refuses (too many conditions, unknown message kind)") \
	X(ASYNC_WAIT_OVERFLOW, 102, "more waiting tasks than the async wait list holds, or a full release batch") \
	X(COMPLETION_INVALID, 101, "a condition of an invalid completion type")     \
	X(SCHED_HANG, 100, "no progress within the hang budget, or past round_limit_ms")\
	X(ORPHANED_CONDITIONS, 0, "conditions registered for a task that had already completed") \
	X(FANOUT_OVERFLOW, 0, "a task has more producers or consumers than configured") \
	X(INVARIANT, 0, "a runtime invariant was violated")                       \
	X(CONFIG, 0, "invalid configuration")                                     \
	X(SYSTEM, 0, "a system call failed")

enum dfb_err {
#define DFB_X(name, status, text) DFB_ERR_##name,
	DFB_ERRORS(DFB_X)
#undef DFB_X
	DFB_ERR__COUNT
};

/* "ASYNC_WAIT_OVERFLOW" for DFB_ERR_ASYNC_WAIT_OVERFLOW; any thread. */
const char *dfb_err_name(enum dfb_err e);
/* One-line explanation of the code; any thread. */
const char *dfb_err_text(enum dfb_err e);
/* Upstream's status for the code (see DFB_ERRORS), 0 when upstream has none. */
int32_t dfb_err_upstream_status(enum dfb_err e);

/* The first error of a round, with the context a user needs. */
struct dfb_error {
	enum dfb_err code;
	int32_t status;         /* what upstream's sched_error_code would hold, 0 = none */
	int64_t task_index;     /* submission index of the task, or -1 */
	uint64_t task_token;    /* (ring << 32) | local id, when task_index >= 0 */
	int thread;             /* scheduler thread that saw it, -1 otherwise */
	char detail[256];
	char *dump;             /* hang report (thread, core, wait entry state), or NULL */
};

/* Formats "ERROR_NAME: explanation (task T, thread N): detail [upstream
 * status S]" into buf. */
void dfb_error_format(const struct dfb_error *e, char *buf, size_t len);

/* ---- configuration -------------------------------------------------- */

/* auto: a real engine thread when the machine has a PU for it beside the
 * scheduler and orchestrator threads, else the zero-cost virtual engine. */
enum dfb_engine_mode { DFB_ENGINE_THREAD = 0, DFB_ENGINE_VIRTUAL = 1, DFB_ENGINE_AUTO = 2 };
enum dfb_fault {
	DFB_FAULT_NONE = 0,
	DFB_FAULT_SLAB_ERROR,        /* fault_task's first subtask reports an error */
	DFB_FAULT_INVALID_CONDITION, /* ... writes a condition of an unknown type */
	DFB_FAULT_DROP_COMPLETION,   /* ... its engine never completes: a hang */
	DFB_FAULT_FIN_RACE,          /* a sibling FIN of fault_task stalls between its
				      * fetch_add and its registration until the task
				      * has completed */
	DFB_FAULT_TOO_MANY_CONDITIONS, /* its first subtask leaves one condition
					* more than max_conditions_per_task */
	DFB_FAULT_UNKNOWN_KIND,      /* its first CONDITION message carries an
				      * unknown kind (message strategies) */
	DFB_FAULT_WAIT_OVERFLOW,     /* the async wait list takes no entry: the
				      * first deferred registration overflows */
	DFB_FAULT_ENGINE_NEVER,      /* the engine completes no condition of
				      * fault_task or any task after it */
	DFB_FAULT_PRODUCER_STALL,    /* the producer of its first CONDITION stops
				      * between claiming the cell and publishing it
				      * (strategies that claim cells) */
};
/* The kind the unknown_kind fault's message carries. */
#define DFB_FAULT_MSG_KIND 7
/* The error a fault ends its round in (DFB_ERR_OK for none): the
 * hanging ones in SCHED_HANG, with the hang report. */
enum dfb_err dfb_fault_error(enum dfb_fault f);
/* The fault's name as the `fault` key spells it ("producer_stall"). */
const char *dfb_fault_name(enum dfb_fault f);
/* The error code the slab_error fault's kernel writes (upstream publishes a
 * kernel's own code as the round's status). */
#define DFB_FAULT_SLAB_CODE 1001

/* Upstream platforms (the `platform` key): presets for the core count,
 * scheduler threads, task window and rings. */
enum dfb_platform { DFB_PLATFORM_A2A3 = 0, DFB_PLATFORM_A5 = 1 };

/* Every scenario parameter.  The key table in config.c (dfb_config_keys)
 * is the only place that names them, the strategies' own keys spliced in
 * from their files: --set, scenario files, help and the results all read
 * it. */
#define DFB_SOPT_MAX 32
struct dfb_config {
	uint64_t shape;              /* index into the workload shape table */
	uint64_t tasks;              /* transport shapes: messages per round, all producers */
	uint64_t blocks;
	double kernel_us;
	double deferred_fraction;
	uint64_t conditions_per_task;
	uint64_t engine;             /* enum dfb_engine_mode */
	double engine_latency_us;
	uint64_t sched_threads;
	uint64_t producers;          /* transport shapes: producer threads */
	uint64_t aic_cores;
	uint64_t aiv_cores;
	uint64_t window;
	uint64_t mailbox_capacity;
	uint64_t max_async_waits;
	uint64_t max_conditions_per_task;
	uint64_t spin_hint;          /* enum dfb_spin_hint */
	uint64_t hang_budget_ms;
	uint64_t round_limit_ms;     /* 0: none; a round still moving after it fails */
	uint64_t seed;
	uint64_t dual_slot;
	uint64_t scope_tasks;
	uint64_t chains;
	uint64_t rings;              /* task rings = deepest scope nesting + 1 */
	uint64_t variant;            /* case of a shape with several (1-based) */
	uint64_t release_batch;
	uint64_t local_ready;
	uint64_t max_fanin;
	uint64_t max_fanout;
	uint64_t latency_sample;     /* time one FIN in N at random (0: none) */
	uint64_t xpu_probe;          /* the harness probes two PUs before each round */
	uint64_t core_probe;         /* ... and the drain thread's core */
	uint64_t platform;           /* enum dfb_platform: sets the keys' defaults */
	uint64_t orch_to_sched;      /* the orchestrator schedules once it is done */
	uint64_t waitlist_ttas;      /* deviation: test-and-test-and-set try-lock */
	uint64_t waitlist_compact;   /* deviation: 40-byte entries, pooled conditions */
	uint64_t waitlist_padded;    /* deviation: busy/count on own lines, per-thread counters */
	uint64_t verify;
	uint64_t preempt;            /* stress: 1 in N protocol steps yields or sleeps (0: off) */
	uint64_t fault;              /* enum dfb_fault */
	uint64_t fault_task;
	char placement[128];         /* thread placement policy (topology.h) */
	char topology[256];          /* "" = this machine; hwloc synthetic text or XML file */
	/* The strategies' own keys (strategy.h), every strategy's in one
	 * array, each strategy's from its base (dfb_config_sopt). */
	uint64_t sopt[DFB_SOPT_MAX];
};

enum dfb_key_type { DFB_KEY_U64, DFB_KEY_DOUBLE, DFB_KEY_ENUM, DFB_KEY_SHAPE, DFB_KEY_STRING };

struct dfb_key {
	const char *name;
	enum dfb_key_type type;
	size_t offset;
	double min, max;             /* inclusive range (U64, DOUBLE); max length (STRING) */
	const char *const *names;    /* NULL-terminated (ENUM) */
	const char *help;
	const char *owner;           /* the strategy whose key it is; NULL: the runtime's */
};

/* Every key: the runtime's, then each strategy's (their offsets rebased
 * into dfb_config.sopt), built when the program starts. */
extern const struct dfb_key *dfb_config_keys;
extern size_t dfb_config_nkeys;
struct dfb_strategy;
/* Strategy s's key values in c: index i is s's key i. */
const uint64_t *dfb_config_sopt(const struct dfb_config *c, const struct dfb_strategy *s);

/* Upstream defaults (a2a3: 24 clusters, 3 scheduler threads, ...). */
void dfb_config_defaults(struct dfb_config *c);
/* Sets the platform key and the keys its preset decides (core counts,
 * scheduler threads, window, rings).  Setting the `platform` key through
 * dfb_config_set does this too; keys set afterwards override it. */
void dfb_platform_apply(struct dfb_config *c, enum dfb_platform p);
/* Looks a key up by exact name; NULL if none. */
const struct dfb_key *dfb_config_key(const char *name);
/* Levenshtein distance of two names (64 for names over 63 characters). */
size_t dfb_edit_distance(const char *a, const char *b);
/* The key nearest to `name` by edit distance, for "did you mean". */
const struct dfb_key *dfb_config_nearest(const char *name);
/* Parses `value` into key k of c.  Returns 0, or -1 with a message in msg. */
int dfb_config_set(struct dfb_config *c, const struct dfb_key *k, const char *value,
		   char *msg, size_t msglen);
/* Parses "key=value".  Returns 0, or -1 with a message in msg. */
int dfb_config_set_kv(struct dfb_config *c, const char *kv, char *msg, size_t msglen);
/* Cross-key checks (cores vs threads, window a power of two, ...).
 * Returns 0, or -1 with a message in msg. */
int dfb_config_check(const struct dfb_config *c, char *msg, size_t msglen);
/* Clusters the cores make: one AIC and two AIV a cluster. */
uint64_t dfb_config_clusters(const struct dfb_config *c);
/* Every cross-key error, each handed to report (msg starts "key = value"
 * where one key is to blame); returns how many. */
int dfb_config_check_all(const struct dfb_config *c,
			 void (*report)(void *arg, const char *msg), void *arg);
/* Writes key's current value as text. */
void dfb_config_format(const struct dfb_config *c, const struct dfb_key *k,
		       char *buf, size_t len);

/* ---- workload shapes (graph generators) ------------------------------ */

struct dfb_task_desc {
	uint8_t mask;                /* bit0 AIC, bit1 AIV0, bit2 AIV1; 0 = dependency-only */
	uint8_t alloc;               /* hidden alloc task: complete at submit */
	uint8_t scope_end;           /* close the depth-0 scope after this task */
	uint8_t open_scope;          /* open a nested scope (next ring) before this task */
	uint8_t close_scopes;        /* close this many nested scopes after this task */
	uint16_t blocks;
	uint32_t conditions;         /* deferred conditions over all its subtasks */
	uint64_t kernel_ns;
	uint32_t nproducers;
	uint64_t producers[8];       /* submission indices of earlier tasks */
};

struct dfb_shape {
	const char *name;
	const char *summary;
	/* Scenario-specific defaults applied over dfb_config_defaults. */
	void (*defaults)(struct dfb_config *c);
	/* Describes task `index` (0-based, < cfg->tasks).  Deterministic in
	 * (cfg, index): both strategies see the same graph.  NULL for a
	 * transport shape. */
	void (*task)(const struct dfb_config *c, uint64_t index, struct dfb_task_desc *d);
	/* A transport scenario: `producers` threads and one consumer on the
	 * strategy's transport alone, no graph (docs/MODEL.md). */
	bool transport;
};

extern const struct dfb_shape *const dfb_shapes[];
extern const size_t dfb_nshapes;
const struct dfb_shape *dfb_shape_find(const char *name);

/* ---- statistics ---------------------------------------------------------- */

/* Per-FIN counters; one per scheduler thread, merged after a round. */
#define DFB_COUNTERS(X)                                                          \
	X(fin_events, "FIN events observed")                                     \
	X(registrations, "FINs whose registration left work for the consumer")   \
	X(inline_completions, "tasks completed on the FIN thread")               \
	X(consumer_completions, "tasks completed by the wait-list consumer")     \
	X(lock_misses, "register_deferred SKIPPED (wait-list lock held)")        \
	X(mailbox_full_retries, "pushes refused by a full mailbox (mpsc_skipped_count)") \
	X(cas_retries, "lost head-claim CAS races")                              \
	X(drained_msgs, "mailbox messages drained by the consumer")              \
	X(polls, "poll_and_complete passes that took the lock")                 \
	X(poll_lock_misses, "poll_and_complete try-lock misses")                 \
	X(dispatches, "subtasks dispatched to cores")                            \
	X(dummy_completions, "dependency-only tasks completed without a core")   \
	X(slow_pushes_first_call, "timed transport pushes over 1 ms done at the strategy's first push call (where a call is one attempt, as spinlock's, mailbox's, mailbox-spsc's and wfcq's: the producer was held up inside it)") \
	X(slow_pushes_retried, "timed transport pushes over 1 ms that called push again (refused: full, or the lock held)")

struct dfb_counters {
#define DFB_X(name, text) uint64_t name;
	DFB_COUNTERS(DFB_X)
#undef DFB_X
};

struct dfb_counter_info {
	const char *name;
	const char *help;
	size_t offset;
};
extern const struct dfb_counter_info dfb_counter_info[];
extern const size_t dfb_ncounters;
void dfb_counters_add(struct dfb_counters *into, const struct dfb_counters *from);

/* Log-bucketed latency histogram: 16 sub-buckets per power of two, so a
 * reported percentile is within 1/16 (6.25%) of the true value.  Single
 * writer; merge after the writers are done. */
#define DFB_HIST_SUB_BITS 4
#define DFB_HIST_BUCKETS (64 << DFB_HIST_SUB_BITS)
struct dfb_hist {
	uint64_t count, sum, min, max;
	uint64_t b[DFB_HIST_BUCKETS];
};
void dfb_hist_reset(struct dfb_hist *h);
void dfb_hist_merge(struct dfb_hist *into, const struct dfb_hist *from);
/* Value at quantile q in [0,1]: the upper bound of the bucket holding the
 * ceil(q*count)-th sample, clamped to [min, max].  0 when empty. */
uint64_t dfb_hist_quantile(const struct dfb_hist *h, double q);
unsigned dfb_hist_bucket(uint64_t v);
uint64_t dfb_hist_bucket_upper(unsigned b);
static inline void dfb_hist_add(struct dfb_hist *h, uint64_t v)
{
	h->b[dfb_hist_bucket(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* ---- rounds ------------------------------------------------------- */

/* Round timings in microseconds, as upstream's benchmark script prints. */
#define DFB_ROUND_METRICS(X)                                    \
	X(host_us, "Host (us)", "wall time of the whole round, set-up included") \
	X(total_us, "Total (us)", "first start to last end, all threads")       \
	X(sched_us, "Sched (us)", "earliest sched_start to latest sched_end")   \
	X(orch_us, "Orch (us)", "orch_start to orch_end")

struct dfb_round_result {
#define DFB_X(name, title, help) double name;
	DFB_ROUND_METRICS(DFB_X)
#undef DFB_X
	uint64_t tasks, subtasks;
	struct dfb_counters counters;
	struct dfb_hist reg_latency;  /* ns per FIN in the registration path */
	uint64_t peak_wait_entries;
	bool transport;               /* a transport round: tasks = messages */
	struct dfb_error error;       /* code DFB_ERR_OK on success */
};

struct dfb_strategy;
struct dfb_runtime;

/* splitmix64: advances *state and returns the next value (the one
 * generator of the project's random choices). */
static inline uint64_t dfb_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Strategy table lookup; NULL when unknown. */
const struct dfb_strategy *dfb_strategy_find(const char *name);
const char *dfb_strategy_name(const struct dfb_strategy *s);
const char *dfb_strategy_summary(const struct dfb_strategy *s);
extern const struct dfb_strategy *const dfb_strategies[];
extern const size_t dfb_nstrategies;
/* The default list (-s left out): every built strategy but the opt-in
 * ones, in table order, into out (NULL: only count). */
size_t dfb_default_strategies(const struct dfb_strategy **out);
bool dfb_strategy_opt_in(const struct dfb_strategy *s);
/* Upstream's baseline FIN order: a task may complete before a sibling's
 * conditions are registered (reported as ORPHANED_CONDITIONS). */
bool dfb_strategy_fin_order_race(const struct dfb_strategy *s);
/* The strategies this build left out, their library absent at configure
 * time (runtime/strategies.def). */
struct dfb_unavailable {
	const char *name, *what, *package;
};
extern const struct dfb_unavailable dfb_unavailable[];
extern const size_t dfb_nunavailable;
/* Why `name` is no strategy of this build: not built (and what to
 * install), or unknown (and the names that are).  Returns msg. */
const char *dfb_strategy_unknown(const char *name, char *msg, size_t len);

/* Allocates everything a round needs (no allocation happens inside a
 * round).  Control thread.  Returns NULL with *err filled on failure. */
struct dfb_runtime *dfb_runtime_create(const struct dfb_config *c,
				       const struct dfb_strategy *s,
				       struct dfb_error *err);
/* Runs one round to completion, or to its first error, which lands in
 * out->error.  Returns 0 on success, -1 on a failed round.  Never hangs:
 * the hang budget bounds every wait.  Control thread. */
int dfb_runtime_run_round(struct dfb_runtime *rt, struct dfb_round_result *out);
/* The configuration the runtime runs, with `auto` values resolved. */
const struct dfb_config *dfb_runtime_config(const struct dfb_runtime *rt);
/* Sets latency_sample for the following rounds (the harness's rounds with
 * sampling off, which measure what sampling costs).  Control thread,
 * between rounds. */
void dfb_runtime_set_latency_sample(struct dfb_runtime *rt, uint64_t n);
/* Frees the runtime and its round's dump text.  Control thread. */
void dfb_runtime_destroy(struct dfb_runtime *rt);

#ifdef __cplusplus
}
#endif

#endif
