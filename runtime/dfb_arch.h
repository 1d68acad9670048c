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

/* Monotonic nanoseconds.  vDSO-backed on Linux, so no system call. */
static inline uint64_t dfb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define DFB_CACHELINE 64
#define DFB_ALIGNED _Alignas(DFB_CACHELINE)

#endif
