/* Helpers shared by the micro-benchmarks' C loops (bench/micro/: mailbox_loops.c, strategy_loops.c). */
#ifndef DFB_MICRO_UTIL_H
#define DFB_MICRO_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dfb_arch.h"

/* Give up (loudly) when a wait makes no progress for this long. */
#define MICRO_HANG_NS (10ull * 1000000000ull)

static inline void micro_die(const char *what)
{
	fprintf(stderr, "deferbench micro-benchmark: %s\n", what);
	abort();
}

/* One more look at a wait that made no progress: *since is the time of the
 * first look (0: none yet); dies with `what` past MICRO_HANG_NS.  A wait
 * that progresses sets *since back to 0. */
static inline void micro_stalled(uint64_t *since, const char *what)
{
	uint64_t now = dfb_now_ns();
	if (!*since)
		*since = now;
	else if (now - *since > MICRO_HANG_NS)
		micro_die(what);
}

#endif
