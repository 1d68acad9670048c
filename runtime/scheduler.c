/* The scheduler thread loop: observe FINs, run the async wait list's
 * poll_and_complete behind its gate, drain dependency-only tasks (thread 0),
 * dispatch ready subtasks to idle cores, release completed slots. */
#include "dfb_internal.h"

/* Dependency-only tasks a loop iteration of thread 0 completes at most
 * (upstream drains up to 16 per loop). */
#define DUMMY_PER_LOOP 16

static int condition_state(struct dfb_sched *s, const struct dfb_cond *c, uint64_t now)
{
	switch (c->completion_type) {
	case DFB_CT_COUNTER: {
		_Atomic uint32_t *ctr = (_Atomic uint32_t *)(uintptr_t)c->addr;
		/* acquire: pairs with the engine's release store. */
		return atomic_load_explicit(ctr, memory_order_acquire) >= c->expected_value;
	}
	case DFB_CT_VIRTUAL:
		return now >= c->addr;
	default:
		dfb_raise(s->rt, DFB_ERR_COMPLETION_INVALID, NULL, s->id,
			  "condition of completion type %u", c->completion_type);
		return -1;
	}
}

bool dfb_poll_and_complete(struct dfb_sched *s)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_wait_list *wl = &rt->wl;

	if (!dfb_wl_try_lock(wl)) {
		s->c.poll_lock_misses++;
		return false;
	}
	dfb_set_phase(s, DFB_PH_POLL);
	s->c.polls++;
	uint64_t before = s->c.drained_msgs + s->c.consumer_completions + s->c.inline_completions;
	if (rt->strategy->drain)
		rt->strategy->drain(s);
	uint64_t now = dfb_now_ns();
	for (uint32_t i = dfb_wl_count(wl); i-- > 0 && !dfb_stopped(rt);) {
		struct dfb_wait_entry *e = &wl->entries[i];
		for (uint32_t k = 0; k < e->condition_count && e->waiting_count > 0; k++) {
			struct dfb_cond *c = &e->conditions[k];
			if (c->done)
				continue;
			int st = condition_state(s, c, now);
			if (st < 0)
				goto out;
			if (st) {
				c->done = 1;
				e->waiting_count--;
			}
		}
		if (e->normal_done && e->waiting_count <= 0) {
			struct dfb_slot *slot = e->slot;
			dfb_wl_remove(wl, i);
			s->c.consumer_completions++;
			dfb_complete_task(s, slot);
		}
	}
out:
	dfb_wl_unlock(wl);
	return s->c.drained_msgs + s->c.consumer_completions + s->c.inline_completions != before;
}

static bool core_has_room(const struct dfb_runtime *rt, const struct dfb_core *c)
{
	return !c->run.valid || (rt->cfg.dual_slot && !c->pend.valid);
}

static void start_on(struct dfb_sched *s, struct dfb_core *core, struct dfb_slot *slot,
		     uint32_t index, uint64_t now)
{
	struct dfb_subtask *st = core->run.valid ? &core->pend : &core->run;
	uint64_t start = now;
	if (st == &core->pend && core->run.deadline_ns > now)
		start = core->run.deadline_ns;
	st->slot = slot;
	st->index = index;
	st->start_ns = start;
	st->deadline_ns = start + slot->kernel_ns;
	st->parity = (uint8_t)(core->dispatched++ & 1);
	st->valid = 1;
	s->c.dispatches++;
	dfb_core_start(s, core, st);
}

/* Places as many of the task's remaining blocks as this thread's cores
 * take; true when none remain. */
static bool dispatch_task(struct dfb_sched *s, struct dfb_slot *slot, uint64_t now)
{
	struct dfb_runtime *rt = s->rt;
	unsigned width = (unsigned)__builtin_popcount(slot->mask);

	if (width == 1) {
		uint8_t kind = slot->mask == 1 ? DFB_CORE_AIC : DFB_CORE_AIV;
		for (uint32_t i = 0; i < s->ncores && slot->next_block < slot->blocks; i++) {
			struct dfb_core *c = &s->cores[i];
			while (c->kind == kind && core_has_room(rt, c) &&
			       slot->next_block < slot->blocks)
				start_on(s, c, slot, slot->next_block++, now);
		}
		return slot->next_block == slot->blocks;
	}
	/* MIX: a block needs every core it names idle in one cluster. */
	for (uint32_t i = 0; i < s->ncores && slot->next_block < slot->blocks;) {
		uint32_t cl = s->cores[i].cluster, j = i;
		uint8_t have = 0;
		for (; j < s->ncores && s->cores[j].cluster == cl; j++)
			if (!s->cores[j].run.valid)
				have |= s->cores[j].bit;
		if ((have & slot->mask) == slot->mask) {
			uint32_t b = slot->next_block++, rank = 0;
			for (uint32_t k = i; k < j; k++)
				if (s->cores[k].bit & slot->mask)
					start_on(s, &s->cores[k], slot, b * width + rank++, now);
		}
		i = j;
	}
	return slot->next_block == slot->blocks;
}

static enum dfb_shape_q queue_of(const struct dfb_slot *slot)
{
	if (slot->mask == 1)
		return DFB_Q_AIC;
	if (__builtin_popcount(slot->mask) == 1)
		return DFB_Q_AIV;
	return DFB_Q_MIX;
}

static uint32_t has_room(struct dfb_sched *s, int q)
{
	bool aic = false, aiv = false;
	for (uint32_t i = 0; i < s->ncores; i++)
		if (core_has_room(s->rt, &s->cores[i])) {
			if (s->cores[i].kind == DFB_CORE_AIC)
				aic = true;
			else
				aiv = true;
		}
	return q == DFB_Q_AIC ? aic : q == DFB_Q_AIV ? aiv : aic && aiv;
}

static bool dispatch(struct dfb_sched *s, uint64_t now)
{
	struct dfb_runtime *rt = s->rt;
	bool did = false;
	uint32_t room[DFB_Q__COUNT] = {0};

	for (uint32_t i = 0; i < s->ncores; i++)
		if (core_has_room(rt, &s->cores[i]))
			room[s->cores[i].kind == DFB_CORE_AIC ? DFB_Q_AIC : DFB_Q_AIV]++;
	room[DFB_Q_MIX] = room[DFB_Q_AIC] && room[DFB_Q_AIV];

	dfb_set_phase(s, DFB_PH_DISPATCH);
	/* Local buffer first: tasks this thread just made ready.  What does
	 * not fit here goes to the shared queues for the other threads. */
	for (uint32_t i = 0; i < s->nlocal; i++) {
		struct dfb_slot *slot = s->local[i];
		enum dfb_shape_q q = queue_of(slot);
		uint32_t before = slot->next_block;
		if (room[q] && dispatch_task(s, slot, now)) {
			did = true;
			continue;
		}
		did |= slot->next_block != before;
		dfb_ready_push(rt, q, slot);
	}
	s->nlocal = 0;

	for (int q = DFB_Q_AIC; q <= DFB_Q_MIX; q++) {
		while (room[q]) {
			struct dfb_slot *slot = dfb_mpmc_pop(&rt->ready[q]);
			if (!slot)
				break;
			uint32_t before = slot->next_block;
			bool all = dispatch_task(s, slot, now);
			did |= slot->next_block != before;
			if (!all) {
				dfb_ready_push(rt, q, slot);
				break;
			}
			room[q] = has_room(s, q);
		}
	}
	return did;
}

static bool poll_cores(struct dfb_sched *s, uint64_t now)
{
	struct dfb_runtime *rt = s->rt;
	bool did = false;

	for (uint32_t i = 0; i < s->ncores; i++) {
		struct dfb_core *c = &s->cores[i];
		if (!c->run.valid || now < c->run.deadline_ns)
			continue;
		dfb_set_phase(s, DFB_PH_FIN);
		atomic_store_explicit(&s->phase_token, c->run.slot->token, memory_order_relaxed);
		s->c.fin_events++;
		struct dfb_subtask st = c->run;
		/* Promote the preloaded subtask before handling the FIN, as
		 * the core starts it as soon as the running one ends. */
		c->run = c->pend;
		c->pend.valid = 0;
		rt->strategy->on_fin(s, c, &st);
		atomic_fetch_add_explicit(&s->progress, 1, memory_order_relaxed);
		did = true;
		if (dfb_stopped(rt))
			break;
	}
	return did;
}

static bool drain_dummies(struct dfb_sched *s)
{
	struct dfb_runtime *rt = s->rt;
	bool did = false;
	for (int i = 0; i < DUMMY_PER_LOOP; i++) {
		struct dfb_slot *slot = dfb_mpmc_pop(&rt->ready[DFB_Q_DUMMY]);
		if (!slot)
			break;
		s->c.dummy_completions++;
		dfb_complete_task(s, slot);
		did = true;
	}
	return did;
}

void *dfb_scheduler_main(void *arg)
{
	struct dfb_sched *s = arg;
	struct dfb_runtime *rt = s->rt;
	uint64_t total = rt->cfg.tasks;

	dfb_thread_bind(rt, DFB_ROLE_SCHEDULER, s->id); /* placement (topology.c) */
	s->sched_start = dfb_now_ns();
	while (!dfb_stopped(rt)) {
		uint64_t now = dfb_now_ns();
		bool did = poll_cores(s, now);
		if (dfb_stopped(rt))
			break; /* keep the state a hang dump will show */
		if (dfb_wl_count(&rt->wl) > 0 ||
		    (rt->strategy->has_pending && rt->strategy->has_pending(rt)))
			did |= dfb_poll_and_complete(s);
		if (s->id == 0)
			did |= drain_dummies(s);
		did |= dispatch(s, now);
		if (!did) {
			dfb_set_phase(s, DFB_PH_IDLE);
			if (s->nbatch) {
				dfb_set_phase(s, DFB_PH_RELEASE);
				dfb_release_batch(s);
				continue;
			}
			if (atomic_load_explicit(&rt->consumed, memory_order_relaxed) == total)
				break;
			dfb_spin_hint(rt->hint);
		}
	}
	s->sched_end = dfb_now_ns();
	dfb_set_phase(s, DFB_PH_DONE);
	return NULL;
}
