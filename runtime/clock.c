/* The clock (dfb_arch.h): is there an invariant TSC, how fast does it run
 * against CLOCK_MONOTONIC, and what does a read cost. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deferbench.h"
#include "dfb_arch.h"

struct dfb_clock dfb_clock;

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Both flags on the first "flags" line of /proc/cpuinfo: the TSC ticks at
 * a constant rate whatever the frequency and the sleep states. */
static int invariant_tsc(char *why, size_t len)
{
#if !defined(__x86_64__)
	snprintf(why, len, "not an x86-64 CPU");
	return 0;
#else
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f) {
		snprintf(why, len, "/proc/cpuinfo unreadable");
		return 0;
	}
	char line[8192];
	int c = 0, n = 0, found = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			c = strstr(line, " constant_tsc") != NULL;
			n = strstr(line, " nonstop_tsc") != NULL;
			found = 1;
			break;
		}
	fclose(f);
	if (!found)
		snprintf(why, len, "no flags line in /proc/cpuinfo");
	else if (!c || !n)
		snprintf(why, len, "the CPU lacks %s%s%s", c ? "" : "constant_tsc",
			 !c && !n ? " and " : "", n ? "" : "nonstop_tsc");
	return found && c && n;
#endif
}

/* One tick count and the CLOCK_MONOTONIC time taken closest around it. */
static void pair(uint64_t *tsc, uint64_t *ns)
{
#if defined(__x86_64__)
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t a = dfb_monotonic_ns();
		uint64_t t = __builtin_ia32_rdtsc();
		uint64_t b = dfb_monotonic_ns();
		if (b - a < best) {
			best = b - a;
			*tsc = t;
			*ns = a + (b - a) / 2;
		}
	}
#else
	*tsc = 0;
	*ns = dfb_monotonic_ns();
#endif
}

static double measure_read_ns(void)
{
	enum { N = 200000 };
	volatile uint64_t sink = 0;
	uint64_t a = dfb_monotonic_ns();
	for (int i = 0; i < N; i++)
		sink += dfb_now_ns();
	uint64_t b = dfb_monotonic_ns();
	(void)sink;
	return (double)(b - a) / N;
}

static void calibrate(void)
{
	const char *env = getenv("DFB_CLOCK");
	if (env && !strcmp(env, "monotonic")) {
		snprintf(dfb_clock.why, sizeof(dfb_clock.why), "DFB_CLOCK=monotonic");
	} else if (invariant_tsc(dfb_clock.why, sizeof(dfb_clock.why))) {
		uint64_t t0, n0, t1, n1;
		pair(&t0, &n0);
		/* 20 ms: a calibration error of one read (about 20 ns at each
		 * end) is 2 in a million. */
		struct timespec d = {0, 20 * 1000 * 1000};
		nanosleep(&d, NULL);
		pair(&t1, &n1);
		if (t1 > t0 && n1 > n0) {
			dfb_clock.mult = ((n1 - n0) << 32) / (t1 - t0);
			dfb_clock.tsc0 = t1;
			dfb_clock.ns0 = n1;
			dfb_clock.ghz = (double)(t1 - t0) / (double)(n1 - n0);
			dfb_clock.tsc = 1;
		} else {
			snprintf(dfb_clock.why, sizeof(dfb_clock.why), "the TSC did not advance");
		}
	}
	dfb_clock.read_ns = measure_read_ns();
}

void dfb_clock_init(void)
{
	pthread_once(&once, calibrate);
}

double dfb_clock_read_ns(void)
{
	return dfb_clock.read_ns;
}

const char *dfb_clock_name(void)
{
	return dfb_clock.tsc ? "tsc" : "monotonic";
}

void dfb_clock_describe(char *buf, size_t len)
{
	if (dfb_clock.tsc)
		snprintf(buf, len, "tsc (invariant TSC, %.4f GHz against CLOCK_MONOTONIC), %.1f ns a read",
			 dfb_clock.ghz, dfb_clock.read_ns);
	else
		snprintf(buf, len, "monotonic (clock_gettime, because %s), %.1f ns a read",
			 dfb_clock.why, dfb_clock.read_ns);
}
