/* Injected preemption (dfb_preempt.h). */
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "deferbench.h"
#include "dfb_preempt.h"

uint32_t dfb_preempt_rate;
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

void dfb_preempt_configure(uint32_t rate, uint64_t seed)
{
	dfb_preempt_rate = rate;
	preempt_seed = seed;
	atomic_fetch_add_explicit(&preempt_epoch, 1, memory_order_relaxed);
	atomic_store_explicit(&made, 0, memory_order_relaxed);
}

void dfb_preempt_slow(void)
{
	uint64_t epoch = atomic_load_explicit(&preempt_epoch, memory_order_relaxed);
	if (gen.epoch != epoch) {
		/* A distinct stream per thread and round, from the run's seed. */
		gen.epoch = epoch;
		gen.state = preempt_seed ^
			    (atomic_fetch_add_explicit(&next_thread, 1, memory_order_relaxed) *
			     0x2545f4914f6cdd1dull);
	}
	uint64_t r = dfb_splitmix64(&gen.state);
	if (r % dfb_preempt_rate)
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

uint64_t dfb_preempt_made(void)
{
	return atomic_load_explicit(&made, memory_order_relaxed);
}
