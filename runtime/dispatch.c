/* The dispatch stage of a scheduler loop iteration (upstream
 * scheduler_dispatch.cpp, dispatch_ready_tasks and dispatch_shape): MIX
 * first, then AIC and AIV in an order set by the thread's parity, onto idle
 * cores; the local ready buffers flushed to the shared queues; then the same
 * onto cores with a free pending slot, skipping a shape a peer thread has an
 * idle core for.  A task claims as many blocks as there are cores and goes
 * back to the shared queue at once when blocks remain, so that other
 * threads can take them. */
#include "dfb_internal.h"

static uint32_t cs_count(const uint64_t *cs, uint32_t n)
{
	uint32_t c = 0;
	for (uint32_t w = 0; w < n; w++)
		c += (uint32_t)__builtin_popcountll(cs[w]);
	return c;
}

static bool cs_any(const uint64_t *cs, uint32_t n)
{
	for (uint32_t w = 0; w < n; w++)
		if (cs[w])
			return true;
	return false;
}

/* Lowest offset in the set, removed from it; the set must not be empty. */
static uint32_t cs_pop(uint64_t *cs, uint32_t n)
{
	for (uint32_t w = 0;; w++)
		if (w < n && cs[w]) {
			uint32_t b = (uint32_t)__builtin_ctzll(cs[w]);
			cs[w] &= cs[w] - 1;
			return w * 64 + b;
		}
}

static void start_on(struct dfb_sched *s, uint32_t off, struct dfb_slot *slot, uint32_t index,
		     bool to_pending, uint64_t now)
{
	struct dfb_tracker *t = &s->trk;
	struct dfb_core *core = t->core[off];
	struct dfb_subtask *st = to_pending ? &core->pend : &core->run;
	uint64_t start = now;
	if (to_pending && core->run.deadline_ns > now)
		start = core->run.deadline_ns;
	st->slot = slot;
	st->token = dfb_slot_token(slot);
	st->task_index = slot->index;
	st->index = index;
	st->start_ns = start;
	st->deadline_ns = start + slot->kernel_ns;
	st->parity = (uint8_t)(core->dispatched++ & 1);
	st->valid = 1;
	s->c.dispatches++;
	dfb_core_start(s, core, st);
	uint64_t m = 1ull << (off & 63);
	if (!to_pending)
		dfb_trk_update(&t->states[off >> 6], 0, m); /* idle -> running */
	dfb_trk_update(&t->pocc[off >> 6], m, 0);            /* payload awaits its ACK */
}

/* dispatch_block: one block of a task on core (AIC, AIV) or cluster (MIX)
 * offset `off`. */
static void dispatch_block(struct dfb_sched *s, uint32_t off, struct dfb_slot *slot,
			   enum dfb_shape_q q, bool to_pending, uint32_t block, uint64_t now)
{
	if (q != DFB_Q_MIX) {
		start_on(s, off, slot, block, to_pending, now);
		return;
	}
	/* MIX: AIC, AIV0, AIV1 of the cluster as the mask names them; in the
	 * pending phase an idle core of the cluster runs its part at once. */
	unsigned width = (unsigned)__builtin_popcount(slot->mask), rank = 0;
	for (uint32_t r = 0; r < 3; r++) {
		if (!(slot->mask & (1u << r)))
			continue;
		uint32_t o = off + r;
		bool idle = atomic_load_explicit(&s->trk.states[o >> 6], memory_order_relaxed) >>
				    (o & 63) & 1;
		start_on(s, o, slot, block * width + rank++, to_pending && !idle, now);
	}
}

/* get_ready_tasks_batch: the local buffer first (last in, first out), then
 * the shared queue. */
static uint32_t pop_ready(struct dfb_sched *s, enum dfb_shape_q q, struct dfb_slot **out,
			  uint32_t max)
{
	struct dfb_local *l = &s->local[q];
	uint32_t n = 0;
	while (n < max && l->n > 0)
		out[n++] = l->slots[--l->n];
	if (n < max)
		n += dfb_mpmc_pop_batch(&s->rt->ready[q], (void **)(out + n), max - n);
	return n;
}

/* The fin_race fault spreads its task over threads: a thread claims at
 * most its share of the task's blocks. */
static uint32_t fault_cap(struct dfb_sched *s, const struct dfb_slot *slot, uint32_t claim)
{
	struct dfb_runtime *rt = s->rt;
	if (__builtin_expect(rt->cfg.fault != DFB_FAULT_FIN_RACE, 1) ||
	    slot->index != rt->cfg.fault_task)
		return claim;
	uint32_t share = (slot->blocks + rt->nsched - 1) / rt->nsched;
	uint32_t left = share > s->fault_claimed ? share - s->fault_claimed : 0;
	if (claim > left)
		claim = left;
	s->fault_claimed += claim;
	return claim;
}

static void dispatch_shape(struct dfb_sched *s, enum dfb_shape_q q, bool pending, uint64_t now,
			   bool *progress)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_tracker *t = &s->trk;
	uint64_t *cores = s->scratch;
	struct dfb_slot **batch = s->popped;

	if (!dfb_trk_dispatchable(t, q, pending, cores))
		return;
	while (cs_any(cores, t->nwords)) {
		uint32_t got = pop_ready(s, q, batch, cs_count(cores, t->nwords));
		if (got == 0)
			break;
		bool dispatched = false;
		for (uint32_t i = 0; i < got; i++) {
			struct dfb_slot *slot = batch[i];
			if (!cs_any(cores, t->nwords)) {
				dfb_ready_push_batch(rt, q, (void *const *)(batch + i), got - i);
				break;
			}
			/* Claim a run of blocks, hand the task back at once
			 * when some remain, then dispatch: only `start` is
			 * ours after the push. */
			uint32_t remaining = slot->blocks - slot->next_block;
			uint32_t claim = cs_count(cores, t->nwords);
			if (claim > remaining)
				claim = remaining;
			claim = fault_cap(s, slot, claim);
			if (claim == 0) {
				dfb_ready_push(rt, q, slot);
				continue;
			}
			dispatched = true;
			uint32_t start = slot->next_block;
			slot->next_block += claim;
			if (slot->next_block < slot->blocks)
				dfb_ready_push(rt, q, slot);
			for (uint32_t b = 0; b < claim; b++)
				dispatch_block(s, cs_pop(cores, t->nwords), slot, q, pending, start + b, now);
			*progress = true;
		}
		if (!dispatched)
			break;
		if (!cs_any(cores, t->nwords))
			dfb_trk_dispatchable(t, q, pending, cores);
	}
}

static bool residual_mix(struct dfb_sched *s)
{
	return s->local[DFB_Q_MIX].n > 0 || dfb_mpmc_size(&s->rt->ready[DFB_Q_MIX]) > 0;
}

/* has_idle_in_other_threads: a hint from the peers' trackers. */
static bool idle_elsewhere(struct dfb_sched *s, enum dfb_shape_q q)
{
	struct dfb_runtime *rt = s->rt;
	uint32_t n = atomic_load_explicit(&rt->active_sched, memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++)
		if ((int)i != s->id && dfb_trk_has_idle(&rt->sched[i].trk, q))
			return true;
	return false;
}

static void flush_local(struct dfb_sched *s)
{
	for (int q = 0; q < DFB_NSHAPES; q++) {
		struct dfb_local *l = &s->local[q];
		if (l->n) {
			dfb_ready_push_batch(s->rt, q, (void *const *)l->slots, l->n);
			l->n = 0;
		}
	}
}

void dfb_dispatch_ready(struct dfb_sched *s, uint64_t now, bool *progress)
{
	/* AIC/AIV order toggled by thread parity, for shape-level balance. */
	static const enum dfb_shape_q order[2][2] = {{DFB_Q_AIC, DFB_Q_AIV}, {DFB_Q_AIV, DFB_Q_AIC}};
	const enum dfb_shape_q *aic_aiv = order[s->id & 1];

	dfb_set_phase(s, DFB_PH_DISPATCH);
	/* IDLE stage.  Mix has strict priority: with MIX work left, AIC and
	 * AIV wait for this pass. */
	dispatch_shape(s, DFB_Q_MIX, false, now, progress);
	bool skip_aic_aiv = residual_mix(s);
	if (!skip_aic_aiv)
		for (int i = 0; i < 2; i++)
			dispatch_shape(s, aic_aiv[i], false, now, progress);
	/* Flush so the PENDING stage and the peers see this stage's output. */
	flush_local(s);
	if (!s->rt->cfg.dual_slot)
		return;

	/* PENDING stage: preload a pending slot only when no peer has an idle
	 * core for the shape (the peer's next IDLE pass takes it sooner). */
	if (!idle_elsewhere(s, DFB_Q_MIX))
		dispatch_shape(s, DFB_Q_MIX, true, now, progress);
	if (!skip_aic_aiv && residual_mix(s))
		skip_aic_aiv = true;
	if (!skip_aic_aiv)
		for (int i = 0; i < 2; i++)
			if (!idle_elsewhere(s, aic_aiv[i]))
				dispatch_shape(s, aic_aiv[i], true, now, progress);
	flush_local(s);
}
