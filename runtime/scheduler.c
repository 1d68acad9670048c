/* The scheduler thread loop (upstream scheduler_dispatch.cpp,
 * resolve_and_dispatch): observe FINs on the running cores, run the async
 * wait list's poll_and_complete behind its gate, wire submitted tasks and
 * complete dependency-only ones (thread 0), dispatch ready subtasks, and,
 * on an iteration without progress, release the completed slots. */
#include "dfb_internal.h"

/* Dependency-only tasks a loop iteration of thread 0 completes at most
 * (upstream DUMMY_DRAIN_BATCH). */
#define DUMMY_PER_LOOP 16

/* ---- conditions: upstream's per-completion-type ops ------------------ */

enum poll_state { POLL_PENDING, POLL_READY, POLL_FAILED };

/* The clock a virtual-engine condition needs, read once a poll, and only
 * when one is tested: upstream's poll reads no clock. */
struct poll_ctx {
	uint64_t now;
};

static enum poll_state counter_poll(const struct dfb_cond *c, struct poll_ctx *x)
{
	(void)x;
	if (!c->counter)
		return POLL_FAILED;
	/* acquire: pairs with the engine's release store (upstream: a
	 * volatile read after cache_invalidate_range). */
	return atomic_load_explicit(c->counter, memory_order_acquire) >= c->expected_value
		       ? POLL_READY
		       : POLL_PENDING;
}

static void counter_retire(struct dfb_cond *c)
{
	(void)c;
}

/* The engine=virtual deviation: addr holds the due time. */
static enum poll_state virtual_poll(const struct dfb_cond *c, struct poll_ctx *x)
{
	if (!x->now)
		x->now = dfb_now_ns();
	return x->now >= c->addr ? POLL_READY : POLL_PENDING;
}

struct completion_ops {
	enum poll_state (*poll)(const struct dfb_cond *c, struct poll_ctx *x);
	void (*retire)(struct dfb_cond *c);
};

/* Upstream's completion_backend_ops_for: COUNTER, SDMA_EVENT_RECORD (not
 * modelled: no ops, so rejected as invalid, as an unknown type is), then
 * the virtual engine's own type. */
static const struct completion_ops completion_ops[] = {
	[DFB_CT_COUNTER] = {counter_poll, counter_retire},
	[DFB_CT_VIRTUAL] = {virtual_poll, counter_retire},
};

static enum poll_state cond_test(const struct dfb_cond *c, struct poll_ctx *x)
{
	if (c->done)
		return POLL_READY;
	const struct completion_ops *ops =
		c->completion_type >= 0 &&
				(size_t)c->completion_type < sizeof(completion_ops) / sizeof(completion_ops[0])
			? &completion_ops[c->completion_type]
			: NULL;
	if (!ops || !ops->poll)
		return POLL_FAILED;
	return ops->poll(c, x);
}

static void cond_retire(struct dfb_cond *c)
{
	if (c->retired)
		return;
	const struct completion_ops *ops = &completion_ops[c->completion_type];
	if (ops->retire)
		ops->retire(c);
	c->retired = 1;
}

/* ---- poll_and_complete --------------------------------------------------- */

bool dfb_poll_and_complete(struct dfb_sched *s)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_wait_list *wl = &rt->wl;
	struct poll_ctx x = {0};
	uint32_t completed = 0;

	if (!dfb_wl_try_lock(wl)) {
		s->c.poll_lock_misses++;
		return false;
	}
	dfb_set_phase(s, DFB_PH_POLL);
	s->c.polls++;
	if (rt->strategy->drain)
		completed += rt->strategy->drain(s);
	if (dfb_stopped(rt))
		goto out;
	for (uint32_t i = dfb_wl_count(wl); i-- > 0;) {
		struct dfb_wait_entry *e = dfb_wl_entry(wl, i);
		uintptr_t last_line = UINTPTR_MAX;
		for (uint32_t k = 0; k < e->condition_count; k++) {
			struct dfb_cond *c = &e->conditions[k];
			if (c->done)
				continue;
			if (c->completion_type == DFB_CT_COUNTER && c->counter) {
				uintptr_t line = (uintptr_t)c->counter & ~(uintptr_t)(DFB_CACHELINE - 1);
				if (line != last_line) {
					dfb_cache_invalidate_range((const void *)line, sizeof(uint32_t));
					last_line = line;
				}
			}
			enum poll_state st = cond_test(c, &x);
			if (st == POLL_FAILED) {
				dfb_raise(rt, DFB_ERR_COMPLETION_INVALID, e->slot, s->id,
					  "condition of completion type %d", c->completion_type);
				goto out;
			}
			if (st == POLL_READY) {
				c->done = 1;
				cond_retire(c);
				e->waiting_count--;
			}
		}
		if (e->normal_done && e->waiting_count <= 0) {
			struct dfb_slot *slot = e->slot;
			if (s->nbatch >= rt->cfg.release_batch && rt->strategy->poll_full_batch_fails &&
			    rt->strategy->poll_full_batch_fails(rt)) {
				dfb_raise(rt, DFB_ERR_ASYNC_WAIT_OVERFLOW, slot, s->id,
					  "the release batch (%u of release_batch = %llu) is full when "
					  "poll_and_complete completes a task (293e88a32 fails here; "
					  "the merge releases in place)",
					  s->nbatch, (unsigned long long)rt->cfg.release_batch);
				goto out;
			}
			dfb_close(s, slot, DFB_CLOSED_CONSUMER);
			s->c.consumer_completions++;
			dfb_complete_task(s, slot);
			dfb_release_push(s, slot);
			completed++;
			dfb_wl_remove(wl, i);
		}
	}
out:
	dfb_wl_unlock(wl);
	return completed > 0;
}

/* ---- ORPHANED_CONDITIONS and the fin_race fault ------------------------ */

bool dfb_orphaned(struct dfb_sched *s, struct dfb_slot *slot, const struct dfb_subtask *st,
		  uint64_t token_now, uint32_t n)
{
	uint32_t closed = atomic_load_explicit(&slot->closed, memory_order_relaxed);
	if (__builtin_expect(token_now == st->token && !closed, 1))
		return false;
	struct dfb_runtime *rt = s->rt;
	char how[160];
	if (token_now != st->token)
		snprintf(how, sizeof(how), "after its slot was reused by task %u:%u",
			 (unsigned)(token_now >> 32), (unsigned)token_now);
	else if (closed >> 16 == DFB_CLOSED_INLINE)
		snprintf(how, sizeof(how), "after its last FIN completed it inline on thread %d",
			 (int)(closed & 0xffff) - 1);
	else
		snprintf(how, sizeof(how), "after thread %d completed it from the wait list",
			 (int)(closed & 0xffff) - 1);
	dfb_raise_task(rt, DFB_ERR_ORPHANED_CONDITIONS, 0, st->task_index, st->token, s->id,
		       "thread %d brought %u condition%s of subtask %u %s (the baseline calls "
		       "on_subtask_complete before register_deferred: scheduler_completion.cpp "
		       "at 293e88a32)",
		       s->id, n, n == 1 ? "" : "s", st->index, how);
	return true;
}

/* Another subtask of the FIN's task still on this thread's cores? */
static bool sibling_here(struct dfb_sched *s, const struct dfb_subtask *st)
{
	const struct dfb_tracker *t = &s->trk;
	for (uint32_t w = 0; w < t->nwords; w++)
		for (uint64_t m = t->aic[w] | t->aiv[w]; m; m &= m - 1) {
			const struct dfb_core *c = t->core[w * 64 + (uint32_t)__builtin_ctzll(m)];
			if ((c->run.valid && c->run.token == st->token) ||
			    (c->pend.valid && c->pend.token == st->token))
				return true;
		}
	return false;
}

void dfb_fault_fin_race_stall(struct dfb_sched *s, const struct dfb_subtask *st)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_slot *slot = st->slot;
	if (sibling_here(s, st))
		return;
	/* Until the task's registration is closed (it completed) or its slot
	 * was reused; bounded by the hang budget, whose watchdog stops the
	 * round if nothing else moves. */
	dfb_set_phase(s, DFB_PH_FAULT_STALL);
	while (!dfb_stopped(rt) && dfb_slot_token(slot) == st->token &&
	       !atomic_load_explicit(&slot->closed, memory_order_relaxed))
		dfb_spin_hint(rt->hint);
	dfb_set_phase(s, DFB_PH_FIN);
}

/* ---- FINs: check_running_cores_for_completion ----------------------------- */

static void fin(struct dfb_sched *s, struct dfb_core *c, struct dfb_subtask *st)
{
	struct dfb_runtime *rt = s->rt;
	dfb_set_phase(s, DFB_PH_FIN);
	atomic_store_explicit(&s->phase_token, st->token, memory_order_relaxed);
	s->c.fin_events++;
	struct dfb_subtask copy = *st;
	st->valid = 0;
	rt->strategy->on_fin(s, c, &copy);
	dfb_progress(s);
}

/* The register transitions of upstream's decide_slot_transition, on a
 * core whose subtasks finish at their deadlines: a pending subtask starts
 * (and is acknowledged) when the running one ends.  True when a running
 * subtask finished. */
static bool check_core(struct dfb_sched *s, uint32_t off, uint64_t now)
{
	struct dfb_tracker *t = &s->trk;
	struct dfb_core *c = t->core[off];
	uint64_t m = 1ull << (off & 63);
	_Atomic uint64_t *states = &t->states[off >> 6], *pocc = &t->pocc[off >> 6];

	if (c->pend.valid && now >= c->pend.deadline_ns) {
		/* Case 1: the pending subtask's FIN, so both are done; the
		 * pending one completes first, as upstream orders them. */
		fin(s, c, &c->pend);
		fin(s, c, &c->run);
		dfb_trk_update(states, m, 0);
		dfb_trk_update(pocc, 0, m);
		return true;
	}
	if (now >= c->run.deadline_ns) {
		fin(s, c, &c->run);
		if (c->pend.valid) {
			/* Case 2: the pending subtask's ACK: promote it. */
			c->run = c->pend;
			c->pend.valid = 0;
			dfb_trk_update(pocc, 0, m);
		} else {
			/* Case 3: the core goes idle. */
			dfb_trk_update(states, m, 0);
			dfb_trk_update(pocc, 0, m);
		}
		return true;
	}
	/* Case 4: the running subtask's ACK frees the pending payload slot
	 * unless a pending subtask holds it. */
	if (!c->pend.valid)
		dfb_trk_update(pocc, 0, m);
	return false;
}

static bool check_running_cores(struct dfb_sched *s, uint64_t now)
{
	struct dfb_tracker *t = &s->trk;
	struct dfb_runtime *rt = s->rt;
	bool did = false;
	for (uint32_t w = 0; w < t->nwords; w++) {
		uint64_t running = ~atomic_load_explicit(&t->states[w], memory_order_relaxed) &
				   (t->aic[w] | t->aiv[w]);
		for (; running; running &= running - 1) {
			did |= check_core(s, w * 64 + (uint32_t)__builtin_ctzll(running), now);
			if (dfb_stopped(rt))
				return did;
		}
	}
	return did;
}

static bool has_running_cores(const struct dfb_tracker *t)
{
	for (uint32_t w = 0; w < t->nwords; w++)
		if (~atomic_load_explicit(&t->states[w], memory_order_relaxed) & (t->aic[w] | t->aiv[w]))
			return true;
	return false;
}

/* ---- thread 0: dependency-only tasks ------------------------------------ */

static bool drain_dummies(struct dfb_sched *s)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_slot *got[DUMMY_PER_LOOP];
	unsigned n = dfb_mpmc_pop_batch(&rt->ready[DFB_Q_DUMMY], (void **)got, DUMMY_PER_LOOP);
	for (unsigned i = 0; i < n; i++) {
		s->c.dummy_completions++;
		dfb_complete_task(s, got[i]);
		/* Upstream appends first, then releases a full batch.  A
		 * completion in poll_and_complete (dfb_release_push) can leave
		 * the batch full, and appending to it then wrote past its end
		 * (found by ThreadSanitizer under stress, release_batch=1):
		 * release it first. */
		if (s->nbatch >= rt->cfg.release_batch)
			dfb_release_batch(s);
		s->batch[s->nbatch++] = got[i];
		if (s->nbatch >= rt->cfg.release_batch)
			dfb_release_batch(s);
	}
	return n > 0;
}

/* ---- the loop ------------------------------------------------------------- */

/* orch_to_sched: park until the orchestrator has reassigned the clusters;
 * false when the round stops meanwhile. */
static bool core_transition(struct dfb_sched *s)
{
	struct dfb_runtime *rt = s->rt;
	dfb_set_phase(s, DFB_PH_TRANSITION);
	/* release: our tracker and core writes happen before the
	 * orchestrator rewrites the trackers. */
	atomic_fetch_add_explicit(&rt->wait_reassign, 1, memory_order_release);
	/* acquire: pairs with the orchestrator's release of reassigned. */
	while (!atomic_load_explicit(&rt->reassigned, memory_order_acquire)) {
		/* As upstream's handle_core_transition: the round may end
		 * while parked (the orchestrator then never reassigns). */
		if (dfb_stopped(rt) || dfb_all_consumed(rt))
			return false;
		dfb_spin_hint(rt->hint);
	}
	return true;
}

void *dfb_scheduler_main(void *arg)
{
	struct dfb_sched *s = arg;
	struct dfb_runtime *rt = s->rt;
	uint64_t total = rt->cfg.tasks;
	/* The orchestrator joining with orch_to_sched already has its cores. */
	bool cores_released = !rt->cfg.orch_to_sched || (uint32_t)s->id == rt->nsched;

	if ((uint32_t)s->id < rt->nsched)
		dfb_thread_bind(rt, DFB_ROLE_SCHEDULER, s->id); /* placement (topology.c) */
	s->sched_start = dfb_now_ns();
	while (!dfb_stopped(rt)) {
		if (!cores_released &&
		    /* acquire: pairs with the orchestrator's release. */
		    atomic_load_explicit(&rt->transition_requested, memory_order_acquire)) {
			if (!core_transition(s))
				break;
			cores_released = true;
		}
		bool did = false;
		/* The cores' register reads: in this model, their deadlines. */
		uint64_t now = dfb_now_ns();
		if (has_running_cores(&s->trk))
			did |= check_running_cores(s, now);
		if (dfb_stopped(rt))
			break; /* keep the state a hang dump will show */
		if (dfb_wl_count(&rt->wl) > 0 ||
		    (rt->strategy->has_pending && rt->strategy->has_pending(rt)))
			did |= dfb_poll_and_complete(s);
		if (s->id == 0) {
			did |= dfb_wiring_drain(s) > 0;
			did |= drain_dummies(s);
		}
		dfb_dispatch_ready(s, now, &did);
		if (!did) {
			dfb_set_phase(s, DFB_PH_RELEASE);
			dfb_release_batch(s);
			if (atomic_load_explicit(&rt->consumed, memory_order_relaxed) == total)
				break;
			dfb_set_phase(s, DFB_PH_IDLE);
			dfb_spin_hint(rt->hint);
		}
	}
	s->sched_end = dfb_now_ns();
	dfb_set_phase(s, DFB_PH_DONE);
	return NULL;
}
