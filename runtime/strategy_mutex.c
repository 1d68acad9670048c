/* mutex: the naive baseline, a pthread mutex (default attributes) around
 * the wait list.  The FIN is the spinlock's, upstream's complete_slot_task
 * and register_deferred at 293e88a32 (locked_fin.h), but a registration
 * that finds the lock held sleeps on the mutex instead of spinning on the
 * try-lock; poll_and_complete's try-lock is pthread_mutex_trylock
 * (DFB_WL_MUTEX).  Not upstream: the design a reviewer names first
 * (docs/MODEL.md, "Strategies beyond upstream").
 *
 * Ordering: every registration and every drain holds the one mutex, whose
 * lock and unlock order them as the busy word's acquire/release does for
 * the spinlock.  A FIN registers its conditions before its
 * on_subtask_complete and the last FIN sets normal_done after its own (in
 * a second hold), so every CONDITION of a task is in its entry before the
 * consumer can see normal_done: the mailbox's order, not the baseline's
 * (whose race the mutex would otherwise inherit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dfb_internal.h"
#include "locked_fin.h"

/* How long one wait on the mutex lasts before the round's stop flag is
 * checked again: every wait has a bound. */
#define MUTEX_WAIT_NS 1000000L

struct mutex_state {
	/* The staging count register_deferred's absorb loop reads (nothing
	 * raises it), on a line of its own as in the baseline. */
	DFB_ALIGNED _Atomic int32_t count;
	/* Transport scenarios: the mutex over a bounded array. */
	DFB_ALIGNED struct dfb_locked_array la;
};

static inline struct mutex_state *state(const struct dfb_runtime *rt)
{
	return dfb_sstate(rt);
}

/* pthread_mutex_lock, bounded: a contended acquisition counts one
 * lock_miss and waits in slices of MUTEX_WAIT_NS, giving up (false) only
 * when the round stops. */
static bool mutex_lock(struct dfb_runtime *rt, struct dfb_wait_list *wl, uint64_t *misses)
{
	if (pthread_mutex_trylock(wl->mutex) == 0)
		return true;
	(*misses)++;
	for (;;) {
		struct timespec ts;
		/* timedlock, on CLOCK_REALTIME: ThreadSanitizer does not see
		 * pthread_mutex_clocklock (gcc 12).  A clock step only
		 * changes one slice; the stop flag is the bound. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += MUTEX_WAIT_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		int e = pthread_mutex_timedlock(wl->mutex, &ts);
		if (e == 0)
			return true;
		if (e != ETIMEDOUT || dfb_stopped(rt))
			return false;
	}
}

static bool fin_lock(struct dfb_sched *s, struct dfb_wait_list *wl)
{
	return mutex_lock(s->rt, wl, &s->c.lock_misses);
}

static void mutex_on_fin(struct dfb_sched *s, struct dfb_core *core, struct dfb_subtask *st)
{
	/* register_first: conditions go in before on_subtask_complete (the
	 * spinlock_register_first order), so that no task completes before
	 * all of its conditions are in: the naive design, but not the
	 * baseline's race (docs/MODEL.md, "A race the baseline has"). */
	dfb_locked_fin(fin_lock, &state(s->rt)->count, true, s, core, st);
}

static bool mutex_has_pending(struct dfb_runtime *rt)
{
	return atomic_load_explicit(&state(rt)->count, memory_order_relaxed) > 0;
}

static int mutex_init(struct dfb_runtime *rt)
{
	return dfb_la_init(&state(rt)->la, rt);
}

static void mutex_fini(struct dfb_runtime *rt)
{
	if (dfb_sstate(rt))
		free(state(rt)->la.msgs);
}

static void mutex_reset(struct dfb_runtime *rt)
{
	state(rt)->la.n = 0;
}

static void mutex_dump(struct dfb_runtime *rt, char *buf, size_t len)
{
	struct mutex_state *st = state(rt);
	/* A hang report's guess: trylock and give back at once. */
	bool held = pthread_mutex_trylock(rt->wl.mutex) != 0;
	if (!held)
		pthread_mutex_unlock(rt->wl.mutex);
	snprintf(buf, len, "wait-list mutex %s; locked array %llu of %llu messages",
		 held ? "held" : "free", (unsigned long long)st->la.n,
		 (unsigned long long)st->la.cap);
}

static bool mutex_check_drained(struct dfb_runtime *rt, char *msg, size_t len)
{
	return dfb_la_check_drained(&state(rt)->la, msg, len);
}

/* Transport scenarios: a push takes the mutex (blocking, counted as a
 * lock_miss when contended), appends unless full (mailbox_full_retries);
 * the consumer's drain is a trylock (a miss: poll_lock_misses) and a copy
 * of the array's head, as the spinlock's. */
static bool mutex_transport_push(struct dfb_runtime *rt, int producer,
				 const struct dfb_msg_payload *m, struct dfb_counters *c)
{
	(void)producer; /* one transport for every producer */
	if (!mutex_lock(rt, &rt->wl, &c->lock_misses))
		return false;
	bool ok = dfb_la_put(&state(rt)->la, m, c);
	dfb_wl_unlock(&rt->wl);
	return ok;
}

static uint64_t mutex_transport_drain(struct dfb_runtime *rt, struct dfb_msg_payload *buf,
				      uint64_t cap, struct dfb_counters *c)
{
	return dfb_la_drain(&rt->wl, &state(rt)->la, buf, cap, c);
}

const struct dfb_strategy dfb_strategy_mutex = {
	.name = "mutex",
	.summary = "register_deferred under a pthread mutex around the wait list; not upstream",
	.state_size = sizeof(struct mutex_state),
	.locked_registration = true,
	.wl_flags = DFB_WL_MUTEX,
	.init = mutex_init,
	.fini = mutex_fini,
	.reset = mutex_reset,
	.on_fin = mutex_on_fin,
	.has_pending = mutex_has_pending,
	.poll_full_batch_fails = NULL, /* releases a full batch in place, as the merge */
	.transport_push = mutex_transport_push,
	.transport_drain = mutex_transport_drain,
	.dump = mutex_dump,
	.check_drained = mutex_check_drained,
};
