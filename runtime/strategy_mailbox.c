/* Strategy B: the lock-free MPSC mailbox of upstream PR #895 as merged
 * (4798fd2ed).  FIN threads push CONDITION and TASK_NORMAL_DONE messages
 * (scheduler_completion.cpp, complete_slot_task); whoever holds the
 * wait-list lock drains them in claim order (pto_async_wait.h,
 * drain_aicore_completion_mailbox_locked). */
#include <stdio.h>

#include "dfb_internal.h"
#include "mailbox_fin.h"

/* The keys of the merge's deviations, this strategy's own. */
enum { MB_REFRESH_HEAD, MB_FULL_DRAIN, MB_CACHED_TAIL, MB__NKEYS };
static const struct dfb_key mailbox_keys[MB__NKEYS] = {
	[MB_REFRESH_HEAD] = {"mailbox_refresh_head", DFB_KEY_U64, MB_REFRESH_HEAD, 0, 1, NULL,
			     "deviation: re-read a stale head instead of a spurious full (upstream: 0)", NULL},
	[MB_FULL_DRAIN] = {"mailbox_full_drain", DFB_KEY_U64, MB_FULL_DRAIN, 0, 1, NULL,
			   "deviation: a producer facing a full mailbox drains it if it gets the lock "
			   "(upstream: 0, can hang)", NULL},
	[MB_CACHED_TAIL] = {"mailbox_cached_tail", DFB_KEY_U64, MB_CACHED_TAIL, 0, 1, NULL,
			    "deviation: producers check fullness against a cached tail first "
			    "(upstream: 0)", NULL},
};

/* The private state is struct dfb_mbs (dfb_internal.h): the ring and the
 * options resolved at init, shared with the other mailbox strategies,
 * which use this file's consumer. */
static inline struct dfb_mailbox *ring(const struct dfb_runtime *rt)
{
	return &((struct dfb_mbs *)dfb_sstate(rt))->mb;
}

/* A push refused by a full ring: upstream counts it in the wait list's
 * shared mpsc_skipped_count (relaxed fetch_add beside `count`); with
 * waitlist_padded each thread counts its own. */
void dfb_mbs_count_skipped(struct dfb_sched *s)
{
	struct dfb_runtime *rt = s->rt;
	if (rt->wl.padded)
		s->c.mailbox_full_retries++;
	else
		atomic_fetch_add_explicit(rt->wl.skipped, 1, memory_order_relaxed);
}

/* Retries a push until it lands; false only when the round is stopping.
 * Upstream only spin-hints and retries: only the wait-list holder empties
 * the ring, so when every scheduler thread is pushing into a full ring
 * nobody drains it and the round hangs (reported as SCHED_HANG).  The
 * mailbox_full_drain deviation lets a producer that finds the ring full
 * drain it itself when it can take the lock. */
bool dfb_mbs_full(struct dfb_sched *s, bool drain)
{
	struct dfb_runtime *rt = s->rt;
	dfb_set_phase(s, DFB_PH_PUSH); /* what a hang dump shows */
	dfb_mbs_count_skipped(s);
	if (drain && dfb_wl_try_lock(&rt->wl)) {
		rt->strategy->drain(s); /* the strategy's own drain */
		dfb_wl_unlock(&rt->wl);
	} else {
		dfb_spin_hint(rt->hint);
	}
	return !dfb_stopped(rt);
}

bool dfb_mbs_slab_ok(struct dfb_sched *s, const struct dfb_subtask *st,
		     const struct dfb_slab *slab)
{
	struct dfb_runtime *rt = s->rt;
	if (slab->error_code) {
		/* Upstream publishes the kernel's own code. */
		dfb_raise_task(rt, DFB_ERR_SLAB_ERROR, slab->error_code, st->task_index, st->token,
			       s->id, "slab error code %d", slab->error_code);
		return false;
	}
	if (slab->count > rt->max_cond) {
		dfb_raise_task(rt, DFB_ERR_REGISTRATION_FAILED,
			       dfb_err_upstream_status(DFB_ERR_REGISTRATION_FAILED), st->task_index,
			       st->token, s->id, "slab count %u exceeds %u", slab->count,
			       rt->max_cond);
		return false;
	}
	return true;
}

void dfb_mbs_condition(const struct dfb_slab_entry *e, uint64_t token, struct dfb_msg_payload *m)
{
	*m = (struct dfb_msg_payload){
		.task_token = token,
		.addr = e->addr,
		.expected_value = e->expected_value,
		.engine = e->engine,
		.completion_type = e->completion_type,
		.kind = DFB_MSG_CONDITION,
	};
	if (__builtin_expect(e->fault != 0, 0)) {
		/* unknown_kind: a kind no consumer knows; producer_stall: this
		 * message's producer stops between claim and publish. */
		if (e->fault == DFB_FAULT_UNKNOWN_KIND)
			m->kind = DFB_FAULT_MSG_KIND;
		else if (e->fault == DFB_FAULT_PRODUCER_STALL)
			dfb_stall_arm();
	}
}

static bool push(struct dfb_sched *s, const struct dfb_msg_payload *m)
{
	struct dfb_mailbox *mb = ring(s->rt);
	while (!(mb->cached_tail ? dfb_mailbox_try_push_cached(mb, m, &s->c.cas_retries)
				 : dfb_mailbox_try_push(mb, m, &s->c.cas_retries)))
		if (!dfb_mbs_full(s, ((struct dfb_mbs *)dfb_sstate(s->rt))->full_drain))
			return false;
	return true;
}

static void mailbox_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	dfb_mbs_fin(s, core, st, push);
}

int dfb_mbs_consume(struct dfb_sched *s, const struct dfb_msg_payload *mp,
		    struct dfb_wait_entry **last)
{
	struct dfb_runtime *rt = s->rt;
	const struct dfb_msg_payload m = *mp;
	s->c.drained_msgs++;
	if (m.kind == DFB_MSG_CONDITION) {
		struct dfb_wait_entry *e = last && *last && (*last)->task_token == m.task_token
						   ? *last
						   : dfb_wl_find(&rt->wl, m.task_token);
		if (!e && !(e = dfb_wl_create(&rt->wl, m.task_token, NULL))) {
			dfb_raise(rt, DFB_ERR_ASYNC_WAIT_OVERFLOW, NULL, s->id,
				  "task token %#llx needs a wait entry; all %u in use",
				  (unsigned long long)m.task_token, rt->wl.max_entries);
			return -1;
		}
		if (dfb_wl_append(&rt->wl, e, m.addr, m.expected_value, m.engine,
				  m.completion_type)) {
			dfb_raise(rt, DFB_ERR_REGISTRATION_FAILED, e->slot, s->id,
				  "task token %#llx has more than %u conditions",
				  (unsigned long long)m.task_token, rt->wl.max_conditions);
			return -1;
		}
		if (last)
			*last = e;
		return 0;
	}
	if (m.kind == DFB_MSG_TASK_NORMAL_DONE) {
		struct dfb_slot *slot = (struct dfb_slot *)(uintptr_t)m.addr;
		struct dfb_wait_entry *e = dfb_wl_find(&rt->wl, m.task_token);
		if (e) {
			if (!e->slot)
				e->slot = slot;
			e->normal_done = true;
			return 0;
		}
		/* No conditions arrived for it: complete now rather than grow
		 * the list (upstream's try_inline_complete_locked, which
		 * releases a full batch in place). */
		dfb_close(s, slot, DFB_CLOSED_CONSUMER);
		s->c.consumer_completions++;
		dfb_complete_task(s, slot);
		dfb_release_push(s, slot);
		return 1;
	}
	/* Upstream reports an unknown kind as a failed registration. */
	dfb_raise(rt, DFB_ERR_REGISTRATION_FAILED, NULL, s->id, "message kind %u for task token %#llx",
		  m.kind, (unsigned long long)m.task_token);
	return -1;
}

/* Upstream's drain with a scheduler-aware sink; returns the tasks it
 * completed inline.  remember: reuse the entry of the last CONDITION for
 * the next one of the same task (dfb_mbs_consume). */
static uint32_t drain(struct dfb_sched *s, bool remember)
{
	struct dfb_msg_payload m;
	uint32_t completed = 0;
	struct dfb_wait_entry *last = NULL;
	while (dfb_mailbox_try_pop(ring(s->rt), &m)) {
		int r = dfb_mbs_consume(s, &m, remember ? &last : NULL);
		if (r < 0)
			break;
		completed += (uint32_t)r;
	}
	return completed;
}

/* Upstream's drain: every CONDITION looks its entry up. */
uint32_t dfb_mbs_drain(struct dfb_sched *s)
{
	return drain(s, false);
}

uint32_t dfb_mbs_drain_batched(struct dfb_sched *s)
{
	return drain(s, true);
}

bool dfb_mbs_has_pending(struct dfb_runtime *rt)
{
	return dfb_mailbox_has_pending(ring(rt));
}

int dfb_mbs_init(struct dfb_runtime *rt, bool refresh_head, bool cached_tail, bool full_drain)
{
	struct dfb_mbs *st = dfb_sstate(rt);
	if (dfb_mailbox_init(&st->mb, rt->cfg.mailbox_capacity))
		return -1;
	st->mb.refresh_stale_head = refresh_head;
	st->mb.cached_tail = cached_tail;
	st->full_drain = full_drain;
	return 0;
}

static int mailbox_init(struct dfb_runtime *rt)
{
	return dfb_mbs_init(rt, dfb_sopt(rt, MB_REFRESH_HEAD) != 0,
			    dfb_sopt(rt, MB_CACHED_TAIL) != 0, dfb_sopt(rt, MB_FULL_DRAIN) != 0);
}

void dfb_mbs_fini(struct dfb_runtime *rt)
{
	if (dfb_sstate(rt))
		dfb_mailbox_fini(ring(rt));
}

/* A failed round can leave messages behind: dropped before the next. */
void dfb_mbs_reset(struct dfb_runtime *rt)
{
	struct dfb_msg_payload m;
	while (dfb_mailbox_try_pop(ring(rt), &m))
		;
}

void dfb_mbs_dump(struct dfb_runtime *rt, char *buf, size_t len)
{
	struct dfb_mailbox *mb = ring(rt);
	snprintf(buf, len, "ring head %llu, tail %llu, capacity %llu%s",
		 (unsigned long long)atomic_load(&mb->head), (unsigned long long)atomic_load(&mb->tail),
		 (unsigned long long)mb->capacity,
		 dfb_mailbox_has_pending(mb) ? ", not empty" : ", empty");
}

bool dfb_mbs_check_drained(struct dfb_runtime *rt, char *msg, size_t len)
{
	if (!dfb_mailbox_has_pending(ring(rt)))
		return true;
	snprintf(msg, len, "mailbox not empty");
	return false;
}

/* Transport scenarios (transport.c): the mailbox alone.  One push attempt
 * as the FIN path makes it (cached_tail per the configuration); the single
 * consumer thread pops without the wait-list lock, which only serialises
 * consumers. */
bool dfb_mbs_transport_push(struct dfb_runtime *rt, int producer, const struct dfb_msg_payload *m,
				   struct dfb_counters *c)
{
	(void)producer; /* one transport for every producer */
	struct dfb_mailbox *mb = ring(rt);
	bool ok = mb->cached_tail ? dfb_mailbox_try_push_cached(mb, m, &c->cas_retries)
				  : dfb_mailbox_try_push(mb, m, &c->cas_retries);
	c->mailbox_full_retries += !ok;
	return ok;
}

uint64_t dfb_mbs_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
					uint64_t cap, struct dfb_counters *c)
{
	(void)c;
	uint64_t n = 0;
	while (n < cap && dfb_mailbox_try_pop(ring(rt), &buf[n]))
		n++;
	return n;
}

const struct dfb_strategy dfb_strategy_mailbox = {
	.name = "mailbox",
	.summary = "lock-free MPSC mailbox drained by the wait-list holder (upstream PR #895, 4798fd2ed)",
	.state_size = sizeof(struct dfb_mbs),
	.keys = mailbox_keys,
	.nkeys = MB__NKEYS,
	.init = mailbox_init,
	.fini = dfb_mbs_fini,
	.reset = dfb_mbs_reset,
	.on_fin = mailbox_on_fin,
	.drain = dfb_mbs_drain,
	.has_pending = dfb_mbs_has_pending,
	.poll_full_batch_fails = NULL, /* 4798fd2ed releases a full batch in place */
	.transport_push = dfb_mbs_transport_push,
	.transport_drain = dfb_mbs_transport_drain,
	.claims_cells = true,
	.dump = dfb_mbs_dump,
	.check_drained = dfb_mbs_check_drained,
};
