/* The cross-PU round-trip probe; see xpu.h. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfb_arch.h" /* dfb_now_ns: the rounds' own clock */
#include "stats.h"
#include "topology.h"
#include "xpu.h"

#define WARM_TRIPS 64
#define BATCH_TRIPS 64
#define BATCHES 4
#define LIMIT_NS 50000000ull

void dfb_xpu_pair(const struct dfb_plan *plan, struct dfb_xpu *x)
{
	x->a = x->b = -1;
	if (plan && plan->bind && plan->nthreads > 0 && plan->entries[0].pu_os >= 0) {
		for (unsigned i = 1; i < plan->nthreads; i++)
			if (plan->entries[i].pu_os >= 0 &&
			    plan->entries[i].pu_os != plan->entries[0].pu_os) {
				x->a = plan->entries[0].pu_os;
				x->b = plan->entries[i].pu_os;
				return;
			}
		/* every thread on one PU: nothing crosses */
		return;
	}
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			if (x->a < 0) {
				x->a = c;
			} else {
				x->b = c;
				return;
			}
		}
	x->a = -1;
}

/* The ball: odd values are the ping's, even the pong's.  On a line of its
 * own, so the probe measures one line's trips and nothing else's. */
struct probe {
	_Alignas(64) _Atomic uint64_t ball;
	_Alignas(64) _Atomic bool stop;
	int cpu;
	_Atomic int bound; /* 1 bound, -1 failed, 0 not yet */
};

bool dfb_xpu_bind_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

static void *pong(void *arg)
{
	struct probe *p = arg;
	/* release: the ping reads bound before it starts the trips. */
	atomic_store_explicit(&p->bound, dfb_xpu_bind_self(p->cpu) ? 1 : -1, memory_order_release);
	uint64_t want = 1;
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		/* acquire/release: the trip is the measurement, and a
		 * message-passing pair is what the runtime's lines do. */
		if (atomic_load_explicit(&p->ball, memory_order_acquire) == want) {
			atomic_store_explicit(&p->ball, want + 1, memory_order_release);
			want += 2;
		}
	}
	return NULL;
}

/* trips round trips from *v on; false past the deadline. */
static bool trips(struct probe *p, uint64_t *v, unsigned n, uint64_t deadline)
{
	for (unsigned i = 0; i < n; i++) {
		atomic_store_explicit(&p->ball, *v + 1, memory_order_release);
		unsigned spins = 0;
		while (atomic_load_explicit(&p->ball, memory_order_acquire) != *v + 2)
			if (++spins % 4096 == 0 && dfb_now_ns() > deadline)
				return false;
		*v += 2;
	}
	return true;
}

struct ping_arg {
	struct probe *p;
	int cpu;
	double ns; /* NaN: failed */
};

static void *ping(void *arg)
{
	struct ping_arg *a = arg;
	struct probe *p = a->p;
	a->ns = NAN;
	if (!dfb_xpu_bind_self(a->cpu))
		return NULL;
	uint64_t deadline = dfb_now_ns() + LIMIT_NS;
	int b;
	/* acquire: pairs with the pong's release of bound. */
	while ((b = atomic_load_explicit(&p->bound, memory_order_acquire)) == 0)
		if (dfb_now_ns() > deadline)
			return NULL;
	if (b < 0)
		return NULL;
	uint64_t v = 0;
	if (!trips(p, &v, WARM_TRIPS, deadline))
		return NULL;
	double batch[BATCHES];
	for (int k = 0; k < BATCHES; k++) {
		uint64_t t0 = dfb_now_ns();
		if (!trips(p, &v, BATCH_TRIPS, deadline))
			return NULL;
		batch[k] = (double)(dfb_now_ns() - t0) / BATCH_TRIPS;
	}
	qsort(batch, BATCHES, sizeof(batch[0]), dfb_cmp_double);
	a->ns = dfb_quantile_sorted(batch, BATCHES, 0.5);
	return NULL;
}

double dfb_xpu_rtt_ns(const struct dfb_xpu *x)
{
	if (x->a < 0 || x->b < 0)
		return NAN;
	struct probe *p = aligned_alloc(64, sizeof(*p));
	if (!p)
		return NAN;
	memset(p, 0, sizeof(*p));
	p->cpu = x->b;
	struct ping_arg a = {.p = p, .cpu = x->a, .ns = NAN};
	pthread_t tb, ta;
	if (pthread_create(&tb, NULL, pong, p)) {
		free(p);
		return NAN;
	}
	if (!pthread_create(&ta, NULL, ping, &a))
		pthread_join(ta, NULL);
	atomic_store_explicit(&p->stop, true, memory_order_relaxed);
	pthread_join(tb, NULL);
	free(p);
	return a.ns;
}
