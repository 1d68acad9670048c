/* Scheduler threads' clusters (upstream CoreTracker, assign_cores_to_threads
 * and reassign_cores_for_all_threads): which thread owns which cores, and
 * which of them can take a subtask of a shape in a dispatch phase. */
#include <string.h>

#include "dfb_internal.h"

void dfb_assign_clusters(struct dfb_runtime *rt, uint32_t nthreads)
{
	for (uint32_t t = 0; t < nthreads; t++) {
		struct dfb_tracker *k = &rt->sched[t].trk;
		k->nclusters = 0;
		k->nwords = 0;
		memset(k->base, 0, rt->trk_words * sizeof(*k->base));
		memset(k->aic, 0, rt->trk_words * sizeof(*k->aic));
		memset(k->aiv, 0, rt->trk_words * sizeof(*k->aiv));
		for (uint32_t w = 0; w < rt->trk_words; w++) {
			atomic_store_explicit(&k->states[w], 0, memory_order_relaxed);
			atomic_store_explicit(&k->pocc[w], 0, memory_order_relaxed);
		}
		memset(k->core, 0, (size_t)rt->trk_words * 64 * sizeof(*k->core));
	}
	/* Clusters round-robin over the threads, as upstream assigns them. */
	for (uint32_t cl = 0; cl < rt->nclusters; cl++) {
		struct dfb_tracker *k = &rt->sched[cl % nthreads].trk;
		uint32_t j = k->nclusters++;
		uint32_t w = j / DFB_TRK_CLUSTERS_PER_WORD, bit = (j % DFB_TRK_CLUSTERS_PER_WORD) * 3;
		k->nwords = w + 1;
		k->base[w] |= 1ull << bit;
		uint64_t states = atomic_load_explicit(&k->states[w], memory_order_relaxed);
		uint64_t pocc = atomic_load_explicit(&k->pocc[w], memory_order_relaxed);
		for (uint32_t r = 0; r < 3; r++) {
			struct dfb_core *c = &rt->cores[3 * cl + r];
			if (!c->present)
				continue;
			uint64_t m = 1ull << (bit + r);
			k->core[w * 64 + bit + r] = c;
			if (c->kind == DFB_CORE_AIC)
				k->aic[w] |= m;
			else
				k->aiv[w] |= m;
			/* A core keeps what it runs across a reassignment. */
			if (!c->run.valid)
				states |= m;
			if (c->pend.valid)
				pocc |= m;
		}
		atomic_store_explicit(&k->states[w], states, memory_order_relaxed);
		atomic_store_explicit(&k->pocc[w], pocc, memory_order_relaxed);
	}
}

void dfb_orch_to_sched(struct dfb_runtime *rt)
{
	atomic_store_explicit(&rt->orch_phase, DFB_PH_ORCH_REASSIGN, memory_order_relaxed);
	/* release: our submissions happen before the schedulers park. */
	atomic_store_explicit(&rt->transition_requested, true, memory_order_release);
	/* acquire: every scheduler's tracker writes happen before we
	 * rewrite the trackers. */
	while (atomic_load_explicit(&rt->wait_reassign, memory_order_acquire) != rt->nsched) {
		/* Upstream gives up when the tasks are all done: a scheduler
		 * that saw it first has left without parking. */
		if (dfb_stopped(rt) || dfb_all_consumed(rt))
			return;
		dfb_spin_hint(rt->hint);
	}
	dfb_assign_clusters(rt, rt->nsched_all);
	atomic_store_explicit(&rt->active_sched, rt->nsched_all, memory_order_relaxed);
	/* release: the new trackers happen before the schedulers resume. */
	atomic_store_explicit(&rt->reassigned, true, memory_order_release);
	dfb_scheduler_main(&rt->sched[rt->nsched]);
}
