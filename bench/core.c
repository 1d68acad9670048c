/* The drain thread's core probe; see core.h. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "core.h"
#include "dfb_arch.h" /* dfb_now_ns: the rounds' own clock */
#include "stats.h"
#include "topology.h"
#include "xpu.h"

#define ITERS 4096
#define BATCHES 8

int dfb_core_pu(const struct dfb_plan *plan)
{
	if (!plan || !plan->bind)
		return -1;
	static const enum dfb_role drain[] = {DFB_ROLE_SCHEDULER, DFB_ROLE_CONSUMER};
	for (size_t r = 0; r < sizeof(drain) / sizeof(drain[0]); r++)
		for (unsigned i = 0; i < plan->nthreads; i++)
			if (plan->entries[i].role == drain[r] && plan->entries[i].index == 0)
				return plan->entries[i].pu_os;
	return -1;
}

/* One batch, ns an iteration.  The empty asm keeps the six chains in
 * registers and the loop unvectorised: what is timed is the core's
 * integer issue, not the compiler's cleverness. */
static double batch(void)
{
	uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, g = 6;
	uint64_t t0 = dfb_now_ns();
	for (unsigned i = 0; i < ITERS; i++) {
		a += b ^ 7;
		b += c ^ 9;
		c += d ^ 11;
		d += e ^ 13;
		e += g ^ 15;
		g += a ^ 17;
		__asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(g));
	}
	uint64_t t1 = dfb_now_ns();
	return (double)(t1 - t0) / ITERS;
}

struct arg {
	int cpu;
	double ns;
};

static void *probe(void *p)
{
	struct arg *a = p;
	if (!dfb_xpu_bind_self(a->cpu))
		return NULL;
	double x[BATCHES];
	(void)batch(); /* warm: the code, the PU's clock */
	for (int k = 0; k < BATCHES; k++)
		x[k] = batch();
	qsort(x, BATCHES, sizeof(x[0]), dfb_cmp_double);
	a->ns = dfb_quantile_sorted(x, BATCHES, 0.5);
	return NULL;
}

double dfb_core_loop_ns(int cpu)
{
	if (cpu < 0)
		return NAN;
	struct arg a = {.cpu = cpu, .ns = NAN};
	pthread_t t;
	if (pthread_create(&t, NULL, probe, &a))
		return NAN;
	pthread_join(t, NULL);
	return a.ns;
}
