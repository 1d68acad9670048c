/* Disturbance detection; see disturb.h for the rule. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "disturb.h"

static double ts_ms(clockid_t id)
{
	struct timespec t;
	if (clock_gettime(id, &t))
		return NAN;
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Reads a small /proc file whole; 0 on success. */
static int read_proc(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

double dfb_sys_tick_ms(void)
{
	long hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? 1e3 / (double)hz : 10.0;
}

void dfb_sys_snap(struct dfb_sys_snap *s)
{
	static double ms_per_tick;
	if (!ms_per_tick)
		ms_per_tick = dfb_sys_tick_ms();
	char buf[512];
	unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
	s->busy_ms = s->steal_ms = NAN;
	/* The first line is the sum over CPUs; 512 bytes hold it. */
	if (!read_proc("/proc/stat", buf, sizeof(buf)) &&
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
		   &iowait, &irq, &softirq, &steal) == 8) {
		s->busy_ms = (double)(user + nice + sys + irq + softirq) * ms_per_tick;
		s->steal_ms = (double)steal * ms_per_tick;
	}
	s->own_ms = ts_ms(CLOCK_PROCESS_CPUTIME_ID);
	struct rusage ru;
	s->nivcsw = getrusage(RUSAGE_SELF, &ru) ? 0 : (uint64_t)ru.ru_nivcsw;
	s->t_ms = ts_ms(CLOCK_MONOTONIC);
}

double dfb_load1(void)
{
	char buf[128];
	double l;
	if (read_proc("/proc/loadavg", buf, sizeof(buf)) || sscanf(buf, "%lf", &l) != 1)
		return NAN;
	return l;
}

unsigned dfb_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

double dfb_sys_other_ms(const struct dfb_sys_snap *a, const struct dfb_sys_snap *b)
{
	double v = (b->busy_ms - a->busy_ms) - (b->own_ms - a->own_ms);
	return isnan(v) ? NAN : v > 0 ? v : 0;
}

double dfb_sys_steal_ms(const struct dfb_sys_snap *a, const struct dfb_sys_snap *b)
{
	return b->steal_ms - a->steal_ms;
}

double dfb_sys_others_pct(const struct dfb_sys_snap *a, const struct dfb_sys_snap *b)
{
	double wall = (b->t_ms - a->t_ms) * dfb_online_cpus();
	double o = dfb_sys_other_ms(a, b) + dfb_sys_steal_ms(a, b);
	if (!(wall > 0) || isnan(o))
		return NAN;
	return o / wall * 100.0;
}

void dfb_disturb_decide(const struct dfb_round_span *span, size_t n, struct dfb_round_env *env)
{
	double tick = dfb_sys_tick_ms();
	for (size_t k = 0; k < n; k++) {
		if (span[k].out < 0)
			continue;
		/* Widen the window around round k, one round each side in
		 * turn, until it spans DFB_DISTURB_WINDOW_MS or every round. */
		size_t lo = k, hi = k;
		while (span[hi].b.t_ms - span[lo].a.t_ms < DFB_DISTURB_WINDOW_MS &&
		       (lo > 0 || hi + 1 < n)) {
			if (lo > 0)
				lo--;
			if (hi + 1 < n)
				hi++;
		}
		struct dfb_round_env *e = &env[span[k].out];
		e->other_cpu_ms = dfb_sys_other_ms(&span[k].a, &span[k].b);
		e->steal_ms = dfb_sys_steal_ms(&span[k].a, &span[k].b);
		e->nivcsw = span[k].b.nivcsw - span[k].a.nivcsw;
		e->others_pct = dfb_sys_others_pct(&span[lo].a, &span[hi].b);
		/* Each end of the window may be off by a tick: a short window
		 * (a short scenario) must clear that too. */
		double cap = (span[hi].b.t_ms - span[lo].a.t_ms) * dfb_online_cpus();
		double slack = cap > 0 ? 2.0 * tick / cap * 100.0 : 0.0;
		e->disturbed = e->others_pct - slack > DFB_DISTURB_OTHERS_PCT;
		e->load1 = span[k].load1;
		e->xpu_ns = span[k].xpu_ns;
		e->core_ns = span[k].core_ns;
	}
}

bool dfb_wait_quiet(double max_s, double *waited_s, double *others_pct,
		    void (*tick)(void *arg, double waited_s, double others_pct), void *arg)
{
	double t0 = ts_ms(CLOCK_MONOTONIC);
	*waited_s = 0;
	*others_pct = NAN;
	for (;;) {
		struct dfb_sys_snap a, b;
		dfb_sys_snap(&a);
		struct timespec d = {0, 500 * 1000 * 1000};
		while (nanosleep(&d, &d))
			;
		dfb_sys_snap(&b);
		*others_pct = dfb_sys_others_pct(&a, &b);
		*waited_s = (b.t_ms - t0) / 1e3;
		if (!(*others_pct > DFB_DISTURB_OTHERS_PCT))
			return true;
		if (tick)
			tick(arg, *waited_s, *others_pct);
		if (*waited_s >= max_s)
			return false;
	}
}
