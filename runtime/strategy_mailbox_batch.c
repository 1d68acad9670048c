/* mailbox-batch: the merged mailbox's ring and drain (strategy_mailbox.c),
 * but a FIN claims the cells of all its CONDITIONs with one CAS on head
 * (head += k) and then publishes each, where the merged mailbox pays one
 * claiming CAS per message.  A task with one required subtask, whose FIN
 * is therefore its last, claims its NORMAL_DONE in the same CAS and
 * publishes it after on_subtask_complete.  A FIN facing a full ring drains
 * it when the wait-list lock is free (the merged mailbox's
 * mailbox_full_drain deviation, built in), and the drain looks a task's
 * entry up once per run of its CONDITIONs, not once per message.  Not
 * upstream: a candidate
 * design (docs/MODEL.md, "Strategies beyond upstream").
 *
 * Ordering (all CONDITIONs of a task drained before its NORMAL_DONE): the
 * consumer pops in claim order and stops at the first unpublished cell.
 * A FIN claims its CONDITIONs before its acq_rel fetch_add in
 * on_subtask_complete; the last FIN claims NORMAL_DONE after its fetch_add,
 * which happens after every earlier FIN's claims, so by the coherence of
 * head its claim is later than all of them.  In the one-claim case the
 * NORMAL_DONE cell comes after the same FIN's CONDITION cells in the claim
 * itself; it is published only after the fetch_add, so the consumer cannot
 * complete (and the ring reuse the slot of) a task whose FIN is still in
 * on_subtask_complete. */
#include "dfb_internal.h"

static inline struct dfb_mailbox *ring(const struct dfb_runtime *rt)
{
	return &((struct dfb_mbs *)dfb_sstate(rt))->mb;
}

enum { MBB_POP_EACH, MBB__NKEYS };
static const struct dfb_key batch_keys[MBB__NKEYS] = {
	[MBB_POP_EACH] = {"batch_pop_each", DFB_KEY_U64, MBB_POP_EACH, 0, 1, NULL,
			  "drain one message at a time as the merged mailbox (reads head and "
			  "publishes tail per message) instead of a run at a time (default 0)",
			  NULL},
};

/* The drain, a run at a time: head read once per run (re-read when the
 * run is used up), every published cell up to it consumed in claim order,
 * and tail published once at the end, where upstream's try_pop reads
 * head and releases tail for every message.  The producers' claims read
 * tail and CAS head, so a per-message drain moves both lines between the
 * cores once per message; a run moves them once per drain.  Cells stay
 * held until the run ends, which only delays a producer that finds the
 * ring full (it then waits, or drains itself when it gets the lock).
 * The wait-list lock serialises consumers, as for try_pop. */
static uint32_t batch_drain(struct dfb_sched *s)
{
	struct dfb_mailbox *mb = ring(s->rt);
	if (dfb_sopt(s->rt, MBB_POP_EACH))
		return dfb_mbs_drain_batched(s);
	/* relaxed: tail is ours while we hold the lock, whose acquire
	 * ordered the previous consumer's store. */
	const uint64_t t0 = atomic_load_explicit(&mb->tail, memory_order_relaxed);
	/* relaxed: head only bounds the run; each cell's seq acquire is
	 * what publishes it. */
	uint64_t h = atomic_load_explicit(&mb->head, memory_order_relaxed);
	uint64_t t = t0;
	uint32_t completed = 0;
	struct dfb_wait_entry *last = NULL;
	for (;;) {
		if (t == h) {
			h = atomic_load_explicit(&mb->head, memory_order_relaxed);
			if (t == h)
				break;
		}
		struct dfb_msg *c = &mb->cells[t & mb->mask];
		/* acquire: pairs with the producer's release of seq. */
		if (atomic_load_explicit(&c->seq, memory_order_acquire) != t + 1)
			break;
		DFB_PREEMPT(); /* stress: published, the cell not yet freed */
		t++;
		/* The common case, a task's next CONDITION: appended from the
		 * cell to the entry of the one before it, without the copy
		 * and the general consumer's dispatch (a full entry goes the
		 * general way, which reports it). */
		if (c->p.kind == DFB_MSG_CONDITION && last && last->task_token == c->p.task_token &&
		    !dfb_wl_append(&s->rt->wl, last, c->p.addr, c->p.expected_value, c->p.engine,
				   c->p.completion_type)) {
			s->c.drained_msgs++;
			continue;
		}
		const struct dfb_msg_payload m = c->p;
		int r = dfb_mbs_consume(s, &m, &last);
		if (r < 0)
			break;
		completed += (uint32_t)r;
	}
	/* release: our reads of every cell of the run happen before a
	 * producer that acquires this tail reuses one. */
	if (t != t0)
		atomic_store_explicit(&mb->tail, t, memory_order_release);
	return completed;
}

/* Claims n cells, waiting (as a single push does) while the ring lacks
 * room; false when the round is stopping. */
static bool claim(struct dfb_sched *s, uint64_t n, uint64_t *first)
{
	while (!dfb_mailbox_try_claim(ring(s->rt), n, first, &s->c.cas_retries))
		if (!dfb_mbs_full(s, true))
			return false;
	return true;
}

static void batch_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	struct dfb_runtime *rt = s->rt;
	struct dfb_mailbox *mb = ring(rt);
	struct dfb_slot *slot = st->slot;
	/* Read before on_subtask_complete: once another FIN or the consumer
	 * completes the task, its slot may be released and reused. */
	const bool payload = slot->payload;
	const bool only_fin = slot->total_required_subtasks == 1;
	bool registered = false, done_claimed = false;
	uint64_t done_at = 0;
	const bool sampled = payload && dfb_sampled(&s->sampler);
	const uint64_t t0 = sampled ? dfb_now_ns() : 0;

	if (payload) {
		const struct dfb_slab *slab = &core->slab[st->parity];
		if (!dfb_mbs_slab_ok(s, st, slab))
			return;
		uint32_t k = slab->count;
		if (k > 0) {
			/* release: as the merged mailbox (strategy_mailbox.c). */
			atomic_store_explicit(&slot->any_subtask_deferred, true,
					      memory_order_release);
			const uint64_t token = dfb_slot_token(slot);
			if (dfb_orphaned(s, slot, st, token, k))
				return;
			/* One claim for everything this FIN sends when it fits;
			 * a FIN with more CONDITIONs than cells claims in
			 * ring-sized pieces, in order. */
			const bool with_done = only_fin && (uint64_t)k + 1 <= mb->capacity;
			for (uint32_t i = 0; i < k;) {
				uint64_t left = k - i;
				uint64_t n = with_done ? left + 1
					   : left < mb->capacity ? left : mb->capacity;
				uint64_t first;
				if (!claim(s, n, &first))
					return;
				uint64_t conds = with_done ? left : n;
				for (uint64_t j = 0; j < conds; j++) {
					struct dfb_msg_payload m;
					dfb_mbs_condition(&slab->entries[i + j], token, &m);
					/* producer_stall stops here (claimed, not
					 * published); a preemption point too */
					DFB_PREEMPT_CLAIMED(first + j);
					dfb_mailbox_publish(mb, first + j, &m);
				}
				i += (uint32_t)conds;
				if (with_done) {
					done_claimed = true;
					done_at = first + conds;
				}
			}
			registered = true;
		}
	}

	bool mixed = dfb_on_subtask_complete(slot);
	dfb_fault_fin_race(s, st, mixed);
	/* acquire: pairs with the release store above, made by whichever
	 * subtask of this task had conditions. */
	bool to_consumer = mixed && payload &&
			   atomic_load_explicit(&slot->any_subtask_deferred, memory_order_acquire);
	if (done_claimed && !to_consumer) {
		/* Cannot happen: this FIN was the task's only one and had
		 * conditions.  The claimed cell would stall the ring. */
		dfb_raise(rt, DFB_ERR_INVARIANT, slot, s->id,
			  "the only FIN of a task did not complete it");
		return;
	}
	if (to_consumer) {
		struct dfb_msg_payload m = {
			.task_token = dfb_slot_token(slot),
			.addr = (uint64_t)(uintptr_t)slot,
			.kind = DFB_MSG_TASK_NORMAL_DONE,
		};
		if (!done_claimed && !claim(s, 1, &done_at))
			return;
		dfb_mailbox_publish(mb, done_at, &m);
		registered = true;
	}
	if (sampled)
		dfb_hist_add(&s->lat, dfb_now_ns() - t0);
	s->c.registrations += registered;
	if (mixed && !to_consumer) {
		if (payload)
			dfb_close(s, slot, DFB_CLOSED_INLINE);
		dfb_complete_inline(s, slot);
	}
}

static int batch_init(struct dfb_runtime *rt)
{
	/* A FIN facing a full ring drains it when it can take the lock (the
	 * merged mailbox's mailbox_full_drain deviation, built in: a
	 * candidate design need not keep upstream's full-ring hang). */
	return dfb_mbs_init(rt, false, false, true);
}

const struct dfb_strategy dfb_strategy_mailbox_batch = {
	.name = "mailbox-batch",
	.summary = "the merged mailbox, but a FIN claims all its cells with one CAS (a one-subtask "
		   "task's NORMAL_DONE too); not upstream",
	.state_size = sizeof(struct dfb_mbs),
	.keys = batch_keys,
	.nkeys = MBB__NKEYS,
	.init = batch_init,
	.fini = dfb_mbs_fini,
	.reset = dfb_mbs_reset,
	.on_fin = batch_on_fin,
	.drain = batch_drain,
	.has_pending = dfb_mbs_has_pending,
	.transport_push = dfb_mbs_transport_push,
	.transport_drain = dfb_mbs_transport_drain,
	.claims_cells = true,
	.dump = dfb_mbs_dump,
	.check_drained = dfb_mbs_check_drained,
};
