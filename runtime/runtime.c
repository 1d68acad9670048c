/* Runtime life cycle: allocation (all of it here, none inside a round),
 * rounds with their watchdog, the end-of-round invariants, and errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dfb_internal.h"

#define DUMP_CAP (256 * 1024)

const char *const dfb_phase_names[] = {
	[DFB_PH_START] = "starting", [DFB_PH_IDLE] = "idle loop",
	[DFB_PH_FIN] = "handling a FIN", [DFB_PH_REGISTER] = "register_deferred (spinning on the lock)",
	[DFB_PH_PUSH] = "pushing to a full mailbox", [DFB_PH_POLL] = "poll_and_complete",
	[DFB_PH_DISPATCH] = "dispatching", [DFB_PH_RELEASE] = "releasing a batch",
	[DFB_PH_WIRING] = "wiring submitted tasks",
	[DFB_PH_TRANSITION] = "parked for the orch_to_sched core transition",
	[DFB_PH_FAULT_STALL] = "stalled by the fin_race fault",
	[DFB_PH_ORCH_SUBMIT] = "submitting", [DFB_PH_ORCH_WAIT_RING] = "waiting for ring space",
	[DFB_PH_ORCH_WIRING_FULL] = "waiting for wiring queue space",
	[DFB_PH_ORCH_REASSIGN] = "reassigning the clusters (orch_to_sched)",
	[DFB_PH_ENGINE_PUSH] = "waiting for engine queue space", [DFB_PH_DONE] = "finished",
};

void dfb_round_control_reset(struct dfb_runtime *rt)
{
	atomic_store_explicit(&rt->stop, false, memory_order_relaxed);
	atomic_store_explicit(&rt->err_code, DFB_ERR_OK, memory_order_relaxed);
	memset(&rt->err, 0, sizeof(rt->err));
	rt->err.task_index = -1;
	rt->err.thread = -1;
}

static void vraise(struct dfb_runtime *rt, enum dfb_err code, int32_t status, int64_t index,
		   uint64_t token, int thread, const char *fmt, va_list ap)
{
	int expected = DFB_ERR_OK;
	/* acq_rel: exactly one raiser wins and owns rt->err; the control
	 * thread reads it after joining every thread. */
	if (atomic_compare_exchange_strong_explicit(&rt->err_code, &expected, (int)code,
						    memory_order_acq_rel, memory_order_relaxed)) {
		rt->err.code = code;
		rt->err.status = status;
		rt->err.task_index = index;
		rt->err.task_token = index >= 0 ? token : 0;
		rt->err.thread = thread;
		vsnprintf(rt->err.detail, sizeof(rt->err.detail), fmt, ap);
	}
	atomic_store_explicit(&rt->stop, true, memory_order_relaxed);
}

void dfb_raise_status(struct dfb_runtime *rt, enum dfb_err code, int32_t status,
		      const struct dfb_slot *slot, int thread, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vraise(rt, code, status, slot ? (int64_t)slot->index : -1, slot ? dfb_slot_token(slot) : 0,
	       thread, fmt, ap);
	va_end(ap);
}

void dfb_raise_task(struct dfb_runtime *rt, enum dfb_err code, int32_t status, uint64_t index,
		    uint64_t token, int thread, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vraise(rt, code, status, (int64_t)index, token, thread, fmt, ap);
	va_end(ap);
}

static void *zalloc_aligned(size_t n)
{
	size_t size = (n + DFB_CACHELINE - 1) / DFB_CACHELINE * DFB_CACHELINE;
	void *p = aligned_alloc(DFB_CACHELINE, size ? size : DFB_CACHELINE);
	if (p)
		memset(p, 0, size ? size : DFB_CACHELINE);
	return p;
}

/* The farthest back, in submissions, that any task of the graph names a
 * producer: one pass over the shape (a few ns a task). */
static uint64_t producer_reach(const struct dfb_shape *shape, const struct dfb_config *c)
{
	uint64_t reach = 0;
	struct dfb_task_desc d;
	if (shape->transport)
		return 0;
	for (uint64_t i = 0; i < c->tasks; i++) {
		shape->task(c, i, &d);
		for (uint32_t k = 0; k < d.nproducers && k < sizeof(d.producers) / sizeof(d.producers[0]); k++)
			if (d.producers[k] < i && i - d.producers[k] > reach)
				reach = i - d.producers[k];
	}
	return reach;
}

static int tracker_init(struct dfb_runtime *rt, struct dfb_tracker *t)
{
	size_t w = rt->trk_words;
	t->base = calloc(w, sizeof(uint64_t));
	t->aic = calloc(w, sizeof(uint64_t));
	t->aiv = calloc(w, sizeof(uint64_t));
	/* The words peers read, on lines of their own. */
	t->states = zalloc_aligned(w * sizeof(uint64_t));
	t->pocc = zalloc_aligned(w * sizeof(uint64_t));
	t->core = calloc(w * 64, sizeof(*t->core));
	return t->base && t->aic && t->aiv && t->states && t->pocc && t->core ? 0 : -1;
}

static void tracker_fini(struct dfb_tracker *t)
{
	free(t->base);
	free(t->aic);
	free(t->aiv);
	free((void *)t->states);
	free((void *)t->pocc);
	free(t->core);
}

static int sched_init(struct dfb_runtime *rt)
{
	const struct dfb_config *c = &rt->cfg;
	rt->nsched = (uint32_t)c->sched_threads;
	rt->nsched_all = rt->nsched + (c->orch_to_sched ? 1 : 0);
	rt->nclusters = (uint32_t)dfb_config_clusters(c);
	rt->ncores = (uint32_t)(c->aic_cores + c->aiv_cores);
	rt->trk_words = (rt->nclusters + DFB_TRK_CLUSTERS_PER_WORD - 1) / DFB_TRK_CLUSTERS_PER_WORD;
	rt->sched = zalloc_aligned(rt->nsched_all * sizeof(*rt->sched));
	/* Three cores a cluster, AIC then AIV0 and AIV1; a configuration
	 * with fewer cores leaves some absent. */
	rt->cores = calloc(3 * (size_t)rt->nclusters + 1, sizeof(*rt->cores));
	rt->slab_pool = calloc(3 * (size_t)rt->nclusters * 2 * rt->max_cond + 1, sizeof(*rt->slab_pool));
	rt->wiring.cells = calloc(1024, sizeof(*rt->wiring.cells)); /* PTO2_WRIRING_QUEUE_SIZE */
	rt->wiring.mask = 1023;
	if (!rt->sched || !rt->cores || !rt->slab_pool || !rt->wiring.cells)
		return -1;
	for (uint32_t cl = 0; cl < rt->nclusters; cl++) {
		static const uint8_t bits[3] = {1, 2, 4};
		bool has[3] = {cl < c->aic_cores, 2 * cl < c->aiv_cores, 2 * cl + 1 < c->aiv_cores};
		for (uint32_t k = 0; k < 3; k++) {
			struct dfb_core *core = &rt->cores[3 * cl + k];
			core->id = 3 * cl + k;
			core->cluster = cl;
			core->kind = k == 0 ? DFB_CORE_AIC : DFB_CORE_AIV;
			core->bit = bits[k];
			core->present = has[k];
			for (int p = 0; p < 2; p++)
				core->slab[p].entries =
					rt->slab_pool + ((size_t)core->id * 2 + (size_t)p) * rt->max_cond;
		}
	}
	uint64_t per_task = rt->counters_per_slot < rt->max_cond ? rt->counters_per_slot : rt->max_cond;
	for (uint32_t t = 0; t < rt->nsched_all; t++) {
		struct dfb_sched *s = &rt->sched[t];
		s->rt = rt;
		s->id = (int)t;
		if (tracker_init(rt, &s->trk))
			return -1;
		s->scratch = calloc(rt->trk_words, sizeof(*s->scratch));
		s->popped = calloc(3 * (size_t)rt->nclusters + 1, sizeof(*s->popped));
		for (int q = 0; q < DFB_NSHAPES; q++) {
			s->local[q].cap = (uint32_t)c->local_ready;
			s->local[q].slots = calloc(c->local_ready + 1, sizeof(*s->local[q].slots));
			if (!s->local[q].slots)
				return -1;
		}
		s->batch = calloc(c->release_batch, sizeof(*s->batch));
		/* Room for every core's two subtasks and every waiting task. */
		uint64_t cap = (rt->ncores * 2ull + c->max_async_waits) * per_task + 64;
		if (!s->scratch || !s->popped || !s->batch || dfb_spsc_init(&s->engine_q, cap))
			return -1;
	}
	dfb_assign_clusters(rt, rt->nsched);
	atomic_init(&rt->active_sched, rt->nsched);
	return dfb_heap_init(rt);
}

struct dfb_runtime *dfb_runtime_create(const struct dfb_config *c, const struct dfb_strategy *s,
				       struct dfb_error *err)
{
	memset(err, 0, sizeof(*err));
	err->task_index = -1;
	err->thread = -1;
	dfb_clock_init();
	if (dfb_config_check(c, err->detail, sizeof(err->detail))) {
		err->code = DFB_ERR_CONFIG;
		return NULL;
	}
	struct dfb_runtime *rt = aligned_alloc(DFB_CACHELINE, sizeof(*rt));
	if (!rt)
		goto nomem;
	memset(rt, 0, sizeof(*rt));
	rt->cfg = *c;
	if (c->engine == DFB_ENGINE_AUTO) {
		long pus = sysconf(_SC_NPROCESSORS_ONLN);
		rt->cfg.engine = pus >= (long)c->sched_threads + 2 ? DFB_ENGINE_THREAD
								  : DFB_ENGINE_VIRTUAL;
	}
	rt->strategy = s;
	rt->shape = dfb_shapes[c->shape];
	/* Faults that act on what only some strategies have. */
	const char *lacks = NULL;
	if (c->fault == DFB_FAULT_UNKNOWN_KIND && s->locked_registration)
		lacks = "sends no messages (it registers under the wait-list lock)";
	else if (c->fault == DFB_FAULT_PRODUCER_STALL && !s->claims_cells)
		lacks = "claims no cells to stall between claim and publish";
	if (lacks) {
		err->code = DFB_ERR_CONFIG;
		snprintf(err->detail, sizeof(err->detail), "fault = %s does not apply to %s: it %s",
			 dfb_fault_name((enum dfb_fault)c->fault), s->name, lacks);
		dfb_runtime_destroy(rt);
		return NULL;
	}
	rt->window_mask = (uint32_t)(c->window - 1);
	rt->max_cond = (uint32_t)c->max_conditions_per_task;
	rt->hint = (enum dfb_spin_hint)c->spin_hint;
	rt->counters_per_slot = (uint32_t)(c->conditions_per_task ? c->conditions_per_task : 1);

	/* Placement (topology.c): plan every thread on the topology. */
	if (dfb_placement_init(rt, err->detail, sizeof(err->detail))) {
		err->code = DFB_ERR_CONFIG;
		dfb_runtime_destroy(rt);
		return NULL;
	}

	rt->nrings = (uint32_t)c->rings;
	size_t w = c->window * rt->nrings; /* every ring has a window of slots */
	/* The index map finds a named producer's slot; it must reach back
	 * as far as the shape names producers, or a configuration whose
	 * window is small for its shape would fail at run time with a
	 * producer "too far back to track" (a limit of the model, not of
	 * upstream, whose tensor map has no such reach). */
	size_t nmap = 4, reach = producer_reach(rt->shape, c);
	while (nmap < 4 * w || nmap <= reach)
		nmap <<= 1;
	rt->idxmap_mask = nmap - 1;
	rt->idxmap = calloc(nmap, sizeof(*rt->idxmap));
	rt->slots = aligned_alloc(DFB_CACHELINE, w * sizeof(*rt->slots));
	rt->fanin_pool = calloc(w * c->max_fanin, sizeof(*rt->fanin_pool));
	rt->fanout_pool = calloc(w * c->max_fanout, sizeof(*rt->fanout_pool));
	rt->counter_pool = calloc(w * rt->counters_per_slot, sizeof(*rt->counter_pool));
	rt->dump = malloc(DUMP_CAP);
	rt->dump_cap = DUMP_CAP;
	if (!rt->idxmap || !rt->slots || !rt->fanin_pool || !rt->fanout_pool || !rt->counter_pool || !rt->dump)
		goto nomem;
	memset(rt->slots, 0, w * sizeof(*rt->slots));
	for (size_t i = 0; i < w; i++) {
		rt->slots[i].fanin = rt->fanin_pool + i * c->max_fanin;
		rt->slots[i].fanout = rt->fanout_pool + i * c->max_fanout;
		rt->slots[i].counters = rt->counter_pool + i * rt->counters_per_slot;
		rt->slots[i].number = (uint32_t)i;
	}
	if (c->verify && !(rt->done_flags = calloc(c->tasks, 1)))
		goto nomem;
	size_t qcap = 65536; /* upstream PTO2_READY_QUEUE_SIZE; at least every slot */
	while (qcap < w)
		qcap <<= 1;
	for (int q = 0; q < DFB_Q__COUNT; q++)
		if (dfb_mpmc_init(&rt->ready[q], qcap))
			goto nomem;
	unsigned wl_flags = (c->waitlist_ttas ? DFB_WL_TTAS : 0) |
			    (c->waitlist_compact ? DFB_WL_COMPACT : 0) |
			    (c->waitlist_padded ? DFB_WL_PADDED : 0) | s->wl_flags;
	if (dfb_wl_init(&rt->wl, (uint32_t)c->max_async_waits, rt->max_cond, wl_flags))
		goto nomem;
	/* wait_overflow: a list that takes no entry (allocated as configured,
	 * so that nothing else changes). */
	if (c->fault == DFB_FAULT_WAIT_OVERFLOW)
		rt->wl.max_entries = 0;
	if (sched_init(rt))
		goto nomem;
	if (s->state_size) {
		size_t sz = (s->state_size + DFB_CACHELINE - 1) / DFB_CACHELINE * DFB_CACHELINE;
		if (!(rt->sstate = aligned_alloc(DFB_CACHELINE, sz)))
			goto nomem;
		memset(rt->sstate, 0, sz);
	}
	rt->sopt = dfb_config_sopt(&rt->cfg, s);
	if (s->init && s->init(rt))
		goto nomem;
	if (rt->shape->transport && dfb_transport_init(rt, err)) { /* transport.c */
		dfb_runtime_destroy(rt);
		return NULL;
	}
	return rt;
nomem:
	err->code = DFB_ERR_SYSTEM;
	snprintf(err->detail, sizeof(err->detail), "cannot allocate the runtime: %s",
		 strerror(errno ? errno : ENOMEM));
	dfb_runtime_destroy(rt);
	return NULL;
}

const struct dfb_config *dfb_runtime_config(const struct dfb_runtime *rt)
{
	return &rt->cfg;
}

void dfb_runtime_set_latency_sample(struct dfb_runtime *rt, uint64_t n)
{
	rt->cfg.latency_sample = n;
}

void dfb_runtime_destroy(struct dfb_runtime *rt)
{
	if (!rt)
		return;
	if (rt->strategy && rt->strategy->fini && rt->sched)
		rt->strategy->fini(rt);
	free(rt->sstate);
	for (uint32_t i = 0; rt->sched && i < rt->nsched_all; i++) {
		struct dfb_sched *s = &rt->sched[i];
		for (int q = 0; q < DFB_NSHAPES; q++)
			free(s->local[q].slots);
		free(s->batch);
		free(s->scratch);
		free(s->popped);
		tracker_fini(&s->trk);
		dfb_spsc_fini(&s->engine_q);
	}
	free(rt->sched);
	free(rt->wiring.cells);
	free(rt->cores);
	free(rt->slab_pool);
	free(rt->heap);
	dfb_wl_fini(&rt->wl);
	for (int q = 0; q < DFB_Q__COUNT; q++)
		dfb_mpmc_fini(&rt->ready[q]);
	free(rt->done_flags);
	free(rt->slots);
	free(rt->idxmap);
	free(rt->fanin_pool);
	free(rt->fanout_pool);
	free((void *)rt->counter_pool);
	free(rt->dump);
	dfb_placement_fini(rt); /* placement (topology.c) */
	dfb_transport_fini(rt); /* transport scenarios (transport.c) */
	free(rt);
}

/* producer_stall: how a stalled producer learns that the round stopped. */
static bool stall_stopped(void *rt)
{
	return dfb_stopped(rt);
}

static void round_reset(struct dfb_runtime *rt)
{
	for (size_t i = 0; i < rt->cfg.window * rt->nrings; i++) {
		struct dfb_slot *s = &rt->slots[i];
		s->index = UINT64_MAX;
		atomic_store_explicit(&s->state, DFB_SLOT_FREE, memory_order_relaxed);
		atomic_store_explicit(&s->fanout_lock, 0, memory_order_relaxed);
	}
	if (rt->done_flags)
		memset((void *)rt->done_flags, 0, rt->cfg.tasks);
	dfb_wl_reset(&rt->wl);
	/* A failed round can leave ready slots and undrained messages. */
	for (int q = 0; q < DFB_Q__COUNT; q++)
		while (dfb_mpmc_pop(&rt->ready[q]))
			;
	if (rt->strategy->reset)
		rt->strategy->reset(rt);
	for (uint32_t k = 0; k < 3 * rt->nclusters; k++) {
		rt->cores[k].run.valid = rt->cores[k].pend.valid = 0;
		rt->cores[k].dispatched = 0;
	}
	for (uint32_t i = 0; i < rt->nsched_all; i++) {
		struct dfb_sched *s = &rt->sched[i];
		memset(&s->c, 0, sizeof(s->c));
		dfb_hist_reset(&s->lat);
		dfb_sampler_init(&s->sampler, rt->cfg.latency_sample,
				 dfb_sampler_seed(&rt->cfg, s->id, rt->rounds_run));
		for (int q = 0; q < DFB_NSHAPES; q++)
			s->local[q].n = 0;
		s->nbatch = 0;
		s->fault_claimed = 0;
		s->sched_start = s->sched_end = 0;
		atomic_store_explicit(&s->progress, 0, memory_order_relaxed);
		atomic_store_explicit(&s->phase, DFB_PH_START, memory_order_relaxed);
		atomic_store_explicit(&s->phase_token, 0, memory_order_relaxed);
		atomic_store_explicit(&s->engine_q.head, 0, memory_order_relaxed);
		atomic_store_explicit(&s->engine_q.tail, 0, memory_order_relaxed);
	}
	/* Every round starts from the initial assignment: orch_to_sched's
	 * reassignment is a round's own. */
	dfb_assign_clusters(rt, rt->nsched);
	atomic_store_explicit(&rt->active_sched, rt->nsched, memory_order_relaxed);
	rt->rounds_run++;
	dfb_preempt_configure((uint32_t)rt->cfg.preempt, rt->cfg.seed * 1000003u + rt->rounds_run,
			      rt->cfg.fault == DFB_FAULT_PRODUCER_STALL ? stall_stopped : NULL, rt);
	atomic_store_explicit(&rt->orch_done, false, memory_order_relaxed);
	atomic_store_explicit(&rt->transition_requested, false, memory_order_relaxed);
	atomic_store_explicit(&rt->reassigned, false, memory_order_relaxed);
	atomic_store_explicit(&rt->wait_reassign, 0, memory_order_relaxed);
	atomic_store_explicit(&rt->wiring.head, 0, memory_order_relaxed);
	atomic_store_explicit(&rt->wiring.tail, 0, memory_order_relaxed);
	rt->wiring.tail_cached = rt->wiring.head_cached = 0;
	rt->wiring.batch_count = rt->wiring.batch_index = rt->wiring.backoff = 0;
	rt->heap_len = 0;
	rt->orch_start = rt->orch_end = 0;
	atomic_store_explicit(&rt->orch_progress, 0, memory_order_relaxed);
	atomic_store_explicit(&rt->orch_phase, DFB_PH_START, memory_order_relaxed);
	atomic_store_explicit(&rt->engine_fired, 0, memory_order_relaxed);
	atomic_store_explicit(&rt->consumed, 0, memory_order_relaxed);
	dfb_round_control_reset(rt);
}

static uint64_t total_progress(struct dfb_runtime *rt)
{
	uint64_t p = atomic_load_explicit(&rt->orch_progress, memory_order_relaxed) +
		     atomic_load_explicit(&rt->engine_fired, memory_order_relaxed) +
		     atomic_load_explicit(&rt->consumed, memory_order_relaxed);
	for (uint32_t i = 0; i < rt->nsched_all; i++)
		p += atomic_load_explicit(&rt->sched[i].progress, memory_order_relaxed);
	return p;
}

void dfb_raise_hang(struct dfb_runtime *rt, const char *who, bool slow, const char *unit,
		    uint64_t done)
{
	if (!slow)
		dfb_raise(rt, DFB_ERR_SCHED_HANG, NULL, -1, "%sno progress for %llu ms", who,
			  (unsigned long long)rt->cfg.hang_budget_ms);
	else
		dfb_raise(rt, DFB_ERR_SCHED_HANG, NULL, -1,
			  "%sstill running after round_limit_ms = %llu ms, though moving (%llu of "
			  "%llu %s)",
			  who, (unsigned long long)rt->cfg.round_limit_ms, (unsigned long long)done,
			  (unsigned long long)rt->cfg.tasks, unit);
}

/* Phases are captured while the threads run; everything else is read
 * after they have been joined, so the dump itself races with nothing. */
static void hang_dump(struct dfb_runtime *rt, const int *phases, const uint64_t *tokens,
		      int orch_phase, uint64_t now, bool slow)
{
	size_t o = 0;
	DUMP("hang report: %s %llu ms; %llu of %llu tasks consumed\n",
	     slow ? "still running (and moving) after round_limit_ms =" : "no progress for",
	     (unsigned long long)(slow ? rt->cfg.round_limit_ms : rt->cfg.hang_budget_ms),
	     (unsigned long long)atomic_load(&rt->consumed), (unsigned long long)rt->cfg.tasks);
	for (uint32_t r = 0; r < rt->nrings; r++)
		DUMP("ring %u: tail %llu, next local id %llu, window %llu\n", r,
		     (unsigned long long)rt->ring_tail[r], (unsigned long long)rt->ring_next[r],
		     (unsigned long long)rt->cfg.window);
	DUMP("orchestrator: %s, %llu tasks submitted\n", dfb_phase_names[orch_phase],
	     (unsigned long long)atomic_load(&rt->orch_progress));
	if (rt->cfg.engine == DFB_ENGINE_THREAD)
		DUMP("engine thread: %llu completions fired, %llu requests waiting\n",
		     (unsigned long long)atomic_load(&rt->engine_fired),
		     (unsigned long long)rt->heap_len);
	DUMP("wiring queue: %llu tasks queued, %u of a popped batch left\n",
	     (unsigned long long)(atomic_load(&rt->wiring.head) - atomic_load(&rt->wiring.tail)),
	     rt->wiring.batch_count - rt->wiring.batch_index);
	DUMP("shared ready queues: AIC %llu, AIV %llu, MIX %llu, dependency-only %llu\n",
	     (unsigned long long)dfb_mpmc_size(&rt->ready[DFB_Q_AIC]),
	     (unsigned long long)dfb_mpmc_size(&rt->ready[DFB_Q_AIV]),
	     (unsigned long long)dfb_mpmc_size(&rt->ready[DFB_Q_MIX]),
	     (unsigned long long)dfb_mpmc_size(&rt->ready[DFB_Q_DUMMY]));
	for (uint32_t t = 0; t < rt->nsched_all; t++) {
		struct dfb_sched *s = &rt->sched[t];
		DUMP("scheduler %u%s: %s (last FIN token %#llx), %llu FINs, %u batched\n", t,
		     t == rt->nsched ? " (the orchestrator, orch_to_sched)" : "",
		     dfb_phase_names[phases[t]], (unsigned long long)tokens[t],
		     (unsigned long long)s->c.fin_events, s->nbatch);
		uint32_t idle = 0, cores = 0, pocc = 0, lost = 0;
		for (uint32_t w = 0; w < s->trk.nwords; w++) {
			uint64_t present = s->trk.aic[w] | s->trk.aiv[w];
			uint64_t st = atomic_load(&s->trk.states[w]) & present;
			uint64_t po = atomic_load(&s->trk.pocc[w]) & present;
			cores += (uint32_t)__builtin_popcountll(present);
			idle += (uint32_t)__builtin_popcountll(st);
			pocc += (uint32_t)__builtin_popcountll(po);
			for (uint32_t b = 0; b < 64; b++) {
				struct dfb_core *c = s->trk.core[w * 64 + b];
				/* busy in the tracker, nothing running: no FIN
				 * will ever free it */
				if ((present >> b & 1) && !(st >> b & 1) && c && !c->run.valid)
					lost++;
			}
		}
		DUMP("  cores: %u, %u idle, %u with a pending payload, %u busy with nothing running; "
		     "local ready AIC %u, AIV %u, MIX %u\n",
		     cores, idle, pocc, lost, s->local[DFB_Q_AIC].n, s->local[DFB_Q_AIV].n,
		     s->local[DFB_Q_MIX].n);
		for (uint32_t k = 0; k < s->trk.nwords * 64; k++) {
			struct dfb_core *c = s->trk.core[k];
			if (!c || !c->run.valid)
				continue;
			DUMP("  core %u (%s, cluster %u): running task %llu subtask %u, FIN %+.1f us ago%s\n",
			     c->id, c->kind == DFB_CORE_AIC ? "AIC" : "AIV", c->cluster,
			     (unsigned long long)c->run.slot->index, c->run.index,
			     ((double)now - (double)c->run.deadline_ns) / 1e3,
			     c->pend.valid ? ", one pending" : "");
		}
	}
	uint64_t stalled;
	if (dfb_stall_claimed(&stalled))
		DUMP("producer_stall fault: a producer claimed position %llu of the ring and has "
		     "not published it; the drain stops at that cell (ring state below)\n",
		     (unsigned long long)stalled);
	uint32_t n = dfb_wl_count(&rt->wl);
	DUMP("async wait list: %u entries\n", n);
	if (rt->strategy->dump) {
		char line[256];
		rt->strategy->dump(rt, line, sizeof(line));
		DUMP("%s: %s\n", rt->strategy->name, line);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct dfb_wait_entry *e = dfb_wl_entry(&rt->wl, i);
		DUMP("  entry %u: token %#llx, %s, %d of %u conditions waiting\n", i,
		     (unsigned long long)e->task_token,
		     e->normal_done ? "all subtasks done" : "subtasks still running",
		     e->waiting_count, e->condition_count);
		for (uint32_t k = 0; k < e->condition_count && k < 8; k++) {
			struct dfb_cond *c = &e->conditions[k];
			if (c->completion_type == DFB_CT_COUNTER)
				DUMP("    condition %u: counter %u, expects >= %u%s\n", k,
				     atomic_load(c->counter),
				     c->expected_value, c->done ? " (done)" : "");
			else if (c->completion_type == DFB_CT_VIRTUAL && c->addr == UINT64_MAX)
				DUMP("    condition %u: virtual engine, never completes (dropped)%s\n", k,
				     c->done ? " (done)" : "");
			else if (c->completion_type == DFB_CT_VIRTUAL)
				DUMP("    condition %u: virtual engine, due %+.1f us from the hang%s\n", k,
				     ((double)c->addr - (double)now) / 1e3, c->done ? " (done)" : "");
			else
				DUMP("    condition %u: completion type %d%s\n", k, c->completion_type,
				     c->done ? " (done)" : "");
		}
	}
}

/* End-of-round invariants: nothing left behind anywhere. */
static void check_drained(struct dfb_runtime *rt)
{
	char msg[200];
	if (atomic_load(&rt->consumed) != rt->cfg.tasks)
		dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1, "%llu of %llu tasks consumed",
			  (unsigned long long)atomic_load(&rt->consumed),
			  (unsigned long long)rt->cfg.tasks);
	else if (dfb_wl_count(&rt->wl))
		dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1,
			  "%u orphaned async wait entries, first for token %#llx: conditions "
			  "registered after their task completed (with the spinlock strategy, "
			  "the FIN-order race of multi-thread tasks; docs/MODEL.md)",
			  dfb_wl_count(&rt->wl), (unsigned long long)dfb_wl_entry(&rt->wl, 0)->task_token);
	else if (rt->strategy->check_drained && !rt->strategy->check_drained(rt, msg, sizeof(msg)))
		dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1, "%s at round end", msg);
	else if (atomic_load(&rt->wiring.head) != atomic_load(&rt->wiring.tail) ||
		 rt->wiring.batch_index != rt->wiring.batch_count)
		dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1, "wiring queue not empty at round end");
	for (int q = 0; q < DFB_Q__COUNT; q++)
		if (!dfb_mpmc_empty(&rt->ready[q]))
			dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1, "ready queue %d not empty", q);
	if (rt->done_flags)
		for (uint64_t i = 0; i < rt->cfg.tasks; i++)
			if (!atomic_load(&rt->done_flags[i])) {
				dfb_raise(rt, DFB_ERR_INVARIANT, NULL, -1,
					  "task %llu never completed", (unsigned long long)i);
				break;
			}
}

int dfb_runtime_run_round(struct dfb_runtime *rt, struct dfb_round_result *out)
{
	if (rt->shape->transport) /* transport scenarios (transport.c) */
		return dfb_transport_run_round(rt, out);
	uint64_t host0 = dfb_now_ns();
	memset(out, 0, sizeof(*out));
	round_reset(rt);

	int phases[256];
	uint64_t tokens[256];
	bool engine = rt->cfg.engine == DFB_ENGINE_THREAD;
	uint32_t started = 0;
	bool orch_started = false, engine_started = false;
	int rc, orch_phase = DFB_PH_START;
	uint64_t hang_at = 0;
	bool slow = false;

	for (; started < rt->nsched; started++)
		if ((rc = pthread_create(&rt->sched[started].thread, NULL, dfb_scheduler_main,
					 &rt->sched[started])))
			goto spawn_failed;
	if (engine) {
		if ((rc = pthread_create(&rt->engine_thread, NULL, dfb_engine_main, rt)))
			goto spawn_failed;
		engine_started = true;
	}
	if ((rc = pthread_create(&rt->orch_thread, NULL, dfb_orchestrator_main, rt)))
		goto spawn_failed;
	orch_started = true;

	/* Watchdog: the control thread sleeps in short steps and fails the
	 * round when the whole runtime stops moving for hang_budget_ms. */
	uint64_t last = total_progress(rt), last_change = dfb_now_ns();
	uint64_t budget = rt->cfg.hang_budget_ms * 1000000ull;
	/* A round that moves but never ends (a convoy) is bounded too. */
	const uint64_t t_start = last_change, limit = rt->cfg.round_limit_ms * 1000000ull;
	while (!dfb_stopped(rt) && atomic_load_explicit(&rt->consumed, memory_order_relaxed) != rt->cfg.tasks) {
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
		uint64_t p = total_progress(rt), now = dfb_now_ns();
		if (p != last) {
			last = p;
			last_change = now;
		}
		const bool stuck = now - last_change > budget;
		if (stuck || (limit && now - t_start > limit)) {
			for (uint32_t i = 0; i < rt->nsched_all && i < 256; i++) {
				phases[i] = atomic_load_explicit(&rt->sched[i].phase, memory_order_relaxed);
				tokens[i] = atomic_load_explicit(&rt->sched[i].phase_token, memory_order_relaxed);
			}
			hang_at = now;
			slow = !stuck;
			dfb_raise_hang(rt, "", slow, "tasks consumed",
				       atomic_load_explicit(&rt->consumed, memory_order_relaxed));
		}
	}
	orch_phase = atomic_load_explicit(&rt->orch_phase, memory_order_relaxed);
	goto join;

spawn_failed:
	dfb_raise(rt, DFB_ERR_SYSTEM, NULL, -1, "pthread_create: %s", strerror(rc));
join:
	for (uint32_t i = 0; i < started; i++)
		pthread_join(rt->sched[i].thread, NULL);
	if (engine_started)
		pthread_join(rt->engine_thread, NULL);
	if (orch_started)
		pthread_join(rt->orch_thread, NULL);
	uint64_t host1 = dfb_now_ns();

	if (atomic_load(&rt->err_code) == DFB_ERR_OK)
		check_drained(rt);
	if (hang_at && atomic_load(&rt->err_code) == DFB_ERR_SCHED_HANG)
		hang_dump(rt, phases, tokens, orch_phase, hang_at, slow);

	uint64_t s0 = UINT64_MAX, s1 = 0;
	dfb_hist_reset(&out->reg_latency);
	for (uint32_t i = 0; i < rt->nsched_all; i++) {
		struct dfb_sched *s = &rt->sched[i];
		if (s->sched_start && s->sched_start < s0)
			s0 = s->sched_start;
		if (s->sched_end > s1)
			s1 = s->sched_end;
		dfb_counters_add(&out->counters, &s->c);
		dfb_hist_merge(&out->reg_latency, &s->lat);
	}
	uint64_t t0 = s0 < rt->orch_start ? s0 : rt->orch_start;
	uint64_t t1 = s1 > rt->orch_end ? s1 : rt->orch_end;
	out->host_us = (double)(host1 - host0) / 1e3;
	out->sched_us = s1 > s0 ? (double)(s1 - s0) / 1e3 : 0;
	out->orch_us = rt->orch_end > rt->orch_start ? (double)(rt->orch_end - rt->orch_start) / 1e3 : 0;
	out->total_us = t1 > t0 ? (double)(t1 - t0) / 1e3 : 0;
	out->tasks = rt->cfg.tasks;
	out->subtasks = out->counters.dispatches;
	/* Upstream's shared mpsc_skipped_count (per-thread counts with
	 * waitlist_padded are already in the sum). */
	out->counters.mailbox_full_retries += atomic_load(rt->wl.skipped);
	out->peak_wait_entries = *rt->wl.peak;
	out->error = rt->err;
	out->error.code = (enum dfb_err)atomic_load(&rt->err_code);
	out->error.dump = hang_at ? rt->dump : NULL;
	return out->error.code == DFB_ERR_OK ? 0 : -1;
}
