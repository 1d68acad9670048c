/* Injected preemption for stress runs (deferbench stress, the `preempt`
 * key): at the points where a protocol takes or publishes something (a
 * claim, a publish, a fetch_add, a lock, a drain step) a thread may yield
 * or sleep a few microseconds, so that the interleavings a loaded machine
 * produces once a day happen every second.
 *
 * Off (dfb_preempt_rate == 0) a point is one load of a read-mostly global
 * and a not-taken branch, the same on every strategy's every step;
 * docs/RELIABILITY.md gives its measured cost.  The rate is set before the
 * round's threads start and not written while they run. */
#ifndef DFB_PREEMPT_H
#define DFB_PREEMPT_H

#include <stdint.h>

/* 0: off; N: one point in N preempts (1 = every point). */
extern uint32_t dfb_preempt_rate;

/* Sets the rate and the seed the threads' generators start from.  Not
 * while a round runs. */
void dfb_preempt_configure(uint32_t rate, uint64_t seed);
/* The slow path: decides (thread-local generator) and yields or sleeps. */
void dfb_preempt_slow(void);
/* Preemptions made since the last configure (all threads; read once the
 * threads have been joined). */
uint64_t dfb_preempt_made(void);

#define DFB_PREEMPT()                                                      \
	do {                                                               \
		if (__builtin_expect(dfb_preempt_rate != 0, 0))           \
			dfb_preempt_slow();                                \
	} while (0)

#endif
