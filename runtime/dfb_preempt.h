/* Injected preemption for stress runs (deferbench stress, the `preempt`
 * key): at the points where a protocol takes or publishes something (a
 * claim, a publish, a fetch_add, a lock, a drain step) a thread may yield
 * or sleep a few microseconds, so that the interleavings a loaded machine
 * produces once a day happen every second.
 *
 * Off (dfb_preempt_gate == 0) a point is one load of a read-mostly global
 * and a not-taken branch, the same on every strategy's every step;
 * docs/RELIABILITY.md gives its measured cost.  The gate is set before the
 * round's threads start and not written while they run.
 *
 * The points between a producer's claim of a cell and its publication
 * (DFB_PREEMPT_CLAIMED) are also where the producer_stall fault stops a
 * producer: the thread that armed it (dfb_stall_arm) stops at the next
 * such point until the round stops. */
#ifndef DFB_PREEMPT_H
#define DFB_PREEMPT_H

#include <stdint.h>

#include <stdbool.h>

/* Non-zero when a point has something to do: a preemption rate, or the
 * producer_stall fault. */
extern uint32_t dfb_preempt_gate;

/* Sets the rate (0: off; N: one point in N preempts, 1 = every point) and
 * the seed the threads' generators start from; `stopped(arg)` tells a
 * stalled producer that the round has stopped, and NULL disarms the stall.
 * Not while a round runs. */
void dfb_preempt_configure(uint32_t rate, uint64_t seed, bool (*stopped)(void *), void *arg);
/* The slow path: decides (thread-local generator) and yields or sleeps. */
void dfb_preempt_slow(void);
/* The claim point's slow path: a stall if armed, then as above. */
void dfb_preempt_claimed_slow(uint64_t position);
/* producer_stall: the calling thread stops at its next claim point (any
 * thread; a no-op unless configured with `stopped`). */
void dfb_stall_arm(void);
/* Whether a producer stalled in this round, and the position it claimed. */
bool dfb_stall_claimed(uint64_t *position);
/* Preemptions made since the last configure (all threads; read once the
 * threads have been joined). */
uint64_t dfb_preempt_made(void);

#define DFB_PREEMPT()                                                      \
	do {                                                               \
		if (__builtin_expect(dfb_preempt_gate != 0, 0))           \
			dfb_preempt_slow();                                \
	} while (0)

/* A point between claiming the cell at `pos` and publishing it. */
#define DFB_PREEMPT_CLAIMED(pos)                                           \
	do {                                                               \
		if (__builtin_expect(dfb_preempt_gate != 0, 0))           \
			dfb_preempt_claimed_slow(pos);                     \
	} while (0)

#endif
