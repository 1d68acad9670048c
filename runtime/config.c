/* The scenario parameter table: the one place that names every key. */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deferbench.h"
#include "dfb_arch.h"
#include "strategy.h"

static const char *const engine_names[] = {"thread", "virtual", "auto", NULL};
static const char *const spin_names[] = {"none", "pause", "yield", NULL};
static const char *const fault_names[] = {
	"none",		 "slab_error",	  "invalid_condition", "drop_completion",
	"fin_race",	 "too_many_conditions", "unknown_kind", "wait_overflow",
	"engine_never", "producer_stall", NULL};

const char *dfb_fault_name(enum dfb_fault f)
{
	return (size_t)f < sizeof(fault_names) / sizeof(fault_names[0]) - 1 ? fault_names[f] : "?";
}

enum dfb_err dfb_fault_error(enum dfb_fault f)
{
	switch (f) {
	case DFB_FAULT_SLAB_ERROR: return DFB_ERR_SLAB_ERROR;
	case DFB_FAULT_INVALID_CONDITION: return DFB_ERR_COMPLETION_INVALID;
	case DFB_FAULT_FIN_RACE: return DFB_ERR_ORPHANED_CONDITIONS;
	case DFB_FAULT_TOO_MANY_CONDITIONS:
	case DFB_FAULT_UNKNOWN_KIND: return DFB_ERR_REGISTRATION_FAILED;
	case DFB_FAULT_WAIT_OVERFLOW: return DFB_ERR_ASYNC_WAIT_OVERFLOW;
	case DFB_FAULT_DROP_COMPLETION:
	case DFB_FAULT_ENGINE_NEVER:
	case DFB_FAULT_PRODUCER_STALL: return DFB_ERR_SCHED_HANG;
	case DFB_FAULT_NONE: break;
	}
	return DFB_ERR_OK;
}

static const char *const platform_names[] = {"a2a3", "a5", NULL};

#define U64(key, lo, hi, text) \
	{#key, DFB_KEY_U64, offsetof(struct dfb_config, key), lo, hi, NULL, text, NULL}
#define DBL(key, lo, hi, text) \
	{#key, DFB_KEY_DOUBLE, offsetof(struct dfb_config, key), lo, hi, NULL, text, NULL}
#define STR(key, text) \
	{#key, DFB_KEY_STRING, offsetof(struct dfb_config, key), 0, \
	 sizeof(((struct dfb_config *)0)->key) - 1, NULL, text, NULL}
#define ENUM(key, names, text) \
	{#key, DFB_KEY_ENUM, offsetof(struct dfb_config, key), 0, 0, names, text, NULL}

static const struct dfb_key runtime_keys[] = {
	{"shape", DFB_KEY_SHAPE, offsetof(struct dfb_config, shape), 0, 0, NULL,
	 "workload graph generator (see `deferbench list`)", NULL},
	U64(tasks, 1, 4e9, "tasks the orchestrator submits per round (shape transport: messages per round, all producers together)"),
	U64(blocks, 1, 65535, "logical blocks per task (SPMD width)"),
	DBL(kernel_us, 0, 1e7, "simulated kernel duration per subtask, microseconds"),
	DBL(deferred_fraction, 0, 1, "fraction of tasks whose kernels leave deferred conditions"),
	U64(conditions_per_task, 0, 4096, "conditions a deferred task leaves, spread over its subtasks"),
	ENUM(engine, engine_names, "async engine: thread (an engine thread stores to real counters), virtual (deadline), or auto (thread if a PU is free for it)"),
	DBL(engine_latency_us, 0, 1e7, "engine completion delay after the subtask's FIN, microseconds"),
	U64(sched_threads, 1, 256, "scheduler threads (upstream: AICPU threads - 1)"),
	U64(producers, 1, 1024, "shape transport: producer threads pushing to the one consumer"),
	U64(aic_cores, 0, 4096, "simulated cube (AIC) cores, one per cluster"),
	U64(aiv_cores, 0, 8192, "simulated vector (AIV) cores, two per cluster"),
	U64(window, 2, 1 << 24, "task ring slots per ring (power of two; upstream 16384)"),
	U64(mailbox_capacity, 2, 1 << 24, "MPSC mailbox cells (power of two; upstream 4096)"),
	U64(max_async_waits, 1, 1 << 16, "async wait list entries (upstream MAX_ASYNC_WAITS 64)"),
	U64(max_conditions_per_task, 1, 1 << 16, "conditions per slab and per wait entry (upstream 64)"),
	ENUM(spin_hint, spin_names, "retry-loop hint: none, pause, or yield (pause then sched_yield)"),
	U64(hang_budget_ms, 1, 3600000, "fail with SCHED_HANG after this long without progress"),
	U64(round_limit_ms, 0, 3600000, "fail with SCHED_HANG a round still running after this long, even if it moves (0: no limit)"),
	U64(seed, 0, 1.8e19, "seed of the graph's random choices"),
	U64(dual_slot, 0, 1, "preload a pending subtask while one runs (upstream dual-slot dispatch)"),
	U64(scope_tasks, 1, 1 << 24, "tasks per scope; a scope's tasks stay alive until it ends"),
	U64(chains, 1, 1 << 20, "parallel dependency chains in deferred_heavy (bounds the tasks in flight)"),
	U64(rings, 1, 4, "task rings, one per scope depth (upstream 4)"),
	U64(variant, 1, 3, "case of a shape that has several (upstream Case1, Case2, ...)"),
	U64(release_batch, 1, 1 << 16, "completed slots batched per thread before release (upstream 256)"),
	U64(local_ready, 0, 1024, "per-thread local ready buffer slots for each shape (AIC, AIV, MIX; upstream 64)"),
	U64(max_fanin, 1, 8, "producers per task"),
	U64(max_fanout, 1, 1 << 16, "consumers per task"),
	U64(latency_sample, 0, 1e9, "time the registration path of one FIN in N, chosen at random (two clock reads per sampled FIN, the same on every strategy); 0: none"),
	U64(xpu_probe, 0, 1, "before every round, time a cache line's round trip between two of the round's PUs (rounds.csv xpu_rtt_ns; outside the timed part, alike for every strategy; 0.2-0.5 ms a round on the 2-core VM); 0: off"),
	U64(core_probe, 0, 1, "before every round, time a fixed loop on the drain thread's PU (scheduler 0, or the consumer), which slows when the host runs something else on that core (rounds.csv core_ns; pinned placements only; outside the timed part, alike for every strategy); 0: off"),
	ENUM(platform, platform_names, "upstream platform preset: a2a3 (24 clusters, 3 schedulers, window 16384, 4 rings) or a5 (36 clusters, 6 schedulers); sets the defaults of those keys, which still override it"),
	U64(orch_to_sched, 0, 1, "the orchestrator thread joins the schedulers once its graph is submitted, the clusters reassigned over all threads (upstream: 0)"),
	U64(waitlist_ttas, 0, 1, "deviation: the wait-list try-lock loads before its CAS (upstream: 0, one strong CAS)"),
	U64(waitlist_compact, 0, 1, "deviation: 40-byte wait entries with pooled conditions, removal by header swap (upstream: 0, 2.6 KB entries copied)"),
	U64(waitlist_padded, 0, 1, "deviation: wait-list busy and count on lines of their own, skipped pushes counted per thread (upstream: 0)"),
	U64(verify, 0, 1, "check exactly-once completion and producer order of every task (stress mode)"),
	U64(preempt, 0, 1e9, "stress: one in N protocol steps (claim, publish, fetch_add, lock, drain) yields or sleeps 1-64 us; 0: off (upstream has no such points)"),
	ENUM(fault, fault_names, "fault injection for error-path tests (docs/RELIABILITY.md, Faults: what each does and the error it ends in)"),
	U64(fault_task, 0, 4e9, "submission index of the task the fault hits"),
	STR(placement, "thread placement: none, compact, scatter, smt, cross-package, list:0,2,..."),
	STR(topology, "topology to plan on: empty (this machine), hwloc synthetic text, or an XML file"),
};
#define NRUNTIME_KEYS (sizeof(runtime_keys) / sizeof(runtime_keys[0]))

/* The one table: the runtime's keys, then every registered strategy's,
 * each offset rebased from the strategy's own index into dfb_config.sopt
 * from that strategy's base.  Built before main() (nothing else runs yet);
 * read-only afterwards. */
static struct dfb_key all_keys[NRUNTIME_KEYS + DFB_SOPT_MAX];
static size_t sopt_base[64];
const struct dfb_key *dfb_config_keys = all_keys;
size_t dfb_config_nkeys;

__attribute__((constructor)) static void build_key_table(void)
{
	size_t n = 0, slot = 0;
	for (size_t i = 0; i < NRUNTIME_KEYS; i++)
		all_keys[n++] = runtime_keys[i];
	for (size_t s = 0; s < dfb_nstrategies; s++) {
		const struct dfb_strategy *st = dfb_strategies[s];
		sopt_base[s] = slot;
		for (size_t k = 0; k < st->nkeys; k++) {
			if (slot == DFB_SOPT_MAX || st->keys[k].type != DFB_KEY_U64 ||
			    st->keys[k].offset != k) {
				fprintf(stderr, "deferbench: strategy %s: key %s: more than %d "
						"strategy keys, or not U64 at its own index\n",
					st->name, st->keys[k].name, DFB_SOPT_MAX);
				abort();
			}
			struct dfb_key key = st->keys[k];
			key.offset = offsetof(struct dfb_config, sopt) + slot * sizeof(uint64_t);
			key.owner = st->name;
			for (size_t j = 0; j < n; j++)
				if (!strcmp(all_keys[j].name, key.name)) {
					fprintf(stderr, "deferbench: strategy %s: key %s exists\n",
						st->name, key.name);
					abort();
				}
			all_keys[n++] = key;
			slot++;
		}
	}
	dfb_config_nkeys = n;
}

const uint64_t *dfb_config_sopt(const struct dfb_config *c, const struct dfb_strategy *s)
{
	for (size_t i = 0; i < dfb_nstrategies; i++)
		if (dfb_strategies[i] == s)
			return &c->sopt[sopt_base[i]];
	return c->sopt;
}

/* What a platform preset sets: upstream's platform_config.h and
 * pto_runtime2_types.h (a2a3: PLATFORM_MAX_BLOCKDIM 24, 4 AICPU threads;
 * a5: 36, 7; both PTO2_TASK_WINDOW_SIZE 16384, PTO2_MAX_RING_DEPTH 4). */
void dfb_platform_apply(struct dfb_config *c, enum dfb_platform p)
{
	uint64_t clusters = p == DFB_PLATFORM_A5 ? 36 : 24;
	c->platform = p;
	c->aic_cores = clusters;
	c->aiv_cores = 2 * clusters;
	c->sched_threads = p == DFB_PLATFORM_A5 ? 6 : 3; /* AICPU threads - 1 */
	c->window = 16384;
	c->rings = 4;
}

void dfb_config_defaults(struct dfb_config *c)
{
	memset(c, 0, sizeof(*c));
	c->shape = 0;
	c->tasks = 1000;
	c->blocks = 1;
	c->kernel_us = 5;
	c->deferred_fraction = 0;
	c->conditions_per_task = 1;
	c->engine = DFB_ENGINE_AUTO;
	c->engine_latency_us = 10;
	c->producers = 1;
	c->mailbox_capacity = 4096;
	c->max_async_waits = 64;
	c->max_conditions_per_task = 64;
	c->spin_hint = DFB_SPIN_YIELD;
	c->hang_budget_ms = 10000;
	c->round_limit_ms = 120000;
	c->seed = 1;
	c->dual_slot = 1;
	c->scope_tasks = 64;
	c->variant = 1;
	c->chains = 32;
	c->release_batch = 256;
	c->local_ready = 64;
	c->max_fanin = 8;
	c->max_fanout = 32;
	c->latency_sample = 64;
	c->xpu_probe = 0; /* not shown not to move the figures (docs/PERFORMANCE.md) */
	c->core_probe = 0; /* the same */
	c->verify = 0;
	c->fault = DFB_FAULT_NONE;
	c->fault_task = 0;
	snprintf(c->placement, sizeof(c->placement), "none");
	c->topology[0] = 0;
	/* a2a3: 4 AICPU threads = 3 schedulers + the orchestrator; 24
	 * clusters of 1 AIC + 2 AIV; window 16384, 4 rings. */
	dfb_platform_apply(c, DFB_PLATFORM_A2A3);
}

const struct dfb_key *dfb_config_key(const char *name)
{
	for (size_t i = 0; i < dfb_config_nkeys; i++)
		if (strcmp(dfb_config_keys[i].name, name) == 0)
			return &dfb_config_keys[i];
	return NULL;
}

size_t dfb_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return 64;
	size_t d[64][64];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	return d[la][lb];
}

const struct dfb_key *dfb_config_nearest(const char *name)
{
	const struct dfb_key *best = NULL;
	size_t bd = (size_t)-1;
	for (size_t i = 0; i < dfb_config_nkeys; i++) {
		size_t d = dfb_edit_distance(name, dfb_config_keys[i].name);
		if (d < bd) {
			bd = d;
			best = &dfb_config_keys[i];
		}
	}
	return best;
}

static void list_names(const char *const *names, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; names[i] && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", names[i]);
}

int dfb_config_set(struct dfb_config *c, const struct dfb_key *k, const char *value,
		   char *msg, size_t msglen)
{
	char *end;
	void *field = (char *)c + k->offset;

	switch (k->type) {
	case DFB_KEY_U64: {
		errno = 0;
		if (*value == '-' || *value == 0)
			goto bad_number;
		unsigned long long v = strtoull(value, &end, 0);
		if (errno || *end)
			goto bad_number;
		/* Compared as integers: above 2^53 a double cannot tell
		 * 18000000000000000001 from the 1.8e19 maximum. */
		unsigned long long lo = (unsigned long long)k->min;
		unsigned long long hi = k->max >= 18446744073709551615.0 ? ULLONG_MAX
									: (unsigned long long)k->max;
		if (v < lo || v > hi) {
			snprintf(msg, msglen, "%s = %s is out of range [%.0f, %.0f]", k->name,
				 value, k->min, k->max);
			return -1;
		}
		*(uint64_t *)field = v;
		return 0;
	}
	case DFB_KEY_DOUBLE: {
		errno = 0;
		if (*value == 0)
			goto bad_number;
		double v = strtod(value, &end);
		/* An underflow (1e-320) is a number, rounded toward 0; an
		 * overflow is not. */
		if ((errno && !(errno == ERANGE && fabs(v) <= DBL_MIN)) || *end || !isfinite(v))
			goto bad_number;
		if (v < k->min || v > k->max) {
			snprintf(msg, msglen, "%s = %s is out of range [%g, %g]", k->name, value,
				 k->min, k->max);
			return -1;
		}
		*(double *)field = v;
		return 0;
	}
	case DFB_KEY_ENUM:
		for (uint64_t i = 0; k->names[i]; i++)
			if (strcmp(k->names[i], value) == 0) {
				*(uint64_t *)field = i;
				if (k->offset == offsetof(struct dfb_config, platform))
					dfb_platform_apply(c, (enum dfb_platform)i);
				return 0;
			}
		{
			char names[256];
			list_names(k->names, names, sizeof(names));
			snprintf(msg, msglen, "%s = '%s' is not one of: %s", k->name, value, names);
		}
		return -1;
	case DFB_KEY_STRING:
		if (strlen(value) > (size_t)k->max) {
			snprintf(msg, msglen, "%s is longer than %.0f characters", k->name, k->max);
			return -1;
		}
		strcpy((char *)field, value);
		return 0;
	case DFB_KEY_SHAPE:
		for (size_t i = 0; i < dfb_nshapes; i++)
			if (strcmp(dfb_shapes[i]->name, value) == 0) {
				*(uint64_t *)field = i;
				return 0;
			}
		snprintf(msg, msglen, "%s = '%s' is not a known shape (see `deferbench list`)",
			 k->name, value);
		return -1;
	}
bad_number:
	snprintf(msg, msglen, "%s = '%s' is not a %s", k->name, value,
		 k->type == DFB_KEY_U64 ? "non-negative integer" : "number");
	return -1;
}

int dfb_config_set_kv(struct dfb_config *c, const char *kv, char *msg, size_t msglen)
{
	const char *eq = strchr(kv, '=');
	char name[64];
	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(name)) {
		snprintf(msg, msglen, "'%s' is not key=value", kv);
		return -1;
	}
	memcpy(name, kv, (size_t)(eq - kv));
	name[eq - kv] = 0;
	const struct dfb_key *k = dfb_config_key(name);
	if (!k) {
		const struct dfb_key *n = dfb_config_nearest(name);
		snprintf(msg, msglen, "unknown key '%s' (did you mean '%s'?)", name, n->name);
		return -1;
	}
	return dfb_config_set(c, k, eq + 1, msg, msglen);
}

static int is_pow2(uint64_t v)
{
	return v >= 2 && (v & (v - 1)) == 0;
}

uint64_t dfb_config_clusters(const struct dfb_config *c)
{
	return c->aic_cores > (c->aiv_cores + 1) / 2 ? c->aic_cores : (c->aiv_cores + 1) / 2;
}

/* Every cross-key error, each handed to report; the count.  Checks that
 * depend on an earlier one's key (clusters need sched_threads valid) still
 * run: each names its own keys. */
int dfb_config_check_all(const struct dfb_config *c,
			 void (*report)(void *arg, const char *msg), void *arg)
{
	char msg[400];
	int n = 0;
	uint64_t clusters = dfb_config_clusters(c);
#define FAIL(...)                                          \
	do {                                               \
		snprintf(msg, sizeof(msg), __VA_ARGS__);   \
		report(arg, msg);                          \
		n++;                                       \
	} while (0)
	if (!is_pow2(c->window))
		FAIL("window = %llu is not a power of two", (unsigned long long)c->window);
	if (!is_pow2(c->mailbox_capacity))
		FAIL("mailbox_capacity = %llu is not a power of two",
		     (unsigned long long)c->mailbox_capacity);
	if (clusters < c->sched_threads)
		FAIL("sched_threads = %llu but only %llu clusters (aic_cores=%llu, "
		     "aiv_cores=%llu): every scheduler thread needs a cluster",
		     (unsigned long long)c->sched_threads, (unsigned long long)clusters,
		     (unsigned long long)c->aic_cores, (unsigned long long)c->aiv_cores);
	if (c->scope_tasks > c->window)
		FAIL("scope_tasks = %llu exceeds window = %llu: a scope holds its slots "
		     "until it ends, so the ring would deadlock",
		     (unsigned long long)c->scope_tasks, (unsigned long long)c->window);
	if (c->fault == DFB_FAULT_FIN_RACE && c->sched_threads < 2)
		FAIL("fault = fin_race needs sched_threads >= 2: the race is between sibling "
		     "FINs on different scheduler threads");
	if (c->fault == DFB_FAULT_FIN_RACE && c->orch_to_sched)
		FAIL("fault = fin_race cannot be combined with orch_to_sched = 1: the core "
		     "transition parks the scheduler thread whose FIN the fault waits for");
	if (c->shape >= dfb_nshapes)
		FAIL("shape index %llu out of range", (unsigned long long)c->shape);
#undef FAIL
	return n;
}

struct first_msg {
	char *msg;
	size_t len;
	bool set;
};

static void keep_first(void *arg, const char *msg)
{
	struct first_msg *f = arg;
	if (!f->set)
		snprintf(f->msg, f->len, "%s", msg);
	f->set = true;
}

int dfb_config_check(const struct dfb_config *c, char *msg, size_t msglen)
{
	struct first_msg f = {msg, msglen, false};
	return dfb_config_check_all(c, keep_first, &f) ? -1 : 0;
}

void dfb_config_format(const struct dfb_config *c, const struct dfb_key *k, char *buf,
		       size_t len)
{
	const void *field = (const char *)c + k->offset;
	uint64_t v;
	switch (k->type) {
	case DFB_KEY_U64:
		snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)field);
		break;
	case DFB_KEY_DOUBLE:
		snprintf(buf, len, "%g", *(const double *)field);
		break;
	case DFB_KEY_ENUM:
		v = *(const uint64_t *)field;
		snprintf(buf, len, "%s", k->names[v]);
		break;
	case DFB_KEY_STRING:
		snprintf(buf, len, "%s", (const char *)field);
		break;
	case DFB_KEY_SHAPE:
		v = *(const uint64_t *)field;
		snprintf(buf, len, "%s", v < dfb_nshapes ? dfb_shapes[v]->name : "?");
		break;
	}
}
