/* Spin hint and clock: the two primitives every retry loop and timer uses. */
#ifndef DFB_ARCH_H
#define DFB_ARCH_H

#include <sched.h>
#include <stdint.h>
#include <time.h>

/* How a retry loop waits (DESIGN.md §2).  Upstream's device build uses
 * `none`; its host simulation uses pause then sched_yield(), which is what
 * keeps a spin lock from livelocking when threads outnumber cores. */
enum dfb_spin_hint {
	DFB_SPIN_NONE = 0,
	DFB_SPIN_PAUSE = 1,
	DFB_SPIN_YIELD = 2,
};

static inline void dfb_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static inline void dfb_spin_hint(enum dfb_spin_hint h)
{
	if (h == DFB_SPIN_NONE)
		return;
	dfb_cpu_relax();
	if (h == DFB_SPIN_YIELD)
		sched_yield();
}

/* The one clock every timing reads (runtime/clock.c): the invariant TSC
 * scaled to nanoseconds when the CPU has one (constant_tsc and nonstop_tsc
 * in /proc/cpuinfo), calibrated against CLOCK_MONOTONIC, else
 * clock_gettime(CLOCK_MONOTONIC).  dfb_clock_init() decides once, before
 * any runtime thread starts (dfb_runtime_create calls it); until then the
 * fallback runs.  Read-only afterwards. */
struct dfb_clock {
	int tsc;                /* 1: rdtsc scaled; 0: clock_gettime */
	uint64_t mult;          /* nanoseconds per tick, << 32 */
	uint64_t tsc0, ns0;     /* a tick count and its CLOCK_MONOTONIC time */
	double ghz;             /* measured TSC frequency */
	double read_ns;         /* measured cost of one dfb_now_ns() */
	char why[96];           /* why the fallback runs, when it does */
};
extern struct dfb_clock dfb_clock;

static inline uint64_t dfb_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Monotonic nanoseconds, comparable with CLOCK_MONOTONIC. */
static inline uint64_t dfb_now_ns(void)
{
#if defined(__x86_64__)
	if (__builtin_expect(dfb_clock.tsc, 1)) {
		uint64_t t = __builtin_ia32_rdtsc();
		return dfb_clock.ns0 +
		       (uint64_t)(((unsigned __int128)(t - dfb_clock.tsc0) * dfb_clock.mult) >> 32);
	}
#endif
	return dfb_monotonic_ns();
}

/* dfb_clock_init and friends: deferbench.h. */

#define DFB_CACHELINE 64
#define DFB_ALIGNED _Alignas(DFB_CACHELINE)

#endif
