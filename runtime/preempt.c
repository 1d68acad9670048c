/* Injected preemption (dfb_preempt.h). */
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "deferbench.h"
#include "dfb_preempt.h"

uint32_t dfb_preempt_gate;
static uint32_t preempt_rate;
static uint64_t preempt_seed;
/* Bumped by configure, so that a thread's generator reseeds per round. */
static _Atomic uint64_t preempt_epoch;
/* Only preemptions are counted: a count of every point would be a
 * locked read-modify-write, a full barrier on x86, at every step, and would
 * hide the reorderings a stress run is after. */
static _Atomic uint64_t made;

struct gen {
	uint64_t epoch, state;
};
static _Thread_local struct gen gen;
static _Atomic uint64_t next_thread;

/* producer_stall: set by configure before the threads start. */
static bool (*stall_stopped)(void *);
static void *stall_arg;
static _Thread_local bool stall_armed;
/* The stalled producer's claimed position + 1 (0: none stalled); read by
 * the hang report on another thread. */
static _Atomic uint64_t stalled_at;

void dfb_preempt_configure(uint32_t rate, uint64_t seed, bool (*stopped)(void *), void *arg)
{
	preempt_rate = rate;
	stall_stopped = stopped;
	stall_arg = arg;
	dfb_preempt_gate = rate != 0 || stopped != NULL;
	atomic_store_explicit(&stalled_at, 0, memory_order_relaxed);
	preempt_seed = seed;
	atomic_fetch_add_explicit(&preempt_epoch, 1, memory_order_relaxed);
	atomic_store_explicit(&made, 0, memory_order_relaxed);
}

void dfb_preempt_slow(void)
{
	if (!preempt_rate)
		return;
	uint64_t epoch = atomic_load_explicit(&preempt_epoch, memory_order_relaxed);
	if (gen.epoch != epoch) {
		/* A distinct stream per thread and round, from the run's seed. */
		gen.epoch = epoch;
		gen.state = preempt_seed ^
			    (atomic_fetch_add_explicit(&next_thread, 1, memory_order_relaxed) *
			     0x2545f4914f6cdd1dull);
	}
	uint64_t r = dfb_splitmix64(&gen.state);
	if (r % preempt_rate)
		return;
	atomic_fetch_add_explicit(&made, 1, memory_order_relaxed);
	/* Mostly yields (another runnable thread gets the PU); one in four a
	 * sleep of 1-64 us, long enough for every other thread to run. */
	if ((r >> 32) & 3) {
		sched_yield();
		return;
	}
	struct timespec ts = {0, (long)(1000 * (1 + ((r >> 40) & 63)))};
	nanosleep(&ts, NULL);
}

void dfb_stall_arm(void)
{
	stall_armed = stall_stopped != NULL;
}

void dfb_preempt_claimed_slow(uint64_t position)
{
	if (stall_armed) {
		stall_armed = false;
		/* relaxed: a report's hint, read while this thread waits. */
		atomic_store_explicit(&stalled_at, position + 1, memory_order_relaxed);
		/* Bounded by the round: the watchdog sees no progress past the
		 * unpublished cell and stops it (SCHED_HANG). */
		while (!stall_stopped(stall_arg)) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
		/* stalled_at stays for the report, which may be written after
		 * the stop; the next configure clears it. */
	}
	dfb_preempt_slow();
}

bool dfb_stall_claimed(uint64_t *position)
{
	uint64_t p = atomic_load_explicit(&stalled_at, memory_order_relaxed);
	if (p)
		*position = p - 1;
	return p != 0;
}

uint64_t dfb_preempt_made(void)
{
	return atomic_load_explicit(&made, memory_order_relaxed);
}
